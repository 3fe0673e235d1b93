"""The rule worker's OS sandbox (issue 12, finding 6): a worker that QuickJS no longer contains
still cannot open a file, start a process, reach the network or signal the signer.

The first test looks at a real worker from outside (/proc). The second runs Python code inside a
process confined exactly as the worker confines itself (``confine()``), because a rule cannot run
Python: that is what an exploit of the JavaScript engine would get. Its control run, unconfined,
shows every attempt would succeed otherwise.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from signer.approval.rules import MemoryStorage, RuleEngine
from signer.approval.rules.confine import LIBRARY

ROOT = str(Path(__file__).resolve().parents[2])

ATTEMPTS = r"""
import json, mmap, os, socket, subprocess, sys
sys.path.insert(0, sys.argv[1])
if sys.argv[2] == "confined":
    from signer.approval.rules.confine import confine
    confine()
secret = sys.argv[3]
results = {}
def attempt(name, action):
    try:
        action()
        results[name] = "done"
    except OSError as err:
        results[name] = type(err).__name__
attempt("read a file", lambda: open(secret).read())
attempt("create a file", lambda: open(secret + ".new", "w").close())
attempt("list a folder", lambda: os.listdir("/"))
attempt("run a program", lambda: subprocess.run(["/bin/true"], check=True))
attempt("fork", lambda: os.waitpid(pid, 0) if (pid := os.fork()) else os._exit(0))
attempt("open a socket", lambda: socket.socket(socket.AF_UNIX).close())
attempt("signal the parent", lambda: os.kill(os.getppid(), 0))
attempt("make memory executable", lambda: mmap.mmap(-1, 4096, prot=7))
attempt("pipe", lambda: os.pipe())
os.write(1, (json.dumps(results) + "\n").encode())
"""


def _attempts(mode: str, secret: Path) -> dict[str, str]:
    done = subprocess.run(
        [sys.executable, "-I", "-c", ATTEMPTS, ROOT, mode, str(secret)],
        capture_output=True, text=True, timeout=60, env={},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def test_a_worker_is_confined_from_outside() -> None:
    with RuleEngine("function F() { return 'ok'; }", MemoryStorage(), workers=1) as engine:
        assert engine.call("F", {}) == "ok"  # it serves under the filter
        pid = engine._workers[0].process.pid
        status = dict(line.split(":\t", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
        assert status["NoNewPrivs"] == "1"
        assert status["Seccomp"] == "2"  # filter mode
        descriptors = {fd: os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
        assert sorted(descriptors) == ["0", "1", "2"]
        assert descriptors["0"].startswith("pipe:") and descriptors["1"].startswith("pipe:")
        assert descriptors["2"] == "/dev/null"
        assert os.readlink(f"/proc/{pid}/cwd").endswith("(deleted)")  # an empty folder, gone
        limits = Path(f"/proc/{pid}/limits").read_text()
        for name, value in (("Max open files", "3"), ("Max processes", "0"), ("Max file size", "0")):
            line = next(line for line in limits.splitlines() if line.startswith(name))
            assert line.split()[-3:-1] == [value, value], line
        assert engine.call("F", {}) == "ok"


def test_python_inside_a_confined_worker_cannot_open_spawn_or_signal(tmp_path: Path) -> None:
    secret = tmp_path / "master-password"
    secret.write_text("hunter2")
    free = _attempts("control", secret)
    assert set(free.values()) == {"done"}, free
    (tmp_path / "master-password.new").unlink()
    confined = _attempts("confined", secret)
    assert confined == {name: "PermissionError" for name in free}, confined
    assert not (tmp_path / "master-password.new").exists()


def test_a_worker_that_cannot_confine_itself_never_runs_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    # Without libseccomp the worker says why and exits; the call then goes to the next UI.
    monkeypatch.setattr("signer.approval.rules.process._BOOTSTRAP",
        "import sys; sys.path.insert(0, sys.argv[1]); import signer.approval.rules.confine as c; "
        "c.LIBRARY = 'libseccomp-missing.so'; from signer.approval.rules.worker import main; "
        "sys.exit(main(sys.argv[1:]))")  # fmt: skip
    from signer.errors import RulesError

    engine = RuleEngine("function F() { return 'Approve'; }", MemoryStorage(), workers=1)
    with (
        engine,
        pytest.raises(
            RulesError, match=r"cannot confine the rule worker: cannot load libseccomp-missing\.so"
        ),
    ):
        engine.call("F", {})
    assert LIBRARY == "libseccomp.so.2"
