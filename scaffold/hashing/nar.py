"""Streaming NAR serialization into SHA-256, fed by archive entries in the order an archive holds them.

A NAR lists each directory's entries sorted by their byte-wise names, but archives hold them in another
order: `git archive` sorts a tree's entries as git does (a directory `foo` as `foo/`, so `foo.txt` comes
before it) and an arbitrary tarball in whatever order its maker chose. To stay streaming (bounded memory,
nothing unpacked) the builder emits every entry as soon as no entry that sorts before it can still arrive,
and spools only the few files that arrive early (in memory up to a cap, then in one temporary file).

Safety rests on one assumption about the archive, checked as it goes: every directory's entries are
contiguous (depth first) and come in git or NAR order. An archive that breaks it raises `OrderViolation`,
and the caller runs again with `eager=False`, which holds every file until the end.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Callable

from scaffold.errors import UserError
from scaffold.hashing.digest import Digest
from scaffold.hashing.spool import CHUNK, Spool

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO

_BELOW_SLASH = re.compile(rb"[\x00-\x2e]")


def nar_str(data: bytes) -> bytes:
    n = len(data)
    return n.to_bytes(8, "little") + data + b"\0" * (-n % 8)


_MAGIC = nar_str(b"nix-archive-1")
_OPEN, _CLOSE = nar_str(b"("), nar_str(b")")
_DIR_HEAD = _OPEN + nar_str(b"type") + nar_str(b"directory")
_REG_HEAD = _OPEN + nar_str(b"type") + nar_str(b"regular")
_EXEC = nar_str(b"executable") + nar_str(b"")
_CONTENTS = nar_str(b"contents")
_LINK_HEAD = _OPEN + nar_str(b"type") + nar_str(b"symlink") + nar_str(b"target")
_ENTRY = nar_str(b"entry") + _OPEN + nar_str(b"name")
_NODE = nar_str(b"node")


class OrderViolation(Exception):
    """The archive's order broke the streaming assumption; hash again with eager=False."""


class _Node:
    __slots__ = ("bound", "bound_inclusive", "children", "closed", "emitted", "executable", "kind",
                 "last_emitted", "offset", "path", "pending", "reader", "size", "target")  # fmt: skip

    def __init__(
        self,
        kind: str,  # "dir", "file", "link"
        path: bytes,
        *,
        executable: bool = False,
        size: int = 0,
        target: bytes = b"",
        reader: IO[bytes] | None = None,  # file content: a live reader (only during add_file),
        offset: int = -1,  # or a spool offset, or gone once emitted
    ) -> None:
        self.kind, self.path, self.executable, self.size, self.target = kind, path, executable, size, target
        self.reader, self.offset = reader, offset
        self.emitted = False
        # directories
        self.children: dict[bytes, _Node] = {}
        self.pending: list[bytes] = []
        self.closed = False
        self.bound = b""
        self.bound_inclusive = True
        self.last_emitted: bytes | None = None


class NarStats:
    __slots__ = ("content_bytes", "directories", "files", "nar_bytes", "symlinks")

    def __init__(self, nar_bytes: int = 0) -> None:
        self.files = self.directories = self.symlinks = self.content_bytes = 0
        self.nar_bytes = nar_bytes

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in ("files", "directories", "symlinks", "content_bytes",
                                                        "nar_bytes")}  # fmt: skip


