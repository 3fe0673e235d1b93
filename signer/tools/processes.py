"""The child processes the tools run (the signer, geth, clef, PostgreSQL): a port for them to
listen on, and stopping them (ask, then insist)."""

from __future__ import annotations

import signal
import socket
import subprocess

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A TCP port free on loopback right now (bound and released; another process could take it
    before the child binds it, which tests accept)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def stop_process(proc: subprocess.Popen[bytes], grace: float = 10.0, how: int = signal.SIGTERM) -> int:
    """Send ``how`` (a clean shutdown), wait up to ``grace`` seconds, then SIGKILL; the exit code."""
    if proc.poll() is None:
        proc.send_signal(how)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode
