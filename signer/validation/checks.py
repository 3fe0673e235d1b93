"""clef's transaction validator (§6.1-6.2): soft findings as data, show-stoppers as exceptions.

``validate`` runs clef's checks in clef's order and mutates the request as clef does (``input``
moves to ``data``; blob commitments, proofs and hashes are filled in by the dry-run conversion).
The caller rejects on any warning unless ``--advanced`` (``reject_if_warnings``). One extension
follows clef's checks: each EIP-7702 authorization is described for the UI.
"""

from __future__ import annotations

import logging

import rlp
from eth_utils.address import to_checksum_address

from backends.secp256k1 import HALF_N, SECP256K1_N, address_of_public_key, recover_public_key
from signer.codecs.hexutil import keccak256
from signer.codecs.sendtx import Authorization, SendTxArgs
from signer.codecs.transactions import to_unsigned
from signer.errors import ValidationFailed
from signer.types import ValidationInfo
from signer.validation.calldata import CallDataError, verify_selector
from signer.validation.fourbyte import FourByteDB, SelectorNotFound

log = logging.getLogger(__name__)

WARN, CRIT, INFO = "WARNING", "CRITICAL", "Info"


class TransactionRejected(ValidationFailed):
    """A show-stopper found by validation; the message is clef's, without ``validation failed:``."""


def reject_if_warnings(messages: list[ValidationInfo]) -> None:
    """Default (non-advanced) mode: any WARNING or CRITICAL refuses the request, as clef does."""
    serious = [m.message for m in messages if m.typ in (WARN, CRIT)]
    if serious:
        raise ValidationFailed("validation failed: " + ",".join(serious))


def validate(args: SendTxArgs, selector: str | None, db: FourByteDB) -> list[ValidationInfo]:
    if args.data is not None and args.input is not None and args.data != args.input:
        raise TransactionRejected('ambiguous request: both "data" and "input" are set and are not identical')
    to_unsigned(args)  # dry run: its errors (sidecar, missing recipient) are hard errors
    if args.input is not None:
        args.data, args.input = args.input, None
    data = args.data or b""
    messages: list[ValidationInfo] = []
    if args.to is None:
        if not data:
            if args.value > 0:
                raise TransactionRejected("transaction will create a contract with value but empty code")
            messages.append(ValidationInfo(CRIT, "Transaction will create a contract with empty code"))
        elif len(data) < 40:  # clef's heuristic for "this cannot be real init code"
            small = f"the payload is suspiciously small ({len(data)} bytes)"
            messages.append(ValidationInfo(WARN, f"Transaction will create a contract, but {small}"))
        if selector is not None:
            messages.append(
                ValidationInfo(
                    WARN,
                    "Transaction will create a contract, but method selector supplied, "
                    "indicating an intent to call a method",
                )
            )
        return messages
    if not args.to.valid_checksum():
        messages.append(ValidationInfo(WARN, "Invalid checksum on recipient address"))
    if args.to.address == bytes(20):
        messages.append(ValidationInfo(CRIT, "Transaction recipient is the zero address"))
    fee = _fee_finding(args)
    if fee:
        messages.append(ValidationInfo(CRIT, fee))
    validate_call_data(selector, data, db, messages)
    for index, auth in enumerate(args.authorization_list or ()):
        messages.append(_describe_authorization(index, auth))
    return messages


def _fee_finding(args: SendTxArgs) -> str | None:
    """The first fee-field combination clef objects to."""
    if args.gas_price is None and args.max_fee_per_gas is None:
        return "Neither 'gasPrice' nor 'maxFeePerGas' specified."
    if args.gas_price is None and args.max_priority_fee_per_gas is None:
        return "Neither 'gasPrice' nor 'maxPriorityFeePerGas' specified."
    if args.gas_price is not None and args.max_fee_per_gas is not None:
        return "Both 'gasPrice' and 'maxFeePerGas' specified."
    if args.gas_price is not None and args.max_priority_fee_per_gas is not None:
        return "Both 'gasPrice' and 'maxPriorityFeePerGas' specified."
    return None


def validate_call_data(
    selector: str | None, data: bytes, db: FourByteDB, messages: list[ValidationInfo]
) -> None:
    """clef's ValidateCallData: shape, then the supplied selector or the database's."""
    if not data:
        return
    if len(data) < 4:
        messages.append(
            ValidationInfo(WARN, "Transaction data is not valid ABI (missing the 4 byte call prefix)")
        )
        return
    if (len(data) - 4) % 32:
        length = f"length should be a multiple of 32 (was {len(data) - 4})"
        messages.append(ValidationInfo(WARN, f"Transaction data is not valid ABI ({length})"))
    if selector is not None:
        try:
            call = verify_selector(selector, data)
        except CallDataError as exc:
            prefix = "Transaction contains data, but provided ABI signature could not be matched"
            messages.append(ValidationInfo(WARN, f"{prefix}: {exc}"))
            return
        messages.append(ValidationInfo(INFO, call.describe()))
        try:
            db.add_selector(selector)
        except OSError as exc:  # clef ignores write errors; the request itself is fine
            log.warning("could not persist 4byte selector %s: %s", call.signature, exc)
        return
    try:
        known = db.selector(data[:4])
    except SelectorNotFound as exc:
        messages.append(
            ValidationInfo(
                WARN, f"Transaction contains data, but the ABI signature could not be found: {exc}"
            )
        )
        return
    try:
        call = verify_selector(known, data)
    except CallDataError as exc:
        prefix = "Transaction contains data, but provided ABI signature could not be verified"
        messages.append(ValidationInfo(WARN, f"{prefix}: {exc}"))
        return
    messages.append(ValidationInfo(INFO, call.describe()))


def _describe_authorization(index: int, auth: Authorization) -> ValidationInfo:
    """Name the account an EIP-7702 authorization delegates, so the UI can show whose code
    changes. A signature that cannot be valid on chain is a warning: the node would skip it."""
    digest = keccak256(b"\x05" + rlp.encode([auth.chain_id, auth.address, auth.nonce]))
    authority = None
    if auth.y_parity in (0, 1) and 0 < auth.r < SECP256K1_N and 0 < auth.s <= HALF_N:
        try:
            authority = address_of_public_key(recover_public_key(digest, auth.y_parity, auth.r, auth.s))
        except Exception:  # coincurve refuses points that are not on the curve
            authority = None
    if authority is None:
        return ValidationInfo(
            WARN, f"EIP-7702 authorization {index} has an invalid signature and will be skipped"
        )
    target = to_checksum_address(auth.address)
    action = "clears its code delegation" if auth.address == bytes(20) else f"delegates its code to {target}"
    return ValidationInfo(
        INFO,
        f"EIP-7702 authorization {index}: {authority} {action} (chainId {auth.chain_id}, nonce {auth.nonce})",
    )
