"""Profile the running signer while geth-like clients seal through it (py-spy, sampling).

    .venv/bin/pip install py-spy      # a profiling tool, not a dependency of sealward
    .venv/bin/python -m bench.profile_seal [--clients 1] [--seals 2000] [--out /tmp/seal.txt]

The same installation as ``bench.seal_bench`` (four SoftHSM keys, attested clique rules, guard on)
is sealed through by ``--clients`` client processes while py-spy samples the signer and its rule
workers (``--subprocesses``, ``--idle`` off: only samples where a thread runs or waits on a
system call it made). The collapsed stacks go to ``--out``; the summary printed is the share of
samples under each function of the request path, inclusive, per process kind.
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.seal_bench import KEYS, clients
from signer.tools.sandbox import Sandbox

# Function names (as py-spy prints them) on the request path, in the order a request meets them.
STAGES = [
    "_serve_connection", "_read_messages", "handle", "_dispatch", "sign_data", "_logged",
    "plan_sign_data", "approve_sign_data", "call", "_run", "receive", "send", "find",
    "credential_for", "sign", "_sign_digest", "sign_raw", "signature_from_raw", "verify_for_address",
    "check_and_record", "_write_line", "line", "event", "dumps",
]  # fmt: skip


def summarise(collapsed: Path) -> list[str]:
    by_process: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    totals: collections.Counter[str] = collections.Counter()
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        kind = "worker" if "rules/worker.py" in stack or "rules.worker" in frames[0] else "signer"
        totals[kind] += int(count)
        seen = set()
        for frame in frames:
            name = frame.split(" ")[0]
            if name not in seen:
                seen.add(name)
                by_process[kind][name] += int(count)
    lines = []
    own: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        kind = "worker" if "rules/worker.py" in stack or "rules.worker" in frames[0] else "signer"
        # the innermost frame of our own code: where the time is spent, libraries included
        ours = [f for f in frames if "/signer/" in f or "/backends/" in f]
        own[kind][(ours[-1] if ours else frames[-1]).split(" ")[0]] += int(count)
    for kind, counter in own.items():
        lines.append(f"{kind}: innermost own function (self plus the libraries it calls)")
        for name, count in counter.most_common(25):
            lines.append(f"  {100 * count / totals[kind]:5.1f}%  {name}")
    for kind, counter in by_process.items():
        lines.append(f"{kind}: {totals[kind]} samples")
        for name, count in counter.most_common(60):
            lines.append(f"  {100 * count / totals[kind]:5.1f}%  {name}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--seals", type=int, default=2000)
    parser.add_argument("--guard", default="resubmit", choices=["resubmit", "off"])
    parser.add_argument("--out", default="/tmp/sealward-profile.txt")
    args = parser.parse_args()
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    with tempfile.TemporaryDirectory(prefix="sealward-profile-") as tmp:
        box = Sandbox(Path(tmp))
        box.init_vault()
        addresses = [box.softhsm_key()] + [box.add_softhsm_key(f"sealer-{i}") for i in range(1, KEYS)]
        rules = box.attest()
        box.start("--seal-guard", args.guard, "--guard-db", str(Path(tmp) / "guard.db"), rules=rules)
        try:
            assert box.daemon is not None
            clients(box, addresses[: args.clients], 50, 0)  # warm
            profiler = subprocess.Popen(
                [spy, "record", "--pid", str(box.daemon.pid), "--subprocesses", "--rate", "500",
                 "--format", "raw", "--full-filenames", "--output", args.out, "--nonblocking"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            run = clients(box, addresses[: args.clients], args.seals, 1000)
            profiler.send_signal(2)
            profiler.wait(60)
        finally:
            box.stop()
    print(run.row(f"sealward, rules, guard {args.guard}, {args.clients} client(s), profiled"))
    print("\n".join(summarise(Path(args.out))))


if __name__ == "__main__":
    main()
