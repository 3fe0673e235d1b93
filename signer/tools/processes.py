"""Stopping the child processes the tools run (the signer, geth, clef): ask, then insist."""

from __future__ import annotations

import signal
import subprocess


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
