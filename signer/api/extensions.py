"""The external API's typed-data, Gnosis Safe and transaction methods, attached to ExternalAPI by
the app (``ExternalAPI.extensions``).

Each method decodes its parameter (a decoding error is -32602 ``invalid argument N: ...``, as in
clef), builds a plan whose errors come before any UI contact, then hands it to
``ExternalAPI.sign_plan`` for approval, account lookup, credential and signing.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from signer.api.credentials import credential_for
from signer.codecs.eip712 import TypedData, TypedDataError, decode_typed_data
from signer.codecs.gnosis import GnosisSafeTx, checked_typed_data
from signer.codecs.gojson import GoJSONError
from signer.codecs.hexutil import MixedcaseAddress
from signer.codecs.sendtx import SendTxArgs, diff_transactions
from signer.codecs.transactions import assemble, check_requested_chain_id, prepare_transaction
from signer.codecs.typed_request import plan_for
from signer.config import Config
from signer.errors import InvalidParams, RequestDenied, SignerError, UnknownAccount, error_message
from signer.types import Metadata, SignTxRequest
from signer.validation import FourByteDB, reject_if_warnings, validate

if TYPE_CHECKING:
    from signer.api.external import ExternalAPI

log = logging.getLogger("sealward.api")


def _typed_data_param(value: Any) -> TypedData:
    try:
        return decode_typed_data(value)
    except TypedDataError as exc:
        raise InvalidParams(f"invalid argument 1: {exc}") from exc


def _gnosis_param(value: Any) -> GnosisSafeTx:
    try:
        return GnosisSafeTx.from_json(value)
    except (GoJSONError, TypedDataError) as exc:
        raise InvalidParams(f"invalid argument 1: {exc}") from exc


class Extensions:
    def __init__(self, config: Config) -> None:
        self.config = config
        # clef reads the 4-byte database at start-up; a corrupt custom file stops the signer there.
        self.fourbyte = FourByteDB.load(config.fourbyte_custom)
        embeds, locals_ = self.fourbyte.counts()
        log.info(
            "Loaded 4byte database embeds=%d locals=%d local=%s", embeds, locals_, config.fourbyte_custom
        )

    def sign_typed_data(
        self, api: ExternalAPI, meta: Metadata, address: MixedcaseAddress, typed_data: Any
    ) -> str:
        """account_signTypedData: the 65-byte signature (V 27/28) as 0x hex."""
        plan = plan_for(address, _typed_data_param(typed_data), meta)
        return api.sign_plan(plan)

    def sign_gnosis_safe_tx(
        self,
        api: ExternalAPI,
        meta: Metadata,
        address: MixedcaseAddress,
        gnosis_tx: Any,
        selector: str | None,
    ) -> dict[str, Any]:
        """account_signGnosisSafeTx: the transaction echoed with signature, hash and sender filled in."""
        tx = _gnosis_param(gnosis_tx)
        messages = validate(tx.validation_args(), selector, self.fourbyte)
        if not api.advanced:
            reject_if_warnings(messages)
        td = checked_typed_data(tx, api.chain_id)
        plan = plan_for(address, td, meta, call_info=messages or None)  # clef: null when empty
        signature = api.sign_plan(plan)
        tx.signature = bytes.fromhex(signature[2:])
        tx.contract_transaction_hash = plan.request.hash
        tx.sender = MixedcaseAddress(address.address, address.checksummed)
        return tx.to_json()

    def sign_transaction(
        self, api: ExternalAPI, meta: Metadata, args: SendTxArgs, selector: str | None
    ) -> dict[str, Any]:
        """account_signTransaction (clef-compat §2.4.2): validate, approve, sign what the UI returned."""
        messages = validate(args, selector, self.fourbyte)
        if not api.advanced and any(m.typ in ("WARNING", "CRITICAL") for m in messages):
            log.warning(
                "Signing aborted due to warnings. In order to continue despite warnings, "
                "please use the flag '--advanced'."
            )
            reject_if_warnings(messages)
        check_requested_chain_id(args, api.chain_id)
        request = SignTxRequest(args.to_json(), meta, messages or None)
        response = api.ui.approve_tx(request)
        if not response.approved:
            raise RequestDenied()
        try:
            approved = SendTxArgs.from_json(response.transaction)
        except GoJSONError as exc:  # the UI's answer is not the caller's parameter: not -32602
            raise SignerError(str(exc)) from None
        self._report_changes(api, args, approved)
        found = api.accounts.find(approved.from_.checksummed)
        if found is None:
            raise UnknownAccount()
        backend, account = found
        payload = prepare_transaction(approved, api.chain_id)
        credential = credential_for(backend, account, "tx", api.credentials, api.ui)
        try:
            signature = api.accounts.sign(backend, account, payload, credential)
        except Exception as exc:
            api.ui.show_error(error_message(exc))
            raise
        raw, tx_json = assemble(payload, signature)
        result = {"raw": "0x" + raw.hex(), "tx": tx_json}
        api.ui.on_approved_tx(result)
        return result

    @staticmethod
    def _report_changes(api: ExternalAPI, before: SendTxArgs, after: SendTxArgs) -> None:
        """An edit by any UI is logged field by field, and written to the audit log."""
        changes = diff_transactions(before, after)
        for change in changes:
            log.info(change)
        if changes and api.audit is not None:
            api.audit.event(
                "TransactionModified",
                ("changes", "; ".join(changes)),
                ("before", json.dumps(before.to_json(), separators=(",", ":"))),
                ("after", json.dumps(after.to_json(), separators=(",", ":"))),
            )
