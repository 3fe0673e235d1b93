"""A private proof-of-stake chain for a current geth with ``--signer``: the genesis, and a block
producer that plays the consensus client over geth's Engine API.

geth's ``--dev`` mode cannot be combined with ``--signer`` (geth: "flags --dev, --signer can't be
used at the same time"), and a current geth only runs proof-of-stake chains, so something has to
drive block production: this module does what geth's own simulated beacon does, through the
authenticated Engine API (JWT, HS256) on ``--authrpc.port``.

The genesis is geth's own developer genesis (``geth --dev dumpgenesis``: every fork through Osaka
at block 0, the system contracts Prague needs) with our chain id and funded accounts. Osaka
matters: geth v1.17's blob pool takes only cell-proof (version 1) sidecars. Engine API:
forkchoiceUpdatedV3, getPayloadV5, newPayloadV4.

    python -m signer.tools.devchain genesis --geth $(which geth) --chainid 4243 0xYourAddress > genesis.json
    python -m signer.tools.devchain run --authrpc http://127.0.0.1:8551 \\
        --jwtsecret <datadir>/geth/jwtsecret --period 2
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import subprocess
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import click

ZERO_HASH = "0x" + "00" * 32
# Forks after Osaka in geth's developer genesis would need Engine API versions this producer
# does not speak; they are left out.
_AFTER_OSAKA = ("bogotaTime", "amsterdamTime", "bpo1Time", "bpo2Time", "bpo3Time", "bpo4Time", "bpo5Time")


class EngineError(Exception):
    pass


def pos_genesis(
    geth: Path, chain_id: int, alloc: dict[str, int], gas_limit: int = 30_000_000
) -> dict[str, Any]:
    """geth's developer genesis with ``chain_id`` and ``alloc`` funded (wei); only the system
    contracts of its own allocation are kept."""
    done = subprocess.run([str(geth), "--dev", "dumpgenesis"], capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise EngineError(f"geth --dev dumpgenesis failed: {done.stderr.strip()[-300:]}")
    genesis: dict[str, Any] = json.loads(done.stdout)
    config = genesis["config"]
    for fork in _AFTER_OSAKA:
        config.pop(fork, None)
    config["chainId"] = chain_id
    genesis["gasLimit"] = hex(gas_limit)
    genesis["alloc"] = {
        address: account for address, account in genesis["alloc"].items() if account.get("code")
    }
    for address, wei in alloc.items():
        genesis["alloc"][address.lower().removeprefix("0x")] = {"balance": hex(wei)}
    return genesis


def jwt_token(secret: bytes, issued_at: int | None = None) -> str:
    """The bearer token the Engine API wants: HS256 over {"iat": now}."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = b64(json.dumps({"iat": int(time.time()) if issued_at is None else issued_at}).encode())
    signature = hmac.new(secret, f"{header}.{claims}".encode(), hashlib.sha256).digest()
    return f"{header}.{claims}.{b64(signature)}"


def read_jwt_secret(path: Path) -> bytes:
    return bytes.fromhex(path.read_text().strip().removeprefix("0x"))


