"""Device states and lifecycle: lock, wrong app, rejection, hot-plug, unplug mid-request, probing
cost, serialised access, and a missing ledger stack. Over the injected dongle and the TCP proxy."""

from __future__ import annotations

import functools
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
from eth_account import Account as EthAccount
from eth_account.messages import encode_defunct

from backends.base import (
    AppNotOpen,
    AppTooOld,
    DeviceLocked,
    DeviceUnavailable,
    UserRejected,
    WrongApp,
)
from backends.ledger import LedgerBackend
from tests.backends import ledger_emulator
from tests.backends.ledger_emulator import EmulatorDongle, EmulatorFactory, EthAppEmulator, ProxyServer
from tests.backends.ledger_helpers import LEGACY, LIVE_0, account_at, make_backend, text_payload, tx_payload


@pytest.fixture
def emulator() -> EthAppEmulator:
    return EthAppEmulator()


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch, emulator: EthAppEmulator) -> Iterator[ProxyServer]:
    server = ProxyServer(emulator)
    monkeypatch.setenv("LEDGER_PROXY_ADDRESS", "127.0.0.1")
    monkeypatch.setenv("LEDGER_PROXY_PORT", str(server.port))
    yield server
    server.stop()


@pytest.mark.parametrize(
    ("state", "error", "message"),
    [
        ("locked", DeviceLocked, "locked: unlock it with its PIN"),
        ("dashboard", AppNotOpen, "Ethereum app is not open"),
        ("other_app", WrongApp, "Bitcoin app is open"),
    ],
)
def test_device_states_hide_accounts_and_fail_requests_clearly(
    emulator: EthAppEmulator, state: str, error: type[Exception], message: str
) -> None:
    backend = make_backend(emulator)
    account = account_at(backend, LIVE_0)
    emulator.state = state
    with pytest.raises(error, match=message):
        backend.sign(account, text_payload(b"hi"), None)
    assert backend.accounts() == []
    with pytest.raises(error, match=message):  # the reason is kept while the account is hidden
        backend.sign(account, text_payload(b"hi"), None)
    emulator.state = "ready"
    assert account in backend.accounts()
    assert emulator.prompts == []


def test_rejection_on_the_device(emulator: EthAppEmulator) -> None:
    backend = make_backend(emulator)
    account = account_at(backend, LIVE_0)
    emulator.reject_next = True
    with pytest.raises(UserRejected, match="rejected on the Ledger"):
        backend.sign(account, tx_payload(LEGACY), None)
    assert account in backend.accounts()  # a "no" is not a device problem
    backend.sign(account, tx_payload(LEGACY), None)


def test_app_older_than_the_supported_floor(emulator: EthAppEmulator) -> None:
    emulator.version = (1, 2, 3)
    backend = make_backend(emulator)
    assert backend.accounts() == []
    emulator.version = (1, 2, 4)
    assert len(backend.accounts()) == 4


def test_firmware_without_app_info_is_identified_by_get_configuration(emulator: EthAppEmulator) -> None:
    emulator.os_app_info = False
    backend = make_backend(emulator)
    account = account_at(backend, LIVE_0)
    sig = backend.sign(account, text_payload(b"old firmware"), None)
    assert (
        EthAccount.recover_message(encode_defunct(b"old firmware"), signature=sig.to_bytes(27))
        == account.address
    )


def test_plugged_in_later_then_unplugged_then_back(emulator: EthAppEmulator) -> None:
    emulator.plugged = False
    factory = EmulatorFactory(emulator)
    backend = LedgerBackend(2, factory, probe_interval=0)
    assert backend.accounts() == []
    emulator.plugged = True
    account = account_at(backend, LIVE_0)
    emulator.plugged = False
    assert backend.accounts() == []
    with pytest.raises(DeviceUnavailable, match=r"emulator holding .* is not connected"):
        backend.sign(account, text_payload(b"gone"), None)
    emulator.plugged = True
    assert account in backend.accounts()
    assert len(factory.opened) == 2 and factory.opened[0].closed


