"""Each rewrite rule of scaffold/buildsystem/rules/ on its own, on a few lines of nix: fast, and a failure
names the rule. The end-to-end tests (test_real_output, test_release, …) prove the whole rewrite with nix
on real cargo (libnix) output; these say which rule broke."""

from __future__ import annotations

from pathlib import Path

from scaffold.buildsystem.findings import Report
from scaffold.buildsystem.pins import Origin, Pin
from scaffold.buildsystem.rules import (
    Context,
    FileJob,
    consumer_pkgs,
    crate_sources,
    fetcher_imports,
    fileset,
    filter_source,
    local_paths,
    pinned_src,
    project_root,
    rules,
    text_paths,
)
from scaffold.hashing.nixhash import parse_sha256
from scaffold.nix import syntax as ns

URL = "https://github.com/acme/hello/archive/refs/tags/v1.tar.gz"
PIN = Pin(URL, parse_sha256("1" * 52))
FETCH = f'builtins.fetchTarball {{ url = "{URL}"; sha256 = "sha256:{"1" * 52}"; }}'
AS_PATH = f"(/. + builtins.unsafeDiscardStringContext ({FETCH}))"


def run(rule, rel: str, text: str, **ctx: object) -> tuple[str, Report]:
    """The rule alone on one file of an export generated at /build/repo/target/release/nix."""
    report = Report()
    files = ctx.pop("files", ())
    origin = Origin(Path("/build/repo/target/release/nix"), (Path("/build/repo"),))
    context = Context(PIN, origin, report, frozenset(files), **ctx)  # type: ignore[arg-type]
    job = FileJob(ns.parse(rel, text.encode()))
    rule.apply(context, job)
    return job.result().decode(), report


def test_the_rules_run_in_their_documented_order() -> None:
    names = [r.__module__.rsplit(".", 1)[1] for r in rules()]
    assert names == [
        "pinned_src", "filter_source", "project_root", "fileset", "consumer_pkgs", "crate_sources",
        "fetcher_imports", "build_time_arguments", "text_paths", "local_paths",
    ]  # fmt: skip


def test_pinned_src_unpacks_a_fetchurl_of_the_tag_and_checks_a_fetch_tarball() -> None:
    text = f'{{ pkgs }}: {{ src = pkgs.fetchurl {{ url = "{URL}"; sha256 = "{"0" * 52}"; }}; }}\n'
    out, report = run(pinned_src, "derivations/a.nix", text)
    assert out == f"{{ pkgs }}: {{ src = {FETCH}; }}\n"
    assert [f.message for f in report.rewritten] == [
        "fetchurl of the tag's tarball (a file hash, never unpacked) -> its unpacked tree"
    ]
    wrong = f'{{ }}: {{ src = builtins.fetchTarball {{ url = "{URL}"; sha256 = "{"0" * 52}"; }}; }}\n'
    out, report = run(pinned_src, "derivations/a.nix", wrong)
    assert out == wrong and [str(f) for f in report.errors] == [
        f"derivations/a.nix:1: {URL} pinned to sha256:{'0' * 52}, but its hash is sha256:{'1' * 52}"
    ]


def test_filter_source_becomes_the_tarball_and_its_member() -> None:
    text = "{ pkgs }: { src = builtins.filterSource (path: type: true) /build/repo/member; }\n"
    out, report = run(filter_source, "derivations/a.nix", text)
    assert out == f'{{ pkgs }}: {{ src = "${{{FETCH}}}/member"; }}\n'
    assert len(report.rewritten) == 1 and not report.errors


def test_project_root_every_form_is_the_tag_as_a_path() -> None:
    for form in ("../.", "./.", "../../../.", "/build/repo"):
        text = f"{{ system ? builtins.currentSystem }}:\nlet\n  project_root = {form};\nin project_root\n"
        out, report = run(project_root, "cargo_build_caller.nix", text)
        assert f"project_root = {AS_PATH};" in out, form
        assert [f.message for f in report.rewritten] == [f"project_root = {form} -> the tag's tarball"], form


def test_fileset_names_a_file_the_tag_lacks() -> None:
    text = '{ fn, project_root }: fn.relativeFileset project_root [ "src/main.rs" "src/gone.rs" ]\n'
    out, report = run(fileset, "derivations/a.nix", text, tag_paths=frozenset({"src", "src/main.rs"}))
    assert out == text
    assert [str(f) for f in report.errors] == [
        "derivations/a.nix:1: fileset entry 'src/gone.rs' does not exist in the tag's tree"
    ]


ONES = "1" * 52
CALLER = f"""{{ system ? builtins.currentSystem }}:
let
  nixpkgsSrc = builtins.fetchTarball {{ url = "https://x/n.tar.gz"; sha256 = "{ONES}"; }};
  pkgs = import nixpkgsSrc {{ inherit system; }};
  fenix = import (builtins.fetchTarball {{ url = "https://x/f.tar.gz"; sha256 = "{ONES}"; }}) {{ }};
in
  pkgs.hello
"""


