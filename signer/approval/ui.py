"""The UI protocol: clef's ``UIClientAPI``, one method per decision the signer asks for.

Implementations: ``ConsoleUI`` (terminal), ``StdioUI`` (JSON-RPC over stdin/stdout) and
``RulesetUI(next=ui)``, which asks the attested JavaScript rules first. Every method may be
called from several threads at once; a UI that talks to a person serialises its prompts.
"""

from __future__ import annotations

from typing import Any, Protocol

from signer.types import (
    JSON,
    ListRequest,
    NewAccountRequest,
    SignDataRequest,
    SignTxRequest,
    SignTxResponse,
    StartupInfo,
    UserInputRequest,
)


class UI(Protocol):
    def approve_tx(self, request: SignTxRequest) -> SignTxResponse:
        """Approve, reject or modify a transaction; the returned transaction is what gets signed."""
        ...

    def approve_sign_data(self, request: SignDataRequest) -> bool: ...

    def approve_listing(self, request: ListRequest) -> list[JSON] | None:
        """The accounts the caller may see; None means the listing was denied."""
        ...

    def approve_new_account(self, request: NewAccountRequest) -> bool: ...

    def on_input_required(self, request: UserInputRequest) -> str:
        """Ask for a line of input (a password when ``request.is_password``)."""
        ...

    def show_error(self, text: str) -> None: ...

    def show_info(self, text: str) -> None: ...

    def on_approved_tx(self, result: JSON) -> None:
        """Notification: ``result`` is the SignTransactionResult ``{"raw", "tx"}``."""
        ...

    def on_signer_startup(self, info: StartupInfo) -> None: ...


class UIUnavailable(Exception):
    """The UI cannot answer (stdin closed, the stdio peer went away)."""


def describe(value: Any) -> str:
    """Short text for logs about a UI answer, never including secrets."""
    return type(value).__name__
