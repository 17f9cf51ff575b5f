"""The environment of the processes libnix starts (git, cargo (libnix)): the user's, without the forge
tokens, which only libnix's own API calls need."""

from __future__ import annotations

import os

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
