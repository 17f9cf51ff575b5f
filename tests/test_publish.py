"""`libnix release --publish` against a real HTTP server on 127.0.0.1 that plays GitHub, Gitea and GitLab
(tests/forge_server.py), and `--verify-remote` downloading the tag tarball the server makes with git."""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import urllib.request
from pathlib import Path

import forge_server
import pytest
from helpers import REPO, commit_all, git, libnix

from scaffold import __version__

TOKEN = forge_server.TOKEN
FAKE = REPO / "tests" / "fake_cargo_libnix.py"
ENV_NAMES = {
    "github": "GITHUB_TOKEN",
    "gitea": "GITEA_TOKEN",
    "gitlab": "GITLAB_TOKEN",
    "sourcehut": "SRHT_TOKEN",
}
OUTPUTS: list[str] = []  # every stdout and stderr of these tests: the token must be in none


def project(make_repo, forge, kind: str = "github") -> Path:
    repo = make_repo("hello")
    shutil.copytree(REPO / "examples" / "hello", repo, dirs_exist_ok=True)
    owner = "~acme" if kind == "sourcehut" else "acme"
    git(repo, "remote", "add", "origin", f"{forge.base}/{owner}/hello")
    commit_all(repo)
    git(repo, "tag", "-a", "v0.1.0", "-m", "v0.1.0")
    shutil.copytree(REPO / "examples" / "hello-buildsystem", repo / "target" / "release" / "nix")
    if kind == "sourcehut":
        for extra in ("v0.0.1", "v0.0.2", "v0.0.3"):  # more tags than a page: libnix must follow the cursor
            git(repo, "tag", extra)
    forge.repos["acme/hello"] = repo
    return repo


def publish(repo: Path, kind: str = "github", *args: str, token: str | None = TOKEN, deadline: str = "600"):
    env = {name: "" for name in ENV_NAMES.values()}
    env["LIBNIX_FORGE_DEADLINE"] = deadline
    if token is not None:
        env[ENV_NAMES[kind]] = token
    proc = libnix(
        "release", "-C", str(repo), "--tag", "v0.1.0", "--from", "target/release/nix", "--forge", kind,
        "--publish", "--json", *args, env=env,
    )  # fmt: skip
    OUTPUTS.extend([proc.stdout, proc.stderr])
    assert TOKEN not in proc.stdout + proc.stderr
    return proc


@pytest.mark.parametrize("kind", ["github", "gitea", "gitlab", "sourcehut"])
def test_publish_creates_release_uploads_and_is_idempotent(
    make_repo, forge, nix, kind: str, registry, monkeypatch
) -> None:
    repo = project(make_repo, forge, kind)
    # --verify-remote asks for every crate too: static.crates.io played by tests/registry_server.py
    monkeypatch.setenv("LIBNIX_INSTEAD_OF", registry.instead_of())
    proc = publish(repo, kind, "--verify-remote")
    assert proc.returncode == 0, proc.stderr
    assert ("HEAD", "/https/static.crates.io/crates/itoa/itoa-1.0.14.crate") in [s[:2] for s in registry.seen]
    doc = json.loads(proc.stdout)
    pub = doc["published"]
    assert pub["uploaded"]
    (rel,) = forge.releases.values()
    assert rel.tag == "v0.1.0"
    if kind != "sourcehut":  # there the annotated tag is the release, and its note cannot be edited
        assert (
            pub["created_release"]
            and "From plain nix" in rel.body
            and doc["asset"]["hash"]["nix32"] in rel.body
        )
    asset = repo / "libnix-0.1.0+v0.1.0.tar.bz2"
    # nix downloads the published asset from the forge and checks it with the hash libnix printed
    fetched = nix.fetch_tarball(pub["asset_url"], doc["asset"]["hash"]["sri"])
    assert fetched.returncode == 0, fetched.stderr
    assert "remote tarball verified" in proc.stderr

    again = publish(repo, kind)
    assert again.returncode == 0, again.stderr
    second = json.loads(again.stdout)["published"]
    assert not second["created_release"] and not second["uploaded"] and not second["notes_updated"]
    assert len(rel.assets) == 1 and rel.body.count("From plain nix") == (kind != "sourcehut")
    with urllib.request.urlopen(second["asset_url"]) as resp:
        assert resp.read() == asset.read_bytes()


