"""Every variant of the workflows `libnix init` writes (CI on or off, libnix's release workflow or the
project's own, with and without a binary cache, a project at the repository's root or in a subdirectory),
rendered by the real copier template in a real git repository: each passes the real actionlint and the
workflow schema, and has its steps in a working order (install nix, restore the store, the binary cache,
then build; the cache action collects garbage and saves after the job). The Action likewise; and
`libnix update` brings a project made before the cache steps existed up to them, keeping the user's edits."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import NIX_ENV, REPO, commit_all, git, libnix
from test_init import NIX_FLAKES, STUBS, _template_copy, assert_generated_files_are_valid

INSTALL = "nixbuild/nix-quick-install-action@v34"
CACHE = "nix-community/cache-nix-action@v7"
CACHIX = "cachix/cachix-action@v17"


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIBNIX_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("LIBNIX_TEMPLATE", raising=False)


def project(make_repo, sub: str, name: str = "proj") -> tuple[Path, Path]:
    repo = make_repo(name)
    git(repo, "remote", "add", "origin", "https://github.com/acme/proj.git")
    root = repo / sub if sub else repo
    shutil.copytree(REPO / "examples" / "hello", root, dirs_exist_ok=True)
    commit_all(repo)
    return repo, root


def uses(step: dict[str, Any]) -> str:
    return str(step.get("uses", ""))


def order(steps: list[dict[str, Any]], *wanted: str) -> list[int]:
    found = []
    for want in wanted:
        hits = [i for i, s in enumerate(steps) if uses(s) == want or s.get("name") == want]
        assert hits, (want, [uses(s) or s.get("name") for s in steps])
        found.append(hits[0])
    return found


ALL = ["x86_64-linux", "aarch64-linux", "x86_64-darwin", "aarch64-darwin"]
# GitHub's standard hosted runners for public repositories, one per system (copier.yml `hosted_runners`)
RUNNERS = {"x86_64-linux": "ubuntu-24.04", "aarch64-linux": "ubuntu-24.04-arm",
           "x86_64-darwin": "macos-15-intel", "aarch64-darwin": "macos-15"}  # fmt: skip

VARIANTS = [
    pytest.param("", {}, id="root"),
    pytest.param("", {"binary_cache": "cachix:acme"}, id="root-cachix"),
    pytest.param("", {"release_workflow": "false"}, id="root-no-release"),
    pytest.param(
        "rs", {"binary_cache": "cachix:acme", "binary_cache_key": "acme.cachix.org-1:AAAA"}, id="sub-cachix"
    ),
    pytest.param("rs", {}, id="sub"),
    pytest.param("", {"ci": "false"}, id="no-ci"),
    pytest.param("", {"systems": "[x86_64-linux]"}, id="one-system"),
    pytest.param("", {"systems": "[x86_64-linux]", "binary_cache": "cachix:acme"}, id="one-system-cachix"),
    pytest.param(
        "rs",
        {"systems": "[aarch64-linux, riscv64-linux]", "binary_cache": "cachix:acme"},
        id="sub-no-runner-for-one",
    ),
]


def matrix(job: dict[str, Any]) -> dict[str, str]:
    return {row["system"]: row["runner"] for row in job["strategy"]["matrix"]["include"]}


@pytest.mark.parametrize(("sub", "data"), VARIANTS)
def test_every_workflow_variant_lints_and_runs_its_steps_in_order(make_repo, nix, sub, data) -> None:
    repo, root = project(make_repo, sub)
    proc = libnix("init", "--defaults", *(f"--data={k}={v}" for k, v in data.items()), cwd=root,
                  env={"LIBNIX_CACHE_DIR": os.environ["LIBNIX_CACHE_DIR"]})  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    workflows = repo / ".github" / "workflows"
    if data.get("ci") == "false":
        assert not workflows.exists()
        return
    assert_generated_files_are_valid(repo, nix)  # actionlint (runner labels included) and the schema
    cachix = "binary_cache" in data
    here = f"{sub}/" if sub else ""
    systems = yaml.safe_load(data.get("systems", "null")) or ALL
    hosted = {s: RUNNERS[s] for s in systems if s in RUNNERS}
    others = [s for s in systems if s not in RUNNERS]

    ci = yaml.safe_load((workflows / "libnix-ci.yml").read_text())
    assert ci["permissions"] == {"contents": "read", "actions": "write"}
    build = ci["jobs"]["build"]
    # one job per system, on a runner of that system, none cancelling the others
    assert matrix(build) == hosted and build["runs-on"] == "${{ matrix.runner }}"
    assert build["strategy"]["fail-fast"] is False
    steps = build["steps"]
    wanted = [INSTALL, CACHE, *([CACHIX] if cachix else []), "Check the flake", "Build with cargo (libnix)"]
    positions = order(steps, *wanted)
    assert positions == sorted(positions)
    cache = next(s for s in steps if uses(s) == CACHE)["with"]
    # each system its own store: aarch64-linux and x86_64-linux share runner.os, never a cache key
    assert cache["primary-key"] == (
        "libnix-${{ matrix.system }}-${{ hashFiles("
        f"'{here}flake.lock', '{here}**/*.nix', '{here}libnix.json') }}}}"
    )
    assert cache["restore-prefixes-first-match"] == cache["purge-prefixes"] == "libnix-${{ matrix.system }}-"
    # every system's store within 3 GiB, all of them within 8 GiB of the 10 GB GitHub keeps a repository
    for os_name in ("linux", "macos"):
        size = int(cache[f"gc-max-store-size-{os_name}"])
        assert size <= 3 * 2**30 and size * len(hosted) <= 8 * 2**30
    assert cache["purge"] is True
    if cachix:
        # the token goes from the secret to the cachix step alone (no build script sees it); without it
        # (forks) nothing is pushed
        step = next(s for s in steps if uses(s) == CACHIX)["with"]
        assert step == {"name": "acme", "authToken": "${{ secrets.CACHIX_AUTH_TOKEN }}",
                        "skipPush": "${{ secrets.CACHIX_AUTH_TOKEN == '' }}"}  # fmt: skip
        text = (workflows / "libnix-ci.yml").read_text()
        assert text.count("secrets.CACHIX_AUTH_TOKEN") == 2 and "env" not in build
        assert "secret CACHIX_AUTH_TOKEN" in proc.stdout
    else:
        assert "env" not in build and CACHIX not in (workflows / "libnix-ci.yml").read_text()
    if sub:
        assert build["defaults"]["run"]["working-directory"] == sub
    said = ", ".join(f"{s} on {RUNNERS[s]}" for s in hosted)
    assert f"CI and releases build {said}" in proc.stdout
    if others:
        assert f"{', '.join(others)}: evaluated only (GitHub hosts no runner for it)" in proc.stdout
        assert "fenix has no Rust toolchain for riscv64-linux" in proc.stdout + proc.stderr
        evaluate = ci["jobs"]["evaluate"]
        assert evaluate["runs-on"] == "ubuntu-24.04"
        script = evaluate["steps"][-1]
        assert script["env"]["SYSTEMS"] == " ".join(others) and "GITHUB_STEP_SUMMARY" in script["run"]
    else:
        assert "evaluate" not in ci["jobs"]

    release = workflows / "libnix-release.yml"
    if data.get("release_workflow") == "false":
        assert not release.exists()
        return
    doc = yaml.safe_load(release.read_text())
    assert doc["permissions"] == {"contents": "write", "actions": "write"}
    jobs = doc["jobs"]
    assert set(jobs) == {"export", "build", "publish"}
    # the export is made once, verified on every system, published once every system passed
    assert jobs["build"]["needs"] == "export"
    assert jobs["publish"]["needs"] == ["export", "build"]
    assert matrix(jobs["build"]) == hosted and jobs["build"]["strategy"]["fail-fast"] is False

    def action_step(job: str) -> dict[str, Any]:
        (step,) = [s for s in jobs[job]["steps"] if "libnix" in uses(s)]
        return step["with"]

    expected = {"mode": "export", **({"binary-cache": "acme"} if cachix else {})}  # pulls, never pushes
    if sub:
        expected["working-directory"] = sub
    assert action_step("export") == expected
    expected = {"mode": "build", "system": "${{ matrix.system }}", "verify": "build"}
    if cachix:
        expected.update({"binary-cache": "acme", "cachix-auth-token": "${{ secrets.CACHIX_AUTH_TOKEN }}"})
    assert action_step("build") == expected
    assert action_step("publish") == {"mode": "publish", **({"working-directory": sub} if sub else {})}
    assert "CACHIX_AUTH_TOKEN" not in yaml.safe_dump(jobs["publish"]) + yaml.safe_dump(jobs["export"])


def test_systems_without_a_runner_are_evaluated_only(make_repo, nix) -> None:
    """A project that builds for no system GitHub hosts: CI evaluates, the release publishes after the
    export job's evaluation; no build job, no empty matrix (which GitHub would refuse)."""
    repo, root = project(make_repo, "")
    proc = libnix("init", "--defaults", "--data=systems=[riscv64-linux]", cwd=root,
                  env={"LIBNIX_CACHE_DIR": os.environ["LIBNIX_CACHE_DIR"]})  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert_generated_files_are_valid(repo, nix)
    workflows = repo / ".github" / "workflows"
    ci = yaml.safe_load((workflows / "libnix-ci.yml").read_text())
    assert set(ci["jobs"]) == {"evaluate"}
    release = yaml.safe_load((workflows / "libnix-release.yml").read_text())
    assert set(release["jobs"]) == {"export", "publish"} and release["jobs"]["publish"]["needs"] == ["export"]
    _, empty = project(make_repo, "", "other")
    bad = libnix("init", "--defaults", "--data=systems=[]", cwd=empty,
                 env={"LIBNIX_CACHE_DIR": os.environ["LIBNIX_CACHE_DIR"]})  # fmt: skip
    assert bad.returncode != 0 and "at least one system" in bad.stderr
    assert not (empty / "flake.nix").exists()


