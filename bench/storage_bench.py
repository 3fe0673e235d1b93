"""What rule storage costs: one put, and a rule call that puts six keys, by size of the store.

    .venv/bin/python -m bench.storage_bench

The store is the vault's real ``jsstorage.json`` (AES-GCM, fsync, atomic rename) and the rule
runs in the real engine (worker process, fresh context). Each size fills the store first with
keys of 1 KB values.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from signer.approval.rules import RuleEngine
from signer.vault import Vault

SIX_PUTS = """
function Six(r) {
    for (var i = 0; i < 6; i++) storage.put('call' + i, 'value ' + r.n + ' ' + i);
    return 'ok';
}
"""


def _median_ms(action: object, repeat: int) -> float:
    samples = []
    for n in range(repeat):
        begin = time.perf_counter()
        action(n)  # type: ignore[operator]
        samples.append(time.perf_counter() - begin)
    return statistics.median(samples) * 1000


def bench(sizes: tuple[int, ...] = (10, 100, 900), repeat: int = 30) -> list[str]:
    return [_size_row(keys, repeat) for keys in sizes]


def _size_row(keys: int, repeat: int) -> str:
    with tempfile.TemporaryDirectory(prefix="sealward-storage-") as tmp:
        store = Vault.open(Path(tmp), b"\x07" * 256).jsstorage
        for i in range(keys):
            store.put(f"fill{i}", "v" * 1000)
        size = store.path.stat().st_size
        one = _median_ms(lambda n: store.put("one", f"value {n}"), repeat)
        with RuleEngine(SIX_PUTS, store) as engine:
            engine.call("Six", {"n": -1})
            six = _median_ms(lambda n: engine.call("Six", {"n": n}), repeat)
    kib = size / 1024
    return f"{keys:>5} keys ({kib:5.0f} KiB file)   one put {one:7.2f} ms   call, six puts {six:7.2f} ms"


def main() -> None:
    load = os.getloadavg()
    print(f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    for row in bench():
        print(row, flush=True)


if __name__ == "__main__":
    main()
