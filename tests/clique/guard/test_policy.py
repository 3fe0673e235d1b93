"""The decision table of docs/seal-guard.md, row by row, on the pure policy."""

from __future__ import annotations

import pytest

from signer.clique.guard.policy import (
    MAX_INT64,
    Mode,
    Proposal,
    SealRecord,
    decide,
    make_proposal,
    normalize_signer,
    parse_mode,
)

CHAIN = 1337
SIGNER = "0x" + "ab" * 20
OTHER = "0x" + "cd" * 20
P1, P2 = b"\x01" * 32, b"\x02" * 32


def h(n: int) -> bytes:
    return n.to_bytes(32, "big")


def rec(height: int, seal: int, parent: bytes = P1, signer: str = SIGNER, chain: int = CHAIN) -> SealRecord:
    return SealRecord(chain, signer, height, h(seal), parent)


def prop(height: int, seal: int, parent: bytes = P1) -> Proposal:
    return make_proposal(CHAIN, SIGNER, height, h(seal), parent)


@pytest.mark.parametrize("mode", [Mode.STRICT, Mode.RESUBMIT])
def test_first_seal_and_higher_heights_are_recorded(mode: Mode) -> None:
    first = decide(mode, 8, [], prop(10, 1))
    assert first.allowed and first.record
    later = decide(mode, 8, [rec(10, 1)], prop(12, 2, P2))  # heights may skip (out-of-turn signers)
    assert later.allowed and later.record


@pytest.mark.parametrize("mode", [Mode.STRICT, Mode.RESUBMIT])
def test_rollback_is_refused_with_reset_hint(mode: Mode) -> None:
    d = decide(mode, 8, [rec(9, 1), rec(10, 2)], prop(9, 1))
    assert not d.allowed and not d.record
    assert "height 10 is already sealed" in d.reason
    assert f"sealward guard reset --chainid {CHAIN} --signer {SIGNER} --height 9" in d.reason


@pytest.mark.parametrize("mode", [Mode.STRICT, Mode.RESUBMIT])
def test_identical_header_again_is_allowed_and_not_counted(mode: Mode) -> None:
    d = decide(mode, 0, [rec(10, 1)], prop(10, 1))
    assert d.allowed and not d.record


@pytest.mark.parametrize("mode", [Mode.STRICT, Mode.RESUBMIT])
def test_other_parent_at_sealed_height_names_both_parents(mode: Mode) -> None:
    d = decide(mode, 8, [rec(10, 1, P1)], prop(10, 2, P2))
    assert not d.allowed
    assert "0x" + P1.hex() in d.reason and "0x" + P2.hex() in d.reason
    assert "equivocation" in d.reason


def test_same_seal_hash_claimed_on_another_parent_is_equivocation() -> None:
    d = decide(Mode.RESUBMIT, 8, [rec(10, 1, P1)], prop(10, 1, P2))
    assert not d.allowed and "equivocation" in d.reason


def test_strict_refuses_a_second_seal_hash_on_the_same_parent() -> None:
    d = decide(Mode.STRICT, 8, [rec(10, 1)], prop(10, 2))
    assert not d.allowed
    assert "strict" in d.reason and h(1).hex() in d.reason and h(2).hex() in d.reason


def test_resubmit_allows_exactly_the_bound_of_reseals() -> None:
    records = [rec(10, 0)]
    for seal in range(1, 9):  # 8 re-seals after the first seal
        d = decide(Mode.RESUBMIT, 8, records, prop(10, seal))
        assert d.allowed and d.record, seal
        records.append(rec(10, seal))
    ninth = decide(Mode.RESUBMIT, 8, records, prop(10, 99))
    assert not ninth.allowed and "already sealed 9 times" in ninth.reason
    again = decide(Mode.RESUBMIT, 8, records, prop(10, 5))
    assert again.allowed and not again.record  # an earlier header asked again still passes


def test_resubmits_zero_behaves_like_strict_for_new_hashes() -> None:
    assert not decide(Mode.RESUBMIT, 0, [rec(10, 1)], prop(10, 2)).allowed
    assert decide(Mode.RESUBMIT, 0, [rec(10, 1)], prop(11, 2)).allowed


def test_off_allows_everything_and_records_nothing() -> None:
    records = [rec(10, 1, P1)]
    for p in (prop(3, 1), prop(10, 2, P2), prop(11, 3)):
        d = decide(Mode.OFF, 0, records, p)
        assert d.allowed and not d.record


def test_other_keys_do_not_interfere() -> None:
    records = [rec(50, 1, signer=OTHER), rec(60, 1, chain=CHAIN + 1)]
    d = decide(Mode.STRICT, 8, records, prop(10, 1))
    assert d.allowed and d.record


def test_proposal_validation() -> None:
    p = make_proposal(1, "0x" + "AB" * 20, 0, h(1), P1)
    assert p.signer == SIGNER
    with pytest.raises(ValueError, match="32 bytes"):
        make_proposal(1, SIGNER, 1, b"\x01" * 31, P1)
    with pytest.raises(ValueError, match="height"):
        make_proposal(1, SIGNER, MAX_INT64 + 1, h(1), P1)
    with pytest.raises(ValueError, match="height"):
        make_proposal(1, SIGNER, -1, h(1), P1)
    with pytest.raises(ValueError, match="chain id"):
        make_proposal(-1, SIGNER, 1, h(1), P1)
    with pytest.raises(ValueError, match="signer"):
        normalize_signer("0x1234")


def test_parse_mode() -> None:
    assert parse_mode("Strict") is Mode.STRICT
    assert parse_mode(" off ") is Mode.OFF
    with pytest.raises(ValueError, match=r"strict\|resubmit\|off"):
        parse_mode("loose")


def test_record_renders_on_one_line() -> None:
    line = str(SealRecord(CHAIN, SIGNER, 10, h(1), P2, sealed_at=1.7e9))
    assert line.startswith(
        f"chain={CHAIN} signer={SIGNER} height=10 seal=0x{h(1).hex()} parent=0x{P2.hex()} at="
    )
    assert "\n" not in line and str(SealRecord(CHAIN, SIGNER, 1, h(1), P1)).endswith("at=-")
