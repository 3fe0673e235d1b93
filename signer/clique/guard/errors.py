"""The two ways the seal guard says no.

Both are :class:`signer.errors.SealGuardError`, so they reach the caller as a -32000 error with
their message. They differ in what the operator should do:

* :class:`SealGuardRefused`: the policy forbids this seal (rollback, equivocation, a stale
  re-seal, a header from the future, another instance's height). Retrying the same request will
  not help; only a deliberate ``sealward guard reset`` changes the records.
* :class:`SealGuardUnavailable`: the guard could not check or record the seal (database down,
  unwritable, missing). The guard fails closed, and the same request can succeed once the
  database is back.
"""

from __future__ import annotations

from signer.errors import SealGuardError


class SealGuardRefused(SealGuardError):
    """The seal would break the policy; nothing was recorded."""


class SealGuardUnavailable(SealGuardError):
    """The guard's database could not be read or written; the seal is refused (fail closed)."""
