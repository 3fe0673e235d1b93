"""One geth-like sealing client process for ``bench.seal_bench``.

    python -m bench.seal_client <socket> <address> <seals> <first-block>

It connects, prints ``ready``, waits for a line on stdin (the common start signal), seals
``seals`` linked clique headers of its own chain, checks every seal by recovery with eth-keys
(after the clock stopped for that seal), and prints one JSON line: the round trips, the wall
clock of the first send and the last answer, its own CPU time, and any errors.
"""

from __future__ import annotations

import json
import sys
import time

from signer.clique.sealing import CliqueChain, recover_sealer, request_payload
from signer.tools.ipcclient import IpcClient

CLIQUE = "application/x-clique-header"


def seal(socket_path: str, address: str, seals: int, first: int) -> dict[str, object]:
    chain = CliqueChain(first_number=first)
    latencies: list[float] = []
    errors: list[str] = []
    with IpcClient(socket_path) as client:
        client.call("account_version")  # connected and served before the clock starts
        print("ready", flush=True)
        sys.stdin.readline()
        started, cpu = time.time(), time.process_time()
        try:
            for _ in range(seals):
                header = chain.propose()
                payload = request_payload(header)
                begin = time.perf_counter()
                reply = client.call("account_signData", CLIQUE, address, payload)
                latencies.append(time.perf_counter() - begin)
                if recover_sealer(chain.seal(bytes.fromhex(reply[2:]))) != address:
                    errors.append(f"seal {header.number} does not recover to {address}")
        except Exception as exc:
            errors.append(repr(exc))
        ended, cpu = time.time(), time.process_time() - cpu
    return {"latencies": latencies, "started": started, "ended": ended, "errors": errors, "cpu": cpu}


def main(argv: list[str]) -> int:
    socket_path, address, seals, first = argv[1], argv[2], int(argv[3]), int(argv[4])
    print(json.dumps(seal(socket_path, address, seals, first)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