def test_unplugged_while_the_person_looks_at_the_screen(emulator: EthAppEmulator) -> None:
    backend = make_backend(emulator)
    account = account_at(backend, LIVE_0)
    emulator.unplug_on_prompt = True
    with pytest.raises(DeviceUnavailable, match="disconnected"):
        backend.sign(account, tx_payload({**LEGACY, "data": "0x" + "00" * 700}), None)
    assert backend.accounts() == []
    emulator.plugged = True
    assert account in backend.accounts()


def test_tcp_proxy_hotplug_and_unplug_mid_request(emulator: EthAppEmulator, proxy: ProxyServer) -> None:
    proxy.unplug()
    backend = LedgerBackend(2, probe_interval=0)
    assert backend.accounts() == []
    proxy.start()
    account = account_at(backend, LIVE_0)
    assert account.url == f"ledger://tcp-127.0.0.1-{proxy.port}/{LIVE_0}"
    emulator.unplug_on_prompt = True
    with pytest.raises(DeviceUnavailable):
        backend.sign(account, text_payload(b"x" * 600), None)
    assert backend.accounts() == []
    proxy.start()
    sig = backend.sign(account, text_payload(b"back"), None)
    assert EthAccount.recover_message(encode_defunct(b"back"), signature=sig.to_bytes(27)) == account.address
    backend.close()


