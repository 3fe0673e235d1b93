"""Real geth nodes on a private clique chain: genesis, init, start and stop, peering, JSON-RPC.

geth is a peer here (the demo's node and the end-to-end tests' client), never part of the
product: the binary comes from ``scripts/peers.sh`` (``signer.tools.peers``), every node listens on
loopback only, on ports picked free, and writes its log to a file in its data folder so a test can
print the tail when it fails. Nothing here needs Go.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from signer.tools.processes import LOOPBACK, free_port, stop_process

# Forks a clique chain can use with geth v1.13: everything through London at genesis (base fee
# headers, 16 fields). Shanghai and later need the beacon chain; clique cannot seal them.
_FORKS = (
    "homesteadBlock", "eip150Block", "eip155Block", "eip158Block", "byzantiumBlock",
    "constantinopleBlock", "petersburgBlock", "istanbulBlock", "berlinBlock", "londonBlock",
)  # fmt: skip


class GethError(Exception):
    pass


def clique_genesis(
    chain_id: int,
    period: int,
    signers: list[str],
    alloc: dict[str, int] | None = None,
    *,
    epoch: int = 30_000,
    gas_limit: int = 30_000_000,
) -> dict[str, Any]:
    """A genesis whose clique signers are ``signers``; ``alloc`` funds addresses (wei)."""
    config: dict[str, Any] = {"chainId": chain_id, **{fork: 0 for fork in _FORKS}}
    config["clique"] = {"period": period, "epoch": epoch}
    sealers = "".join(address.lower().removeprefix("0x") for address in sorted(signers, key=str.lower))
    return {
        "config": config,
        "difficulty": "0x1",
        "gasLimit": hex(gas_limit),
        "extradata": "0x" + "00" * 32 + sealers + "00" * 65,
        "alloc": {a.lower().removeprefix("0x"): {"balance": hex(b)} for a, b in (alloc or {}).items()},
    }


class RpcFailed(GethError):
    def __init__(self, method: str, error: dict[str, Any]) -> None:
        self.code = int(error.get("code", 0))
        self.message = str(error.get("message", ""))
        super().__init__(f"{method}: {self.message} (code {self.code})")


def rpc_call(url: str, method: str, *params: Any, timeout: float = 30) -> Any:
    """One JSON-RPC call over HTTP; raises RpcFailed with geth's error, OSError when unreachable."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        reply = json.loads(response.read())
    if "error" in reply:
        raise RpcFailed(method, reply["error"])
    return reply.get("result")


