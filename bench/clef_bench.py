"""clef and Sealward side by side: the same clique headers sealed through the real clef v1.17.3
and the real sealward, on the same keystore key, in one run.

    .venv/bin/python -m bench.clef_bench [--seals 200] [--standard-seals 10]

Each signer gets a configdir made by its own CLI (``init``, ``setpw``, ``attest`` of the
walkthrough's clique rules) and serves IPC with ``--stdio-ui`` (the bench answers only the master
password prompt, so every seal is approved by the rules and signed with the stored password). One
geth-like client seals linked headers one after another and checks each seal by recovery; with the
same key both signers must produce the same chain, seal for seal (RFC 6979). Rows:

* clef and sealward, keystore key with light scrypt (N=4096, P=6)
* clef and sealward, keystore key with standard scrypt (N=262144, P=1)
* sealward, SoftHSM key (a key clef cannot use)
* floors, in this process: eth-keys signing the seal hashes; the same after scrypt with the key
  file's parameters (light, standard), the least each seal costs when keys are never kept
  unlocked (clef's rule, and sealward's)

Sealward runs as shipped: seal guard on (SQLite), audit log on; clef with its audit log on.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from eth_keys import keys

from signer.clique.header import seal_hash
from signer.clique.sealing import CliqueChain, recover_sealer, request_payload
from signer.tools.ipcclient import IpcClient, socket_accepts
from signer.tools.peers import CLEF
from signer.tools.processes import stop_process
from signer.tools.sandbox import CLIQUE_RULES, Sandbox

SEALWARD = str(Path(sys.executable).with_name("sealward"))
MASTER = "bench master password"
CLIQUE = "application/x-clique-header"
KEY_PASSWORD = "bench key password"


class Daemon:
    """A signer on IPC whose stdio UI answers the master password prompt and refuses the rest."""

    def __init__(self, command: list[str], config: Path) -> None:
        self.socket = config / "clef.ipc"
        self.refused = 0
        self.proc = subprocess.Popen([*command, "--stdio-ui"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)  # fmt: skip
        threading.Thread(target=self._ui, daemon=True).start()
        deadline = time.monotonic() + 60
        while not socket_accepts(self.socket):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{command[0]} did not start")
            time.sleep(0.05)

    def _ui(self) -> None:
        assert self.proc.stdout is not None and self.proc.stdin is not None
        for line in self.proc.stdout:
            message = json.loads(line)
            if "id" not in message or "method" not in message:
                continue
            if (
                message["method"] == "ui_onInputRequired"
                and message["params"][0]["title"] == "Master Password"
            ):
                result: object = {"text": MASTER}
            else:
                self.refused += 1  # a seal the rules did not approve: the bench reports it
                result = (
                    {"approved": False} if message["method"] != "ui_approveListing" else {"accounts": None}
                )
            reply = json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result}) + "\n"
            self.proc.stdin.write(reply.encode())
            self.proc.stdin.flush()

    def stop(self) -> None:
        stop_process(self.proc)


def run_cli(command: list[str], args: list[str], stdin: str) -> str:
    argv = [*command, "--suppress-bootwarn", *args]
    done = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} {args[0]} failed:\n{done.stdout}{done.stderr}")
    return done.stdout + done.stderr


def import_key(work: Path, name: str, light: bool, key_hex: str) -> Path:
    """A keystore with the key, written by clef's own importraw (light or standard scrypt)."""
    keystore = work / f"keystore-{name}"
    key_file = work / "key.hex"
    key_file.write_text(key_hex)
    flags = ["--keystore", str(keystore)] + (["--lightkdf"] if light else [])
    run_cli([str(CLEF.path)], [*flags, "importraw", str(key_file)], f"{KEY_PASSWORD}\n{KEY_PASSWORD}\n")
    key_file.unlink()
    return keystore


def configure(command: list[str], config: Path, rules: Path, address: str) -> None:
    config.mkdir(mode=0o700, parents=True)
    base = ["--configdir", str(config)]
    run_cli(command, [*base, "--lightkdf", "init"], f"{MASTER}\n{MASTER}\n")
    run_cli(command, [*base, "setpw", address], f"{KEY_PASSWORD}\n{KEY_PASSWORD}\n{MASTER}\n")
    run_cli(command, [*base, "attest", hashlib.sha256(rules.read_bytes()).hexdigest()], f"{MASTER}\n")


