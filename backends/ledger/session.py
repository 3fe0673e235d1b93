"""Connected Ledgers, their state and their accounts, re-probed cheaply as devices come and go.

A probe lists devices (USB enumeration or the proxy; no APDU), opens the new ones, asks each open
one which app is open (one APDU) and derives accounts once per connected session (2N GET_ADDRESS).
Probes run at most every ``probe_interval`` seconds, or at once after a device failed, so
``account_list`` does not hammer the device; a probe never waits behind a request that is waiting
for a person to press a button: it returns the cached view instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_utils.address import to_checksum_address

from backends.base import Account, DeviceError, DeviceUnavailable, UnknownKey
from backends.ledger.app import AppInfo, identify
from backends.ledger.device import DEVICE_LOCK, GuardedDongle, discover, load, open_device

log = logging.getLogger(__name__)

# Ledger Live: one account per BIP-44 account index. Legacy (Ledger's Chrome app, MEW, clef): the
# last component counts. Both as clef derives them (clef-compat.md §2.11).
DERIVATIONS: dict[str, Callable[[int], str]] = {
    "live": lambda i: f"m/44'/60'/{i}'/0/0",
    "legacy": lambda i: f"m/44'/60'/0'/{i}",
}


@dataclass
class Session:
    """One opened device: its app, while usable, and the accounts derived on it."""

    dongle: GuardedDongle
    app: AppInfo | None = None
    paths: dict[str, str] = field(default_factory=dict)  # checksummed address -> path
    problem: DeviceError | None = None  # why the device is not usable now (locked, app closed, ...)

    @property
    def device_id(self) -> str:
        return self.dongle.device_id


class Devices:
    """The device registry of one LedgerBackend. Every method that talks to a device holds DEVICE_LOCK."""

    def __init__(
        self,
        accounts_per_path: int,
        derivations: Sequence[str],
        dongle_factory: Callable[[], Any] | None,
        probe_interval: float,
    ) -> None:
        self._paths = [DERIVATIONS[d](i) for d in derivations for i in range(accounts_per_path)]
        self._factory = dongle_factory
        self._interval = probe_interval
        self._sessions: dict[str, Session] = {}
        self._last_probe: float | None = None

    def sessions(self) -> list[Session]:
        # list() copies in one step: listing runs without the device lock while a probe may edit.
        return [s for s in list(self._sessions.values()) if s.app is not None and not s.dongle.dead]

    def refresh(self, *, wait: bool = False) -> None:
        """Re-probe if due (or ``wait``: now, waiting for the device lock)."""
        now = time.monotonic()
        due = self._last_probe is None or now - self._last_probe >= self._interval
        if not (wait or due) or not DEVICE_LOCK.acquire(blocking=wait):
            return
        try:
            self._last_probe = now
            self._probe()
        finally:
            DEVICE_LOCK.release()

    def mark_failed(self, session: Session) -> None:
        """A request failed on this device: forget its state and probe again on the next call."""
        self._last_probe = None
        if session.dongle.dead:
            self._drop(session.device_id)
        else:
            session.app = None

    def _probe(self) -> None:
        try:
            found = {f.device_id: f for f in discover(self._factory)}
        except DeviceError as exc:  # e.g. the ledger stack is not installed
            log.warning("Ledger discovery failed: %s", exc)
            found = {}
        for device_id in [d for d, s in self._sessions.items() if d not in found or s.dongle.dead]:
            self._drop(device_id)
        for device_id, device in found.items():
            session = self._sessions.get(device_id)
            try:
                if session is None:
                    session = self._sessions[device_id] = Session(open_device(device))
                self._check(session)
            except DeviceError as exc:
                log.debug("Ledger %s not usable now: %s", device_id, exc)
                if session is not None:
                    session.problem = exc
                    self.mark_failed(session)
                    self._last_probe = time.monotonic()  # a locked device is no reason to spin

    def _check(self, session: Session) -> None:
        """Which app is open now; derive the accounts the first time the Ethereum app answers."""
        session.app = None
        app = identify(session.dongle)
        if not session.paths:
            session.paths = self._derive(session.dongle)
        session.app, session.problem = app, None

    def _derive(self, dongle: GuardedDongle) -> dict[str, str]:
        accounts = load("ledgereth.accounts")
        derived: dict[str, str] = {}
        for path in self._paths:
            ledger_account = accounts.get_account_by_path(path.removeprefix("m/"), dongle=dongle)
            derived.setdefault(str(to_checksum_address(ledger_account.address)), path)
        log.info("Ledger %s: %d accounts derived", dongle.device_id, len(derived))
        return derived

    def _drop(self, device_id: str) -> None:
        session = self._sessions.pop(device_id, None)
        if session is not None:
            session.dongle.close()
            log.info("Ledger %s disconnected", device_id)

    def resolve(self, address: str, url: str) -> tuple[Session, str]:
        """The ready session and path holding ``address``, or the clearest reason why there is none."""
        for attempt in range(2):
            for session in self.sessions():
                path = next((p for a, p in session.paths.items() if a.lower() == address.lower()), None)
                if path is not None:
                    return session, path
            if attempt == 0:  # a device may have been plugged in, unlocked or opened just now
                self.refresh(wait=True)
        device_id = url.removeprefix("ledger://").split("/", 1)[0] if url.startswith("ledger://") else None
        present = self._sessions.get(device_id or "")
        if present is not None and present.problem is not None:
            raise type(present.problem)(str(present.problem))
        if device_id is not None and present is None:
            raise DeviceUnavailable(f"the Ledger {device_id} holding {address} is not connected")
        raise UnknownKey(f"no connected Ledger holds {address} on the derived paths")

    def problems(self) -> list[DeviceError]:
        """Why the connected devices cannot sign now (locked, another app open, ...)."""
        return [s.problem for s in list(self._sessions.values()) if s.problem is not None]

    def accounts(self, backend_name: str) -> list[Account]:
        listed: list[Account] = []
        seen: set[str] = set()
        for session in self.sessions():
            for address, path in session.paths.items():
                if address not in seen:  # two devices with one seed: the first one signs
                    seen.add(address)
                    listed.append(Account(address, f"ledger://{session.device_id}/{path}", backend_name))
        return listed

    def close(self) -> None:
        with DEVICE_LOCK:
            for device_id in list(self._sessions):
                self._drop(device_id)