def test_the_runner_map_is_the_templates() -> None:
    """The map the tests check against is the one copier.yml renders and the Action's summary reads."""
    from scaffold.init.template import hosted_runners

    assert hosted_runners() == RUNNERS


def test_the_actions_steps_run_in_order() -> None:
    steps = yaml.safe_load((REPO / "action.yml").read_text())["runs"]["steps"]
    names = [INSTALL, "Download the export", "Download what each system's job found", "Plan",
             "Restore and save the nix store", "Use the binary cache", "actions/setup-python@v6",
             "Install libnix", "Export the pinned build system", "Hand the export to the jobs of each system",
             "Verify the export on this system", "Hand this system's result to the publishing job",
             "Publish the pinned build system"]  # fmt: skip
    positions = order(steps, *names)
    assert positions == sorted(positions)
    by_name = {s.get("name"): s for s in steps}
    # a publishing job builds nothing: no store to restore, nothing to push
    assert (
        by_name["Restore and save the nix store"]["if"]
        == "inputs.cache == 'true' && inputs.mode != 'publish'"
    )
    assert by_name["Use the binary cache"]["if"] == "inputs.binary-cache != '' && inputs.mode != 'publish'"
    assert by_name["Use the binary cache"]["with"]["skipPush"] == "${{ inputs.cachix-auth-token == '' }}"
    # a tag's run saves no store: GitHub would let only that tag's runs read it
    assert by_name["Restore and save the nix store"]["with"]["save"] == "${{ github.ref_type != 'tag' }}"
    key = by_name["Restore and save the nix store"]["with"]["primary-key"]
    assert key.startswith("libnix-${{ steps.plan.outputs.system }}-${{ steps.plan.outputs.key || hashFiles(")
    script = by_name["Export the pinned build system"]["run"]
    # verify first, publish after: a failed verification stops the script before anything is uploaded
    assert script.index("--verify") < script.index("--build") < script.index("--publish")
    publish = by_name["Publish the pinned build system"]["run"]
    assert publish.index("action gate") < publish.index("--publish")


