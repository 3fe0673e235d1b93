"""``sealward demo``: the main job on embedded defaults.

A SoftHSM token with a key generated on it, a vault holding the token PIN, the clique ruleset of
clef's walkthrough attested, the real signer serving IPC with the seal guard on, and a node
sealing a clique chain through that socket: a real geth v1.13.15 mining for about 30 s when
``scripts/peers.sh`` has built it (signer.tools.demo_geth), else the built-in geth-like client.
Each block is printed with its signer and the seal latency; the exit status is 0 only if every
seal verifies.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import click

from signer.clique.header import seal_hash
from signer.clique.sealing import CliqueChain, recover_sealer, request_payload
from signer.tools.gethnet import GethError
from signer.tools.ipcclient import IpcClient
from signer.tools.sandbox import Sandbox, SandboxError


def seal_chain(socket_path: Path, address: str, blocks: int) -> bool:
    ok = True
    latencies = []
    with IpcClient(socket_path) as client:
        click.echo(f"==> geth-like client on {socket_path}")
        click.echo(f"    account_version = {client.call('account_version')}")
        click.echo(f"    account_list    = {client.call('account_list')}")
        chain = CliqueChain(london=True)
        click.echo(f"\n{'block':>5}  {'seal hash':<66}  {'recovered signer':<42}  latency    ok")
        for _ in range(blocks):
            header = chain.propose()
            start = time.perf_counter()
            reply = client.call(
                "account_signData", "application/x-clique-header", address, request_payload(header)
            )
            elapsed = (time.perf_counter() - start) * 1000
            latencies.append(elapsed)
            signer = recover_sealer(chain.seal(bytes.fromhex(reply[2:])))
            good = signer == address
            ok &= good
            mark = "yes" if good else "NO"
            click.echo(
                f"{header.number:>5}  0x{seal_hash(header).hex()}  {signer}  {elapsed:6.2f} ms  {mark}"
            )
    verdict = "every seal verifies" if ok else "SOME SEALS DID NOT VERIFY"
    median, worst = statistics.median(latencies), max(latencies)
    click.echo(f"\n{blocks} seals, median {median:.2f} ms, max {worst:.2f} ms: {verdict}")
    return ok


def pick_client(client: str) -> str:
    """``geth`` when the real geth can run, else ``builtin`` (saying why, unless asked for)."""
    from signer.tools.peers import GETH_SEALER

    missing = GETH_SEALER.missing()
    if client == "geth" and missing:
        raise click.ClickException(missing)
    if client == "auto" and missing:
        click.echo(f"==> {missing}\n    falling back to the built-in geth-like client")
        return "builtin"
    return "geth" if client in ("auto", "geth") else "builtin"


@click.command("demo")
@click.option("--client", type=click.Choice(["auto", "geth", "builtin"]), default="auto", show_default=True,
              help="Who seals: real geth v1.13.15 (auto: when built) or the built-in client")  # fmt: skip
@click.option("--seconds", default=30, show_default=True, help="How long geth mines")
@click.option("--blocks", default=12, show_default=True, help="Headers the built-in client seals")
@click.option("--chainid", "chain_id", default=1337, show_default=True, help="Chain id of the demo chain")
@click.option("--workdir", type=click.Path(file_okay=False), help="Keep everything in this folder")
def demo(client: str, seconds: int, blocks: int, chain_id: int, workdir: str | None) -> None:
    """Seal a clique chain on a SoftHSM key under attested rules, end to end."""
    client = pick_client(client)
    work = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="sealward-demo-"))
    work.mkdir(parents=True, exist_ok=True)
    work.chmod(0o700)
    box = Sandbox(work.resolve(), log=True)
    try:
        box.init_vault()
        address = box.softhsm_key("sealward-demo")
        click.echo(f"    sealer {address} (generated on the token, never extractable)")
        rules = box.attest()
        click.echo("==> starting the signer: IPC, attested clique rules, seal guard on")
        box.start("--chainid", str(chain_id), rules=rules)
        if client == "geth":
            from signer.tools.demo_geth import run_geth_chain

            ok = run_geth_chain(box.work, box.socket, box.work / "audit.log", address, chain_id, seconds)
        else:
            ok = seal_chain(box.socket, address, blocks)
    except (SandboxError, GethError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        box.stop()
        if workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    sys.exit(0 if ok else 1)
