"""The copier template: where it is, what it asks, and a versioned git copy that makes updates work offline.

copier merges a template update three ways only from a git history of the template. A pip-installed
libnix has no such history, so libnix keeps one in the user's cache: every template version it has
rendered is a commit there, tagged with libnix's version and a hash of the template's content. `init`
records that repository as the template source, `update` adds the installed version and lets copier merge.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from typing import Any

from scaffold import __version__
from scaffold.errors import ExternalError
from scaffold.git import repo as gitrepo

_PACKAGED = Path(__file__).resolve().parent / "copier"
_CHECKOUT = Path(__file__).resolve().parents[2]


def template_root() -> Path:
    """The directory holding copier.yml and copier-template/: $LIBNIX_TEMPLATE, the wheel's copy, or
    the checkout this module runs from."""
    override = os.environ.get("LIBNIX_TEMPLATE")
    for candidate in ([Path(override)] if override else []) + [_PACKAGED, _CHECKOUT]:
        if (candidate / "copier.yml").is_file() and (candidate / "copier-template").is_dir():
            return candidate
    raise ExternalError("libnix's copier template is missing from this installation")


def _config(root: Path | None = None) -> dict[str, Any]:
    import yaml  # copier depends on PyYAML

    return yaml.safe_load((root or template_root()).joinpath("copier.yml").read_text())


def questions(root: Path | None = None) -> dict[str, dict[str, Any]]:
    doc = _config(root)
    return {
        k: (v if isinstance(v, dict) else {"default": v}) for k, v in doc.items() if not k.startswith("_")
    }


def hosted_runners(root: Path | None = None) -> dict[str, str]:
    """The GitHub-hosted runner that builds each nix system in the workflows (`hosted_runners`)."""
    runners = questions(root).get("hosted_runners", {}).get("default") or {}
    return {str(system): str(label) for system, label in runners.items()}


def skip_if_exists(root: Path | None = None) -> list[str]:
    """Files the template writes only when missing: the user's own from then on."""
    return list(_config(root).get("_skip_if_exists", []))


def _files(root: Path) -> list[Path]:
    out = [root / "copier.yml"]
    out += sorted(p for p in (root / "copier-template").rglob("*") if p.is_file())
    return out


def content_tag(root: Path) -> str:
    digest = hashlib.sha256()
    for path in _files(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    # a PEP 440 version, as copier sorts tags: the release, plus the content as a local label
    return f"v{__version__}+t{digest.hexdigest()[:12]}"


def cache_dir() -> Path:
    base = os.environ.get("LIBNIX_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "libnix"
    )
    return Path(base) / "template"


# the cache repository's commits are libnix's, whatever the user's identity or signing config says
_IDENTITY = (
    "-c", "user.name=libnix", "-c", "user.email=libnix@localhost",
    "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false",
)  # fmt: skip


def _git(repo: Path, *args: str) -> str:
    return gitrepo.git(str(repo), *_IDENTITY, *args).stdout.decode().strip()


def portable(path: Path) -> str:
    """The cache as the answers file records it: `~/…` under the home directory, so that the committed
    answers mean the same on every machine (copier expands `~` in a local template path)."""
    home = Path(os.path.expanduser("~"))
    try:
        return "~/" + path.resolve().relative_to(home.resolve()).as_posix()
    except ValueError:
        return str(path)


def is_cache(recorded: str) -> bool:
    """A recorded template source that is a libnix cache (this machine's or another's)."""
    return recorded.rstrip("/").endswith("libnix/template")


def versioned_source(root: Path | None = None, repo: Path | None = None) -> tuple[str, str]:
    """(template repository, tag) for the installed template, committing it to the cache if new."""
    root = root or template_root()
    tag = content_tag(root)
    repo = repo or cache_dir()
    if not (repo / ".git").is_dir():
        repo.mkdir(parents=True, exist_ok=True)
        _git(repo, "init", "-q", "-b", "main")
    if tag in _git(repo, "tag", "--list", tag).split():
        return str(repo), tag
    for child in repo.iterdir():
        if child.name != ".git":
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    shutil.copy2(root / "copier.yml", repo / "copier.yml")
    shutil.copytree(root / "copier-template", repo / "copier-template")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "--allow-empty", "-m", f"libnix template {tag}")
    _git(repo, "tag", tag)
    return str(repo), tag


def has_version(source: str, tag: str) -> bool:
    repo = Path(source)
    if not (repo / ".git").exists():
        return True  # a remote or another kind of source: copier will say
    return (
        gitrepo.git(source, "rev-parse", "--verify", "--quiet", f"{tag}^{{commit}}", check=False).returncode
        == 0
    )
