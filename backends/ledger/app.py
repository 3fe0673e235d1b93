"""The Ethereum app as seen over APDUs: which app is open, its version, and what that version can do.

Also the APDUs ledgereth 0.10 lacks, sent through the same guarded dongle's ``exchange()``: the
OS-level GET_APP_AND_VERSION, and SIGN_TX for transaction types ledgereth refuses to encode
(3 = blobs, 4 = set-code). The full EIP-712 protocol lives in ``eip712.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

from backends.base import AppNotOpen, AppTooOld, DeviceError, UnsupportedPayload, WrongApp
from backends.ledger.device import SW_OTHER_APP, SW_UNKNOWN_INS, GuardedDongle, apdu, status_word

ETH_CLA = 0xE0
INS_GET_ADDRESS, INS_SIGN_TX, INS_GET_CONFIGURATION = 0x02, 0x04, 0x06
FLAG_BLIND_SIGNING = 0x01  # GET_CONFIGURATION flags: "arbitrary data signature enabled by user"

Version = tuple[int, int, int]

# Versions from the app's own documentation (doc/ethapp.adoc, CHANGELOG). ledgereth itself refuses
# anything before 1.2.4 when it opens a device, so that is our floor too.
MIN_VERSION: Version = (1, 2, 4)
TYPED_DATA_HASHED: Version = (1, 5, 0)  # SIGN ETH EIP 712, v0: domain hash + message hash
TYPED_DATA_FULL: Version = (1, 9, 19)  # struct definitions and implementations, shown field by field
ACCESS_LIST_TX: Version = (1, 7, 1)  # Berlin: EIP-2718 envelopes and EIP-2930


@dataclass(frozen=True)
class AppInfo:
    """The Ethereum app that answered, its version and its configuration flags."""

    name: str
    version: Version
    flags: int

    @property
    def version_text(self) -> str:
        return ".".join(str(part) for part in self.version)

    @property
    def blind_signing(self) -> bool:
        return bool(self.flags & FLAG_BLIND_SIGNING)

    def supports(self, minimum: Version) -> bool:
        return self.version >= minimum

    def require(self, minimum: Version, what: str) -> None:
        if not self.supports(minimum):
            need = ".".join(str(part) for part in minimum)
            raise AppTooOld(
                f"{what} needs the Ledger Ethereum app {need} or newer; this device has "
                f"{self.version_text}: update it in Ledger Live"
            )


def identify(dongle: GuardedDongle) -> AppInfo:
    """Ask which app is open (OS command B0 01), then the Ethereum app's configuration.

    Raises DeviceLocked, AppNotOpen (dashboard), WrongApp (another app) or AppTooOld.
    """
    name = _open_app_name(dongle)
    if name == "BOLOS":
        raise AppNotOpen("the Ethereum app is not open on the Ledger (it shows the dashboard): open it")
    if name not in ("Ethereum", None):
        raise WrongApp(f"the {name} app is open on the Ledger: close it and open the Ethereum app")
    reply = dongle.exchange(apdu(ETH_CLA, INS_GET_CONFIGURATION, 0, 0))
    if len(reply) < 4:
        raise DeviceError("the Ledger gave a malformed answer to GET_CONFIGURATION")
    info = AppInfo("Ethereum", (reply[1], reply[2], reply[3]), reply[0])
    info.require(MIN_VERSION, "Sealward")
    return info


def _open_app_name(dongle: GuardedDongle) -> str | None:
    try:
        reply = dongle.exchange(apdu(0xB0, 0x01, 0, 0))
    except DeviceError as exc:
        # Firmware older than GET_APP_AND_VERSION (or an app intercepting CLA B0): fall back to the
        # Ethereum app's own GET_CONFIGURATION, which identifies it well enough.
        if status_word(exc) in (*SW_OTHER_APP, SW_UNKNOWN_INS):
            return None
        raise
    if len(reply) < 2 or reply[0] != 1 or len(reply) < 2 + reply[1]:
        raise DeviceError("the Ledger gave a malformed answer to GET_APP_AND_VERSION")
    return bytes(reply[2 : 2 + reply[1]]).decode("ascii", errors="replace")


def encode_path(path: str) -> bytes:
    """``m/44'/60'/0'/0/0`` as the app wants it: count, then each index as uint32 big-endian."""
    parts = [p for p in path.split("/") if p not in ("m", "")]
    encoded = b"".join(
        (int(p[:-1]) | 0x80000000 if p.endswith("'") else int(p)).to_bytes(4, "big") for p in parts
    )
    return bytes([len(parts)]) + encoded


def parse_vrs(reply: bytes) -> tuple[int, int, int]:
    """The app's signature reply: v (1 byte) ‖ r (32) ‖ s (32)."""
    if len(reply) < 65:
        raise DeviceError("the Ledger returned a truncated signature")
    return reply[0], int.from_bytes(reply[1:33], "big"), int.from_bytes(reply[33:65], "big")


def send_chunked(dongle: GuardedDongle, ins: int, payload: bytes) -> bytes:
    """Stream ``payload`` in 255-byte APDUs (P1 00 first, 80 after); the last reply is the answer."""
    reply = b""
    for offset in range(0, len(payload), 255):
        reply = bytes(
            dongle.exchange(
                apdu(ETH_CLA, ins, 0x00 if offset == 0 else 0x80, 0, payload[offset : offset + 255])
            )
        )
    return reply


TX_TYPE_NAMES = {3: "blob (EIP-4844)", 4: "set-code (EIP-7702)"}


def sign_raw_typed_transaction(
    dongle: GuardedDongle, info: AppInfo, path: str, preimage: bytes
) -> tuple[int, int, int]:
    """SIGN_TX for a typed envelope ledgereth cannot build; the app decides whether it knows the type."""
    tx_type = preimage[0]
    try:
        return parse_vrs(send_chunked(dongle, INS_SIGN_TX, encode_path(path) + preimage))
    except UnsupportedPayload:
        raise UnsupportedPayload(
            f"{TX_TYPE_NAMES.get(tx_type, f'type {tx_type}')} transactions are not supported by the "
            f"Ledger app (Ethereum app {info.version_text} on this device); sign them with a keystore "
            "or HSM key, or update the app if a newer version supports them"
        ) from None