class NarBuilder:
    """Build the NAR hash of a tree given as archive entries (paths as tuples of byte names).

    `strip_top`: the NAR is of the archive's single top-level entry, as `builtins.fetchTarball`
    unpacks it; otherwise of the archive root itself (a `git archive` stream without prefix).
    `is_dir`: optional oracle `(parent_path, name) -> bool` saying whether a directory of that name can
    still appear; a full listing (git's trees) makes early files rarer. Without it every name may.
    """

    def __init__(
        self,
        *,
        strip_top: bool,
        eager: bool = True,
        is_dir: Callable[[bytes, bytes], bool] | None = None,
    ) -> None:
        self._sha = Digest()
        self._sha.update(_MAGIC)
        self.stats = NarStats(nar_bytes=len(_MAGIC))
        self._strip_top = strip_top
        self._eager = eager
        self._is_dir = is_dir or (lambda _parent, _name: True)
        self._spool = Spool()
        self._root = _Node("dir", b"")
        self._last: tuple[bytes, ...] = ()
        # emission stack: directories opened in the NAR, innermost last
        self._stack: list[_Node] = []
        self._started = False

    # -- input ----------------------------------------------------------------------------------------

    def add_dir(self, parts: tuple[bytes, ...]) -> None:
        if not parts:
            return
        parent, name = self._arrive(parts)
        existing = parent.children.get(name)
        if existing is not None:
            if existing.kind == "dir":
                return
            self._replace(parent, name, "dir")
        self._attach(parent, name, _Node("dir", _join(parent.path, name)))
        self._advance()

    def add_symlink(self, parts: tuple[bytes, ...], target: bytes) -> None:
        parent, name = self._arrive(parts)
        self._replace(parent, name, "link")
        self._attach(parent, name, _Node("link", _join(parent.path, name), target=target))
        self._advance()

    def add_file(self, parts: tuple[bytes, ...], size: int, executable: bool, reader: IO[bytes]) -> None:
        """Consume `size` bytes of `reader` before returning: straight into the hash when it is this
        file's turn, else into the spool."""
        parent, name = self._arrive(parts)
        self._replace(parent, name, "file")
        node = _Node("file", _join(parent.path, name), executable=executable, size=size, reader=reader)
        self._attach(parent, name, node)
        self._advance()
        if not node.emitted:
            node.offset = self._spool.put(reader, size)
            node.reader = None

    def add_hardlink(self, parts: tuple[bytes, ...], target: tuple[bytes, ...]) -> None:
        source = self._lookup(target)
        if source is None and self._eager:
            raise OrderViolation("hard link into a directory already hashed and dropped")
        if source is not None and source.kind == "link":  # a hard link to a symlink is that symlink again
            self.add_symlink(parts, source.target)
            return
        if source is None or source.kind != "file":
            raise UserError(f"archive has a hard link {_show(parts)} to a missing file {_show(target)}")
        if source.offset < 0:
            # its content went straight into the hash: only a run that keeps every file can copy it
            raise OrderViolation("hard link to a file already hashed")
        parent, name = self._arrive(parts)
        self._replace(parent, name, "file")
        node = _Node(
            "file",
            _join(parent.path, name),
            executable=source.executable,
            size=source.size,
            offset=source.offset,
        )
        self._attach(parent, name, node)
        self._advance()

    def finish(self) -> tuple[bytes, NarStats]:
        self._close_from(0)
        self._root.closed = True
        self._eager = True
        if self._strip_top:
            self._check_single_top()
        self._advance()
        if self._stack or not self._started:
            raise AssertionError("NAR emission did not complete")  # a bug, not user input
        self._spool.close()
        return self._sha.digest(), self.stats

    # -- arrival bookkeeping ----------------------------------------------------------------------------

    def _arrive(self, parts: tuple[bytes, ...]) -> tuple[_Node, bytes]:
        """Record that `parts` arrives: close the directories the archive has left, create missing
        parents, and raise each directory's lower bound on the names still to come."""
        if self._strip_top and self._root.children and parts[0] not in self._root.children:
            first = next(iter(self._root.children)).decode("utf-8", "replace")
            raise UserError(
                f"tarball holds several top-level entries ({first}, {_show(parts[:1])}); "
                "builtins.fetchTarball needs exactly one"
            )
        last = self._last
        k = 0
        for a, b in zip(last, parts, strict=False):
            if a != b:
                break
            k += 1
        self._close_from(k + 1)
        node = self._root
        for depth, name in enumerate(parts[:-1]):
            if depth >= k:
                self._raise_bound(node, name)
            child = node.children.get(name)
            if child is not None and child.kind == "link":
                raise UserError(
                    f"archive has {_show(parts)} inside the symlink {_show(parts[: depth + 1])}: "
                    "nix refuses to extract through a symlink"
                )
            if child is None or child.kind != "dir":
                if child is not None:
                    self._replace(node, name, "dir")
                child = _Node("dir", _join(node.path, name))
                self._attach(node, name, child)
            node = child
        name = parts[-1]
        if len(parts) - 1 >= k:
            self._raise_bound(node, name)
        if node.closed and self._eager:
            raise OrderViolation(f"{_show(parts)} comes after its directory was left")
        if self._eager and node.last_emitted is not None and name <= node.last_emitted:
            raise OrderViolation(f"{_show(parts)} comes after entries that sort after it")
        self._last = parts
        return node, name

    def _close_from(self, depth: int) -> None:
        """Close the directories of the previous path from `depth` on (depth 1 = its first component)."""
        node: _Node | None = self._root
        for i, name in enumerate(self._last):
            node = node.children.get(name) if node is not None else None
            if node is None or node.kind != "dir":
                return
            if i + 1 >= depth:
                node.closed = True

    def _raise_bound(self, parent: _Node, name: bytes) -> None:
        bound, inclusive = name, True
        if _BELOW_SLASH.search(name, 1):
            # a directory whose name is a prefix of `name` followed by a byte below '/' sorts after
            # `name` in git's order but before it in NAR's: it may still come
            for i in range(1, len(name)):
                if name[i] < 0x2F:
                    prefix = name[:i]
                    if prefix not in parent.children and self._is_dir(parent.path, prefix):
                        bound, inclusive = prefix, False
                        break
        if bound > parent.bound or (bound == parent.bound and not inclusive):
            parent.bound, parent.bound_inclusive = bound, inclusive

    def _attach(self, parent: _Node, name: bytes, node: _Node) -> None:
        parent.children[name] = node
        heapq.heappush(parent.pending, name)

    def _replace(self, parent: _Node, name: bytes, kind: str) -> None:
        """A later archive entry for the same name wins, as when unpacking; but a directory that holds
        something is not replaced by a file or a symlink (libarchive removes only an empty one). A
        directory the streaming pass already emitted has forgotten its entries: the holding pass, where
        they are known, decides."""
        old = parent.children.get(name)
        if old is None:
            return
        if old.kind == "dir" and kind != "dir" and old.children and not old.emitted:
            raise UserError(
                f"archive has {_show((parent.path, name))} as a directory with entries and then as a {kind}: "
                "nix refuses to replace it"
            )
        parent.children.pop(name)
        if old.emitted or self._eager:
            raise OrderViolation(f"{_show((parent.path, name))} appears twice in the archive")
        parent.pending.remove(name)
        heapq.heapify(parent.pending)

    def _lookup(self, parts: tuple[bytes, ...]) -> _Node | None:
        node: _Node | None = self._root
        for name in parts:
            if node is None or node.kind != "dir":
                return None
            node = node.children.get(name)
        return node

    def _check_single_top(self) -> None:
        tops = self._root.children
        if len(tops) != 1:
            names = ", ".join(sorted(n.decode("utf-8", "replace") for n in tops)[:5])
            what = "nothing" if not tops else f"{len(tops)} top-level entries ({names})"
            raise UserError(f"tarball holds {what}; builtins.fetchTarball needs exactly one top-level entry")

    # -- emission -----------------------------------------------------------------------------------------

    def _advance(self) -> None:
        if not self._eager:
            return
        update = self._sha.update  # the current one: OpenSSL's once the NAR outgrew SMALL_NAR
        stats = self.stats
        stack = self._stack
        if not self._started:
            top = self._root
            if self._strip_top:
                # the first top-level entry is the root: a second one is an error anyway
                if not top.pending:
                    return
                top = top.children[heapq.heappop(top.pending)]
            self._started = True
            if top.kind != "dir":
                self._emit_leaf(top)
                return
            update(_DIR_HEAD)
            stats.nar_bytes += len(_DIR_HEAD)
            stack.append(top)
        while stack:
            d = stack[-1]
            pending = d.pending
            if pending:
                name = pending[0]
                if not (d.closed or name < d.bound or (name == d.bound and d.bound_inclusive)):
                    return
                heapq.heappop(pending)
                d.last_emitted = name
                child = d.children[name]
                head = _ENTRY + nar_str(name) + _NODE
                update(head)
                stats.nar_bytes += len(head)
                if child.kind == "dir":
                    update(_DIR_HEAD)
                    stats.nar_bytes += len(_DIR_HEAD)
                    stack.append(child)
                else:
                    self._emit_leaf(child)
                    update(_CLOSE)
                    stats.nar_bytes += len(_CLOSE)
                continue
            if not d.closed:
                return
            d.emitted = True
            d.children.clear()  # nothing can arrive for it any more: keep memory bounded
            stats.directories += 1
            stack.pop()
            # a directory's node closes; below the root, so does the entry that holds it
            tail = _CLOSE + _CLOSE if stack else _CLOSE
            update(tail)
            stats.nar_bytes += len(tail)

    def _emit_leaf(self, node: _Node) -> None:
        update = self._sha.update
        stats = self.stats
        if node.kind == "link":
            data = _LINK_HEAD + nar_str(node.target) + _CLOSE
            update(data)
            stats.nar_bytes += len(data)
            stats.symlinks += 1
            node.emitted = True
            return
        head = _REG_HEAD + (_EXEC if node.executable else b"") + _CONTENTS
        size = node.size
        update(head + size.to_bytes(8, "little"))
        if node.reader is not None:
            reader, left = node.reader, size
            while left:
                chunk = reader.read(min(CHUNK, left))
                if not chunk:
                    raise UserError("archive is truncated: a file ends before its declared size")
                update(chunk)
                left -= len(chunk)
            node.reader = None
        else:
            self._spool.copy(node.offset, size, update)
        tail = b"\0" * (-size % 8) + _CLOSE
        update(tail)
        stats.nar_bytes += len(head) + 8 + size + len(tail)
        stats.files += 1
        stats.content_bytes += size
        node.emitted = True


def _join(parent: bytes, name: bytes) -> bytes:
    return parent + b"/" + name if parent else name


def _show(parts: tuple[bytes, ...]) -> str:
    return b"/".join(p for p in parts if p).decode("utf-8", "replace")
