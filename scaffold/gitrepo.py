"""The git side: find the repository, resolve tags and revisions, and stream `git archive` of a ref.

The archive is made as a forge makes it: from the ref's tree with the tree's own `.gitattributes`
(export-ignore, export-subst) and nothing of this machine's. The forge never sees the repository's
`.git/config` (a smudge filter), `.git/info/attributes`, `core.attributesFile` or other global and
system config, `refs/replace/` objects, or an uncommitted `.mailmap`: git archive runs in a temporary
bare repository that reads the objects where they are and has none of these. Its `.mailmap` is the
forge's: the default branch's committed one (origin/HEAD's), as a bare repository reads HEAD:.mailmap.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

from .environ import child_env
from .errors import ExternalError, UserError

# config that would make a local archive differ from the forge's
_NEUTRAL = ("-c", "core.autocrlf=false", "-c", "core.eol=lf", "-c", "tar.umask=0002",
            "-c", "core.attributesFile=/dev/null")  # fmt: skip
# no global or system config, no system attributes, no replace objects
_NO_MACHINE = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_ATTR_NOSYSTEM": "1",
               "GIT_NO_REPLACE_OBJECTS": "1"}  # fmt: skip


@dataclass(frozen=True)
class Ref:
    repo: str  # the work tree's top level
    name: str  # as git archive takes it: refs/tags/T or a revision
    commit: str
    label: str  # what the user named: the tag or the revision
    objects: str | None = None  # the object directory, when the lookup already said it


def git(
    repo: str, *args: str, check: bool = True, timeout: float | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """The one way libnix runs git: a missing git or a failed command is one ExternalError line."""
    try:
        proc = subprocess.run(
            ["git", "-C", repo, *args], capture_output=True, timeout=timeout, env=child_env(**(env or {}))
        )
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
    directory and the commit. Anything else (a bare repository, an unknown name, a path git refuses)
    takes the careful way, which says precisely what is wrong."""
    if not os.path.isdir(path):
        return None
    name = f"refs/tags/{tag}" if tag is not None else str(rev)
    proc = git(path, "rev-parse", "--is-bare-repository", "--show-toplevel", "--git-path", "objects",
               "--verify", "--quiet", f"{name}^{{commit}}", check=False)  # fmt: skip
    lines = proc.stdout.decode("utf-8", "surrogateescape").splitlines()
    if proc.returncode != 0 or len(lines) != 4 or lines[0] != "false":
        return None
    top, objects, commit = lines[1], lines[2], lines[3]
    objects = os.path.realpath(os.path.join(path, objects))
    return Ref(top, name, commit, tag if tag is not None else str(rev), objects)


def tree_dirs(ref: Ref) -> set[bytes]:
    """Every directory path in the ref's tree: reads trees only, so it costs milliseconds."""
    out = git(ref.repo, "ls-tree", "-r", "-d", "-z", "--name-only", ref.commit).stdout
    return {p for p in out.split(b"\0") if p}


def export_ignored(ref: Ref, paths: list[str]) -> set[str]:
    """Which of `paths` the commit's own .gitattributes mark `export-ignore` (read from a temporary index
    of the commit, as `git archive` reads them: the work tree's attributes do not count)."""
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
def archive_stream(ref: Ref) -> Iterator[IO[bytes]]:
    """`git archive --format=tar REF` as the forge makes it, as a pipe; git's failure surfaces when the
    stream ends."""
    with tempfile.TemporaryDirectory(prefix="libnix-archive-") as view:
        env = _bare_view(ref, view)
        cmd = ["git", f"--git-dir={view}", *_NEUTRAL, "-c", f"mailmap.blob={_mailmap_source(ref)}:.mailmap",
               "archive", "--format=tar", ref.commit]  # fmt: skip
        with _archive_pipe(ref, cmd, env) as stream:
            yield stream


def _mailmap_source(ref: Ref) -> str:
    """Whose `.mailmap` export-subst's `%aN`/`%aE` follow on the forge: its bare repository reads
    `HEAD:.mailmap` (mailmap.blob's default there), the default branch's committed file, not the tag's.
    Here that branch is origin's default (origin/HEAD); without one, the commit's own."""
    proc = git(ref.repo, "rev-parse", "--verify", "--quiet", "refs/remotes/origin/HEAD^{commit}", check=False)
    default = proc.stdout.decode().strip()
    return default if proc.returncode == 0 and default else ref.commit


def _bare_view(ref: Ref, view: str) -> dict[str, str]:
    """A bare repository that reads the ref's objects where they are (GIT_OBJECT_DIRECTORY, and the
    repository's own alternates) and has nothing else of the user's: its environment."""
    objects = ref.objects
    if objects is None:
        objects = git(ref.repo, "rev-parse", "--git-path", "objects").stdout.decode().strip()
        objects = os.path.realpath(os.path.join(ref.repo, objects))
    # what `git init --bare` would write that git needs (no hooks, no description: no process either)
    os.makedirs(os.path.join(view, "refs"))
    with open(os.path.join(view, "HEAD"), "w") as fh:
        fh.write("ref: refs/heads/main\n")
    with open(os.path.join(view, "config"), "w") as fh:
        fh.write("[core]\n\trepositoryformatversion = 0\n\tbare = true\n")
    env = {**_NO_MACHINE, "GIT_OBJECT_DIRECTORY": objects}
    inherited = os.path.join(objects, "info", "alternates")  # a --shared or --reference clone's
    if os.path.exists(inherited):
        with open(inherited) as fh:
            paths = [os.path.join(objects, p.strip()) for p in fh if p.strip() and not p.startswith("#")]
        env["GIT_ALTERNATE_OBJECT_DIRECTORIES"] = os.pathsep.join(paths)
    return env


@contextmanager
def _archive_pipe(ref: Ref, cmd: list[str], env: dict[str, str]) -> Iterator[IO[bytes]]:
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=1 << 20, env=child_env(**env)
    )
    assert proc.stdout is not None and proc.stderr is not None
    try:
        yield proc.stdout
    except Exception:
        # a stream that ended early is git's failure (a missing object...): say git's own words
        failure = _finished_with_error(proc)
        if failure is not None:
            raise ExternalError(f"git archive {ref.label} failed: {failure}") from None
        raise
    except BaseException:
        proc.kill()
        raise
    else:
        # the reader stops at the end-of-archive blocks; git may still write its padding, and a
        # closed pipe would kill it with SIGPIPE: read to the end
        while proc.stdout.read(1 << 16):
            pass
        code = proc.wait()
        if code != 0:
            raise ExternalError(f"git archive {ref.label} failed: {_last_error(proc, code)}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def _finished_with_error(proc: subprocess.Popen[bytes]) -> str | None:
    """git's last error line if it exited with a failure (waiting briefly for a git whose output ended)."""
    try:
        code = proc.wait(timeout=2)
    except subprocess.TimeoutExpired:
        return None
    return None if code == 0 else _last_error(proc, code)


def _last_error(proc: subprocess.Popen[bytes], code: int) -> str:
    """What a failed git said last, else its exit code."""
    assert proc.stderr is not None
    err = proc.stderr.read().decode("utf-8", "replace").strip()
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
    except (subprocess.TimeoutExpired, ExternalError):
        return None
    if proc.returncode != 0:
        return None
    return bool(proc.stdout.strip())
