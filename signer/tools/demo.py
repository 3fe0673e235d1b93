"""``sealward demo``: the main job on embedded defaults.

A SoftHSM token with a key generated on it, a vault holding the token PIN, the clique ruleset of
clef's walkthrough attested, the real signer serving IPC, and a geth-like client sealing a chain
of clique headers through that socket. Each block is printed with its seal hash, the recovered
signer and the latency; the exit status is 0 only if every seal verifies.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click

from signer.clique.header import seal_hash
from signer.clique.sealing import CliqueChain, recover_sealer, request_payload
from signer.tools.ipcclient import IpcClient

SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
TOKEN = "sealward-demo"

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


class Step:
    def __init__(self, work: Path, env: dict[str, str]) -> None:
        self.work = work
        self.env = env
        self.sealward = str(Path(sys.executable).with_name("sealward"))

    def run(self, title: str, args: list[str], stdin: str = "") -> str:
        click.echo(f"==> {title}")
        done = subprocess.run([self.sealward, "--suppress-bootwarn", *args], input=stdin, text=True,
                              capture_output=True, env=self.env, timeout=120)  # fmt: skip
        if done.returncode != 0:
            raise click.ClickException(f"{title} failed:\n{done.stdout}{done.stderr}")
        return done.stdout


def _softhsm_token(work: Path, pin: str) -> dict[str, str]:
    if not Path(SOFTHSM_MODULE).exists():
        raise click.ClickException(f"SoftHSM is not installed ({SOFTHSM_MODULE} missing): apt-get install softhsm2")
    script = Path(__file__).resolve().parents[2] / "softhsm" / "create-token.sh"
    hsm_dir = work / "softhsm"
    click.echo(f"==> SoftHSM token '{TOKEN}' in {hsm_dir}")
    subprocess.run(["sh", str(script), str(hsm_dir), TOKEN, pin, secrets.token_hex(8)], check=True,
                   capture_output=True, timeout=60)  # fmt: skip
    return {**os.environ, "SOFTHSM2_CONF": str(hsm_dir / "softhsm2.conf")}


def _wait_for(path: Path, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise click.ClickException("the signer did not start; see its log above")
        time.sleep(0.05)


def run_demo(blocks: int, work: Path, chain_id: int) -> bool:
    pin = secrets.token_hex(4)
    env = _softhsm_token(work, pin)
    config = work / "config"
    password_file = work / "master-password"
    password_file.write_text(secrets.token_urlsafe(18) + "\n")
    password_file.chmod(0o600)
    common = ["--configdir", str(config), "--master-password-file", str(password_file)]
    hsm = ["--keystore", "", "--pkcs11-module", SOFTHSM_MODULE, "--pkcs11-token", TOKEN]
    step = Step(work, env)
    step.run("sealward init (master seed, light KDF)", [*common, "--lightkdf", "init"])
    step.run(f"sealward setpw pkcs11:token={TOKEN}", [*common, "setpw", f"pkcs11:token={TOKEN}"], f"{pin}\n{pin}\n")
    out = step.run("sealward newaccount on the token", [*common, *hsm, "newaccount", "--label", "sealer"])
    address = next(w for w in out.split() if w.startswith("0x"))
    click.echo(f"    sealer {address}")
    rules = work / "rules.js"
    rules.write_text(CLIQUE_RULES)
    digest = hashlib.sha256(rules.read_bytes()).hexdigest()
    step.run(f"sealward attest {digest[:16]}…", [*common, "attest", digest])

    click.echo("==> starting the signer (IPC, attested rules, seal guard on)")
    daemon = subprocess.Popen(
        [step.sealward, "--suppress-bootwarn", *common, *hsm, "--rules", str(rules), "--chainid", str(chain_id),
         "--auditlog", str(work / "audit.log"), "--loglevel", "2"],
        stdin=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    socket_path = config / "clef.ipc"
    try:
        _wait_for(socket_path, daemon)
        return _seal(socket_path, address, blocks)
    finally:
        daemon.terminate()
        daemon.wait(10)


def _seal(socket_path: Path, address: str, blocks: int) -> bool:
    ok = True
    latencies = []
    with IpcClient(socket_path) as client:
        click.echo(f"==> geth-like client on {socket_path}: account_version={client.call('account_version')}")
        listed = client.call("account_list")
        click.echo(f"    account_list={listed}")
        chain = CliqueChain(london=True)
        click.echo(f"\n{'block':>5}  {'seal hash':<66}  {'recovered signer':<42}  latency  ok")
        for _ in range(blocks):
            header = chain.propose()
            start = time.perf_counter()
            sig = bytes.fromhex(
                client.call("account_signData", "application/x-clique-header", address, request_payload(header))[2:]
            )
            elapsed = (time.perf_counter() - start) * 1000
            latencies.append(elapsed)
            sealed = chain.seal(sig)
            signer = recover_sealer(sealed)
            good = signer == address
            ok &= good
            click.echo(f"{header.number:>5}  0x{seal_hash(header).hex()}  {signer}  {elapsed:6.2f}ms  {'yes' if good else 'NO'}")
    click.echo(f"\n{blocks} seals, median {statistics.median(latencies):.2f} ms, max {max(latencies):.2f} ms: "
               + ("every seal verifies" if ok else "SOME SEALS DID NOT VERIFY"))  # fmt: skip
    return ok


@click.command("demo")
@click.option("--blocks", default=12, show_default=True, help="Clique headers to seal")
@click.option("--chainid", "chain_id", default=1337, show_default=True, help="Chain id of the demo chain")
@click.option("--workdir", type=click.Path(file_okay=False), help="Keep everything in this folder")
def demo(blocks: int, chain_id: int, workdir: str | None) -> None:
    """Seal clique headers on a SoftHSM key under attested rules, end to end."""
    work = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="sealward-demo-"))
    work.mkdir(parents=True, exist_ok=True)
    work.chmod(0o700)
    try:
        ok = run_demo(blocks, work.resolve(), chain_id)
    finally:
        if workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    sys.exit(0 if ok else 1)
