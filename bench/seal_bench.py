"""Clique seal round trips through the real signer, against the in-process floor, in one run.

    .venv/bin/python -m bench.seal_bench [--seals 500] [--clients 1,4]

Each row starts a real ``sealward`` (through the same CLI an operator uses: vault, attested clique
rules, IPC) and has geth-like clients seal linked clique headers over the socket. Rows:

* SoftHSM key, attested rules, seal guard on (SQLite, the default)  — 1 client
* SoftHSM key, attested rules, seal guard off                      — 1 and 4 clients
* keystore key (light KDF, password in the vault), attested rules  — 1 and 4 clients
* floor: eth-keys signing the same seal hash in this process, no IPC, no approval

With the guard on only one client runs: several clients sealing independent chains under one
signer address are exactly what the guard refuses.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

from eth_keys import keys

from signer.clique.header import seal_hash
from signer.clique.sealing import CliqueChain, recover_sealer, request_payload
from signer.tools.ipcclient import IpcClient
from signer.tools.sandbox import Sandbox

CLIQUE = "application/x-clique-header"


def _client(
    socket_path: Path, address: str, seals: int, first: int, out: list[float], errors: list[str]
) -> None:
    chain = CliqueChain(first_number=first)
    try:
        with IpcClient(socket_path) as client:
            for _ in range(seals):
                header = chain.propose()
                start = time.perf_counter()
                reply = client.call("account_signData", CLIQUE, address, request_payload(header))
                out.append(time.perf_counter() - start)
                if recover_sealer(chain.seal(bytes.fromhex(reply[2:]))) != address:
                    errors.append(f"seal {header.number} does not recover to {address}")
    except Exception as exc:
        errors.append(repr(exc))


def run_clients(
    socket_path: Path, address: str, clients: int, seals: int
) -> tuple[list[float], float, list[str]]:
    latencies: list[float] = []
    errors: list[str] = []
    threads = [
        threading.Thread(
            target=_client, args=(socket_path, address, seals, 1 + i * 10 * seals, latencies, errors)
        )
        for i in range(clients)
    ]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - start, errors


def floor(seals: int) -> list[float]:
    key = keys.PrivateKey(b"\x42" * 32)
    chain = CliqueChain()
    latencies = []
    for _ in range(seals):
        header = chain.propose()
        start = time.perf_counter()
        sig = key.sign_msg_hash(seal_hash(header))
        latencies.append(time.perf_counter() - start)
        chain.seal(sig.to_bytes())
    return latencies


def _row(name: str, latencies: list[float], wall: float, count: int, errors: list[str]) -> str:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    note = f"  ERRORS: {len(errors)} ({errors[0]})" if errors else ""
    return f"{name:<52} {statistics.median(ordered) * 1000:8.2f} {p99 * 1000:8.2f} {count / wall:10.0f}{note}"


def bench(seals: int, client_counts: list[int]) -> list[str]:
    rows = []
    for backend in ("softhsm", "keystore"):
        with tempfile.TemporaryDirectory(prefix="sealward-bench-") as tmp:
            box = Sandbox(Path(tmp))
            box.init_vault()
            address = box.softhsm_key() if backend == "softhsm" else box.keystore_key()
            rules = box.attest()
            guard_modes = ["resubmit", "off"] if backend == "softhsm" else ["off"]
            for guard in guard_modes:
                box.start(
                    "--seal-guard", guard, "--guard-db", str(Path(tmp) / f"guard-{guard}.db"), rules=rules
                )
                try:
                    counts = [1] if guard != "off" else client_counts
                    for clients in counts:
                        per_client = seals if backend == "softhsm" else max(20, seals // 10)
                        lat, wall, errors = run_clients(box.socket, address, clients, per_client)
                        name = f"{backend}, rules, guard {guard}, {clients} client(s)"
                        rows.append(_row(name, lat, wall, len(lat), errors))
                finally:
                    box.stop()
    lat = floor(seals)
    rows.append(_row("floor: eth-keys in process (no IPC, no approval)", lat, sum(lat), len(lat), []))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seals", type=int, default=500, help="seals per client (keystore rows: a tenth)")
    parser.add_argument("--clients", default="1,4", help="client counts for the guard-off rows")
    args = parser.parse_args()
    print(f"{'configuration':<52} {'median':>8} {'p99':>8} {'seals/s':>10}   (ms)")
    for row in bench(args.seals, [int(c) for c in args.clients.split(",")]):
        print(row, flush=True)


if __name__ == "__main__":
    main()
