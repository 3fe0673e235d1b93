"""Ledger transports: finding devices, opening them, one lock for all of them, and status words.

Everything that touches a Ledger goes through ``DEVICE_LOCK``: ledgereth builds its APDUs in
module-level mutable objects (``LedgerCommands.*.set_data``), so two threads talking to two
different devices would still corrupt each other's commands.

The dongle we hand to ledgereth is always a ``GuardedDongle`` that we opened and will close:
ledgereth closes dongles it opened itself and then reuses the closed one (toolchain.md addendum).
The guard turns transport failures and status words into ``backends.base`` errors right where they
happen, so neither ledgereth's own exception translation nor a traceback reaches the caller.
"""

from __future__ import annotations

import functools
import importlib
import logging
import os
import re
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from backends.base import (
    AppNotOpen,
    AppTooOld,
    DeviceError,
    DeviceLocked,
    DeviceUnavailable,
    UnsupportedPayload,
    UserRejected,
    WrongApp,
)

log = logging.getLogger(__name__)

DEVICE_LOCK = threading.RLock()
LEDGER_VENDOR_ID = 0x2C97
INSTALL_HINT = (
    "Ledger support needs sealward's ledger dependencies (ledgereth, ledgerblue, hidapi): "
    "install sealward's ledger dependencies, e.g. pip install 'ledgereth==0.10.0' 'hidapi==0.15.0'"
)

SW_OK = 0x9000
SW_USER_REJECTED = 0x6985
SW_LOCKED = (0x5515, 0x6B0C, 0x6982)  # current firmware; older firmware (ledgereth); ISO "security"
SW_NO_APP = (0x6511, 0x6D02, 0x6804)  # dashboard answering an app command; app asleep
SW_OTHER_APP = (0x6E00, 0x6E01, 0x6A15)  # CLA not supported: some other app owns the screen
SW_UNKNOWN_INS = 0x6D00  # the Ethereum app does not know the command: it predates it
SW_TX_TYPE_UNSUPPORTED = 0x6501
SW_INVALID_DATA = 0x6A80
SW_NO_MEMORY = 0x6A84


