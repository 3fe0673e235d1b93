"""The README's first command, as a real process: ``sealward demo`` with a real geth when it is
built, and its fallback to the built-in geth-like client when it is not."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.harness import run_cli
from tests.helpers.peers import GETH_SEALER, require_peer

pytestmark = pytest.mark.e2e
BLOCK_LINE = re.compile(r"^\s+(\d+)  0x[0-9a-f]{64}  (0x[0-9a-f]{40})\s+(\d+) ms  yes$", re.MULTILINE)


@pytest.mark.timeout(120)
def test_demo_mines_a_real_geth_chain_through_the_signer(tmp_path: Path) -> None:
    require_peer(GETH_SEALER)
    out = run_cli(["demo", "--seconds", "8", "--workdir", str(tmp_path / "demo")], timeout=110)
    assert out.returncode == 0, out.stdout + out.stderr
    blocks = BLOCK_LINE.findall(out.stdout)
    assert len(blocks) >= 3, out.stdout
    assert [int(n) for n, _, _ in blocks] == list(range(1, len(blocks) + 1))
    sealer = re.search(r"sealer (0x[0-9a-fA-F]{40})", out.stdout)
    assert sealer is not None and {s for _, s, _ in blocks} == {sealer.group(1).lower()}
    assert "every block sealed by the HSM key" in out.stdout and "(0 refused by the guard)" in out.stdout


@pytest.mark.timeout(120)
def test_demo_without_geth_says_so_and_uses_the_builtin_client(tmp_path: Path) -> None:
    out = run_cli(["demo", "--blocks", "3"], env={"SEALWARD_PEERS": str(tmp_path / "no-peers")}, timeout=110)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "is not built" in out.stdout and "falling back to the built-in geth-like client" in out.stdout
    assert "3 seals" in out.stdout and "every seal verifies" in out.stdout
