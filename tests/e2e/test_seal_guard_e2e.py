"""The seal guard inside the real signer: on by default, refusing rollbacks and equivocation,
surviving kill -9, failing closed while its database is down and recovering by itself."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from signer.clique.sealing import CliqueChain, make_header, recover_sealer, request_payload
from tests.e2e.harness import IpcClient, RpcError, SignerProcess, approving_ui, run_cli

pytestmark = pytest.mark.e2e

PASSWORD = "guard test password"
CLIQUE = "application/x-clique-header"


@pytest.fixture()
def keystore(tmp_path: Path) -> tuple[Path, str]:
    ks = tmp_path / "ks"
    out = run_cli(
        ["--keystore", str(ks), "--lightkdf", "--suppress-bootwarn", "newaccount"], stdin=PASSWORD + "\n"
    )
    assert out.returncode == 0, out.stderr
    return ks, next(w for w in out.stdout.split() if w.startswith("0x"))


def _start(tmp_path: Path, keystore: Path, *extra: str) -> SignerProcess:
    config = tmp_path / "config"
    return SignerProcess(["--keystore", str(keystore), "--lightkdf", "--configdir", str(config),
                          "--auditlog", "", *extra], approving_ui(PASSWORD), config / "clef.ipc")  # fmt: skip


def _seal(client: IpcClient, chain: CliqueChain, address: str) -> int:
    header = chain.propose()
    sig = client.call("account_signData", CLIQUE, address, request_payload(header))
    assert recover_sealer(chain.seal(bytes.fromhex(sig[2:]))) == address
    return header.number


def test_default_guard_refuses_rollback_and_forks(tmp_path: Path, keystore: tuple[Path, str]) -> None:
    ks, address = keystore
    signer = _start(tmp_path, ks)  # no --seal-guard flag: the default is on
    try:
        client = signer.client()
        chain = CliqueChain()
        parents = {}
        for _ in range(5):
            parents[chain.number] = chain.parent_hash
            _seal(client, chain, address)
        with pytest.raises(RpcError) as info:
            client.call("account_signData", CLIQUE, address, request_payload(make_header(3, parents[3])))
        assert "height 5 is already sealed" in info.value.message and "guard reset" in info.value.message
        with pytest.raises(RpcError) as info:
            client.call("account_signData", CLIQUE, address, request_payload(make_header(5, b"\x77" * 32)))
        # A fork at the top height: geth's own switch after a reorg comes with a fresh timestamp;
        # this one carries the chain's old one, so it is refused.
        assert "0x" + "77" * 32 in info.value.message and "on another parent" in info.value.message
        # the same parent at the same height with a fresh timestamp is geth re-sealing newer work
        resubmit = make_header(5, parents[5], timestamp=int(time.time()))
        client.call("account_signData", CLIQUE, address, request_payload(resubmit))
        with pytest.raises(RpcError, match="behind this signer's clock"):  # but not an old header
            stale = make_header(5, parents[5], timestamp=int(time.time()) - 600)
            client.call("account_signData", CLIQUE, address, request_payload(stale))
        # everything else keeps working
        sig = client.call("account_signData", "text/plain", address, "0x01")
        assert Account.recover_message(encode_defunct(primitive=b"\x01"), signature=sig) == address
    finally:
        signer.stop()
    shown = run_cli(["--configdir", str(tmp_path / "config"), "--suppress-bootwarn", "guard", "show"])
    assert "height=5" in shown.stdout and address.lower() in shown.stdout


def test_kill_9_mid_stream_then_restart(tmp_path: Path, keystore: tuple[Path, str]) -> None:
    ks, address = keystore
    for _round in range(3):
        signer = _start(tmp_path, ks)
        delivered: list[int] = []
        chain = CliqueChain(first_number=1 + (max(delivered, default=0)))
        stop = threading.Event()

        def stream(
            client: IpcClient,
            chain: CliqueChain = chain,
            delivered: list[int] = delivered,
            stop: threading.Event = stop,
        ) -> None:
            try:
                while not stop.is_set():
                    delivered.append(_seal(client, chain, address))
            except (RpcError, OSError, ConnectionError):
                return

        first = _first_free_height(tmp_path, address)
        chain.number = first
        thread = threading.Thread(target=stream, args=(signer.client(),), daemon=True)
        thread.start()
        time.sleep(0.8)
        signer.proc.send_signal(signal.SIGKILL)
        signer.proc.wait(10)
        stop.set()
        thread.join(10)
        assert delivered, "no seal was delivered before the kill"
        last = delivered[-1]
        restarted = _start(tmp_path, ks)
        try:
            client = restarted.client()
            for lower in (last - 1, first):
                if lower < last:
                    with pytest.raises(RpcError) as info:
                        client.call(
                            "account_signData",
                            CLIQUE,
                            address,
                            request_payload(make_header(lower, b"\x01" * 32)),
                        )
                    assert "already sealed" in info.value.message
        finally:
            restarted.stop()


def _first_free_height(tmp_path: Path, address: str) -> int:
    shown = run_cli(["--configdir", str(tmp_path / "config"), "--suppress-bootwarn", "guard", "show"]).stdout
    heights = [int(part.split("=")[1]) for part in shown.split() if part.startswith("height=")]
    return max(heights, default=0) + 2


@pytest.mark.postgres
def test_fails_closed_while_postgres_is_down(tmp_path: Path, keystore: tuple[Path, str], pg_server: Any,
                                             pg_url: str) -> None:  # fmt: skip
    ks, address = keystore
    signer = _start(tmp_path, ks, "--guard-db", pg_url)
    try:
        client = signer.client()
        chain = CliqueChain()
        _seal(client, chain, address)
        pg_server.stop()
        try:
            with pytest.raises(RpcError) as info:
                client.call("account_signData", CLIQUE, address, request_payload(chain.propose()))
            assert "seal guard unavailable" in info.value.message
            assert pg_url.split("@")[0].split(":")[-1] not in info.value.message  # no password in the error
            sig = client.call(
                "account_signData", "text/plain", address, "0x02"
            )  # other requests still served
            assert Account.recover_message(encode_defunct(primitive=b"\x02"), signature=sig) == address
        finally:
            pg_server.start()
        _seal(client, chain, address)  # recovered without a restart
    finally:
        signer.stop()
