"""Ledger backend: keys on a Ledger running the Ethereum app, over USB HID (or a TCP APDU proxy).

Only ``find_spec`` runs at import: ledgereth pulls in ledgerblue, nfc, bleak and more, so it is
imported on first use. A missing stack fails here, politely, so the signer can say so and go on.
"""

from __future__ import annotations

from importlib.util import find_spec


def _missing(*modules: str) -> list[str]:
    absent = []
    for module in modules:
        try:
            if find_spec(module) is None:
                absent.append(module)
        except (ImportError, ValueError):  # ValueError: a module blocked with sys.modules[name] = None
            absent.append(module)
    return absent


if _missing("ledgereth", "ledgerblue", "hid"):
    from backends.ledger.device import INSTALL_HINT

    raise ImportError(f"{INSTALL_HINT} (missing: {', '.join(_missing('ledgereth', 'ledgerblue', 'hid'))})")

from backends.ledger.backend import LedgerBackend  # noqa: E402

__all__ = ["LedgerBackend"]