def test_existing_release_gets_the_notes_once_and_a_different_asset_needs_force(make_repo, forge) -> None:
    repo = project(make_repo, forge)
    forge.releases[("acme/hello", "v0.1.0")] = forge_server.Release(
        99, "acme/hello", "v0.1.0", "Hand-written notes."
    )
    proc = publish(repo)
    assert proc.returncode == 0, proc.stderr
    pub = json.loads(proc.stdout)["published"]
    assert not pub["created_release"] and pub["notes_updated"] and pub["uploaded"]
    rel = forge.releases[("acme/hello", "v0.1.0")]
    assert rel.body.startswith("Hand-written notes.") and "From plain nix" in rel.body

    (asset,) = rel.assets.values()
    asset["data"] = b"someone else's file"
    asset["digest"] = "sha256:" + hashlib.sha256(asset["data"]).hexdigest()
    clash = publish(repo)
    assert clash.returncode == 1 and "differs" in clash.stderr and "--force" in clash.stderr
    forced = publish(repo, "github", "--force")
    assert forced.returncode == 0, forced.stderr
    assert json.loads(forced.stdout)["published"]["replaced"]
    (asset,) = rel.assets.values()
    assert asset["data"] == (repo / "libnix-0.1.0+v0.1.0.tar.bz2").read_bytes()


def test_retries_rate_limits_and_errors(make_repo, forge) -> None:
    repo = project(make_repo, forge)
    forge.fail("GET", r"/releases/tags/", 500)
    forge.fail("GET", r"/releases/\d+/assets", 403, {"X-RateLimit-Remaining": "0", "Retry-After": "1"})
    ok = publish(repo)
    assert ok.returncode == 0, ok.stderr
    assert len([p for m, p in forge.log if m == "GET" and "/releases/tags/" in p]) >= 2

    forge.fail("PATCH", r"/releases/\d+$", 403, {"X-RateLimit-Remaining": "0", "Retry-After": "30"})
    forge.releases[("acme/hello", "v0.1.0")].body = "new notes without snippets"
    limited = publish(repo)
    assert limited.returncode == 3 and "rate limited" in limited.stderr and "30 s" in limited.stderr

    bad = publish(repo, token="wrong-token")
    assert bad.returncode == 1 and "GITHUB_TOKEN" in bad.stderr and "401" in bad.stderr
    assert "wrong-token" not in bad.stderr

    forge.fail("GET", r"/releases/tags/", 500, times=4)
    down = publish(repo)
    assert down.returncode == 3 and "after 3 retries" in down.stderr


def test_missing_token_stops_before_any_work(make_repo, forge) -> None:
    repo = project(make_repo, forge)
    proc = publish(repo, token=None)
    assert proc.returncode == 1 and "$GITHUB_TOKEN" in proc.stderr
    assert not list(repo.glob("libnix-*")) and forge.log == []


def test_half_published_release_is_reported_and_a_rerun_completes_it(make_repo, forge) -> None:
    repo = project(make_repo, forge)
    forge.fail("POST", r"/api/uploads/.*/assets$", 500)
    proc = publish(repo)
    assert proc.returncode == 3, proc.stderr
    assert "already done: created the release v0.1.0; run again to complete the release" in proc.stderr
    assert proc.stderr.count("\n") <= 6 and "Traceback" not in proc.stderr
    (rel,) = forge.releases.values()
    assert rel.assets == {}
    rerun = publish(repo)
    assert rerun.returncode == 0, rerun.stderr
    assert "publishing it as it is" in rerun.stderr
    pub = json.loads(rerun.stdout)["published"]
    assert not pub["created_release"] and pub["uploaded"] and len(rel.assets) == 1


def test_unknown_forge(make_repo, forge) -> None:
    repo = project(make_repo, forge)
    proc = libnix("release", "-C", str(repo), "--tag", "v0.1.0", "--from", "target/release/nix", "--publish")
    assert proc.returncode == 1 and "unknown forge" in proc.stderr and "--forge" in proc.stderr


def test_sourcehut_needs_the_tag_pushed(make_repo, forge) -> None:
    repo = project(make_repo, forge, "sourcehut")
    remote_copy = make_repo("remote-copy")  # what sourcehut has: the commits, not yet the tag
    commit_all(remote_copy)
    forge.repos["acme/hello"] = remote_copy
    proc = publish(repo, "sourcehut")
    assert proc.returncode == 1 and "the tag v0.1.0 is not on ~acme/hello: push it first" in proc.stderr