def test_update_brings_the_matrix_to_a_project_made_before_it(
    tmp_path: Path, make_repo, monkeypatch, nix
) -> None:
    """The workflows as libnix wrote them before the matrix (one job on ubuntu-latest, one store cache
    keyed by runner.os: tests/template_before_matrix/, the template at fcc6fd1), a user's edit to each,
    then the template of this libnix: update brings the matrix and keeps the edits (copier's 3-way merge)."""
    tpl = _template_copy(tmp_path / "template")
    monkeypatch.setenv("LIBNIX_TEMPLATE", str(tpl))
    env = {"LIBNIX_TEMPLATE": str(tpl), "LIBNIX_CACHE_DIR": os.environ["LIBNIX_CACHE_DIR"]}
    folder = next(tpl.glob("copier-template/*/workflows"))
    sources = {"libnix-ci.yml": folder / "libnix-ci.yml.jinja",
               "libnix-release.yml": next(folder.glob("*libnix-release.yml*.jinja"))}  # fmt: skip
    current = {name: src.read_text() for name, src in sources.items()}
    for name, src in sources.items():
        src.write_text((REPO / "tests" / "template_before_matrix" / f"{name}.jinja").read_text())
    repo, root = project(make_repo, "", "old")
    assert libnix("init", "--defaults", "--data=binary_cache=cachix:acme", cwd=root, env=env).returncode == 0
    workflows = repo / ".github" / "workflows"
    ci, release = workflows / "libnix-ci.yml", workflows / "libnix-release.yml"
    assert "runs-on: ubuntu-latest" in ci.read_text() and "matrix" not in ci.read_text()
    commit_all(repo, "init")
    ci.write_text(ci.read_text().replace("      - name: Build with cargo (libnix)",
                                         "      - name: My own step\n        run: echo mine\n"
                                         "      - name: Build with cargo (libnix)"))  # fmt: skip
    release.write_text(
        release.read_text().replace("\npermissions:", "\nconcurrency: releases\n\npermissions:")
    )
    commit_all(repo, "my edits")
    for name, src in sources.items():
        src.write_text(current[name])  # this libnix's template
    proc = libnix("update", cwd=root, env=env)
    assert proc.returncode == 0, proc.stderr
    ci_doc = yaml.safe_load(ci.read_text())
    assert matrix(ci_doc["jobs"]["build"]) == RUNNERS and "runner.os" not in ci.read_text()
    assert [s.get("run") for s in ci_doc["jobs"]["build"]["steps"] if s.get("name") == "My own step"] == [
        "echo mine"
    ]
    release_doc = yaml.safe_load(release.read_text())
    assert release_doc["concurrency"] == "releases"
    assert release_doc["jobs"]["publish"]["needs"] == ["export", "build"]
    assert "<<<<<<<" not in ci.read_text() + release.read_text()
    assert_generated_files_are_valid(repo, nix)


