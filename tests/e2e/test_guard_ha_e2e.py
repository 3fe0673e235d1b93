"""Active/standby: two real signers holding one key share a PostgreSQL seal guard and race to seal
the same heights on two forks. No height may ever be sealed on two parents."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from signer.clique.sealing import make_header, request_payload
from tests.e2e.clique_check import recover_clique_signer
from tests.e2e.harness import IpcClient, RpcError, SignerProcess, approving_ui, run_cli

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]
PASSWORD = "shared sealing key pw"
KEY = "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291"
CLIQUE = "application/x-clique-header"


def _signer(tmp_path: Path, name: str, guard_url: str) -> SignerProcess:
    keyfile = tmp_path / "key.hex"
    keyfile.write_text(KEY)
    ks = tmp_path / name / "ks"
    out = run_cli(["--keystore", str(ks), "--lightkdf", "--suppress-bootwarn", "importraw", str(keyfile)],
                  stdin=f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    assert out.returncode == 0, out.stderr
    config = tmp_path / name / "config"
    return SignerProcess(["--keystore", str(ks), "--lightkdf", "--configdir", str(config), "--auditlog", "",
                          "--guard-db", guard_url, "--chainid", "77"], approving_ui(PASSWORD), config / "clef.ipc")  # fmt: skip


def test_two_signers_never_seal_one_height_on_two_parents(tmp_path: Path, pg_url: str) -> None:
    signers = [_signer(tmp_path, name, pg_url) for name in ("active", "standby")]
    address = IpcClient(signers[0].ipc).call("account_list")[0]
    accepted: dict[int, set[bytes]] = {}
    lock = threading.Lock()
    errors: list[str] = []

    def race(signer: SignerProcess, fork: bytes) -> None:
        with IpcClient(signer.ipc) as client:
            for height in range(1, 61):
                header = make_header(height, fork)  # each signer builds on its own fork
                payload = request_payload(header)
                try:
                    sig = bytes.fromhex(client.call("account_signData", CLIQUE, address, payload)[2:])
                except RpcError as exc:
                    if "seal guard" not in exc.message:
                        errors.append(exc.message)
                    continue
                if recover_clique_signer(bytes.fromhex(payload[2:]), sig).lower() != address:
                    errors.append(f"bad seal at {height}")
                with lock:
                    accepted.setdefault(height, set()).add(fork)

    try:
        threads = [
            threading.Thread(target=race, args=(s, bytes([i + 1]) * 32)) for i, s in enumerate(signers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(300)
    finally:
        for signer in signers:
            signer.stop()
    assert errors == []
    assert accepted, "no seal was accepted at all"
    assert all(len(parents) == 1 for parents in accepted.values()), accepted
