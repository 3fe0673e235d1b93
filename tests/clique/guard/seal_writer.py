"""A stand-in signer process for the crash and race tests: it seals through a real guard.

``stream DB START COUNT``: record heights START.. one after another and print each height once
``check_and_record`` has returned (the moment a real signer would hand out the signature).

``race DB TAG COUNT --mode M --parent own|shared``: wait for a line on stdin (so two racers
start together), then try heights 1..COUNT with seal hashes unique to TAG, on parents unique to
TAG (``own``: every success is a fork) or common to all racers (``shared``). Each racer is its own
signer instance (named TAG). Print ``<height> ok|refused|unavailable`` for each.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

from signer.clique.guard import SealGuardRefused, SealGuardUnavailable, open_guard

CHAIN = 1337
SIGNER = "0x" + "5e" * 20
WRITER = "stream-writer"  # every stream writer is the same signer instance, restarted


def digest(*parts: object) -> bytes:
    return hashlib.sha256("/".join(str(p) for p in parts).encode()).digest()


def stream_seal(height: int) -> tuple[bytes, bytes]:
    """The (seal hash, parent hash) the stream writer uses at ``height``; the tests recompute it."""
    return digest("seal", height), digest("parent", height)


def race_seal(tag: str, height: int, parent: str) -> tuple[bytes, bytes]:
    return digest("seal", tag, height), digest("parent", tag if parent == "own" else "", height)


REPO = Path(__file__).resolve().parents[3]


def spawn(*args: str) -> subprocess.Popen[str]:
    """Start this module as its own process (a separate interpreter, as a second signer would be)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.clique.guard.seal_writer", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=env,
    )


def run_race(db: str, count: int, mode: str, parent: str, racers: int = 2) -> dict[str, dict[int, str]]:
    """Race ``racers`` processes over heights 1..count; each racer's outcome per height."""
    procs = {f"r{i}": spawn("race", db, f"r{i}", str(count), "--mode", mode, "--parent", parent)
             for i in range(racers)}  # fmt: skip
    for proc in procs.values():
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    for proc in procs.values():  # release them together
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    outcomes: dict[str, dict[int, str]] = {}
    for tag, proc in procs.items():
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.close()
        out = proc.stdout.read()  # through the reader that read "ready": it may hold more
        assert proc.wait(timeout=240) == 0, f"racer {tag} failed: {proc.stderr.read()}"  # type: ignore[union-attr]
        outcomes[tag] = {int(h): o for h, o in (line.split() for line in out.splitlines())}
    return outcomes


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="seal_writer")
    sub = parser.add_subparsers(dest="command", required=True)
    stream = sub.add_parser("stream")
    stream.add_argument("db")
    stream.add_argument("start", type=int)
    stream.add_argument("count", type=int)
    race = sub.add_parser("race")
    race.add_argument("db")
    race.add_argument("tag")
    race.add_argument("count", type=int)
    race.add_argument("--mode", default="resubmit")
    race.add_argument("--parent", choices=["own", "shared"], default="own")
    args = parser.parse_args(argv)

    if args.command == "stream":
        guard = open_guard(args.db, "resubmit", instance=WRITER)
        for height in range(args.start, args.start + args.count):
            guard.check_and_record(CHAIN, SIGNER, height, *stream_seal(height), int(time.time()))
            print(height, flush=True)
        return 0

    guard = open_guard(args.db, args.mode, instance=args.tag)
    print("ready", flush=True)
    sys.stdin.readline()
    for height in range(1, args.count + 1):
        try:
            seal, parent = race_seal(args.tag, height, args.parent)
            guard.check_and_record(CHAIN, SIGNER, height, seal, parent, int(time.time()))
            outcome = "ok"
        except SealGuardRefused:
            outcome = "refused"
        except SealGuardUnavailable:
            outcome = "unavailable"
        print(height, outcome, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
