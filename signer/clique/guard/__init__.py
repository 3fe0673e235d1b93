"""The double-seal guard for clique headers (docs/seal-guard.md).

Per (chain id, signer) it remembers what was sealed at each height and refuses rollbacks,
equivocation across forks and unbounded re-seals; the record is durable before a signature
leaves the process. Open one with :func:`open_guard`.
"""

from signer.clique.guard.errors import SealGuardRefused, SealGuardUnavailable
from signer.clique.guard.policy import DEFAULT_RESUBMITS, Mode, SealRecord
from signer.clique.guard.store import DEFAULT_DB_NAME, SealGuard, default_guard_path, open_guard

__all__ = [
    "DEFAULT_DB_NAME",
    "DEFAULT_RESUBMITS",
    "Mode",
    "SealGuard",
    "SealGuardRefused",
    "SealGuardUnavailable",
    "SealRecord",
    "default_guard_path",
    "open_guard",
]