def test_the_release_tells_consumers_the_binary_cache(make_repo, tmp_path: Path, nix) -> None:
    repo, root = project(make_repo, "")
    data = ["--data=binary_cache=cachix:acme", "--data=binary_cache_key=acme.cachix.org-1:AAAA="]
    assert libnix("init", "--defaults", *data, cwd=root,
                  env={"LIBNIX_CACHE_DIR": os.environ["LIBNIX_CACHE_DIR"]}).returncode == 0  # fmt: skip
    commit_all(repo, "init")
    git(repo, "tag", "v0.1.0")
    proc = libnix("release", "-C", str(repo), "--tag", "v0.1.0", "--url", "file:///x.tar.gz",
                  "--cargo", str(REPO / "tests" / "fake_cargo_libnix.py"), "--json")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    doc = yaml.safe_load(proc.stdout)
    assert doc["binary_cache"] == {"url": "https://acme.cachix.org", "public_key": "acme.cachix.org-1:AAAA="}
    notes = (repo / "libnix-0.1.0+v0.1.0.snippets.md").read_text()
    assert "## Prebuilt, from the binary cache" in notes
    assert "--option extra-substituters 'https://acme.cachix.org'" in notes
    flake = doc["snippets"]["flake"]
    assert 'nixConfig.extra-substituters = [ "https://acme.cachix.org" ];' in flake
    assert 'nixConfig.extra-trusted-public-keys = [ "acme.cachix.org-1:AAAA=" ];' in flake
    snippet = tmp_path / "flake.nix"
    snippet.write_text(flake)
    assert nix.parse(snippet).returncode == 0


