"""Every variant of the workflows `libnix init` writes (CI on or off, libnix's release workflow or the
project's own, with and without a binary cache, a project at the repository's root or in a subdirectory),
rendered by the real copier template in a real git repository: each passes the real actionlint and the
workflow schema, and has its steps in a working order (install nix, restore the store, the binary cache,
then build; the cache action collects garbage and saves after the job). The Action likewise; and
`libnix update` brings a project made before the cache steps existed up to them, keeping the user's edits."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import REPO, commit_all, git, libnix
from test_init import _template_copy, assert_generated_files_are_valid

INSTALL = "nixbuild/nix-quick-install-action@v34"
CACHE = "nix-community/cache-nix-action@v7"
CACHIX = "cachix/cachix-action@v17"


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIBNIX_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("LIBNIX_TEMPLATE", raising=False)


def project(make_repo, sub: str) -> tuple[Path, Path]:
    repo = make_repo("proj")
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


VARIANTS = [
    pytest.param("", {}, id="root"),
    pytest.param("", {"binary_cache": "cachix:acme"}, id="root-cachix"),
    pytest.param("", {"release_workflow": "false"}, id="root-no-release"),
    pytest.param(
        "rs", {"binary_cache": "cachix:acme", "binary_cache_key": "acme.cachix.org-1:AAAA"}, id="sub-cachix"
    ),
    pytest.param("rs", {}, id="sub"),
    pytest.param("", {"ci": "false"}, id="no-ci"),
]


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
    assert_generated_files_are_valid(repo, nix)  # actionlint and the workflow schema
    cachix = "binary_cache" in data
    here = f"{sub}/" if sub else ""

    ci = yaml.safe_load((workflows / "libnix-ci.yml").read_text())
    assert ci["permissions"] == {"contents": "read", "actions": "write"}
    steps = ci["jobs"]["build"]["steps"]
    wanted = [INSTALL, CACHE, *([CACHIX] if cachix else []), "Check the flake", "Build with cargo (libnix)"]
    positions = order(steps, *wanted)
    assert positions == sorted(positions)
    cache = next(s for s in steps if uses(s) == CACHE)["with"]
    assert cache["primary-key"] == (
        "libnix-${{ runner.os }}-${{ hashFiles("
        f"'{here}flake.lock', '{here}**/*.nix', '{here}libnix.json') }}}}"
    )
    assert cache["restore-prefixes-first-match"] == "libnix-${{ runner.os }}-"
    assert int(cache["gc-max-store-size-linux"]) <= 4 * 2**30 and cache["purge"] is True
    if cachix:
        step = next(s for s in steps if uses(s) == CACHIX)["with"]
        assert step == {"name": "acme", "authToken": "${{ secrets.CACHIX_AUTH_TOKEN }}"}
        assert "secret CACHIX_AUTH_TOKEN" in proc.stdout
    if sub:
        assert ci["jobs"]["build"]["defaults"]["run"]["working-directory"] == sub

    release = workflows / "libnix-release.yml"
    if data.get("release_workflow") == "false":
        assert not release.exists()
        return
    doc = yaml.safe_load(release.read_text())
    assert doc["permissions"] == {"contents": "write", "actions": "write"}
    (step,) = [s for s in doc["jobs"]["release"]["steps"] if "libnix" in uses(s)]
    expected = {"publish": "true", "verify": "eval"}
    if cachix:
        expected.update({"binary-cache": "acme", "cachix-auth-token": "${{ secrets.CACHIX_AUTH_TOKEN }}"})
    if sub:
        expected["working-directory"] = sub
    assert step["with"] == expected


def test_the_actions_steps_run_in_order() -> None:
    steps = yaml.safe_load((REPO / "action.yml").read_text())["runs"]["steps"]
    names = [INSTALL, "Restore and save the nix store", "Use the binary cache", "actions/setup-python@v6",
             "Install libnix", "Export the pinned build system"]  # fmt: skip
    positions = order(steps, *names)
    assert positions == sorted(positions)
    by_name = {s.get("name"): s for s in steps}
    assert by_name["Restore and save the nix store"]["if"] == "inputs.cache == 'true'"
    assert by_name["Use the binary cache"]["if"] == "inputs.binary-cache != ''"
    script = by_name["Export the pinned build system"]["run"]
    # verify first, publish after: a failed verification stops the script before anything is uploaded
    assert script.index("--verify") < script.index("--build") < script.index("--publish")


def test_update_adds_the_cache_steps_to_a_project_made_before_them(
    tmp_path: Path, make_repo, monkeypatch, nix
) -> None:
    """The template as it was before the cache steps (the same workflow with cachix/install-nix-action and
    no cache), then the template of this libnix: update brings them, and the user's edit stays."""
    tpl = _template_copy(tmp_path / "template")
    monkeypatch.setenv("LIBNIX_TEMPLATE", str(tpl))
    env = {"LIBNIX_TEMPLATE": str(tpl), "LIBNIX_CACHE_DIR": os.environ["LIBNIX_CACHE_DIR"]}
    ci_src = next(tpl.glob("copier-template/*/workflows/libnix-ci.yml.jinja"))
    current = ci_src.read_text()
    start = current.index("{%- set here")
    end = current.index("      - name: Check the flake")
    before = (
        current[:start]
        + (
            "      - uses: cachix/install-nix-action@v31\n        with:\n          extra_nix_config: |\n"
            "            experimental-features = nix-command flakes\n"
        )
        + current[end:]
    )
    ci_src.write_text(
        before.replace(
            "  actions: write # the nix store cache purges this branch's older versions of itself\n", ""
        )
    )
    repo, root = project(make_repo, "")
    assert libnix("init", "--defaults", cwd=root, env=env).returncode == 0
    ci = repo / ".github" / "workflows" / "libnix-ci.yml"
    assert CACHE not in ci.read_text()
    commit_all(repo, "init")
    ci.write_text(ci.read_text().replace("      - name: Build with cargo (libnix)",
                                         "      - name: My own step\n        run: echo mine\n"
                                         "      - name: Build with cargo (libnix)"))  # fmt: skip
    commit_all(repo, "my step")
    ci_src.write_text(current)  # this libnix's template
    proc = libnix("update", cwd=root, env=env)
    assert proc.returncode == 0, proc.stderr
    text = ci.read_text()
    assert CACHE in text and INSTALL in text and "cachix/install-nix-action" not in text
    assert "run: echo mine" in text and "<<<<<<<" not in text and "actions: write" in text
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
