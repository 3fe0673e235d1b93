"""Every error the signer can answer with, and the one table that maps them to JSON-RPC codes.

Exception tree::

    SignerError                      -32000 unless noted; the message is what clef says
    ├── RequestDenied                "request denied"
    ├── UnknownAccount               "unknown account"
    ├── NotSupported                 a method or content type not implemented (yet)
    ├── ValidationFailed             "validation failed: ..." (transaction checks, reject mode)
    ├── InvalidRequestData           bad hex, bad RLP, bad typed data inside valid params
    ├── InternalError                "internal error" (deliberately vague, e.g. a UI failure)
    ├── UIError                      an error answered by an external UI; keeps the UI's code
    ├── VaultError                   master seed and encrypted stores
    ├── RulesError                   the JavaScript rule engine
    ├── SealGuardError               a clique seal refused by the double-seal guard
    ├── AuditUnavailable             no audit record could be written (--auditlog.required)
    └── RpcError                     envelope-level errors with their own codes
        ├── ParseError               -32700
        ├── InvalidRequest           -32600
        ├── MethodNotFound           -32601
        ├── InvalidParams            -32602
        ├── HandlerCrashed           -32603 "method handler crashed"
        ├── RequestTimeout           -32002 "request timed out"
        └── LimitExceeded            -32005 too many calls or bytes in flight, too many values

Errors from ``backends.base`` are mapped in the same table, so a wrong password, a locked device
or an unsupported payload reach the caller as a clear -32000 message.
"""

from __future__ import annotations

from backends import base as backend_errors


class SignerError(Exception):
    """Base of the signer's own errors. ``str(err)`` is the message sent to the caller."""

    def __init__(self, message: str, data: object = None) -> None:
        super().__init__(message)
        self.message = message
        self.data = data


class RequestDenied(SignerError):
    def __init__(self, message: str = "request denied") -> None:
        super().__init__(message)


class UnknownAccount(SignerError):
    def __init__(self, message: str = "unknown account") -> None:
        super().__init__(message)


class NotSupported(SignerError):
    pass


class ValidationFailed(SignerError):
    pass


class InvalidRequestData(SignerError):
    pass


class InternalError(SignerError):
    def __init__(self, message: str = "internal error") -> None:
        super().__init__(message)


class UIError(SignerError):
    """An error object returned by a stdio UI; its code is passed through to the caller."""

    def __init__(self, code: int, message: str, data: object = None) -> None:
        super().__init__(message, data)
        self.code = code


class VaultError(SignerError):
    pass


class RulesError(SignerError):
    pass


class SealGuardError(SignerError):
    pass


class AuditUnavailable(SignerError):
    """The audit log cannot be written and the operator chose "no audit, no signature"."""

    def __init__(self, message: str = "audit log unavailable") -> None:
        super().__init__(message)


class RpcError(SignerError):
    pass


class ParseError(RpcError):
    pass


class InvalidRequest(RpcError):
    pass


class MethodNotFound(RpcError):
    pass


class InvalidParams(RpcError):
    pass


class HandlerCrashed(RpcError):
    def __init__(self, message: str = "method handler crashed") -> None:
        super().__init__(message)


class RequestTimeout(RpcError):
    def __init__(self, message: str = "request timed out") -> None:
        super().__init__(message)


class LimitExceeded(RpcError):
    """A transport bound was reached (signer.rpc.limits); -32005 is "limit exceeded" (EIP-1474)."""


# The one table. The most specific class wins (checked in MRO order of the raised error).
GENERIC_ERROR_CODE = -32000
ERROR_CODES: dict[type[Exception], int] = {
    ParseError: -32700,
    InvalidRequest: -32600,
    MethodNotFound: -32601,
    InvalidParams: -32602,
    HandlerCrashed: -32603,
    RequestTimeout: -32002,
    LimitExceeded: -32005,
    SignerError: GENERIC_ERROR_CODE,
    backend_errors.BackendError: GENERIC_ERROR_CODE,
}

# Backend errors whose clef wording differs from the backend's own message.
_BACKEND_MESSAGES: dict[type[Exception], str] = {
    backend_errors.UnknownKey: "unknown account",
    backend_errors.AccountExists: "account already exists",
}


def error_code(exc: BaseException) -> int:
    """The JSON-RPC code for ``exc``: a UI's own code, else the table, else 'method handler crashed'."""
    if isinstance(exc, UIError):
        return exc.code
    for cls in type(exc).__mro__:
        if cls in ERROR_CODES:
            return ERROR_CODES[cls]
    return ERROR_CODES[HandlerCrashed]


def error_message(exc: BaseException) -> str:
    """The message sent to the caller. Unexpected exceptions never leak their text (it may hold data)."""
    for cls, message in _BACKEND_MESSAGES.items():
        if isinstance(exc, cls):
            return message
    if isinstance(exc, (SignerError, backend_errors.BackendError)):
        return str(exc)
    return "method handler crashed"


def error_object(exc: BaseException) -> dict[str, object]:
    """The JSON-RPC ``error`` member for ``exc``."""
    obj: dict[str, object] = {"code": error_code(exc), "message": error_message(exc)}
    data = getattr(exc, "data", None)
    if data is not None:
        obj["data"] = data
    return obj
