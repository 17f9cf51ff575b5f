"""The GitHub Action (`action.yml`): its metadata passes check-jsonschema, its steps pass actionlint, and its
`run:` steps, run in order in a GitHub-like environment, release a real repository to the local forge.

The `uses:` steps (nix-quick-install-action, the nix store cache, cachix, actions/setup-python) are what this
machine already has or does not need: nix from Debian, a store that stays, a Python; the test runs every
`run:` step. The export is verified against the nixpkgs shim of ../shared/nix-eval (the `nixpkgs` input).
The install step really pip-installs this checkout into a fresh venv (the dependencies are taken from the
test venv to stay offline).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import forge_server
import pytest
import yaml
from helpers import NIX28, NIX_ENV, REPO, actionlint, commit_all, git, host_rustc

from scaffold.hashing.nixhash import nix32_encode

FAKE_CARGO = str(REPO / "tests" / "fake_cargo_libnix.py")
EXPR = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")


def action() -> dict[str, Any]:
    return yaml.safe_load((REPO / "action.yml").read_text())


def test_metadata_passes_the_actions_schema() -> None:
    checker = Path(sys.executable).parent / "check-jsonschema"
    proc = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.github-actions", str(REPO / "action.yml")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_steps_pass_actionlint(tmp_path: Path) -> None:
    """actionlint reads workflows: the action's steps become a job, its inputs the job's env."""
    meta = action()
    steps = yaml.safe_dump(meta["runs"]["steps"], sort_keys=False)
    steps = re.sub(
        r"\binputs\.([\w-]+)", lambda m: "env.INPUT_" + m.group(1).upper().replace("-", "_"), steps
    )
    steps = steps.replace("github.action_path", "github.workspace")
    env = {
        "INPUT_" + k.upper().replace("-", "_"): str(v.get("default", "")) for k, v in meta["inputs"].items()
    }
    workflow = {
        "name": "action steps",
        "on": {"push": {"tags": ["v*"]}},
        "permissions": {"contents": "write"},
        "jobs": {"release": {"runs-on": "ubuntu-latest", "env": env, "steps": yaml.safe_load(steps)}},
    }
    path = tmp_path / "action-steps.yml"
    path.write_text(yaml.safe_dump(workflow, sort_keys=False))
    lint = actionlint(path)
    assert lint.returncode == 0, lint.stdout + lint.stderr


@pytest.fixture(scope="module")
def action_python(tmp_path_factory: pytest.TempPathFactory, action_path: Path) -> tuple[Path, Path]:
    """A fresh venv, as actions/setup-python gives (libnix's dependencies are visible through a .pth
    file), and the action's checkout."""
    venv = tmp_path_factory.mktemp("setup-python") / "venv"
    subprocess.run([sys.base_prefix + "/bin/python3", "-m", "venv", str(venv)], check=True)
    site = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import site; print(site.getsitepackages()[0])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    code = "import copier, os; print(os.path.dirname(os.path.dirname(copier.__file__)))"
    deps = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    Path(site, "libnix-test-deps.pth").write_text(deps + "\n")
    return venv / "bin", action_path


