"""Fresh SoftHSM2 tokens for tests, in a folder of the test's own (never the system-wide SoftHSM).

    token = create_token(tmp_path)            # skips the test when SoftHSM2 is not installed
    subprocess.run([...], env={**os.environ, **token.env})   # another process: just the env
    token.activate()                           # this process: see the note below
    backend = Pkcs11Backend(token.module, [token.label])

SoftHSM reads SOFTHSM2_CONF and scans its token folder only in C_Initialize, and the module is
loaded once per process (backends.pkcs11.module). ``activate()`` therefore sets SOFTHSM2_CONF and,
when the module is already loaded, re-initialises it: every PKCS#11 session in the process is lost
(backends log in again by themselves). Tokens are created with softhsm/create-token.sh, so the
script the docs tell people to use is the one the tests exercise.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CREATE_TOKEN = REPO / "softhsm" / "create-token.sh"
_CANDIDATES = (
    "/usr/lib/softhsm/libsofthsm2.so",  # Debian/Ubuntu
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib64/pkcs11/libsofthsm2.so",  # Fedora
    "/usr/local/lib/softhsm/libsofthsm2.so",  # built from source, Homebrew
    "/opt/homebrew/lib/softhsm/libsofthsm2.so",
)


def _find_module() -> str:
    override = os.environ.get("SEALWARD_SOFTHSM_MODULE")
    if override:
        return override
    return next((path for path in _CANDIDATES if os.path.isfile(path)), _CANDIDATES[0])


SOFTHSM_MODULE = _find_module()


def softhsm_missing() -> str | None:
    """Why SoftHSM2 tests cannot run here, or None when they can."""
    if not os.path.isfile(SOFTHSM_MODULE):
        return f"SoftHSM2 is not installed ({SOFTHSM_MODULE} missing; apt-get install softhsm2)"
    if shutil.which("softhsm2-util") is None:
        return "softhsm2-util is not on PATH (apt-get install softhsm2)"
    return None


requires_softhsm = pytest.mark.skipif(softhsm_missing() is not None, reason=softhsm_missing() or "")


def skip_without_softhsm() -> None:
    reason = softhsm_missing()
    if reason is not None:
        pytest.skip(reason)


@dataclass(frozen=True)
class SoftHsmToken:
    directory: Path
    label: str
    pin: str
    so_pin: str
    module: str = SOFTHSM_MODULE

    @property
    def conf(self) -> Path:
        return self.directory / "softhsm2.conf"

    @property
    def env(self) -> dict[str, str]:
        """The variables another process needs to see this token."""
        return {"SOFTHSM2_CONF": str(self.conf)}

    def add_token(self, label: str, pin: str = "1234", so_pin: str = "5678") -> SoftHsmToken:
        """A second token in the same folder (call ``activate()`` again to see it in-process)."""
        _run_script(self.directory, label, pin, so_pin)
        return SoftHsmToken(self.directory, label, pin, so_pin, self.module)

    def activate(self) -> None:
        """Point this process's SoftHSM at this token's folder (re-initialising it if loaded)."""
        from backends.pkcs11.module import loaded_module

        os.environ["SOFTHSM2_CONF"] = str(self.conf)
        module = loaded_module(self.module)
        if module is not None:
            module.reinitialize()


def _run_script(directory: Path, label: str, pin: str, so_pin: str) -> None:
    result = subprocess.run(
        [str(CREATE_TOKEN), str(directory), label, pin, so_pin], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"create-token.sh failed ({result.returncode}): {result.stderr.strip()}")
    expected = f"export SOFTHSM2_CONF={directory / 'softhsm2.conf'}"
    if result.stdout.strip() != expected:
        raise RuntimeError(f"create-token.sh printed {result.stdout!r}, expected {expected!r}")


def create_token(
    tmp_path: Path, label: str = "test", pin: str = "1234", so_pin: str = "5678"
) -> SoftHsmToken:
    """Initialise token ``label`` in ``tmp_path/softhsm`` (skips the test when SoftHSM2 is missing)."""
    skip_without_softhsm()
    directory = Path(tmp_path) / "softhsm"
    _run_script(directory, label, pin, so_pin)
    return SoftHsmToken(directory, label, pin, so_pin)
