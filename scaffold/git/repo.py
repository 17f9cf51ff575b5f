"""The git side: find the repository, resolve tags and revisions, and stream `git archive` of a ref.

The archive is made as a forge makes it: from the ref's tree with the tree's own `.gitattributes`
(export-ignore, export-subst) and nothing of this machine's. The forge never sees the repository's
`.git/config` (a smudge filter), `.git/info/attributes`, `core.attributesFile` or other global and system
config, config in the caller's GIT_* variables, `refs/replace/` objects, or an uncommitted `.mailmap`:
git archive runs in an empty bare repository that ships with libnix (`gitview/`), reads the objects where
they are and has none of these. Its `.mailmap` is the forge's: the default branch's committed one
(origin/HEAD's), as a bare repository reads HEAD:.mailmap.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from scaffold.environ import child_env
from scaffold.errors import ExternalError, UserError
from scaffold.git import spawn

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import BinaryIO

# config that would make a local archive differ from the forge's
_NEUTRAL = ("-c", "core.autocrlf=false", "-c", "core.eol=lf", "-c", "tar.umask=0002",
            "-c", "core.attributesFile=/dev/null")  # fmt: skip
# no global or system config, no system attributes, no replace objects
_NO_MACHINE = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_ATTR_NOSYSTEM": "1",
               "GIT_NO_REPLACE_OBJECTS": "1"}  # fmt: skip
# the bare repositories git archive runs in, one per object format (sha1, sha256): what `git init --bare`
# writes that git needs, nothing of the user's; they read the objects where they are
# (GIT_OBJECT_DIRECTORY). They ship with libnix, read-only: no directory to make on every run, and git
# checks no ownership of a --git-dir it is given.
_VIEWS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gitview")
OBJECT_FORMATS = ("sha1", "sha256")


class Ref:
    """A resolved tag or revision. A plain class, not a dataclass: `libnix hash --tag` must not pay for
    importing dataclasses (and inspect), which costs a third of nix-prefetch-url's whole run."""

    __slots__ = ("commit", "label", "mailmap", "name", "object_format", "objects", "repo")

    def __init__(
        self,
        repo: str,  # the work tree's top level
        name: str,  # as git archive takes it: refs/tags/T or a revision
        commit: str,
        label: str,  # what the user named: the tag or the revision
        objects: str | None = None,  # the object directory, when the lookup already said it
        mailmap: str | None = None,  # the commit whose .mailmap export-subst follows, when known
        object_format: str | None = None,  # sha1 or sha256, when known
    ) -> None:
        self.repo, self.name, self.commit, self.label = repo, name, commit, label
        self.objects, self.mailmap, self.object_format = objects, mailmap, object_format

    def __repr__(self) -> str:
        return f"Ref({self.label!r} = {self.commit} in {self.repo})"


def git(
    repo: str, *args: str, check: bool = True, timeout: float | None = None, env: dict[str, str] | None = None
) -> spawn.Finished:
    """The one way libnix runs git: a missing git or a failed command is one ExternalError line."""
    try:
        proc = spawn.run(["git", "-C", repo, *args], child_env(**(env or {})), timeout=timeout)
    except FileNotFoundError:
        raise ExternalError("git is not installed or not on PATH") from None
    if check and proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        command = next((a for a in args if not a.startswith("-") and "=" not in a), "")
        raise ExternalError(f"git {command} failed: {msg[-1] if msg else proc.returncode}")
    return proc


def toplevel(path: str, *, bare: bool = False) -> str:
    """The work tree's top level (with `bare`: a bare repository's own directory too)."""
    if not os.path.exists(path):
        raise UserError(f"{path}: no such directory")
    if not os.path.isdir(path):
        raise UserError(f"{path} is not a directory")
    where = os.path.abspath(path)
    proc = git(path, "rev-parse", "--is-bare-repository", check=False)
    if proc.returncode != 0:
        if "dubious ownership" in proc.stderr.decode("utf-8", "replace"):  # not "no repository": say it
            raise UserError(
                f"{where} belongs to another user and git refuses it (dubious ownership): "
                f"git config --global --add safe.directory {where}"
            )
        raise UserError(f"{where} is not inside a git repository")
    if proc.stdout.decode().strip() != "true":
        top = git(path, "rev-parse", "--show-toplevel", check=False)
        if top.returncode == 0:
            return top.stdout.decode().strip()
        if not bare:
            raise UserError(f"{where} is inside a git directory, not a work tree")
    elif not bare:
        raise UserError(f"{where} is a bare repository: this command needs a work tree")
    return git(path, "rev-parse", "--absolute-git-dir").stdout.decode().strip()