def test_not_found_and_malformed_remote(make_repo, forge) -> None:
    repo = project(make_repo, forge)
    git(repo, "remote", "set-url", "origin", f"{forge.base}/nobody/nothing.git")
    proc = publish(repo)
    assert proc.returncode == 1 and "not found (404)" in proc.stderr
    git(repo, "remote", "set-url", "origin", "not a remote at all")
    bad = publish(repo)
    assert bad.returncode == 1 and "cannot read the remote URL" in bad.stderr


# -- faults, injected by the local forge: after each, running the same command again completes ----------

UPLOAD = {
    "github": ("POST", r"/api/uploads/.*/assets$"),
    "gitea": ("POST", r"/api/v1/.*/releases/\d+/assets$"),
    "gitlab": ("PUT", r"/packages/generic/"),
}
FIND = {"github": r"/releases/tags/", "gitea": r"/releases/tags/", "gitlab": r"/projects/[^/]+/releases/v"}
CREATE = {"github": r"/api/v3/repos/[^/]+/[^/]+/releases$", "gitea": r"/api/v1/repos/[^/]+/[^/]+/releases$",
          "gitlab": r"/projects/[^/]+/releases$"}  # fmt: skip


def inject(forge, kind: str, fault: str) -> dict[str, str]:
    """Queue the fault; returns extra options for the first run."""
    if fault == "502 mid-upload":
        forge.fail(*UPLOAD[kind], 502, kind="starter" if kind == "github" else "status")
    elif fault == "reset mid-body":
        forge.fail(*UPLOAD[kind], kind="reset")
    elif fault == "500 forever":
        forge.fail("GET", FIND[kind], 500, times=10)
    elif fault == "429 Retry-After":
        forge.fail("GET", FIND[kind], 429, {"Retry-After": "1"})
    elif fault == "403 rate limit":
        forge.fail("GET", FIND[kind], 403, {"X-RateLimit-Remaining": "0", "Retry-After": "1"})
    elif fault == "slow answer":
        forge.fail("GET", FIND[kind], kind="slow", delay=3)
        return {"deadline": "1"}
    elif fault == "trickling answer":
        forge.fail("GET", FIND[kind], kind="trickle", delay=0.2)
        return {"deadline": "1"}
    elif fault == "malformed JSON":
        forge.fail("POST", CREATE[kind], kind="malformed")
    return {}


FAULTS = ["502 mid-upload", "reset mid-body", "500 forever", "429 Retry-After", "403 rate limit",
          "slow answer", "trickling answer", "malformed JSON"]  # fmt: skip


def assert_complete(forge, repo: Path, proc) -> None:
    assert proc.returncode == 0, proc.stderr
    (rel,) = forge.releases.values()
    assert [a["name"] for a in rel.assets.values()] == ["libnix-0.1.0+v0.1.0.tar.bz2"]
    assert rel.body.count("From plain nix") == 1
    url = json.loads(proc.stdout)["published"]["asset_url"]
    with urllib.request.urlopen(url) as resp:
        assert resp.read() == (repo / "libnix-0.1.0+v0.1.0.tar.bz2").read_bytes()


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("kind", ["github", "gitea", "gitlab"])
def test_every_fault_heals_on_the_next_run(make_repo, forge, kind: str, fault: str) -> None:
    repo = project(make_repo, forge)
    first = publish(repo, kind, **inject(forge, kind, fault))
    assert first.returncode in (0, 1, 3) and "Traceback" not in first.stderr
    # waiting as told, and a PUT sent again whole (GitLab's package upload), complete within the run
    healed = fault in ("429 Retry-After", "403 rate limit") or (kind == "gitlab" and "upload" in fault)
    healed = healed or (kind == "gitlab" and fault == "reset mid-body")
    assert (first.returncode == 0) == healed, first.stderr
    if first.returncode:
        last = first.stderr.strip().splitlines()[-1]
        name = {"github": "GitHub", "gitea": "Gitea", "gitlab": "GitLab"}[kind]
        assert last.startswith(f"libnix: error: {name}: ")
        if fault in ("slow answer", "trickling answer"):
            assert "no complete answer within 1 s" in last
        if fault == "malformed JSON":
            assert "not JSON" in last and "POST" in last
        if fault == "500 forever":
            assert "after 3 retries" in last
        if fault == "reset mid-body":  # a POST is never retried: no "after N retries" then
            assert "retries" not in last
    else:
        assert_complete(forge, repo, first)  # retried within the run: the whole body every time
    forge.injected.clear()  # the forge is well again
    assert_complete(forge, repo, publish(repo, kind))


