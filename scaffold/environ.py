"""The environment of the processes libnix starts (git, nix, cargo (libnix), and copier with the git it
runs): the user's, without the forge tokens, which only libnix's own API calls need."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

# where each forge's token comes from (the forge modules read them; nothing else may see them)
TOKENS = {
    "github": "GITHUB_TOKEN",
    "gitlab": "GITLAB_TOKEN",
    "gitea": "GITEA_TOKEN",
    "sourcehut": "SRHT_TOKEN",
}


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in TOKENS.values()}
    env.update(extra)
    return env


@contextlib.contextmanager
def without_tokens() -> Iterator[None]:
    """For code that runs in libnix's process and starts programs of its own (copier runs git through
    plumbum, whose environment is a copy of os.environ taken when plumbum is imported): the tokens leave
    both for its duration and come back afterwards."""
    import sys

    plumbum = sys.modules.get("plumbum")
    copies = [os.environ] + ([plumbum.local.env] if plumbum is not None else [])
    saved = [{n: env.pop(n) for n in TOKENS.values() if n in env} for env in copies]
    try:
        yield
    finally:
        for env, values in zip(copies, saved, strict=True):
            env.update(values)
