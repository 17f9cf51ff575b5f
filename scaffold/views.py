"""What a person reads on the terminal after each command: results turned into lines, nothing printed
here. `cli` prints them (stdout, and warnings on stderr); `--json` prints the results' own documents
instead. Imports results only under TYPE_CHECKING: rendering costs nothing at start.
"""

from __future__ import annotations

from scaffold.names import DEPENDENCIES

TYPE_CHECKING = False  # typing itself is not imported: `hash --tag` pays for every module at start
if TYPE_CHECKING:
    from scaffold.buildsystem.check import CheckResult
    from scaffold.init.create import InitResult
    from scaffold.init.update import UpdateResult
    from scaffold.release.result import ReleaseResult


def dry_run(result: ReleaseResult) -> list[str]:
    out = [f"dry run: {result.tag} at {result.commit}"]
    if result.member:
        out.append(f"  member   {result.member} (the workspace member the tag names)")
    if result.project_dir:
        out.append(f"  project  {result.project_dir}/ of the repository (its whole tarball is pinned)")
    out.append(f"  version  {result.version} (from {result.version_from})")
    out.append(f"  url      {result.url}")
    out.append(f"  sha256   {result.sha256.prefixed}")
    if result.crates_moved:
        moved = f"{result.crates_moved} ({result.crates_from})"
        out.append(f"  crates   {moved} to fetch from static.crates.io, not crates.io's API (403 to nix)")
    out.append(f"  would write {result.export_dir}/, {result.asset.name}, release.json and snippets")
    return out


def release(result: ReleaseResult) -> list[str]:
    assert result.asset_sha256 is not None
    out = [
        f"exported {result.export_dir}",
        f"  source   {result.url}",
        f"  sha256   {result.sha256.prefixed}",
        f"  asset    {result.asset} ({result.asset_sha256.prefixed})",
    ]
    if result.nixpkgs:
        out.append(f"  nixpkgs  {result.nixpkgs[0]} (from {result.nixpkgs[1]})")
    if result.crates_moved:
        moved = f"{result.crates_moved} sources moved to static.crates.io"
        out.append(f"  crates   {moved} (crates.io's API refuses nix)")
    out += [f"  package  {attr}" for attr in result.attributes]
    if result.published is not None:
        pub = result.published
        state = "uploaded" if pub.uploaded else "already there, identical"
        out.append(f"  release  {pub.release_url} ({'created' if pub.created_release else 'existing'})")
        out.append(f"  download {pub.asset_url} ({state})")
    snippets = result.snippets
    out += [
        "\nConsumers build it with their own nixpkgs, no import-from-derivation:\n", snippets["build"],
        "From a flake (all systems, their nixpkgs):\n", snippets["flake"],
        "From plain nix, with their package set:\n", snippets["nix"],
        "As an overlay:\n", snippets["overlay"],
    ]  # fmt: skip
    return out


def check(result: CheckResult) -> list[str]:
    report = result.report
    out = [f"{result.directory}: {report.files} files, nix parse: {report.parsed}"]
    for pin in result.pins:
        state = {None: "not downloaded", True: "verified", False: "MISMATCH"}[pin["verified"]]
        out.append(f"  source pin {pin['url']} {pin['sha256']} ({state})")
    out += [f"  IFD (evaluation reads a build output): {finding}" for finding in report.ifd]
    if result.nix:
        out.append(f"  asked {result.nix}")
    out += [f"  nix eval {e} (no IFD)" for e in result.evaluated if e.error is None]
    out += [f"  nix build {b.attribute}: {b.out}" for b in result.built if b.error is None]
    if result.online:
        answers = result.online
        fine = [a for a in answers if a.error is None]
        verified = sum(1 for a in fine if a.verified)
        how = f", {verified} downloaded and hashed as pinned" if verified else ""
        asked = f"{len(answers)} URLs asked as nix fetches them"
        out.append(f"  online: {asked}: {len(fine)} reachable{how}, {len(answers) - len(fine)} not")
    out += [f"  error: {finding}" for finding in report.errors]
    out.append("ok" if result.ok else f"FAILED: {len(report.errors)} problem(s)")
    return out


def init(result: InitResult) -> list[str]:
    if result.already:
        return [f"{result.directory} is already set up by libnix: nothing changed (use `libnix update`)"]
    verb = "would write" if result.pretend else "wrote"
    out = [f"  {verb} {rel} (a new crate)" for rel in result.created_crate]
    out += [f"  {verb} {result.shown(rel)}" for rel in result.written]
    out += [f"  kept   {rel} (yours)" for rel in result.kept]
    if result.native:
        where = "would go in" if result.pretend else "in"
        out.append(f"  native inputs from Cargo.lock ({where} {DEPENDENCIES}):")
        out += [f"    {line}" for line in result.native]
    out += [f"  note: {note}" for note in result.notes]
    if result.flake_ref:
        sub = result.flake_ref[2:]
        out.append(
            f"  the project is in {sub}/ of its repository: the workflows sit at the repository's root "
            f"and run there; from the root, `nix develop {result.flake_ref}`; other flakes name it "
            f"`?dir={sub}` (github:OWNER/REPO?dir={sub})"
        )
    if not result.pretend:
        out.append(f"\n{result.directory} is ready: `nix develop`, then `cargo build` (CARGO_BACKEND=nix).")
    return out


def update(result: UpdateResult) -> list[str]:
    out = []
    for key, value in result.answers.items():
        why = "" if key == "toolchain_sha256" else " (from rust-toolchain.toml)"
        out.append(f"  answer {key} = {value}{why}")
    if result.native and DEPENDENCIES in result.changed:
        out.append(f"  native inputs from Cargo.lock (in {DEPENDENCIES}):")
        out += [f"    {line}" for line in result.native]
    if not result.changed:
        return [*out, f"{result.directory}: already up to date with the template ({result.to_version})"]
    for rel in result.changed:
        mark = " (CONFLICT: resolve the <<<<<<< markers)" if rel in result.conflicts else ""
        out.append(f"  updated {rel}{mark}")
    if not result.conflicts:
        out.append("review with `git diff`, then commit")
    return out
