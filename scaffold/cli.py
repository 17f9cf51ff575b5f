"""The command line: parse arguments, call one pipeline function, render its result.

Only argparse is imported at start-up; each command imports its modules when it runs, so that
`libnix --help` does not pay for copier, git or requests.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from scaffold import __version__, views
from scaffold.errors import LibnixError, one_line

HASH_FORMATS = ("nix32", "sri", "base16", "prefixed")


class _Formatter(argparse.HelpFormatter):
    """argparse's formatter, told the width: its own way to learn it imports shutil (and with it bz2
    and lzma) on every add_argument, a tenth of `hash --tag`'s whole run on a small repository."""

    def __init__(self, prog: str, **kw: int) -> None:
        kw.setdefault("width", _width() - 2)  # as HelpFormatter narrows shutil's width
        super().__init__(prog, **kw)


def _width() -> int:
    """The terminal's columns as shutil.get_terminal_size says them: $COLUMNS, stdout's, else 80."""
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size((sys.__stdout__ or sys.stdout).fileno()).columns or 80
    except (AttributeError, ValueError, OSError):
        return 80


def _parser(command: str | None = None) -> argparse.ArgumentParser:
    """Every command, with the arguments of `command` only (None: of all): building them costs more
    than parsing them, and `hash --tag` must start fast."""
    parser = argparse.ArgumentParser(
        prog="libnix",
        description="Wire Rust projects into nix flakes with cargo (libnix) and release pinned, "
        "IFD-free build systems.",
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=f"libnix {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, (summary, description, arguments, func) in _COMMANDS.items():
        p = sub.add_parser(name, help=summary, description=description, formatter_class=_Formatter)
        if command in (None, name):
            arguments(p)
        p.set_defaults(func=func)
    return parser


def _command(argv: Sequence[str]) -> str | None:
    """The command argparse will pick (its first positional), if it is one."""
    first = next((a for a in argv if not a.startswith("-")), None)
    return first if first in _COMMANDS else None


def _hash_arguments(h: argparse.ArgumentParser) -> None:
    h.add_argument(
        "source", nargs="?",
        help="directory (a symlink to one is refused: nix-hash would hash the link itself), tarball "
        "(.tar[.gz|.bz2|.xz|.zst|.lzma], .zip) or URL",
    )  # fmt: skip
    ref = h.add_mutually_exclusive_group()
    ref.add_argument("--tag", help="hash `git archive` of this tag, as the forge serves it")
    ref.add_argument("--rev", help="hash `git archive` of this revision")
    h.add_argument("-C", dest="repo", default=".", metavar="DIR", help="the git repository (default .)")
    h.add_argument("--format", choices=HASH_FORMATS, default="nix32", help="output format")
    h.add_argument("--expect", metavar="HASH", help="exit 1 unless the hash equals HASH (any format)")
    h.add_argument("--json", action="store_true", help="print all formats and counts as JSON")


def _release_arguments(r: argparse.ArgumentParser) -> None:
    r.add_argument("--tag", required=True, help="the tag to release")
    r.add_argument("-C", dest="repo", default=".", metavar="DIR", help="the git repository (default .)")
    r.add_argument("--create-tag", action="store_true", help="create an annotated tag T at HEAD first")
    r.add_argument("--message", help="the tag message with --create-tag (default: Release T)")
    r.add_argument("--push", action="store_true", help="push the tag to origin")
    r.add_argument("--url", help="the tarball URL consumers fetch (default: from the origin remote)")
    r.add_argument("--forge", choices=("github", "gitlab", "gitea", "sourcehut"), help="forge of origin")
    r.add_argument("--from", dest="from_dir", metavar="DIR", help="an already generated build system")
    r.add_argument("--cargo", metavar="PATH", help="cargo (libnix) (default: $LIBNIX_CARGO, then cargo)")
    r.add_argument("--out-dir", metavar="DIR", help="the export directory (default: ./libnix-VERSION+T)")
    r.add_argument(
        "--version", dest="release_version", metavar="V",
        help="the version in the export's name (default: the tag's Cargo.toml, else the tag: v1.2 -> 1.2)",
    )  # fmt: skip
    r.add_argument("--no-worktree", action="store_true", help="export from the working tree (clean, at T)")
    r.add_argument("--force", action="store_true", help="replace existing outputs")
    r.add_argument("--dry-run", action="store_true", help="resolve and hash, then say what would be written")
    r.add_argument("--verify-remote", action="store_true", help="download the forge's tarball and compare")
    r.add_argument(
        "--publish", action="store_true",
        help="create the forge release (if missing) and upload the asset; token from $GITHUB_TOKEN, "
        "$GITLAB_TOKEN or $GITEA_TOKEN; --force re-uploads a different asset",
    )  # fmt: skip
    r.add_argument(
        "--keep-ifd", action="store_true",
        help="keep cargo (libnix)'s evaluation-time reads of build-script output (default: at build time)",
    )  # fmt: skip
    r.add_argument(
        "--verify", action="store_true",
        help="before anything is written or published, let nix evaluate every root crate through each "
        "consumer form (libnix check --eval)",
    )  # fmt: skip
    r.add_argument("--nixpkgs", metavar="PATH", help="with --verify: this nixpkgs in place of the pinned one")
    r.add_argument("--json", action="store_true", help="print the release manifest as JSON on stdout")


def _check_arguments(c: argparse.ArgumentParser) -> None:
    c.add_argument("directory", nargs="?", default=".", help="the export directory (default .)")
    c.add_argument("--tarball", metavar="FILE", help="a local copy of the pinned tarball to compare with")
    c.add_argument("--verify-remote", action="store_true", help="download the pinned tarball and compare")
    c.add_argument("--strict", action="store_true", help="count import-from-derivation as a failure")
    c.add_argument(
        "--eval", action="store_true",
        help="let nix evaluate every root crate through each consumer form (the export's flake, the plain "
        "caller given a package set), import-from-derivation disabled",
    )  # fmt: skip
    c.add_argument(
        "--build", action="store_true",
        help="let nix build every root crate of this system from the export's flake, as a consumer would",
    )  # fmt: skip
    c.add_argument(
        "--nixpkgs", metavar="PATH",
        help="with --eval/--build: this nixpkgs (a checkout, or laid out as one) instead of the pinned one",
    )  # fmt: skip
    c.add_argument(
        "--fenix", metavar="PATH", help="with --eval/--build: this fenix in place of the pinned one"
    )
    c.add_argument(
        "--nix", metavar="PATH",
        help="with --eval/--build: the nix to ask, nix-instantiate beside it (default: $LIBNIX_NIX, PATH)",
    )  # fmt: skip
    c.add_argument(
        "--online", nargs="?", const="head", choices=["head", "download"],
        help="ask every URL the export fetches as nix's fetchers ask (their User-Agent): crates, the tag "
        "tarball, nixpkgs, fenix, git sources; --online=download fetches each and checks its hash",
    )  # fmt: skip
    c.add_argument("--json", action="store_true", help="print the report as JSON")


def _init_arguments(i: argparse.ArgumentParser) -> None:
    i.add_argument("directory", nargs="?", default=".", help="the project (default .; created if missing)")
    i.add_argument(
        "--defaults", action="store_true", help="ask nothing: take the project's facts and defaults"
    )
    i.add_argument("--data", action="append", default=[], metavar="KEY=VALUE", help="answer a question")
    i.add_argument("--pretend", action="store_true", help="list what would be written; write nothing")
    i.add_argument("--force", action="store_true", help="replace files that exist and differ")
    i.add_argument("--template", metavar="SRC", help="another template source (a libnix git checkout, a URL)")
    i.add_argument("--vcs-ref", metavar="REF", help="the template version (git ref) with --template")
    i.add_argument("--offline", action="store_true", help="do not fetch a Rust version's manifest hash")


def _update_arguments(u: argparse.ArgumentParser) -> None:
    u.add_argument("directory", nargs="?", default=".", help="the project (default .)")
    u.add_argument("--data", action="append", default=[], metavar="KEY=VALUE", help="change an answer")
    u.add_argument("--template", metavar="SRC", help="update from this template source")
    u.add_argument("--vcs-ref", metavar="REF", help="the template version (git ref) to update to")
    u.add_argument("--offline", action="store_true", help="do not fetch a Rust version's manifest hash")
    u.add_argument(
        "--defaults", action="store_true", help="ask nothing, not even a newer template's questions"
    )


def _cmd_hash(args: argparse.Namespace) -> int:
    from scaffold.hashing.sources import HashOptions, run
    from scaffold.progress import Bar

    bar = Bar("downloading")
    try:
        opts = HashOptions(source=args.source, tag=args.tag, rev=args.rev, repo=args.repo, expect=args.expect)
        result = run(opts, progress=bar)
    finally:
        bar.close()
    if args.json:
        print(_json(result.as_json()))
    else:
        print(result.sha256.format(args.format))
    return 0


def _json(doc: object) -> str:
    import json  # only for --json

    return json.dumps(doc, indent=2)


def _print(lines: list[str]) -> None:
    for line in lines:
        print(line)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _choose_nix(path: str) -> None:
    """The nix every later call asks (nixtool reads LIBNIX_NIX): a `nix` binary, or its directory."""
    from scaffold.errors import UserError

    if not os.path.exists(path):
        raise UserError(f"--nix {path}: no such file or directory")
    os.environ["LIBNIX_NIX"] = os.path.abspath(path)


def _cmd_release(args: argparse.Namespace) -> int:
    from scaffold.progress import Bar
    from scaffold.release.pipeline import ReleaseOptions, run

    opts = ReleaseOptions(
        tag=args.tag,
        repo=args.repo,
        create_tag=args.create_tag,
        message=args.message,
        url=args.url,
        forge=args.forge,
        from_dir=args.from_dir,
        cargo=args.cargo,
        out_dir=args.out_dir,
        force=args.force,
        dry_run=args.dry_run,
        verify_remote=args.verify_remote,
        keep_ifd=args.keep_ifd,
        verify=args.verify,
        nixpkgs=args.nixpkgs,
        version=args.release_version,
        no_worktree=args.no_worktree,
        push=args.push,
        publish=args.publish,
    )
    if args.nixpkgs and not args.verify:
        print("libnix: error: --nixpkgs goes with --verify", file=sys.stderr)
        return 2
    bar = Bar("downloading")
    try:
        result = run(opts, log=_log, progress=bar)
    finally:
        bar.close()
    if args.json:
        print(_json(result.as_json()))
        return 0
    _print(views.dry_run(result) if result.dry_run else views.release(result))
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from scaffold.buildsystem.check import CheckOptions, run
    from scaffold.progress import Bar

    if (args.nixpkgs or args.fenix or args.nix) and not (args.eval or args.build):
        print("libnix: error: --nixpkgs, --fenix and --nix go with --eval or --build", file=sys.stderr)
        return 2
    if args.nix:
        _choose_nix(args.nix)
    bar, asking = Bar("downloading"), Bar("asking", count=True)
    try:
        opts = CheckOptions(
            directory=args.directory, tarball=args.tarball, verify_remote=args.verify_remote,
            strict=args.strict, eval=args.eval, nixpkgs=args.nixpkgs, fenix=args.fenix, build=args.build,
            online=args.online,
        )  # fmt: skip
        result = run(opts, bar, asking)
    finally:
        bar.close()
        asking.close()
    if args.json:
        print(_json(result.as_json()))
    else:
        _print(views.check(result))
    return result.exit_code


def _cmd_init(args: argparse.Namespace) -> int:
    from scaffold.init.create import InitOptions, run_init

    ask = not args.defaults and sys.stdin.isatty() and sys.stdout.isatty()
    opts = InitOptions(
        directory=args.directory, data=tuple(args.data), defaults=not ask, pretend=args.pretend,
        force=args.force, template=args.template, vcs_ref=args.vcs_ref, offline=args.offline,
    )  # fmt: skip
    result = run_init(opts, log=_log)
    for warning in result.warnings:
        print(f"libnix: warning: {warning}", file=sys.stderr)
    _print(views.init(result))
    return 0


def _cmd_update(args: argparse.Namespace) -> int:
    from scaffold.init.update import UpdateOptions, run_update

    ask = not args.defaults and sys.stdin.isatty() and sys.stdout.isatty()
    opts = UpdateOptions(
        directory=args.directory, data=tuple(args.data), template=args.template, vcs_ref=args.vcs_ref,
        offline=args.offline, ask=ask,
    )  # fmt: skip
    result = run_update(opts, log=_log)
    for warning in result.warnings:
        _log(f"libnix: warning: {warning}")
    _print(views.update(result))
    if result.conflicts:
        listed = ", ".join(result.conflicts)
        print(
            f"libnix: error: {len(result.conflicts)} file(s) conflict with your edits: {listed}",
            file=sys.stderr,
        )
        return 1
    return 0


_Command = tuple[str, str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]
_COMMANDS: dict[str, _Command] = {
    "hash": (
        "the fetchTarball hash of a directory, tarball, URL or git ref",
        "Print the hash that builtins.fetchTarball and nixpkgs fetchzip verify: the "
        "SHA-256 of the NAR of the unpacked tree, its single top-level directory stripped.",
        _hash_arguments,
        _cmd_hash,
    ),
    "release": (
        "export a pinned, IFD-free build system for a tag",
        "Export the build system of tag T with every local source pinned to the forge's "
        "tarball of T and its hash: libnix-VERSION+T/, its .tar.bz2, a release.json and consumer snippets.",
        _release_arguments,
        _cmd_release,
    ),
    "check": (
        "verify an exported build system",
        "Parse every .nix file, find local paths and impure lookups, report IFD, and compare "
        "the pinned source hash with a tarball (--tarball FILE or --verify-remote).",
        _check_arguments,
        _cmd_check,
    ),
    "init": (
        "turn a Rust repo (or an empty directory) into a flake with fenix and cargo (libnix)",
        "Write flake.nix (nixpkgs, fenix, cargo (libnix), a dev shell), Cargo.dependencies.nix, "
        "GitHub workflows and .gitignore lines through libnix's copier template. Defaults come from "
        "Cargo.toml, rust-toolchain(.toml) and the origin remote.",
        _init_arguments,
        _cmd_init,
    ),
    "update": (
        "re-apply a newer template, keeping your edits (3-way merge)",
        "Re-apply the template of this libnix (or --template/--vcs-ref) with the recorded "
        "answers. Your edits survive, the template's changes arrive; conflicts are marked inline.",
        _update_arguments,
        _cmd_update,
    ),
}


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = _parser(_command(argv)).parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except LibnixError as exc:
        print(f"libnix: error: {one_line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:  # the file system said no where no module expected it: still one line
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"libnix: error: {one_line(f'{where}{exc.strerror or exc}')}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("libnix: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
