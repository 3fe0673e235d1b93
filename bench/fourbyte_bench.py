"""What clef's 4-byte database costs: start-up, memory, lookups; with it and without it, one run.

    .venv/bin/python -m bench.fourbyte_bench [--starts 5] [--lookups 2000]

* start-up: the real ``sealward`` daemon (keystore off, no vault) from spawn until its IPC socket
  accepts, and its resident memory then and after 200 contract calls spread over the table were
  validated. "Without" runs the same daemon with the built-in table replaced by an empty one: the
  floor, measured in the same run.
* lookups in this process: a cold block (first touch: inflate + 128 keccaks) and a warm one.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

from signer.tools.ipcclient import IpcClient, RpcError, socket_accepts
from signer.validation import FourByteDB
from signer.validation.fourbyte import EMBEDDED_FILE, embedded_table
from signer.validation.packedtable import PackedSelectorTable

# Runs the sealward CLI, optionally with an empty built-in table (the "without" row).
LAUNCHER = """\
import sys
if sys.argv.pop(1) == "empty":
    import signer.validation.fourbyte as fourbyte
    fourbyte.embedded_table = lambda: {}
from signer.cli import main
sys.argv[0] = "sealward"
main()
"""


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _calls(client: IpcClient, count: int) -> None:
    """Contract calls to known selectors, spread over the table. Each is validated in full (lookup,
    calldata check) and then refused for its lowercase recipient, so no UI is needed."""
    keys = list(itertools.islice(embedded_table(), 0, count * 1301, 1301))
    for key in keys:
        tx = {"from": "0x" + "11" * 20, "to": "0x" + "ab" * 20, "gas": "0x5208", "gasPrice": "0x1",
              "value": "0x0", "nonce": "0x0", "data": "0x" + key + "00" * 32}  # fmt: skip
        try:
            client.call("account_signTransaction", tx)
        except RpcError as exc:
            if "Invalid checksum" not in exc.message:
                raise


def start_once(table: str, work: Path, calls: int) -> tuple[float, int, int]:
    config = work / table
    config.mkdir(exist_ok=True)
    args = [sys.executable, "-c", LAUNCHER, table, "--suppress-bootwarn", "--configdir", str(config),
            "--keystore", "", "--auditlog", "", "--loglevel", "1",
            "--4bytedb-custom", str(config / "4byte-custom.json")]  # fmt: skip
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not socket_accepts(config / "clef.ipc"):
            if proc.poll() is not None:
                raise RuntimeError(f"sealward ({table}) exited with {proc.returncode}")
            time.sleep(0.005)
        ready = time.perf_counter() - start
        rss_ready = _rss_kib(proc.pid)
        with IpcClient(config / "clef.ipc", timeout=5) as client:
            _calls(client, calls)
        return ready, rss_ready, _rss_kib(proc.pid)
    finally:
        proc.terminate()
        proc.wait(10)


def open_cost(times: int = 50) -> float:
    """What start-up pays for the table: map the file and read its header and block index."""
    path = Path(str(resources.files("signer.validation.data").joinpath(EMBEDDED_FILE)))
    samples = []
    for _ in range(times):
        start = time.perf_counter()
        PackedSelectorTable.open(path)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def lookups(count: int) -> tuple[list[float], list[float]]:
    db = FourByteDB.load(None)
    table = embedded_table()
    keys = [bytes.fromhex(key) for key in itertools.islice(table, 0, count * 131, 131)]
    cold, warm = [], []
    for key in keys:
        start = time.perf_counter()
        db.selector(key)
        cold.append(time.perf_counter() - start)
        start = time.perf_counter()
        db.selector(key)
        warm.append(time.perf_counter() - start)
    return cold, warm


def main() -> None:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("--starts", type=int, default=5, help="daemon starts per table")
    parser.add_argument("--lookups", type=int, default=2000)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sealward-4byte-") as tmp:
        rows: dict[str, list[tuple[float, int, int]]] = {"empty": [], "clef": []}
        for _ in range(options.starts):
            for table in rows:  # interleaved, so machine load hits both alike
                rows[table].append(start_once(table, Path(tmp), 200))
    print(f"{'built-in table':<34} {'ready ms (median)':>18} {'RSS ready MiB':>14} {'RSS after MiB':>14}")
    for table, runs in rows.items():
        name = "none (floor)" if table == "empty" else "clef's 268,621 selectors"
        ready = statistics.median(r[0] for r in runs) * 1000
        print(f"{name:<34} {ready:18.0f} {statistics.median(r[1] for r in runs) / 1024:14.1f} "
              f"{statistics.median(r[2] for r in runs) / 1024:14.1f}")  # fmt: skip
    print(f"opening the table (header + index, mmap), in process: median {open_cost() * 1000:.2f} ms")
    cold, warm = lookups(options.lookups)
    for name, series in (("cold block", cold), ("warm block", warm)):
        ordered = sorted(series)
        p99 = ordered[int(len(ordered) * 0.99)]
        median = statistics.median(ordered) * 1e6
        print(f"lookup, {name:<26} median {median:8.1f} µs   p99 {p99 * 1e6:8.1f} µs")


if __name__ == "__main__":
    main()