def test_consumer_pkgs_takes_the_consumers_package_set_and_hands_it_to_fenix() -> None:
    out, report = run(consumer_pkgs, "cargo_build_caller.nix", CALLER)
    n, f = "https://x/n.tar.gz", "https://x/f.tar.gz"
    fetch_n = f'builtins.fetchTarball {{ url = "{n}"; sha256 = "{ONES}"; }}'
    assert f"  pkgs ? import ({fetch_n}) {{ inherit system; }}," in out
    assert (
        f'  fenix ? import (builtins.fetchTarball {{ url = "{f}"; sha256 = "{ONES}"; }}) {{ inherit pkgs; }}'
        in out
    )
    assert "nixpkgsSrc" not in out and "  pkgs = " not in out
    assert [f.message for f in report.rewritten] == ["the caller takes the consumer's pkgs and fenix"]
    # the project's flake.lock nixpkgs, when it has one, in place of the caller's own
    locked = Pin("https://github.com/NixOS/nixpkgs/archive/abc.tar.gz", parse_sha256("0" * 51 + "2"))
    out, _ = run(consumer_pkgs, "cargo_build_caller.nix", CALLER, nixpkgs=locked)
    assert (
        f"  pkgs ? import ({locked.fetch()}) {{ inherit system; }}," in out
        and "https://x/n.tar.gz" not in out
    )


def test_crate_sources_moves_crates_io_to_static_crates_io_with_nixpkgs_name() -> None:
    text = """{ pkgs }: {
  src = pkgs.fetchurl {
    url = "https://crates.io/api/v1/crates/itoa/1.0.14/download";
    sha256 = "d75a";
  };
  named = pkgs.fetchurl {
    name = "mine"; url = "https://crates.io/api/v1/crates/a-b/0.1.0-rc.1/download"; sha256 = "x";
  };
  other = pkgs.fetchurl { url = "https://example.org/crates.io/api/v1/crates/x/1/download"; sha256 = "y"; };
  git = pkgs.fetchgit { url = "https://github.com/dtolnay/itoa"; rev = "r"; sha256 = "z"; };
}
"""
    out, report = run(crate_sources, "derivations/deps/a.nix", text)
    assert out == (
        text.replace(
            '    url = "https://crates.io/api/v1/crates/itoa/1.0.14/download";\n',
            '    name = "crate-itoa-1.0.14.tar.gz";\n    url = "https://static.crates.io/crates/itoa/itoa-1.0.14.crate";\n',
        ).replace(
            'url = "https://crates.io/api/v1/crates/a-b/0.1.0-rc.1/download"',
            'url = "https://static.crates.io/crates/a-b/a-b-0.1.0-rc.1.crate"',
        )
    )
    assert report.crates_moved == 2


def test_fetcher_imports_an_imported_fetch_becomes_its_builtin_twin() -> None:
    sri = "sha256-AuQcr9moMM2d5LCbkQzn/1XQOmZbC2VMOLrR2tgCPAo="
    github = f'pkgs.fetchFromGitHub {{ owner = "o"; repo = "r"; rev = "abc"; sha256 = "{sri}"; }}'
    text = f"{{ pkgs }}: import ({github}) {{ }}\n"
    out, report = run(fetcher_imports, "cargo_build_caller.nix", text)
    assert 'import (builtins.fetchTarball {\n    url = "https://github.com/o/r/archive/abc.tar.gz";' in out
    assert f'    sha256 = "{sri}";' in out
    assert [f.message for f in report.rewritten] == [
        "fetchFromGitHub (imported at evaluation) -> builtins.fetchTarball"
    ]
    plain = (
        '{ pkgs }: { src = pkgs.fetchFromGitHub { owner = "o"; repo = "r"; rev = "abc"; sha256 = "x"; }; }\n'
    )
    assert run(fetcher_imports, "derivations/a.nix", plain)[0] == plain  # built at build time: no IFD


def test_text_paths_a_notice_names_its_file_as_the_export_has_it() -> None:
    rel = "derivations/deps/x-script_build_run-1.nix"
    other = "/tmp/blah/derivations/default.nix"
    text = f'{{ }}: {{ msg = "error in file: \'/tmp/blah/{rel}\':"; other = "{other}"; }}\n'
    out, _ = run(text_paths, rel, text)
    assert f"error in file: '{rel}':" in out
    assert '"/tmp/blah/derivations/default.nix"' in out  # not this file's own path: untouched


def test_local_paths_keeps_the_export_pins_the_project_refuses_the_rest() -> None:
    text = "{ }: [ (import ./derivations/default.nix) /home/alice/secret.nix ../../../README.md ]\n"
    out, report = run(local_paths, "cargo_build_caller.nix", text, tag_paths=frozenset({"README.md"}),
                      files=("derivations/default.nix",))  # fmt: skip
    assert out.startswith("{ }: [ (import ./derivations/default.nix) /home/alice/secret.nix (")
    assert f'{AS_PATH[:-1]} + "/README.md")' in out
    assert [str(f) for f in report.errors] == [
        "cargo_build_caller.nix:1: local path /home/alice/secret.nix (/home/alice/secret.nix) "
        "is outside the project"
    ]
