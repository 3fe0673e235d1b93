"""Real go-ethereum peers in tests: the binary's path, or a skip that names what is missing.

``scripts/test.sh`` builds the peers first and fails when Go is there but a build fails, so on
the project's machines and in CI these tests run; elsewhere they skip with the reason.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from signer.tools.peers import CLEF, GETH_CURRENT, GETH_SEALER, Peer

__all__ = ["CLEF", "GETH_CURRENT", "GETH_SEALER", "require_peer"]


def require_peer(peer: Peer) -> Path:
    """The peer's executable; skips the calling test when it has not been built."""
    reason = peer.missing()
    if reason is not None:
        pytest.skip(reason)
    return peer.path