@dataclass
class GethNode:
    """One geth process: a data folder, loopback ports, and optionally an external signer."""

    binary: Path
    datadir: Path
    network_id: int
    signer: Path | None = None  # the clef.ipc it gets as --signer
    etherbase: str | None = None  # with a signer: seal clique blocks as this address
    mine: bool = True  # with an etherbase: start sealing at once (else later with miner_start)
    extra_flags: list[str] = field(default_factory=list)
    http_port: int = field(default_factory=free_port)
    p2p_port: int = field(default_factory=free_port)
    authrpc_port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.http_port}"

    @property
    def log_path(self) -> Path:
        return self.datadir / "geth.log"

    @property
    def authrpc_url(self) -> str:
        return f"http://{LOOPBACK}:{self.authrpc_port}"

    @property
    def jwt_secret_path(self) -> Path:
        """The Engine API secret geth writes on its first start."""
        return self.datadir / "geth" / "jwtsecret"

    def init(self, genesis: dict[str, Any]) -> None:
        self.datadir.mkdir(parents=True, exist_ok=True)
        path = self.datadir / "genesis.json"
        path.write_text(json.dumps(genesis, indent=2))
        done = subprocess.run(
            [str(self.binary), "--datadir", str(self.datadir), "init", str(path)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        if done.returncode != 0:
            raise GethError(f"geth init failed:\n{done.stdout}{done.stderr}")

    def command(self) -> list[str]:
        args = [
            str(self.binary), "--datadir", str(self.datadir), "--networkid", str(self.network_id),
            "--nodiscover", "--nat", "none", "--netrestrict", "127.0.0.0/8", "--maxpeers", "10",
            "--port", str(self.p2p_port), "--syncmode", "full",
            "--http", "--http.addr", LOOPBACK, "--http.port", str(self.http_port),
            "--http.api", "eth,net,web3,clique,admin,txpool,debug,miner",
            "--ipcdisable", "--authrpc.addr", LOOPBACK, "--authrpc.port", str(self.authrpc_port),
        ]  # fmt: skip
        if self.signer is not None:
            args += ["--signer", str(self.signer)]
        if self.etherbase is not None:
            args += ["--miner.etherbase", self.etherbase] + (["--mine"] if self.mine else [])
        return args + self.extra_flags

    def start(self, wait: float = 60) -> None:
        """Start geth (its output appended to geth.log) and wait until its HTTP-RPC answers."""
        if self.running:
            raise GethError("geth is already running")
        with open(self.log_path, "ab") as log:
            log.write(f"\n===== start {time.strftime('%H:%M:%S')}: {' '.join(self.command())}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                self.command(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + wait
        while True:
            if self.proc.poll() is not None:
                raise GethError(f"geth exited with status {self.proc.returncode}:\n{self.log_tail()}")
            try:
                self.rpc("net_version", timeout=2)
                return
            except (OSError, RpcFailed) as exc:
                if time.monotonic() > deadline:
                    tail = self.log_tail()
                    raise GethError(f"geth did not answer on {self.url} in {wait:.0f} s:\n{tail}") from exc
                time.sleep(0.1)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 20) -> None:
        """SIGINT (geth's clean shutdown: it writes its head state), SIGKILL if it hangs."""
        if self.proc is None:
            return
        stop_process(self.proc, timeout, signal.SIGINT)
        self.proc = None

    def kill(self) -> None:
        """kill -9: no shutdown at all."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.proc = None

    def rpc(self, method: str, *params: Any, timeout: float = 30) -> Any:
        return rpc_call(self.url, method, *params, timeout=timeout)

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no geth log)"
        return "\n".join(text.splitlines()[-lines:])

    # --- chain queries --------------------------------------------------------------------------

    def head(self) -> int:
        return int(self.rpc("eth_blockNumber"), 16)

    def block(self, number: int | str) -> dict[str, Any]:
        tag = hex(number) if isinstance(number, int) else number
        found = self.rpc("eth_getBlockByNumber", tag, False)
        if found is None:
            raise GethError(f"no block {number}")
        return dict(found)

    def clique_signer(self, number: int) -> str:
        """The sealer of block ``number`` as geth's clique engine recovers it."""
        return str(self.rpc("clique_getSigner", hex(number)))

    def raw_header(self, number: int) -> bytes:
        return bytes.fromhex(str(self.rpc("debug_getRawHeader", hex(number)))[2:])

    def wait_for_block(self, number: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.head() < number:
            if time.monotonic() > deadline:
                raise GethError(f"block {number} not reached in {timeout:.0f} s (head {self.head()})")
            time.sleep(0.2)

    # --- peering ----------------------------------------------------------------------------------

    def enode(self) -> str:
        return str(self.rpc("admin_nodeInfo")["enode"])

    def connect(self, other: GethNode, timeout: float = 30) -> None:
        """admin_addPeer ``other`` and wait until it is listed as a peer."""
        target = other.enode()
        self.rpc("admin_addPeer", target)
        their_key = target.split("@")[0]  # enode://<public key>; admin_peers' "id" is its hash
        deadline = time.monotonic() + timeout
        while not any(str(p.get("enode", "")).split("@")[0] == their_key for p in self.rpc("admin_peers")):
            if time.monotonic() > deadline:
                raise GethError(f"peering with {target} did not happen in {timeout:.0f} s")
            time.sleep(0.2)


def connect_all(nodes: list[GethNode]) -> None:
    for i, node in enumerate(nodes):
        for other in nodes[i + 1 :]:
            node.connect(other)
