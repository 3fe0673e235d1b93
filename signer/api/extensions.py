"""The external API's typed-data, Gnosis Safe and transaction methods, attached to ExternalAPI by
the app (``ExternalAPI.extensions``).

Each method decodes its parameter (a decoding error is -32602 ``invalid argument N: ...``, as in
clef), builds a plan whose errors come before any UI contact, then hands it to
``ExternalAPI.sign_plan`` for approval, account lookup, credential and signing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from signer.codecs.eip712 import TypedData, TypedDataError, decode_typed_data
from signer.codecs.gnosis import GnosisSafeTx, checked_typed_data
from signer.codecs.gojson import GoJSONError
from signer.codecs.hexutil import MixedcaseAddress
from signer.codecs.typed_request import plan_for
from signer.config import Config
from signer.errors import InvalidParams, NotSupported
from signer.types import Metadata
from signer.validation import FourByteDB, reject_if_warnings, validate

if TYPE_CHECKING:
    from signer.api.external import ExternalAPI


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
        plan = plan_for(address, td, meta, call_info=messages)
        signature = api.sign_plan(plan)
        tx.signature = bytes.fromhex(signature[2:])
        tx.contract_transaction_hash = plan.request.hash
        tx.sender = MixedcaseAddress(address.address, address.checksummed)
        return tx.to_json()

    def sign_transaction(self, api: ExternalAPI, meta: Metadata, args: Any, selector: str | None) -> Any:
        raise NotSupported("account_signTransaction is not supported yet")