def load(module: str) -> ModuleType:
    """Import part of the ledger stack on first use; its absence is a clear error, not a traceback."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise DeviceUnavailable(f"{INSTALL_HINT} ({exc})") from None


def status_word(exc: BaseException) -> int | None:
    """The status word behind an error raised by ``GuardedDongle``, if it came from the device."""
    value = getattr(exc, "status_word", None)
    return value if isinstance(value, int) else None


def error_for_status(sw: int) -> DeviceError | UnsupportedPayload:
    """The backend error a person understands for a status word the device answered."""
    error: DeviceError | UnsupportedPayload
    if sw == SW_USER_REJECTED:
        error = UserRejected("the request was rejected on the Ledger")
    elif sw in SW_LOCKED:
        error = DeviceLocked("the Ledger is locked: unlock it with its PIN and open the Ethereum app")
    elif sw in SW_NO_APP:
        error = AppNotOpen("the Ethereum app is not open on the Ledger: open it and try again")
    elif sw in SW_OTHER_APP:
        error = WrongApp("another app is open on the Ledger: close it and open the Ethereum app")
    elif sw == SW_UNKNOWN_INS:
        error = AppTooOld(
            "the Ethereum app on the Ledger is too old for this request: update it in Ledger Live"
        )
    elif sw == SW_TX_TYPE_UNSUPPORTED:
        error = UnsupportedPayload("this transaction type is not supported by the Ledger Ethereum app")
    elif sw == SW_INVALID_DATA:
        error = DeviceError(
            "the Ledger Ethereum app refused the data as invalid; for contract calls it cannot "
            "decode, enable 'Blind signing' in the app's settings"
        )
    else:
        error = DeviceError(f"the Ledger answered with status 0x{sw:04x}")
    error.status_word = sw  # type: ignore[union-attr]
    return error


class GuardedDongle:
    """A transport dongle whose failures arrive as backend errors. This is what ledgereth gets."""

    def __init__(self, raw: Any, device_id: str) -> None:
        self._raw = raw
        self.device_id = device_id
        self.dead = False

    def exchange(self, apdu: bytes, timeout: int = 20000) -> bytearray:
        if self.dead:
            raise DeviceUnavailable(f"the Ledger {self.device_id} was disconnected")
        comm_exception = load("ledgerblue.commException").CommException
        try:
            return bytearray(self._raw.exchange(bytearray(apdu)))
        except comm_exception as exc:
            # ledgerblue raises CommException for a status word ("Invalid status 6985") and also for
            # transport trouble ("Timeout", "Proxy connection failed"), which carries no real SW.
            if str(getattr(exc, "message", "")).startswith("Invalid status"):
                raise error_for_status(int(exc.sw)) from None
            self.dead = True
            raise DeviceUnavailable(f"the Ledger {self.device_id} stopped answering: {exc.message}") from None
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:
            # hidapi: OSError("read error") once unplugged; ledgerblue: BaseException("Error while
            # writing"); the TCP proxy: struct.error/OSError when the server went away.
            self.dead = True
            raise DeviceUnavailable(f"the Ledger {self.device_id} was disconnected ({exc})") from None

    def close(self) -> None:
        self.dead = True
        try:
            self._raw.close()
        except Exception as exc:  # closing a vanished device fails; nothing is left to release
            log.debug("closing Ledger %s: %s", self.device_id, exc)


@dataclass(frozen=True)
class FoundDevice:
    """A device seen by discovery: a stable id for URLs and a way to open it."""

    device_id: str
    open: Callable[[], Any]


def discover(dongle_factory: Callable[[], Any] | None = None) -> list[FoundDevice]:
    """Devices present now, without talking to them (``hid.enumerate`` only reads the USB tree).

    Like ledgerblue's ``getDongle``: LEDGER_PROXY_ADDRESS/PORT (speculos or any APDU proxy) replace
    USB; otherwise every Ledger HID interface is listed, so several devices can be used at once.
    """
    if dongle_factory is not None:
        return [FoundDevice(getattr(dongle_factory, "device_id", "injected"), dongle_factory)]
    host, port = os.environ.get("LEDGER_PROXY_ADDRESS", ""), os.environ.get("LEDGER_PROXY_PORT", "")
    if host and port:
        return [FoundDevice(f"tcp-{host}-{port}", lambda: _open_proxy(host, int(port)))]
    hid = load("hid")
    found: list[FoundDevice] = []
    for info in hid.enumerate(LEDGER_VENDOR_ID, 0):
        if info.get("interface_number") == 0 or info.get("usage_page") == 0xFFA0:
            found.append(FoundDevice(_device_id(info["path"]), functools.partial(_open_hid, info["path"])))
    return found


def _device_id(path: bytes | str) -> str:
    text = path.decode(errors="replace") if isinstance(path, bytes) else path
    return re.sub(r"[^A-Za-z0-9:._-]+", "-", text).strip("-") or "usb"


def _open_hid(path: bytes) -> Any:
    hid = load("hid")
    comm = load("ledgerblue.comm")
    device = hid.device()
    device.open_path(path)
    device.set_nonblocking(True)
    return comm.HIDDongleHIDAPI(device, True, False)


def _open_proxy(host: str, port: int) -> Any:
    return load("ledgerblue.commTCP").getDongle(server=host, port=port, debug=False)


def open_device(found: FoundDevice) -> GuardedDongle:
    """Open a discovered device; any failure means it is not usable now."""
    try:
        return GuardedDongle(found.open(), found.device_id)
    except DeviceError:
        raise
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:
        raise DeviceUnavailable(f"the Ledger {found.device_id} cannot be opened: {exc}") from None


def apdu(cla: int, ins: int, p1: int, p2: int, data: bytes = b"") -> bytes:
    """An ISO 7816 short APDU (the Ethereum app never takes more than 255 data bytes)."""
    if len(data) > 255:
        raise ValueError("an APDU carries at most 255 data bytes")
    return struct.pack(">BBBBB", cla, ins, p1, p2, len(data)) + data