class BlockProducer:
    """Builds one block at a time on geth's head: forkchoiceUpdated with payload attributes, a
    moment for geth to fill the block from its pool, getPayload, newPayload, forkchoiceUpdated."""

    def __init__(self, authrpc_url: str, jwt_secret: bytes, fee_recipient: str = "0x" + "00" * 20) -> None:
        self.url = authrpc_url
        self.secret = jwt_secret
        self.fee_recipient = fee_recipient
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.errors: list[str] = []

    def _call(self, method: str, *params: Any) -> Any:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode()
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {jwt_token(self.secret)}"}
        request = urllib.request.Request(self.url, body, headers)
        with urllib.request.urlopen(request, timeout=30) as response:
            reply = json.loads(response.read())
        if "error" in reply:
            raise EngineError(f"{method}: {reply['error'].get('message')}")
        return reply["result"]

    def _head(self) -> dict[str, Any]:
        head = self._call("eth_getBlockByNumber", "latest", False)
        return dict(head)

    def produce(self, build_time: float = 0.3) -> dict[str, Any]:
        """Build and import one block on the current head; returns the new block's payload."""
        head = self._head()
        state = {
            "headBlockHash": head["hash"],
            "safeBlockHash": head["hash"],
            "finalizedBlockHash": head["hash"],
        }
        attributes = {
            "timestamp": hex(max(int(time.time()), int(head["timestamp"], 16) + 1)),
            "prevRandao": "0x" + secrets.token_hex(32),
            "suggestedFeeRecipient": self.fee_recipient,
            "withdrawals": [],
            "parentBeaconBlockRoot": ZERO_HASH,
        }
        started = self._call("engine_forkchoiceUpdatedV3", state, attributes)
        payload_id = started.get("payloadId")
        if payload_id is None:
            raise EngineError(f"geth did not start building a block: {started.get('payloadStatus')}")
        time.sleep(build_time)
        envelope = self._call("engine_getPayloadV5", payload_id)
        payload = envelope["executionPayload"]
        blob_hashes = [_versioned_hash(c) for c in (envelope.get("blobsBundle") or {}).get("commitments", [])]
        requests = envelope.get("executionRequests") or []
        status = self._call("engine_newPayloadV4", payload, blob_hashes, ZERO_HASH, requests)
        if status.get("status") != "VALID":
            raise EngineError(f"geth refused its own block: {status}")
        new_head = {"headBlockHash": payload["blockHash"], "safeBlockHash": payload["blockHash"],
                    "finalizedBlockHash": payload["blockHash"]}  # fmt: skip
        self._call("engine_forkchoiceUpdatedV3", new_head, None)
        return dict(payload)

    def start(self, period: float) -> BlockProducer:
        """Produce a block every ``period`` seconds in a thread until ``stop``."""

        def loop() -> None:
            while not self._stop.wait(period):
                try:
                    self.produce()
                except (OSError, EngineError, KeyError) as exc:
                    self.errors.append(str(exc))

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)


def _versioned_hash(commitment: str) -> str:
    """EIP-4844: 0x01 followed by sha256(commitment)[1:]."""
    return "0x01" + hashlib.sha256(bytes.fromhex(commitment[2:])).hexdigest()[2:]


@click.group()
def main() -> None:
    """A private proof-of-stake chain for a current geth with --signer."""


@main.command("genesis")
@click.option(
    "--geth", "geth", type=click.Path(exists=True, dir_okay=False), required=True, help="A current geth"
)
@click.option("--chainid", "chain_id", type=int, required=True)
@click.argument("funded", nargs=-1)
def genesis_command(geth: str, chain_id: int, funded: tuple[str, ...]) -> None:
    """Print a genesis funding each FUNDED address with 1000 ether."""
    click.echo(json.dumps(pos_genesis(Path(geth), chain_id, {a: 1000 * 10**18 for a in funded}), indent=1))


@main.command("run")
@click.option("--authrpc", default="http://127.0.0.1:8551", show_default=True, help="geth's Engine API")
@click.option("--jwtsecret", type=click.Path(exists=True, dir_okay=False), required=True,
              help="geth's JWT secret (<datadir>/geth/jwtsecret unless --authrpc.jwtsecret)")  # fmt: skip
@click.option("--period", default=2.0, show_default=True, help="Seconds between blocks")
def run_command(authrpc: str, jwtsecret: str, period: float) -> None:
    """Produce blocks on a private proof-of-stake geth until interrupted."""
    producer = BlockProducer(authrpc, read_jwt_secret(Path(jwtsecret)))
    click.echo(f"producing a block every {period} s on {authrpc}; Ctrl-C stops")
    try:
        while True:
            try:
                payload = producer.produce()
            except (OSError, EngineError) as exc:  # geth restarting or busy: try again next period
                click.echo(f"no block: {exc}", err=True)
            else:
                txs = len(payload["transactions"])
                click.echo(f"block {int(payload['blockNumber'], 16)} {payload['blockHash']} txs={txs}")
            time.sleep(period)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