@pytest.fixture(scope="module")
def action_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The action's own checkout, as `uses:` fetches it: this working tree without what is not committed
    there (a venv, build leftovers), one per test process, so that pip builds it undisturbed."""
    dest = tmp_path_factory.mktemp("action") / "libnix"
    leftovers = shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__", ".*_cache")
    shutil.copytree(REPO, dest, ignore=leftovers, symlinks=True)
    return dest


class Runner:
    """Runs the composite action's steps the way the runner does. Of the `uses:` steps, the artifact
    actions keep their files in a folder shared by the jobs of one workflow run (`artifacts`); the others
    are what this machine has already (nix, a store that stays, a Python) and are skipped."""

    def __init__(
        self, workdir: Path, temp: Path, python_bin: Path, inputs: dict[str, str], github: dict[str, str],
        artifacts: Path | None = None,
    ):  # fmt: skip
        self.workdir, self.temp, self.python_bin = workdir, temp, python_bin
        self.github = github
        self.artifacts = artifacts or temp / "artifacts"
        meta = action()
        self.meta = meta
        self.inputs = {k: str(v.get("default", "")) for k, v in meta["inputs"].items()}
        self.inputs = {k: self.expand(v) for k, v in self.inputs.items()}
        self.inputs.update(inputs)
        self.steps: dict[str, dict[str, str]] = {}
        self.summary = temp / "step_summary.md"
        self.log: list[str] = []

    def value(self, expr: str) -> str | bool:
        """The expressions action.yml uses: references, '' and 'x' literals, ==, !=, && and || (which,
        as GitHub's, give the first operand that decides: a string or a boolean)."""
        expr = expr.strip()
        if "||" in expr:
            values = [self.value(e) for e in expr.split("||")]
            return next((v for v in values if v), values[-1])
        if "&&" in expr:
            values = [self.value(e) for e in expr.split("&&")]
            return next((v for v in values if not v), values[-1])
        if m := re.fullmatch(r"(\S+)\s*(==|!=)\s*'([^']*)'", expr):
            return (self.value(m.group(1)) == m.group(3)) == (m.group(2) == "==")
        if m := re.fullmatch(r"'([^']*)'", expr):
            return m.group(1)
        ctx, _, rest = expr.partition(".")
        if ctx == "inputs":
            return self.inputs[rest]
        if ctx == "github":
            return self.github[rest]
        if ctx == "runner" and rest == "temp":
            return str(self.temp)
        if ctx == "steps":
            step, _, output = rest.partition(".outputs.")
            return self.steps.get(step, {}).get(output, "")
        raise AssertionError(f"expression not supported by the test runner: {expr}")

    def expand(self, text: str) -> str:
        """`${{ }}` in a string: a boolean becomes `true` or `false`, as GitHub writes it."""

        def text_of(value: str | bool) -> str:
            return str(value).lower() if isinstance(value, bool) else value

        return EXPR.sub(lambda m: text_of(self.value(m.group(1))), text)

    def condition(self, expr: str) -> bool:
        return bool(self.value(expr))

    def artifact(self, step: dict[str, Any]) -> None:
        # YAML's true is a boolean; an action's input is its text, as GitHub writes it
        given = {k: self.expand(str(v).lower() if isinstance(v, bool) else str(v))
                 for k, v in step.get("with", {}).items()}  # fmt: skip
        if step["uses"].startswith("actions/upload-artifact@"):
            dest = self.artifacts / given["name"]
            if dest.exists():  # a job run again in the same workflow run: GitHub answers 409 unless told
                assert given.get("overwrite") == "true", f"artifact {given['name']} uploaded twice (409)"
                shutil.rmtree(dest)
            shutil.copytree(given["path"], dest)
            return
        dest = Path(given["path"])
        if "name" in given:
            assert (self.artifacts / given["name"]).is_dir(), f"no artifact {given['name']}"
            shutil.copytree(self.artifacts / given["name"], dest, dirs_exist_ok=True)
            return
        for found in sorted(self.artifacts.glob(given["pattern"])):  # merge-multiple: true
            shutil.copytree(found, dest, dirs_exist_ok=True)

    def run(self, env: dict[str, str], *, fail: bool = False) -> dict[str, str]:
        for step in self.meta["runs"]["steps"]:
            if "if" in step and not self.condition(step["if"]):
                continue
            if "uses" in step:
                if "-artifact@" in step["uses"]:
                    self.artifact(step)
                continue
            output = self.temp / f"output-{len(self.log)}"
            output.write_text("")
            step_env = {
                **os.environ,
                **env,
                "GITHUB_OUTPUT": str(output),
                "GITHUB_STEP_SUMMARY": str(self.summary),
                "RUNNER_TEMP": str(self.temp),
                "RUNNER_OS": "Linux",
                "RUNNER_ARCH": "X64",
                "PATH": f"{self.python_bin}:{os.environ['PATH']}",
                **{k: self.expand(str(v)) for k, v in step.get("env", {}).items()},
            }
            step_env.pop("PYTHONPATH", None)
            proc = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=self.workdir, env=step_env,
                                  capture_output=True, text=True)  # fmt: skip
            self.log += [proc.stdout, proc.stderr]
            if fail and proc.returncode != 0:
                self.failed = (step.get("name"), proc.returncode, proc.stderr)
                return {}
            assert proc.returncode == 0, f"step {step.get('name')} failed:\n{proc.stdout}\n{proc.stderr}"
            if "id" in step:
                self.steps[step["id"]] = parse_output(output.read_text())
        return {k: self.expand(v["value"]) for k, v in self.meta["outputs"].items()}


