"""scaffold/hashing/nar.py on its own: the streaming NAR hash against a NAR written the simple way
(the whole tree in memory, entries sorted, nix's format spelled out here), on small trees. The hash's
agreement with nix itself is test_hash_vs_nix's; here a failure names the NAR builder."""

from __future__ import annotations

import hashlib
import io

import pytest

from scaffold.errors import UserError
from scaffold.hashing.nar import NarBuilder, OrderViolation, nar_str

Tree = dict[bytes, object]  # name -> bytes (file), ("x", bytes) (executable), ("l", target), or a Tree


def s(data: bytes) -> bytes:
    return len(data).to_bytes(8, "little") + data + b"\0" * (-len(data) % 8)


def node(value: object) -> bytes:
    if isinstance(value, dict):
        entries = b"".join(
            s(b"entry") + s(b"(") + s(b"name") + s(n) + s(b"node") + node(value[n]) + s(b")")
            for n in sorted(value)
        )
        return s(b"(") + s(b"type") + s(b"directory") + entries + s(b")")
    if isinstance(value, tuple) and value[0] == "l":
        return s(b"(") + s(b"type") + s(b"symlink") + s(b"target") + s(value[1]) + s(b")")
    executable = isinstance(value, tuple)
    data = value[1] if isinstance(value, tuple) else value
    assert isinstance(data, bytes)
    flag = s(b"executable") + s(b"") if executable else b""
    return s(b"(") + s(b"type") + s(b"regular") + flag + s(b"contents") + s(data) + s(b")")


def reference(tree: object) -> bytes:
    return hashlib.sha256(s(b"nix-archive-1") + node(tree)).digest()


def feed(builder: NarBuilder, tree: Tree, prefix: tuple[bytes, ...] = (), order: str = "sorted") -> None:
    names = sorted(tree) if order == "sorted" else sorted(tree, reverse=True)
    for name in names:
        value, parts = tree[name], (*prefix, name)
        if isinstance(value, dict):
            builder.add_dir(parts)
            feed(builder, value, parts, order)
        elif isinstance(value, tuple) and value[0] == "l":
            builder.add_symlink(parts, value[1])
        else:
            data = value[1] if isinstance(value, tuple) else value
            assert isinstance(data, bytes)
            builder.add_file(parts, len(data), isinstance(value, tuple), io.BytesIO(data))


TREES: dict[str, Tree] = {
    "files": {b"a": b"alpha\n", b"b.sh": ("x", b"#!/bin/sh\n"), b"empty": b""},
    "nested": {b"src": {b"main.rs": b"fn main() {}\n", b"lib": {b"x.rs": b"// x\n"}}, b"README": b"r"},
    "links": {b"to-file": ("l", b"a"), b"a": b"1", b"dangling": ("l", b"../nowhere"), b"d": {}},
    # git's order (foo/ after foo.txt) is not the NAR's (foo before foo.txt): byte order decides
    "order": {b"foo": {b"z": b"z"}, b"foo.txt": b"t", b"foo-bar": b"-", b"\xc3\xa9": b"e", b"Z": b"Z"},
    "padding": {b"x" * 7: b"1234567", b"y" * 8: b"12345678", b"z" * 9: b"123456789"},
}


@pytest.mark.parametrize("name", sorted(TREES))
@pytest.mark.parametrize("order", ["sorted", "reversed"])
def test_nar_matches_the_simple_serialisation(name: str, order: str) -> None:
    tree = TREES[name]
    builder = NarBuilder(strip_top=True, eager=order == "sorted")
    builder.add_dir((b"top",))
    feed(builder, tree, (b"top",), order)
    digest, stats = builder.finish()
    assert digest == reference(tree)
    assert stats.nar_bytes == len(s(b"nix-archive-1") + node(tree))


def test_without_strip_top_the_root_is_the_tree() -> None:
    builder = NarBuilder(strip_top=False)
    feed(builder, TREES["nested"])
    assert builder.finish()[0] == reference(TREES["nested"])


def test_a_single_top_level_file_is_the_nar_of_that_file() -> None:
    builder = NarBuilder(strip_top=True)
    builder.add_file((b"only",), 3, False, io.BytesIO(b"abc"))
    assert builder.finish()[0] == reference(b"abc")


def test_hard_links_share_the_content() -> None:
    builder = NarBuilder(strip_top=True, eager=False)
    builder.add_dir((b"top",))
    builder.add_file((b"top", b"z"), 4, True, io.BytesIO(b"data"))
    builder.add_hardlink((b"top", b"a"), (b"top", b"z"))
    assert builder.finish()[0] == reference({b"a": ("x", b"data"), b"z": ("x", b"data")})


def test_out_of_order_streams_and_missing_targets() -> None:
    eager = NarBuilder(strip_top=False)
    eager.add_file((b"b",), 1, False, io.BytesIO(b"b"))
    with pytest.raises(OrderViolation):  # `a` would have to precede the `b` already hashed
        eager.add_file((b"a",), 1, False, io.BytesIO(b"a"))
    builder = NarBuilder(strip_top=False, eager=False)
    with pytest.raises(UserError, match=r"hard link .* to a missing file"):
        builder.add_hardlink((b"a",), (b"missing",))


def test_nar_str_pads_to_eight() -> None:
    assert nar_str(b"") == b"\0" * 8
    assert nar_str(b"abc") == b"\x03" + b"\0" * 7 + b"abc" + b"\0" * 5
