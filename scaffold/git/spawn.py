"""Start programs (git) and read what they write, without `subprocess`.

`subprocess` and what it imports (threading, selectors) cost about as long as a whole `nix-prefetch-url
--unpack` of a small tarball, and `libnix hash --tag` starts git three times: its fixed cost must stay
near nix's. posix_spawn with pipes and a poll loop is all libnix needs: no shell, stdin inherited, no
descriptor of ours in the child but the pipes (Python opens its own close-on-exec, and inheritable ones
libnix was started with are closed, as subprocess closes them), and the signal dispositions a program
expects (SIGPIPE back to its default, as subprocess restores it).
"""

from __future__ import annotations

import os
import select
import signal
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import BinaryIO

_READ = 1 << 16


class Finished:
    """What a program that ran to its end left: its exit code (negative: the signal that ended it) and
    its whole output."""

    __slots__ = ("returncode", "stderr", "stdout")

    def __init__(self, returncode: int, stdout: bytes, stderr: bytes) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


class Child:
    """A running program whose output is read as a stream. Its stderr is read after its stdout: fine
    for git, which writes a few lines there at most (more than a pipe holds would block it)."""

    def __init__(self, pid: int, stdout: BinaryIO, stderr: int) -> None:
        self.pid, self.stdout, self.stderr_fd = pid, stdout, stderr
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int | None:
        """The exit code; None if the program still runs after `timeout` seconds."""
        if timeout is None:
            if self.returncode is None:
                self.returncode = os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])
            return self.returncode
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.005)
        return self.returncode

    def kill(self) -> None:
        if self.poll() is None:  # not reaped: the pid is still its own, even if it just ended
            os.kill(self.pid, signal.SIGKILL)
            self.wait()

    def stderr(self) -> bytes:
        """Everything the program wrote to stderr (read to its end)."""
        chunks = []
        while chunk := os.read(self.stderr_fd, _READ):
            chunks.append(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        """Kill the program if it still runs; release the pipes (once)."""
        self.kill()
        self.stdout.close()
        if self.stderr_fd >= 0:
            os.close(self.stderr_fd)
            self.stderr_fd = -1


def start(args: list[str], env: dict[str, str], *, buffering: int = 1 << 20) -> Child:
    """Start `args` (looked up on PATH) with stdout and stderr to pipes. FileNotFoundError: no program."""
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    try:
        pid = _spawn(args, env, out_w, err_w)
    except BaseException:
        os.close(out_r)
        os.close(err_r)
        raise
    finally:
        os.close(out_w)
        os.close(err_w)
    return Child(pid, open(out_r, "rb", buffering=buffering), err_r)


def run(args: list[str], env: dict[str, str], *, timeout: float | None = None) -> Finished:
    """Run `args` to its end and collect its stdout and stderr (both read as they come, so neither pipe
    can fill). TimeoutError after `timeout` seconds, the program killed."""
    child = start(args, env, buffering=0)  # unbuffered: both pipes are read with os.read below
    try:
        fds = (child.stdout.fileno(), child.stderr_fd)
        chunks: dict[int, list[bytes]] = {fd: [] for fd in fds}
        deadline = None if timeout is None else time.monotonic() + timeout
        poller = select.poll()
        for fd in fds:
            poller.register(fd, select.POLLIN)
        open_fds = set(fds)
        while open_fds:
            wait_ms = None if deadline is None else max(0.0, (deadline - time.monotonic()) * 1000)
            ready = poller.poll(wait_ms)
            if not ready:
                raise TimeoutError(f"{args[0]} did not finish within {timeout} s")
            for fd, _event in ready:
                data = os.read(fd, _READ)
                if data:
                    chunks[fd].append(data)
                else:
                    poller.unregister(fd)
                    open_fds.discard(fd)
        code = child.wait()
        assert code is not None  # waited without a timeout
    finally:
        child.close()  # a timeout, Ctrl-C: the program does not outlive the call
    return Finished(code, b"".join(chunks[fds[0]]), b"".join(chunks[fds[1]]))


def _spawn(args: list[str], env: dict[str, str], out: int, err: int) -> int:
    actions: list[tuple[int, ...]] = [(os.POSIX_SPAWN_DUP2, out, 1), (os.POSIX_SPAWN_DUP2, err, 2)]
    actions += [(os.POSIX_SPAWN_CLOSE, fd) for fd in _inherited()]
    return os.posix_spawnp(args[0], args, env, file_actions=actions, setsigdef=(signal.SIGPIPE,))


def _inherited() -> list[int]:
    """Open, inheritable descriptors above stderr: those libnix was started with (a shell's, a CI
    runner's)."""
    found = []
    for name in os.listdir("/dev/fd"):  # Linux (/proc/self/fd) and macOS
        fd = int(name)
        try:
            if fd > 2 and os.get_inheritable(fd):
                found.append(fd)
        except OSError:  # the descriptor listdir itself used, closed by now
            pass
    return found
