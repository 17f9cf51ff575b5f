"""The environment of the processes libnix starts (git, cargo (libnix)): the user's, without the forge
tokens, which only libnix's own API calls need."""

from __future__ import annotations

import os


def child_env(**extra: str) -> dict[str, str]:
    from .forge import TOKENS

    env = {k: v for k, v in os.environ.items() if k not in TOKENS.values()}
    env.update(extra)
    return env