def resolve(path: str, *, tag: str | None = None, rev: str | None = None) -> Ref:
    fast = _resolve_at_once(path, tag, rev)
    if fast is not None:
        return fast
    repo = toplevel(path, bare=True)
    if tag is not None:
        name = f"refs/tags/{tag}"
        proc = git(repo, "rev-parse", "--verify", "--quiet", f"{name}^{{commit}}", check=False)
        if proc.returncode != 0:
            kind = git(repo, "cat-file", "-t", f"{name}^{{}}", check=False).stdout.decode().strip()
            if kind in ("tree", "blob"):
                raise UserError(
                    f"the tag {tag!r} points to a {kind}, not a commit: no forge makes a tarball of it"
                )
            raise UserError(f"no tag {tag!r} in {repo} (git tag --list shows the tags)")
        return Ref(repo, name, proc.stdout.decode().strip(), tag)
    assert rev is not None
    proc = git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
    if proc.returncode != 0:
        raise UserError(f"no commit {rev!r} in {repo}")
    return Ref(repo, rev, proc.stdout.decode().strip(), rev)


def _resolve_at_once(path: str, tag: str | None, rev: str | None) -> Ref | None:
    """The common case in one git call (a work tree, a name that resolves): the top level, the object
    directory, origin's default branch (whose .mailmap the forge applies) and the commit. Anything else
    (a bare repository, an unknown name, a path git refuses) takes the careful way, which says
    precisely what is wrong."""
    if not os.path.isdir(path):
        return None
    name = f"refs/tags/{tag}" if tag is not None else str(rev)
    if name.startswith("-"):
        return None
    # --revs-only drops a name that does not resolve and all that follows it: the commit first, then
    # the prefix (a line that is never a commit), then origin/HEAD's commit, which a clone may lack
    proc = git(path, "rev-parse", "--is-bare-repository", "--show-toplevel", "--git-path", "objects",
               "--show-object-format", "--revs-only", f"{name}^{{commit}}", "--show-prefix",
               "refs/remotes/origin/HEAD^{commit}", check=False)  # fmt: skip
    lines = proc.stdout.decode("utf-8", "surrogateescape").split("\n")
    if proc.returncode != 0 or lines[-1] != "" or len(lines) not in (7, 8) or lines[0] != "false":
        return None
    top, objects, fmt, commit = lines[1:5]
    default = lines[6] if len(lines) == 8 else None
    if fmt not in OBJECT_FORMATS or not all(_is_object_id(c) for c in (commit, default or commit)):
        return None
    objects = os.path.realpath(os.path.join(path, objects))
    label = tag if tag is not None else str(rev)
    return Ref(top, name, commit, label, objects, default or commit, fmt)


def _is_object_id(text: str) -> bool:
    return len(text) in (40, 64) and all(c in "0123456789abcdef" for c in text)


def tree_dirs(ref: Ref) -> set[bytes]:
    """Every directory path in the ref's tree: reads trees only, so it costs milliseconds."""
    out = git(ref.repo, "ls-tree", "-r", "-d", "-z", "--name-only", ref.commit).stdout
    return {p for p in out.split(b"\0") if p}


def export_ignored(ref: Ref, paths: list[str]) -> set[str]:
    """Which of `paths` the commit's own .gitattributes mark `export-ignore` (read from a temporary index
    of the commit, as `git archive` reads them: the work tree's attributes do not count)."""
    import tempfile  # not on the path of `hash --tag`

    with tempfile.TemporaryDirectory(prefix="libnix-attr-") as tmp:
        env = {"GIT_INDEX_FILE": os.path.join(tmp, "index")}
        git(ref.repo, "read-tree", ref.commit, env=env)
        out = git(ref.repo, "check-attr", "--cached", "-z", "export-ignore", "--", *paths, env=env).stdout
    fields = out.split(b"\0")
    return {
        fields[i].decode("utf-8", "surrogateescape")
        for i in range(0, len(fields) - 2, 3)
        if fields[i + 2] not in (b"unspecified", b"unset")
    }


def tree_paths(ref: Ref) -> frozenset[str]:
    """Every file and directory path in the ref's tree: what a pinned path may name."""
    out = git(ref.repo, "ls-tree", "-r", "-t", "-z", "--name-only", ref.commit).stdout
    return frozenset(p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p)


@contextmanager
def archive_stream(ref: Ref) -> Iterator[BinaryIO]:
    """`git archive --format=tar REF` as the forge makes it, as a pipe; git's failure surfaces when the
    stream ends."""
    mailmap = ref.mailmap or _mailmap_source(ref)
    view = os.path.join(_VIEWS, ref.object_format or _object_format(ref))
    cmd = ["git", f"--git-dir={view}", *_NEUTRAL, "-c", f"mailmap.blob={mailmap}:.mailmap",
           "archive", "--format=tar", ref.commit]  # fmt: skip
    try:
        child = spawn.start(cmd, _view_env(ref))
    except FileNotFoundError:
        raise ExternalError("git is not installed or not on PATH") from None
    try:
        yield child.stdout
    except Exception:
        # a stream that ended early is git's failure (a missing object...): say git's own words
        code = child.wait(timeout=2)
        if code:
            raise ExternalError(f"git archive {ref.label} failed: {_last_error(child, code)}") from None
        raise
    else:
        # the reader stops at the end-of-archive blocks; git may still write its padding, and a
        # closed pipe would end it with SIGPIPE: read to the end
        while child.stdout.read(1 << 16):
            pass
        code = child.wait()
        if code:
            raise ExternalError(f"git archive {ref.label} failed: {_last_error(child, code)}")
    finally:
        child.close()


