"""Transaction checks, the 4-byte selector database and calldata decoding (§6).

validate(args, selector, db) -> list[ValidationInfo]   clef's checks; hard errors raise
reject_if_warnings(messages)                           default mode: refuse on WARNING/CRITICAL
FourByteDB.load(custom_path)                           built-in table + --4bytedb-custom file
"""

from signer.validation.calldata import CallDataError, DecodedCall, verify_selector
from signer.validation.checks import TransactionRejected, reject_if_warnings, validate, validate_call_data
from signer.validation.fourbyte import FourByteDB, FourByteDBError, SelectorNotFound
from signer.validation.selector import SelectorError

__all__ = [
    "CallDataError",
    "DecodedCall",
    "FourByteDB",
    "FourByteDBError",
    "SelectorError",
    "SelectorNotFound",
    "TransactionRejected",
    "reject_if_warnings",
    "validate",
    "validate_call_data",
    "verify_selector",
]