def test_tcp_proxy_unplug_finishing_late_leaves_the_new_connection_alone(
    emulator: EthAppEmulator, proxy: ProxyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The serving thread that saw the cable go finishes its unplug after the device is back.

    Deterministic form of a flake seen under load in the hot-plug test: that thread closed the
    connection list it was walking, including the connection opened after ``start()``.
    """
    real_close = ledger_emulator._close
    parked, resume = threading.Event(), threading.Event()
    late: list[threading.Thread] = []

    def close_then_park(connection: socket.socket) -> None:
        listening = connection.fileno() != -1 and connection.getsockopt(
            socket.SOL_SOCKET, socket.SO_ACCEPTCONN
        )
        real_close(connection)
        if threading.current_thread() is not threading.main_thread() and not listening and not late:
            late.append(threading.current_thread())  # the serving thread, right after the host saw EOF
            parked.set()
            resume.wait(10)

    monkeypatch.setattr(ledger_emulator, "_close", close_then_park)
    backend = LedgerBackend(1, probe_interval=0)
    account = account_at(backend, LIVE_0)
    emulator.unplug_on_prompt = True
    with pytest.raises(DeviceUnavailable):
        backend.sign(account, text_payload(b"pulled"), None)
    assert parked.wait(10)
    proxy.start()
    backend.sign(account, text_payload(b"back"), None)  # a new connection, while that thread is parked
    resume.set()
    late[0].join(10)
    sig = backend.sign(account, text_payload(b"still here"), None)
    signable = encode_defunct(b"still here")
    assert EthAccount.recover_message(signable, signature=sig.to_bytes(27)) == account.address
    backend.close()


def test_status_words_through_the_tcp_transport(emulator: EthAppEmulator, proxy: ProxyServer) -> None:
    backend = LedgerBackend(1, probe_interval=0)
    account = account_at(backend, LIVE_0)
    emulator.reject_next = True
    with pytest.raises(UserRejected):
        backend.sign(account, text_payload(b"no"), None)
    emulator.state = "locked"
    with pytest.raises(DeviceLocked):
        backend.sign(account, text_payload(b"no"), None)


def test_probing_is_throttled_and_repeated_after_a_failure(emulator: EthAppEmulator) -> None:
    backend = LedgerBackend(5, EmulatorFactory(emulator), probe_interval=60)
    assert len(backend.accounts()) == 10
    first = len(emulator.received)
    assert first == 2 + 10  # which app + configuration, then 10 addresses
    for _ in range(20):
        backend.accounts()
    assert len(emulator.received) == first
    account = account_at(backend, LIVE_0)
    emulator.state = "locked"
    with pytest.raises(DeviceLocked):
        backend.sign(account, text_payload(b"x"), None)
    emulator.state = "ready"
    assert len(backend.accounts()) == 10  # probed again at once after the failure, despite 60 s
    emulator.state = "locked"
    with pytest.raises(DeviceLocked):
        backend.sign(account, text_payload(b"x"), None)
    assert backend.accounts() == []  # that probe found it locked...
    emulator.state = "ready"
    assert backend.accounts() == []  # ...and a failed probe waits for the interval


def test_listing_does_not_wait_for_a_pending_confirmation(emulator: EthAppEmulator) -> None:
    backend = make_backend(emulator)
    account = account_at(backend, LIVE_0)
    emulator.gate = threading.Event()
    signer = threading.Thread(target=backend.sign, args=(account, text_payload(b"wait"), None))
    signer.start()
    while not emulator.prompts:
        time.sleep(0.01)
    started = time.monotonic()
    assert account in backend.accounts()
    assert time.monotonic() - started < 1
    emulator.gate.set()
    signer.join(5)
    assert not signer.is_alive()


def test_device_access_is_serialised_across_devices() -> None:
    """ledgereth keeps APDUs in module globals: two devices must never be talked to at once."""
    active, overlap = [0], [0]
    counter = threading.Lock()

    class Watched(EmulatorDongle):
        def exchange(self, apdu: bytes, timeout: int = 20000) -> bytearray:
            with counter:
                active[0] += 1
                overlap[0] = max(overlap[0], active[0])
            try:
                time.sleep(0.001)
                return super().exchange(apdu, timeout)
            finally:
                with counter:
                    active[0] -= 1

    backends = [
        LedgerBackend(1, functools.partial(Watched, EthAppEmulator()), probe_interval=0) for _ in range(2)
    ]
    accounts = [account_at(b, LIVE_0) for b in backends]
    errors: list[BaseException] = []

    def sign_many(backend: LedgerBackend, account: object) -> None:
        try:
            for i in range(15):
                message = f"message {i}".encode() * 40
                sig = backend.sign(account, text_payload(message), None)  # type: ignore[arg-type]
                signable = encode_defunct(message)
                assert EthAccount.recover_message(signable, signature=sig.to_bytes(27)) == accounts[0].address
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=sign_many, args=(b, a)) for b, a in zip(backends, accounts, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == [] and overlap[0] == 1


def test_a_different_seed_on_the_same_handle_is_not_prompted(emulator: EthAppEmulator) -> None:
    factory = EmulatorFactory(emulator)
    backend = LedgerBackend(1, factory, probe_interval=0)
    account = account_at(backend, LIVE_0)
    other = EthAppEmulator(
        mnemonic="legal winner thank year wave sausage worth useful legal winner thank yellow"
    )
    factory.opened[-1].emulator = other
    with pytest.raises(DeviceUnavailable, match="no longer holds"):
        backend.sign(account, text_payload(b"swap"), None)
    assert other.prompts == []


def test_close_releases_the_device(emulator: EthAppEmulator) -> None:
    factory = EmulatorFactory(emulator)
    backend = LedgerBackend(1, factory, probe_interval=0)
    backend.accounts()
    backend.close()
    assert factory.opened[0].closed


def test_missing_ledger_stack_fails_politely_at_import() -> None:
    code = "import sys; sys.modules['ledgereth'] = None; import backends.ledger"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert "ImportError: Ledger support needs sealward's ledger dependencies" in result.stderr
    assert "install sealward's ledger dependencies" in result.stderr


def test_missing_ledger_stack_at_first_use_is_a_device_error(
    emulator: EthAppEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = make_backend(emulator)
    account = account_at(backend, LIVE_0)
    monkeypatch.setitem(sys.modules, "ledgereth.messages", None)
    with pytest.raises(DeviceUnavailable, match="install sealward's ledger dependencies"):
        backend.sign(account, text_payload(b"x"), None)


def test_too_old_for_everything_is_reported_on_sign(emulator: EthAppEmulator) -> None:
    backend = make_backend(emulator)
    account = account_at(backend, LIVE_0)
    emulator.version = (1, 1, 0)
    with pytest.raises(AppTooOld, match=r"1\.2\.4 or newer"):
        backend.sign(account, text_payload(b"x"), None)