def _mailmap_source(ref: Ref) -> str:
    """Whose `.mailmap` export-subst's `%aN`/`%aE` follow on the forge: its bare repository reads
    `HEAD:.mailmap` (mailmap.blob's default there), the default branch's committed file, not the tag's.
    Here that branch is origin's default (origin/HEAD); without one, the commit's own."""
    proc = git(ref.repo, "rev-parse", "--verify", "--quiet", "refs/remotes/origin/HEAD^{commit}", check=False)
    default = proc.stdout.decode().strip()
    return default if proc.returncode == 0 and default else ref.commit


def _object_format(ref: Ref) -> str:
    """sha1 or sha256 (a git too old to say it knows only sha1)."""
    said = git(ref.repo, "rev-parse", "--show-object-format", check=False).stdout.decode().strip()
    return said if said in OBJECT_FORMATS else "sha1"


def _view_env(ref: Ref) -> dict[str, str]:
    """The environment that points the view at the ref's objects (and the repository's own alternates)
    and keeps out the machine's config: no GIT_* variable of the caller's reaches git archive (config
    given as GIT_CONFIG_COUNT/KEY/VALUE or by a parent `git -c`, GIT_ATTR_SOURCE's attributes)."""
    objects = ref.objects
    if objects is None:
        objects = git(ref.repo, "rev-parse", "--git-path", "objects").stdout.decode().strip()
        objects = os.path.realpath(os.path.join(ref.repo, objects))
    env = {k: v for k, v in child_env().items() if not k.startswith("GIT_")}
    env.update(_NO_MACHINE, GIT_OBJECT_DIRECTORY=objects)
    inherited = os.path.join(objects, "info", "alternates")  # a --shared or --reference clone's
    if os.path.exists(inherited):
        with open(inherited) as fh:
            paths = [os.path.join(objects, p.strip()) for p in fh if p.strip() and not p.startswith("#")]
        env["GIT_ALTERNATE_OBJECT_DIRECTORIES"] = os.pathsep.join(paths)
    return env


def _last_error(child: spawn.Child, code: int) -> str:
    """What a failed git said last, else its exit code."""
    err = child.stderr().decode("utf-8", "replace").strip()
    return err.splitlines()[-1] if err else f"exit {code}"


def remote_url(repo: str, name: str = "origin") -> str | None:
    proc = git(repo, "remote", "get-url", name, check=False)
    return proc.stdout.decode().strip() if proc.returncode == 0 else None


def tag_exists(repo: str, tag: str) -> bool:
    return git(repo, "rev-parse", "--verify", "--quiet", f"refs/tags/{tag}", check=False).returncode == 0


def create_tag(repo: str, tag: str, message: str) -> None:
    if git(repo, "check-ref-format", f"refs/tags/{tag}", check=False).returncode != 0:
        raise UserError(f"{tag!r} is not a valid tag name")
    git(repo, "tag", "-a", tag, "-m", message)


def delete_tag(repo: str, tag: str) -> None:
    git(repo, "tag", "-d", tag, check=False)


def is_dirty(repo: str) -> bool:
    return bool(git(repo, "status", "--porcelain", "--untracked-files=no").stdout.strip())


def head_commit(repo: str) -> str | None:
    proc = git(repo, "rev-parse", "--verify", "--quiet", "HEAD^{commit}", check=False)
    return proc.stdout.decode().strip() if proc.returncode == 0 else None


def show_file(ref: Ref, path: str) -> bytes | None:
    proc = git(ref.repo, "show", f"{ref.commit}:{path}", check=False)
    return proc.stdout if proc.returncode == 0 else None


def commit_time(ref: Ref) -> int:
    return int(git(ref.repo, "show", "-s", "--format=%ct", ref.commit).stdout.decode().strip())


@contextmanager
def worktree(ref: Ref, parent: str) -> Iterator[str]:
    """A detached worktree of the ref, removed afterwards whatever happens (error, Ctrl-C)."""
    import shutil
    import tempfile

    path = tempfile.mkdtemp(prefix="libnix-worktree-", dir=parent)
    os.rmdir(path)
    git(ref.repo, "worktree", "add", "--detach", "--quiet", path, ref.commit)
    try:
        yield path
    finally:
        git(ref.repo, "worktree", "remove", "--force", path, check=False)
        if os.path.exists(path):
            shutil.rmtree(path, ignore_errors=True)
        git(ref.repo, "worktree", "prune", check=False)


def push_tag(repo: str, tag: str, remote: str = "origin") -> None:
    proc = git(repo, "push", remote, f"refs/tags/{tag}", check=False)
    if proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ExternalError(f"git push {remote} {tag} failed: {msg[-1] if msg else proc.returncode}")


def remote_has_tag(repo: str, tag: str, remote: str = "origin") -> bool | None:
    """None when the remote cannot be asked (offline, no such remote)."""
    try:
        proc = git(repo, "ls-remote", "--tags", remote, f"refs/tags/{tag}", check=False, timeout=20)
    except (TimeoutError, ExternalError):
        return None
    if proc.returncode != 0:
        return None
    return bool(proc.stdout.strip())
