"""``RulesetUI``: clef's rule-based approval in front of a human UI (clef-compat §4.2).

Each approval method asks the JavaScript function of the same name. Exactly "Approve" approves
without asking anyone, exactly "Reject" denies without asking anyone, and anything else (another
string, ``undefined``, a thrown exception, a missing function, a syntax error, a timeout)
falls through to the next UI, so a broken rule can never approve by accident.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from signer.approval.ui import UI
from signer.errors import RulesError
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

log = logging.getLogger(__name__)

APPROVE = "Approve"
REJECT = "Reject"


class RuleCaller(Protocol):
    """What RulesetUI needs of the rules: a ``RuleEngine``, or a wrapper around one."""

    def call(self, function: str, argument: dict[str, Any]) -> str: ...


class RulesetUI:
    """A ``UI`` that consults the rules first and delegates to ``next`` as clef does."""

    def __init__(self, next: UI, engine: RuleCaller) -> None:
        self.next = next
        self.engine = engine

    def approve_tx(self, request: SignTxRequest) -> SignTxResponse:
        decision = self._decide("ApproveTx", request.to_json())
        if decision is None:
            return self.next.approve_tx(request)
        # Rules cannot modify a transaction: an approval signs exactly what was requested.
        return SignTxResponse(transaction=request.transaction if decision else {}, approved=decision)

    def approve_sign_data(self, request: SignDataRequest) -> bool:
        decision = self._decide("ApproveSignData", request.to_json())
        if decision is None:
            return self.next.approve_sign_data(request)
        return decision

    def approve_listing(self, request: ListRequest) -> list[JSON] | None:
        decision = self._decide("ApproveListing", request.to_json())
        if decision is None:
            return self.next.approve_listing(request)
        return list(request.accounts) if decision else None

    def approve_new_account(self, request: NewAccountRequest) -> bool:
        return self.next.approve_new_account(request)

    def on_input_required(self, request: UserInputRequest) -> str:
        # Rules never see or supply passwords (clef setpw stores them instead).
        return self.next.on_input_required(request)

    def show_error(self, text: str) -> None:
        log.error("%s", text)
        self.next.show_error(text)

    def show_info(self, text: str) -> None:
        log.info("%s", text)
        self.next.show_info(text)

    def on_approved_tx(self, result: JSON) -> None:
        # Clef runs only the rule here and does not forward the notification to the next UI.
        self._notify("OnApprovedTx", result)

    def on_signer_startup(self, info: StartupInfo) -> None:
        self.next.on_signer_startup(info)
        self._notify("OnSignerStartup", info.to_json())

    def _decide(self, function: str, request: JSON) -> bool | None:
        """True for "Approve", False for "Reject", None when the next UI must decide."""
        try:
            result = self.engine.call(function, request)
        except RulesError as err:
            log.info("Rule-based approval error, going to manual: %s", err)
            return None
        if result == APPROVE:
            log.info("Op approved")
            return True
        if result == REJECT:
            log.info("Op rejected")
            return False
        log.info("Rule-based approval error, going to manual: unknown response %r", result[:100])
        return None

    def _notify(self, function: str, argument: JSON) -> None:
        try:
            self.engine.call(function, argument)
        except RulesError as err:
            log.info("error occurred during execution: %s", err)
