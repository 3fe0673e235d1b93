"""Where the real go-ethereum peers built by ``scripts/peers.sh`` live.

geth and clef are test peers and the demo's node, never part of the product: the script builds
them with ``go install`` into a cache outside the repository, and this module finds them there
(or says exactly why it cannot), so the demo, the benchmark and the tests agree on one location.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

BUILD_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "peers.sh"


@dataclass(frozen=True)
class Peer:
    name: str  # the go-ethereum command: geth or clef
    version: str
    role: str  # what it is here for, for messages

    @property
    def path(self) -> Path:
        return peers_dir() / f"{self.name}-{self.version}" / self.name

    def missing(self) -> str | None:
        """Why this peer cannot be run, or None when it can."""
        if os.access(self.path, os.X_OK):
            return None
        return (
            f"{self.name} {self.version} ({self.role}) is not built: {self.path} is missing; "
            f"run `bash scripts/peers.sh` (needs Go and the Go module proxy)"
        )


# The last geth whose miner seals clique through --signer (v1.14 stopped calling Authorize).
GETH_SEALER = Peer("geth", "v1.13.15", "clique sealer")
# The last clef release: the reference implementation of the signer API.
CLEF = Peer("clef", "v1.17.3", "reference signer")
# A current geth: today's --signer client for transactions and eth_sign.
GETH_CURRENT = Peer("geth", "v1.17.10", "current --signer client")


def peers_dir() -> Path:
    override = os.environ.get("SEALWARD_PEERS")
    if override:
        return Path(override)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "sealward-peers"
