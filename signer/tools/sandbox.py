"""A throw-away signer installation driven through the real CLI: SoftHSM token or keystore key,
vault, attested rules and a running ``sealward`` daemon. Used by the demo, the benchmark and the
end-to-end tests, so all three exercise exactly what an operator types."""

from __future__ import annotations

import hashlib
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

from signer.tools.ipcclient import socket_accepts
from signer.tools.processes import stop_process

SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
SOFTHSM_SCRIPT = Path(__file__).resolve().parents[2] / "softhsm" / "create-token.sh"

# The ruleset of clef's "Clique signing" walkthrough: list accounts, seal clique headers, refuse
# everything else.
CLIQUE_RULES = """\
function OnSignerStartup(info) {}
function ApproveListing() {
    return "Approve"
}
function ApproveSignData(r) {
    if (r.content_type == "application/x-clique-header") {
        for (var i = 0; i < r.messages.length; i++) {
            var msg = r.messages[i];
            if (msg.name == "Clique header" && msg.type == "clique") {
                return "Approve"
            }
        }
    }
    return "Reject"
}
"""


class SandboxError(Exception):
    pass


class Sandbox:
    """One configdir with a vault unlocked by a password file; keys on SoftHSM or in a keystore."""

    def __init__(self, work: Path, log: bool = False) -> None:
        self.work = work
        self.log = log
        self.config = work / "config"
        self.password_file = work / "master-password"
        self.env = dict(os.environ)
        self.sealward = str(Path(sys.executable).with_name("sealward"))
        self.backend_flags: list[str] = ["--keystore", ""]
        self.daemon: subprocess.Popen[bytes] | None = None
        self.pins: dict[str, str] = {}
        self.hsm_token: str | None = None
        self.hsm_pin: str | None = None  # a throw-away token's PIN, for in-process floors

    @property
    def common(self) -> list[str]:
        return ["--configdir", str(self.config), "--master-password-file", str(self.password_file)]

    @property
    def socket(self) -> Path:
        return self.config / "clef.ipc"

    def run(self, title: str, args: list[str], stdin: str = "") -> str:
        if self.log:
            print(f"==> {title}", flush=True)
        done = subprocess.run([self.sealward, "--suppress-bootwarn", *args], input=stdin, text=True,
                              capture_output=True, env=self.env, timeout=120)  # fmt: skip
        if done.returncode != 0:
            raise SandboxError(f"{title} failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    def init_vault(self) -> None:
        self.password_file.write_text(secrets.token_urlsafe(18) + "\n")
        self.password_file.chmod(0o600)
        self.run("sealward init (master seed, light KDF)", [*self.common, "--lightkdf", "init"])

    def softhsm_key(self, token: str = "sealward", private_key: str | None = None) -> str:
        """Create a token, keep its PIN in the vault, generate a key on it (or import
        ``private_key``, 64 hex digits, as unextractable); return the address."""
        if not Path(SOFTHSM_MODULE).exists():
            raise SandboxError(
                f"SoftHSM is not installed ({SOFTHSM_MODULE} missing): apt-get install softhsm2"
            )
        pin = secrets.token_hex(4)
        self.pins[token] = pin  # kept in memory for tests that break and mend the vault's copy
        hsm_dir = self.work / "softhsm"
        subprocess.run(["sh", str(SOFTHSM_SCRIPT), str(hsm_dir), token, pin, secrets.token_hex(8)],
                       check=True, capture_output=True, timeout=60)  # fmt: skip
        self.env["SOFTHSM2_CONF"] = str(hsm_dir / "softhsm2.conf")
        self.backend_flags = ["--keystore", "", "--pkcs11-module", SOFTHSM_MODULE, "--pkcs11-token", token]
        self.run(f"sealward setpw pkcs11:token={token}", [*self.common, "setpw", f"pkcs11:token={token}"],
                 f"{pin}\n{pin}\n")  # fmt: skip
        self.hsm_token, self.hsm_pin = token, pin
        if private_key is None:
            return self.add_softhsm_key("sealer")
        keyfile = self.work / "import.key"
        fd = os.open(keyfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # private from the start
        with os.fdopen(fd, "w") as handle:
            handle.write(private_key)
        flags = [*self.common, *self.backend_flags]
        try:
            out = self.run("sealward importraw into the token",
                           [*flags, "importraw", str(keyfile), "--label", "sealer"])  # fmt: skip
        finally:
            keyfile.unlink()
        return next(word.rstrip(".,") for word in out.split() if word.startswith("0x"))

    def add_softhsm_key(self, label: str) -> str:
        """Generate one more key on the token made by ``softhsm_key``; return its address."""
        args = [*self.common, *self.backend_flags, "newaccount", "--label", label]
        out = self.run(f"sealward newaccount on the token ({label})", args)
        return next(word.rstrip(".,") for word in out.split() if word.startswith("0x"))

    def keystore_key(self) -> str:
        """Create a light-KDF keystore account and store its password in the vault."""
        keystore = self.work / "keystore"
        password = secrets.token_urlsafe(15)
        self.backend_flags = ["--keystore", str(keystore), "--lightkdf"]
        out = self.run("sealward newaccount (keystore)", [*self.backend_flags, "newaccount"], f"{password}\n")
        address = next(word for word in out.split() if word.startswith("0x"))
        self.run(f"sealward setpw {address}", [*self.common, "setpw", address], f"{password}\n{password}\n")
        return address

    def attest(self, rules: str = CLIQUE_RULES) -> Path:
        path = self.work / "rules.js"
        path.write_text(rules)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        self.run(f"sealward attest {digest[:16]}…", [*self.common, "attest", digest])
        return path

    def start(
        self, *extra: str, rules: Path | None = None, log: Path | None = None, poll: float = 0.05
    ) -> None:
        """Start the daemon; its output goes to ``log`` (appended) when given, else to ours.
        Returns once the socket accepts, checked every ``poll`` seconds."""
        args = [self.sealward, "--suppress-bootwarn", *self.common, *self.backend_flags,
                "--auditlog", str(self.work / "audit.log"), "--loglevel", "2", *extra]  # fmt: skip
        if rules is not None:
            args += ["--rules", str(rules)]
        if log is None:
            self.daemon = subprocess.Popen(args, stdin=subprocess.DEVNULL, env=self.env)
        else:
            with open(log, "ab") as out:
                self.daemon = subprocess.Popen(
                    args, stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=self.env
                )
        deadline = time.monotonic() + 30
        while not socket_accepts(self.socket):
            if self.daemon.poll() is not None or time.monotonic() > deadline:
                raise SandboxError("the signer did not start (see its log above)")
            time.sleep(poll)

    def stop(self) -> None:
        if self.daemon is not None:
            stop_process(self.daemon)
        self.daemon = None

    def kill(self) -> None:
        """kill -9 the daemon: no shutdown, the socket file stays behind."""
        if self.daemon is not None and self.daemon.poll() is None:
            self.daemon.kill()
            self.daemon.wait()
        self.daemon = None