def seal(socket: Path, address: str, count: int) -> tuple[list[float], float, list[bytes]]:
    chain = CliqueChain()
    latencies: list[float] = []
    sealed: list[bytes] = []
    with IpcClient(socket, timeout=120) as client:
        start = time.perf_counter()
        for _ in range(count):
            header = chain.propose()
            begin = time.perf_counter()
            reply = client.call(
                "account_signData", "application/x-clique-header", address, request_payload(header)
            )
            latencies.append(time.perf_counter() - begin)
            block = chain.seal(bytes.fromhex(reply[2:]))
            if recover_sealer(block) != address:
                raise RuntimeError(f"seal {len(sealed)} does not recover to {address}")
            sealed.append(block)
        wall = time.perf_counter() - start
    return latencies, wall, sealed


def row(name: str, latencies: list[float], wall: float) -> str:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"| {name} | {statistics.median(ordered) * 1000:.2f} | {p99 * 1000:.2f} | {len(ordered) / wall:.1f} |"
    )


def floor(count: int, keyfile: Path | None = None) -> tuple[list[float], float]:
    """Seal hashes signed in this process; with ``keyfile``, after its scrypt (OpenSSL) each time,
    the cost neither signer can avoid when keys are decrypted per request."""
    key = keys.PrivateKey(secrets.token_bytes(32))
    params = json.loads(keyfile.read_text())["crypto"]["kdfparams"] if keyfile else None
    chain = CliqueChain()
    latencies = []
    start = time.perf_counter()
    for _ in range(count):
        header = chain.propose()
        begin = time.perf_counter()
        if params is not None:
            n, r, p = params["n"], params["r"], params["p"]
            hashlib.scrypt(KEY_PASSWORD.encode(), salt=bytes.fromhex(params["salt"]), n=n, r=r, p=p,
                           dklen=params["dklen"], maxmem=256 * n * r * p)  # fmt: skip
        signature = key.sign_msg_hash(seal_hash(header))
        latencies.append(time.perf_counter() - begin)
        chain.seal(signature.to_bytes())
    return latencies, time.perf_counter() - start


def keystore_rows(work: Path, seals: int, standard_seals: int) -> list[str]:
    key = keys.PrivateKey(secrets.token_bytes(32))
    address = key.public_key.to_checksum_address()
    rules = work / "rules.js"
    rules.write_text(CLIQUE_RULES)
    rows = []
    for kdf, light, count in (("light", True, seals), ("standard", False, standard_seals)):
        if count == 0:
            continue
        keystore = import_key(work, kdf, light, key.to_hex()[2:])
        chains = {}
        for name, command in (("clef v1.17.3", [str(CLEF.path)]), ("sealward", [SEALWARD])):
            config = work / f"{name.split()[0]}-{kdf}"
            configure(command, config, rules, address)
            flags = ["--suppress-bootwarn", "--configdir", str(config), "--keystore", str(keystore),
                     "--rules", str(rules), "--chainid", "1337", "--auditlog", str(config / "audit.log"),
                     "--4bytedb-custom", str(config / "4byte.json")]  # fmt: skip
            daemon = Daemon([*command, *flags], config)
            try:
                latencies, wall, chains[name] = seal(daemon.socket, address, count)
            finally:
                daemon.stop()
            if daemon.refused:
                raise RuntimeError(f"{name}: {daemon.refused} requests reached the UI; the rules did not run")
            rows.append(row(f"{name}, keystore key, {kdf} scrypt", latencies, wall))
            print(rows[-1], flush=True)
        if len(set(map(tuple, chains.values()))) != 1:
            raise RuntimeError(f"clef and sealward sealed different chains with the same key ({kdf})")
        keyfile = next(keystore.iterdir())
        rows.append(
            row(f"floor: scrypt ({kdf}, OpenSSL) + eth-keys sign, in process", *floor(count, keyfile))
        )
        print(rows[-1], flush=True)
    return rows


def softhsm_row(work: Path, seals: int) -> str:
    box = Sandbox(work / "softhsm")
    box.work.mkdir()
    box.init_vault()
    address = box.softhsm_key()
    box.start(rules=box.attest())
    try:
        latencies, wall, _ = seal(box.socket, address, seals)
    finally:
        box.stop()
    return row("sealward, SoftHSM key", latencies, wall)


def main() -> None:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("--seals", type=int, default=200, help="seals per light-KDF and SoftHSM row")
    parser.add_argument("--standard-seals", type=int, default=10, help="seals per standard-KDF row (0: none)")
    options = parser.parse_args()
    missing = CLEF.missing()
    if missing:
        raise SystemExit(missing)
    print("| configuration | median ms | p99 ms | seals/s |\n|---|---|---|---|", flush=True)
    with tempfile.TemporaryDirectory(prefix="sealward-clef-bench-") as tmp:
        keystore_rows(Path(tmp), options.seals, options.standard_seals)
        print(softhsm_row(Path(tmp), options.seals), flush=True)
    print(
        row("floor: eth-keys sign, in process (no KDF, IPC or approval)", *floor(options.seals)), flush=True
    )


if __name__ == "__main__":
    main()