@pytest.mark.parametrize("kind", ["github", "gitea"])
def test_a_draft_release_is_used_not_duplicated(make_repo, forge, kind: str) -> None:
    repo = project(make_repo, forge)
    forge.releases[("acme/hello", "v0.1.0")] = forge_server.Release(
        41, "acme/hello", "v0.1.0", "Draft notes.", draft=True
    )
    proc = publish(repo, kind)
    assert proc.returncode == 0, proc.stderr
    pub = json.loads(proc.stdout)["published"]
    assert pub["draft"] and not pub["created_release"]
    (rel,) = forge.releases.values()
    assert rel.body.startswith("Draft notes.") and len(rel.assets) == 1


def test_an_unfinished_github_asset_is_replaced_without_force(make_repo, forge) -> None:
    """GitHub documents that a failed upload can leave an asset in state `starter`: ours, and garbage."""
    repo = project(make_repo, forge)
    forge.fail(*UPLOAD["github"], 502, kind="starter")
    first = publish(repo)
    assert first.returncode == 3
    (rel,) = forge.releases.values()
    assert [a["state"] for a in rel.assets.values()] == ["starter"]
    again = publish(repo)
    assert json.loads(again.stdout)["published"]["cleaned"] == 1
    assert_complete(forge, repo, again)


def test_gitlab_links_a_name_with_a_plus(make_repo, forge) -> None:
    """GitLab refuses a direct_asset_path with `+` (its FILEPATH_REGEX; the local forge applies it)."""
    from scaffold.forge import gitlab

    assert gitlab.filepath("libnix-0.1.0+v0.1.0.tar.bz2") == "/libnix-0.1.0-v0.1.0.tar.bz2"
    assert forge_server.FILEPATH_REGEX.match(gitlab.filepath("a+b c~d.tar.bz2+"))
    repo = project(make_repo, forge)
    proc = publish(repo, "gitlab")
    assert_complete(forge, repo, proc)
    assert json.loads(proc.stdout)["published"]["asset_url"].endswith(
        "/downloads/libnix-0.1.0-v0.1.0.tar.bz2"
    )


def test_tokens_and_headers(make_repo, forge) -> None:
    repo = project(make_repo, forge)
    bad = publish(repo, token=TOKEN[:4] + "\n" + TOKEN[4:])
    assert bad.returncode == 1 and "line break" in bad.stderr and "cannot reach" not in bad.stderr
    assert forge.log == []
    # `echo TOKEN > file`, a pasted secret: the surrounding white space is not the token's, and the forge
    # (which checks the token) accepts it as it is
    pasted = publish(repo, token=f"  {TOKEN}\n")
    assert pasted.returncode == 0, pasted.stderr
    assert TOKEN not in pasted.stdout + pasted.stderr
    assert publish(repo).returncode == 0
    agents = {ua for ua in forge.agents}
    assert agents == {f"libnix/{__version__}"}
    assert not any("limit=" in p for m, p in forge.log if "/api/v3/" in p)  # Gitea's paging is not GitHub's


def test_child_processes_never_see_the_tokens(make_repo, forge, tmp_path: Path) -> None:
    """cargo (libnix) (and git, through the same environ.child_env) need no forge token: they run
    without one in their environment."""
    repo = project(make_repo, forge)
    seen = tmp_path / "seen"
    wrapper = tmp_path / "cargo"
    wrapper.write_text(f'#!/bin/sh\nenv > "{seen}"\nexec "{sys.executable}" "{FAKE}" "$@"\n')
    wrapper.chmod(0o755)
    env = {"GITHUB_TOKEN": TOKEN, "GITLAB_TOKEN": TOKEN}
    proc = libnix("release", "-C", str(repo), "--tag", "v0.1.0", "--cargo", str(wrapper), "--forge", "github",
                  env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "CARGO_BACKEND=nix" in seen.read_text() and TOKEN not in seen.read_text()