def run_step(
    job: dict[str, Any], step: dict[str, Any], cwd: Path, summary: Path
) -> subprocess.CompletedProcess[str]:
    """A `run:` step of a job, with the nix.conf the job's nix installer writes."""
    nix_conf = next(s["with"]["nix_conf"] for s in job["steps"] if uses(s) == INSTALL)
    env = {**os.environ, **NIX_ENV, **{k: str(v) for k, v in step.get("env", {}).items()},
           "NIX_CONFIG": NIX_ENV["NIX_CONFIG"] + nix_conf, "GITHUB_STEP_SUMMARY": str(summary)}  # fmt: skip
    return subprocess.run(["bash", "-e", "-c", step["run"]], cwd=cwd, env=env, capture_output=True, text=True)


def test_ci_evaluates_a_system_without_a_runner_as_its_job_says(
    make_repo, tmp_path: Path, cargo_libnix_release
) -> None:
    """The `evaluate` job's script, verbatim, in a project whose flake.lock pins the test stubs (which
    offer the systems the real nixpkgs and fenix offer): nix evaluates i686-linux's packages (fenix has it,
    GitHub has no runner for it) and the summary names it; a package that reads a build output while
    evaluating fails the job, as it fails a consumer."""
    repo, root = project(make_repo, "")
    data = [f"--data={k}={v}" for k, v in cargo_libnix_release.items()]
    proc = libnix("init", "--defaults", "--data=systems=[x86_64-linux, i686-linux]", *data, cwd=root,
                  env={"LIBNIX_CACHE_DIR": os.environ["LIBNIX_CACHE_DIR"]})  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lock = subprocess.run(["nix", *NIX_FLAKES, "flake", "lock", f"path:{root}",
                           "--override-input", "nixpkgs", f"path:{STUBS / 'nixpkgs'}",
                           "--override-input", "fenix", f"path:{STUBS / 'fenix'}"],
                          capture_output=True, text=True, env=NIX_ENV)  # fmt: skip
    assert lock.returncode == 0, lock.stderr
    commit_all(repo, "libnix init")  # what the job checks out: the committed flake and its lock
    ci = yaml.safe_load((repo / ".github" / "workflows" / "libnix-ci.yml").read_text())
    assert matrix(ci["jobs"]["build"]) == {"x86_64-linux": "ubuntu-24.04"}
    job = ci["jobs"]["evaluate"]
    step = job["steps"][-1]
    summary = tmp_path / "summary.md"
    ran = run_step(job, step, root, summary)
    assert ran.returncode == 0, ran.stderr
    assert summary.read_text() == "- `i686-linux`: evaluated, not built: GitHub has no hosted runner for it\n"

    module = root / "nix" / "libnix.nix"
    module.write_text(module.read_text().replace(
        "inherit cargo-libnix;\n          # the project's own binary",
        "inherit cargo-libnix;\n"
        '          broken = builtins.readFile (pkgs.runCommand "ifd" { } "echo > $out");\n'
        "          # the project's own binary",
    ))  # fmt: skip
    commit_all(repo, "a package that reads a build output while evaluating")
    summary.unlink()
    ran = run_step(job, step, root, summary)
    assert ran.returncode != 0 and "allow-import-from-derivation" in ran.stderr
    assert not summary.exists()
