"""How libnix runs git (scaffold/git/spawn.py, posix_spawn in place of subprocess): real programs, real pipes.

What a user would see if it went wrong: a hang (both pipes full), a git left running after a timeout or
Ctrl-C, a descriptor of libnix's leaking into git, git dying silently on a closed pipe, or a traceback
where "git is not installed" belongs. Linux, as CI: the child's descriptors and signals are read in /proc.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from scaffold.errors import ExternalError
from scaffold.git import repo as gitrepo
from scaffold.git import spawn

ENV = dict(os.environ)


def test_run_reads_both_pipes_as_they_fill() -> None:
    # more than a pipe holds on each: reading one to its end first would hang with the other full
    script = "head -c 300000 /dev/zero; head -c 200000 /dev/zero >&2; head -c 100000 /dev/zero; exit 3"
    done = spawn.run(["sh", "-c", script], ENV, timeout=30)
    assert done.returncode == 3
    assert len(done.stdout) == 400000 and len(done.stderr) == 200000


def test_run_reports_a_signal_as_subprocess_does() -> None:
    assert spawn.run(["sh", "-c", "kill -TERM $$"], ENV).returncode == -15


def test_timeout_kills_the_program(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        spawn.run(["sh", "-c", f"echo $$ > {pidfile}; exec sleep 30"], ENV, timeout=0.5)
    assert time.monotonic() - start < 10
    pid = int(pidfile.read_text())
    with pytest.raises(ProcessLookupError):  # killed and reaped: no such process any more
        os.kill(pid, 0)


def test_the_child_gets_no_descriptor_of_ours_and_sigpipe_back(tmp_path: Path) -> None:
    held = open(tmp_path / "held", "w")  # noqa: SIM115 (open while the child runs)
    try:
        done = spawn.run(["sh", "-c", "ls /proc/self/fd; grep SigIgn /proc/self/status"], ENV)
    finally:
        held.close()
    lines = done.stdout.decode().split()
    fds = {int(x) for x in lines[: lines.index("SigIgn:")]}
    assert fds <= {0, 1, 2, 3}, fds  # 3: the directory ls reads
    ignored = int(lines[lines.index("SigIgn:") + 1], 16)
    assert not ignored & (1 << (13 - 1)), "SIGPIPE stays ignored in the child, as Python ignores it"


def test_a_stream_closed_early_leaves_no_program_behind() -> None:
    child = spawn.start(["sh", "-c", "while :; do head -c 65536 /dev/zero; done"], ENV)
    assert len(child.stdout.read(1000)) == 1000
    child.close()
    assert child.returncode == -9


def test_missing_git_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH without git: what a machine without git has
    with pytest.raises(FileNotFoundError):
        spawn.run(["git", "--version"], dict(os.environ))
    with pytest.raises(ExternalError, match="git is not installed or not on PATH"):
        gitrepo.git(str(tmp_path), "rev-parse", "HEAD")


def test_run_leaves_no_zombie() -> None:
    children = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children")
    before = set(children.read_text().split())  # another test's server may run beside
    for _ in range(5):
        spawn.run(["true"], ENV)
        spawn.start(["true"], ENV).close()
    assert set(children.read_text().split()) == before
