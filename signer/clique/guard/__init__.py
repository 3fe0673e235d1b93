"""The double-seal guard for clique headers (docs/seal-guard.md).

Per (chain id, signer) it remembers what was sealed at each height and refuses rollbacks,
equivocation across forks, re-seals an honest geth would not make, headers from the future, and
another signer instance's heights; the record is durable before a signature leaves the process.
Open one with :func:`open_guard`.
"""

from signer.clique.guard.errors import SealGuardRefused, SealGuardUnavailable
from signer.clique.guard.instance import load_instance_id
from signer.clique.guard.policy import DEFAULT_CLOCK_SLACK, DEFAULT_MAX_FUTURE, Limits, Mode, SealRecord
from signer.clique.guard.store import DEFAULT_DB_NAME, SealGuard, SealReceipt, default_guard_path, open_guard

__all__ = [
    "DEFAULT_CLOCK_SLACK",
    "DEFAULT_DB_NAME",
    "DEFAULT_MAX_FUTURE",
    "Limits",
    "Mode",
    "SealGuard",
    "SealGuardRefused",
    "SealGuardUnavailable",
    "SealReceipt",
    "SealRecord",
    "default_guard_path",
    "load_instance_id",
    "open_guard",
]