def parse_output(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line and "=" not in line.split("<<")[0]:
            key, marker = line.split("<<", 1)
            body = []
            for inner in lines:
                if inner == marker:
                    break
                body.append(inner)
            values[key] = "\n".join(body)
        elif "=" in line:
            key, _, value = line.partition("=")
            values[key] = value
    return values


def hello_repo(make_repo, tmp_path: Path, forge) -> Path:
    repo = make_repo("hello")
    shutil.copytree(REPO / "examples" / "hello", repo, dirs_exist_ok=True)
    with open(repo / "Cargo.toml", "a") as fh:
        fh.write('\n[package.metadata.libnix]\nforge = "github"\n')
    bare = tmp_path / "pushed.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    git(repo, "remote", "add", "origin", f"{forge.base}/acme/hello.git")
    git(repo, "remote", "set-url", "--push", "origin", str(bare))
    commit_all(repo)
    git(repo, "tag", "-a", "v0.1.0", "-m", "v0.1.0")
    git(repo, "checkout", "-q", "--detach", "v0.1.0")  # a tag push checks out the tag
    forge.repos["acme/hello"] = repo
    return repo


def runner_for(
    repo: Path, tmp_path: Path, action_python: tuple[Path, Path], job: str = "release",
    artifacts: Path | None = None, **inputs: str,
) -> Runner:  # fmt: skip
    """The action in one job of a workflow run: its own RUNNER_TEMP, the run's artifacts shared."""
    python_bin, checkout = action_python
    temp = tmp_path / f"runner-temp-{job}"
    temp.mkdir()
    return Runner(
        repo, temp, python_bin, inputs={"cargo": FAKE_CARGO, **inputs},
        github={"ref_name": "v0.1.0", "action_path": str(checkout), "token": forge_server.TOKEN,
                "workspace": str(repo)},
        artifacts=artifacts or tmp_path / "artifacts",
    )  # fmt: skip


def test_action_releases_publishes_and_commits_the_export(
    make_repo, tmp_path: Path, action_python: tuple[Path, Path], forge, shim
) -> None:
    repo = hello_repo(make_repo, tmp_path, forge)
    bare = tmp_path / "pushed.git"
    runner = runner_for(repo, tmp_path, action_python, **{"commit-export": "true"},
                        nixpkgs=f"{shim}/nixpkgs-shim")  # fmt: skip
    temp = runner.temp
    outputs = runner.run({})

    manifest = json.loads((temp / "libnix-release.json").read_text())
    assert outputs["url"] == f"{forge.base}/acme/hello/archive/refs/tags/v0.1.0.tar.gz"
    assert outputs["hash"] == manifest["hash"]["nix32"]
    assert outputs["asset"] == "libnix-0.1.0+v0.1.0.tar.bz2"
    assert outputs["asset-hash"] == manifest["asset"]["hash"]["nix32"]
    assert outputs["asset-url"].startswith(f"{forge.base}/acme/hello/releases/download/v0.1.0/")
    assert outputs["export-dir"] == "libnix-0.1.0+v0.1.0"
    (rel,) = forge.releases.values()
    assert [a["name"] for a in rel.assets.values()] == ["libnix-0.1.0+v0.1.0.tar.bz2"]
    summary = runner.summary.read_text()
    assert "## libnix release v0.1.0" in summary and outputs["asset-hash"] in summary
    assert "### Use it from a flake" in summary and "narHash" in summary
    assert "### Build it\n\n```sh\nnix build '" in summary and "inputs.nixpkgs.follows" in summary
    assert "{ inherit pkgs; }" in summary and "overlays.default" in summary
    assert "hello-0_1_0-bin-a6a06cbe35800f65" in summary
    # the export was committed to libnix/v0.1.0 and pushed; nothing else was
    assert git(bare, "branch", "--list") == "libnix/v0.1.0"
    files = git(bare, "ls-tree", "-r", "--name-only", "libnix/v0.1.0")
    assert "libnix-0.1.0+v0.1.0/cargo_build_caller.nix" in files and "libnix.json" in files
    assert all(forge_server.TOKEN not in text for text in runner.log)
    # verify (default eval) reached `libnix release --verify`: the summary lists what nix evaluated
    assert "### Verified before publishing" in summary
    assert "- evaluated `flake packages.x86_64-linux`: 1 root crate(s), no IFD" in summary
    assert "- evaluated `plain cargo_build_caller.nix with your pkgs`: 1 root crate(s), no IFD" in summary


def test_action_publishes_nothing_when_the_export_does_not_evaluate(
    make_repo, tmp_path: Path, action_python: tuple[Path, Path], forge, shim
) -> None:
    repo = hello_repo(make_repo, tmp_path, forge)
    bs = tmp_path / "bs"
    shutil.copytree(REPO / "examples" / "hello-buildsystem", bs)
    crate = bs / "derivations" / "hello-0.1.0-bin-a6a06cbe35800f65.nix"
    crate.write_text(crate.read_text().replace(
        'CARGO_BIN_NAME = "hello";',
        'CARGO_BIN_NAME = builtins.readFile (pkgs.runCommand "n" { } "echo > $out");'
    ))  # fmt: skip
    # the stand-in would write the build system afresh: this cargo hands over the injected one
    cargo = tmp_path / "cargo-injected"
    cargo.write_text(f'#!/bin/sh\nset -e\nout=$5\nmkdir -p "$out"\ncp -r {bs}/. "$out"/\n')
    cargo.chmod(0o755)
    runner = runner_for(repo, tmp_path, action_python, nixpkgs=f"{shim}/nixpkgs-shim", cargo=str(cargo))
    runner.run({}, fail=True)
    name, code, stderr = runner.failed
    assert name == "Export the pinned build system" and code == 1
    assert "does not evaluate as a consumer uses it" in stderr and "allow-import-from-derivation" in stderr
    assert forge.releases == {}


def test_action_verify_none_and_a_wrong_value(
    make_repo, tmp_path: Path, action_python: tuple[Path, Path], forge
) -> None:
    repo = hello_repo(make_repo, tmp_path, forge)
    runner = runner_for(repo, tmp_path, action_python, verify="none", publish="false")
    runner.run({})
    assert "### Verified\n\nnothing (verify: none)" in runner.summary.read_text()
    shutil.rmtree(runner.temp)
    wrong = runner_for(repo, tmp_path, action_python, verify="yes")
    wrong.run({}, fail=True)
    assert wrong.failed[1] == 2 and "verify is eval, build or none, not 'yes'" in wrong.failed[2]


def real_crates_pkgs(tmp_path: Path, shim: Path) -> Path:
    """tests/toy_build as a nixpkgs whose fetchurl takes the registry's real crates from the store, which
    holds examples/hello's under the names the release gives them (as tests/test_real_crates.py does)."""
    from test_real_build import TOY
    from test_real_crates import add_to_store, lock_crates

    host_rustc()
    for name, version, digest in lock_crates():
        add_to_store(tmp_path, name, version, digest, NIX28)
    dest = tmp_path / "real-crates-nixpkgs"
    shutil.copytree(TOY, dest)
    shutil.copytree(shim / "nixpkgs-shim" / "lib", dest / "lib")
    (dest / "real-crates").write_text("fetchurl: fixed-output, the registry's crates in the store\n")
    return dest


def publishing_checkout(repo: Path, tmp_path: Path, forge) -> Path:
    """What actions/checkout gives a job (the publishing one, a re-run's): a fresh clone at the tag, none of
    an earlier job's files."""
    checkout = tmp_path / "publish-checkout"
    git(tmp_path, "clone", "-q", str(repo), str(checkout))
    git(checkout, "remote", "set-url", "origin", f"{forge.base}/acme/hello.git")
    git(checkout, "remote", "set-url", "--push", "origin", str(tmp_path / "pushed.git"))
    git(checkout, "checkout", "-q", "--detach", "v0.1.0")
    return checkout


def test_a_release_in_jobs_exports_once_verifies_each_system_and_publishes_once(
    make_repo, tmp_path: Path, action_python: tuple[Path, Path], forge, shim
) -> None:
    """The release workflow's three jobs through the action's own steps: the export job hands the asset
    on; a build job (this machine: x86_64-linux) unpacks that asset and nix BUILDS it as a consumer would,
    the tag's tarball fetched from the forge, the registry's real crates, a real rustc; the publishing job
    publishes that same asset, byte for byte, once no system's result says otherwise."""
    repo = hello_repo(make_repo, tmp_path, forge)
    export = runner_for(repo, tmp_path, action_python, "export", mode="export",
                        nixpkgs=f"{shim}/nixpkgs-shim")  # fmt: skip
    handed = export.run({})
    handoff = tmp_path / "artifacts" / "libnix-export"
    asset = handoff / "libnix-0.1.0+v0.1.0.tar.bz2"
    assert sorted(p.name for p in handoff.iterdir()) == sorted([
        asset.name, "libnix-0.1.0+v0.1.0.release.json", "libnix-0.1.0+v0.1.0.snippets.md",
        "libnix-verified.json",
    ])  # fmt: skip
    assert forge.releases == {}  # nothing is published by the export job
    assert "- evaluated `flake packages.x86_64-linux`" in export.summary.read_text()

    workspace = tmp_path / "build-workspace"  # a build job checks nothing out: the asset is all it has
    workspace.mkdir()
    pkgs = real_crates_pkgs(tmp_path, shim)
    build = runner_for(workspace, tmp_path, action_python, "build-x86_64-linux", mode="build",
                       system="x86_64-linux", verify="build", nixpkgs=str(pkgs), fenix=str(pkgs / "fenix"),
                       **{"binary-cache": "acme"})  # fmt: skip
    assert build.run({"NIX_CONFIG": NIX_ENV["NIX_CONFIG"] + "max-jobs = 1\n"})["system"] == "x86_64-linux"
    # its store cache is keyed by the asset it verifies (the job has no checkout to hash)
    assert build.steps["plan"]["key"] == nix32_encode(hashlib.sha256(asset.read_bytes()).digest())
    (row_file,) = (tmp_path / "artifacts" / "libnix-built-x86_64-linux").iterdir()
    row = json.loads(row_file.read_text())
    assert row["ok"] and row["evaluated"] and row["push"] is False and row["binary_cache"] == "acme"
    (out,) = row["built"]
    ran = subprocess.run([f"{out}/bin/hello"], capture_output=True, text=True, check=True)
    assert ran.stdout == "hello from a pinned nix build, with 2 crates\n"
    job = build.summary.read_text()
    assert (
        "## libnix: x86_64-linux" in job
        and "| yes | yes (1 root crate(s)) | acme: pulled only (no token) |" in job
    )

    # a job given a system its runner is not stops before anything, and says which runner it needs
    wrong = runner_for(workspace, tmp_path, action_python, "build-aarch64-darwin", mode="build",
                       system="aarch64-darwin")  # fmt: skip
    wrong.run({}, fail=True)
    assert wrong.failed[:2] == ("Plan", 2)
    assert "this runner is x86_64-linux, not aarch64-darwin" in wrong.failed[2]

    # a system whose job failed: nothing is published
    failed = tmp_path / "artifacts" / "libnix-built-aarch64-linux"
    failed.mkdir()
    broken = {**row, "system": "aarch64-linux", "ok": False, "error": "nix build: hello: builder failed"}
    (failed / "aarch64-linux.json").write_text(json.dumps(broken))
    refused = runner_for(publishing_checkout(repo, tmp_path, forge), tmp_path, action_python, "publish-1",
                         mode="publish")  # fmt: skip
    refused.run({}, fail=True)
    assert refused.failed[:2] == ("Publish the pinned build system", 1)
    assert "aarch64-linux failed its verification (nix build: hello: builder failed)" in refused.failed[2]
    assert forge.releases == {}
    shutil.rmtree(failed)
    shutil.rmtree(refused.workdir)

    publish = runner_for(publishing_checkout(repo, tmp_path, forge), tmp_path, action_python, "publish-2",
                         mode="publish")  # fmt: skip
    outputs = publish.run({})
    (rel,) = forge.releases.values()
    (uploaded,) = rel.assets.values()
    assert uploaded["name"] == asset.name and uploaded["data"] == asset.read_bytes()
    assert outputs["asset-hash"] == handed["asset-hash"] and outputs["url"] == handed["url"]
    summary = publish.summary.read_text()
    assert "### Systems" in summary
    assert (
        "| `x86_64-linux` | Linux X64 | yes | yes (1 root crate(s)) | acme: pulled only (no token) |"
        in summary
    )
    assert "| `aarch64-darwin` | - | " in summary and "no job reported" in summary
    assert all(forge_server.TOKEN not in text for text in export.log + build.log + publish.log)


def test_a_systems_result_says_what_failed_and_the_table_says_what_nothing_built() -> None:
    """A build job's row from `libnix check --json` as it prints a failed build (the derivation and its last
    log line), an evaluation that failed, verify eval; the publishing table with a system no job reported
    and one GitHub has no runner for."""
    from scaffold.release.action import gate, row, systems_table

    builder = "builder for '/nix/store/x-hello.drv' failed"
    built = [{"attribute": "hello", "out": None, "error": f"{builder}: error[E0425]"}]
    failed_build = {"ok": False, "errors": [f"nix build:0: hello: {builder}"], "built": built}
    r = row(failed_build, system="aarch64-linux", verify="build", binary_cache="acme", push=True, seconds=75)
    assert (r["ok"], r["evaluated"], r["built"]) == (False, True, [])  # it evaluated: a derivation failed
    assert gate([r]) == (
        "aarch64-linux failed its verification (nix build:0: hello: builder for '/nix/store/x-hello.drv' "
        "failed): nothing is published"
    )
    no_eval = row({"ok": False, "errors": ["nix eval:0: flake packages.x86_64-darwin: infinite recursion"]},
                  system="x86_64-darwin", verify="eval", binary_cache="", push=False, seconds=3)  # fmt: skip
    assert (no_eval["evaluated"], no_eval["built"]) == (False, None)
    assert row(None, system="x86_64-linux", verify="build", binary_cache="", push=False, seconds=0)[
        "error"
    ] == ("libnix check printed no result")
    good = row({"ok": True, "errors": [], "built": [{"attribute": "hello", "out": "/nix/store/y-hello"}]},
               system="x86_64-linux", verify="build", binary_cache="acme", push=True, seconds=48)  # fmt: skip
    assert gate([good]) is None
    doc = {"systems": ["x86_64-linux", "aarch64-linux", "x86_64-darwin", "i686-linux"]}
    verified = {
        "evaluated": [{"form": "flake", "where": f"packages.{s}", "error": None} for s in doc["systems"]]
    }
    table = systems_table(doc, verified, [good, r])
    lines = table.splitlines()
    assert lines[:4] == [
        "",
        "### Systems",
        "",
        "| system | runner | evaluated | built | binary cache | time |",
    ]
    assert (
        "| `x86_64-linux` | " in lines[5]
        and "| yes | yes (1 root crate(s)) | acme: pushed | 0 min 48 s |" in lines[5]
    )
    assert "| yes | no: nix build:0: hello: builder for" in lines[6] and "| 1 min 15 s |" in lines[6]
    assert lines[7] == "| `x86_64-darwin` | - | yes | no job reported | - | - |"
    assert lines[8] == "| `i686-linux` | - | yes | no hosted runner: not built | - | - |"


def test_a_build_job_that_only_evaluates(
    make_repo, tmp_path: Path, action_python: tuple[Path, Path], forge, shim
) -> None:
    """verify: eval in a build job: nix evaluates the unpacked asset as each consumer form does, nothing is
    built, and the result says so."""
    repo = hello_repo(make_repo, tmp_path, forge)
    runner_for(repo, tmp_path, action_python, "export", mode="export", nixpkgs=f"{shim}/nixpkgs-shim").run({})
    workspace = tmp_path / "build-workspace"
    workspace.mkdir()
    build = runner_for(workspace, tmp_path, action_python, "build", mode="build", verify="eval",
                       nixpkgs=f"{shim}/nixpkgs-shim")  # fmt: skip
    build.run({})
    row = json.loads((tmp_path / "artifacts" / "libnix-built-x86_64-linux" / "x86_64-linux.json").read_text())
    assert (row["ok"], row["evaluated"], row["built"], row["binary_cache"]) == (True, True, None, "")
    assert "| yes | - (verify: eval) | - |" in build.summary.read_text()

    # "Re-run all jobs" is the same workflow run: the export and the system's result are handed on again,
    # replacing the first attempt's (GitHub refuses a second upload of a name without overwrite)
    rerun = tmp_path / "rerun"
    rerun.mkdir()
    runner_for(publishing_checkout(repo, rerun, forge), rerun, action_python, "export", mode="export",
               nixpkgs=f"{shim}/nixpkgs-shim", artifacts=tmp_path / "artifacts").run({})  # fmt: skip
    again = runner_for(workspace, rerun, action_python, "build", mode="build", verify="eval",
                       nixpkgs=f"{shim}/nixpkgs-shim", artifacts=tmp_path / "artifacts")  # fmt: skip
    again.run({})
    assert "| yes | - (verify: eval) | - |" in again.summary.read_text()
