"""The command line: parse arguments, call one pipeline function, render its result.

Only argparse is imported at start-up; each command imports its modules when it runs, so that
`libnix --help` does not pay for copier, git or requests.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence

from . import __version__
from .errors import LibnixError

HASH_FORMATS = ("nix32", "sri", "base16", "prefixed")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="libnix",
        description="Wire Rust projects into nix flakes with cargo (libnix) and release pinned, "
        "IFD-free build systems.",
    )
    parser.add_argument("--version", action="version", version=f"libnix {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    h = sub.add_parser(
        "hash",
        help="the fetchTarball hash of a directory, tarball, URL or git ref",
        description="Print the hash that builtins.fetchTarball and nixpkgs fetchzip verify: the "
        "SHA-256 of the NAR of the unpacked tree, its single top-level directory stripped.",
    )
    h.add_argument("source", nargs="?", help="directory, tarball (.tar[.gz|.bz2|.xz], .zip) or URL")
    ref = h.add_mutually_exclusive_group()
    ref.add_argument("--tag", help="hash `git archive` of this tag, as the forge serves it")
    ref.add_argument("--rev", help="hash `git archive` of this revision")
    h.add_argument("-C", dest="repo", default=".", metavar="DIR", help="the git repository (default .)")
    h.add_argument("--format", choices=HASH_FORMATS, default="nix32", help="output format")
    h.add_argument("--expect", metavar="HASH", help="exit 1 unless the hash equals HASH (any format)")
    h.add_argument("--json", action="store_true", help="print all formats and counts as JSON")
    h.set_defaults(func=_cmd_hash)
    return parser


def _cmd_hash(args: argparse.Namespace) -> int:
    from .hash import HashOptions, run
    from .progress import Bar

    bar = Bar("downloading")
    try:
        result = run(HashOptions(args.source, args.tag, args.rev, args.repo, args.expect), progress=bar)
    finally:
        bar.close()
    if args.json:
        print(json.dumps(result.as_json(), indent=2))
    else:
        print(result.sha256.format(args.format))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except LibnixError as exc:
        print(f"libnix: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("libnix: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
