"""The decision table of docs/seal-guard.md, row by row, on the pure policy (clock passed in)."""

from __future__ import annotations

import pytest

from signer.clique.guard.policy import (
    DEFAULT_CLOCK_SLACK,
    DEFAULT_MAX_FUTURE,
    MAX_INT64,
    Limits,
    Mode,
    Proposal,
    SealRecord,
    check_instance,
    decide,
    make_proposal,
    normalize_signer,
    parse_mode,
)

CHAIN = 1337
SIGNER = "0x" + "ab" * 20
OTHER = "0x" + "cd" * 20
P1, P2 = b"\x01" * 32, b"\x02" * 32
NOW = 1_700_000_000.0
T = int(NOW)  # a header stamped now
ME, PEER = "node-a", "node-b"
LIMITS = Limits()
GUARDED = [Mode.STRICT, Mode.RESUBMIT]


def h(n: int) -> bytes:
    return n.to_bytes(32, "big")


def rec(
    height: int,
    seal: int,
    parent: bytes = P1,
    *,
    signer: str = SIGNER,
    chain: int = CHAIN,
    time: int | None = T,
    at: float = NOW - 5,
    instance: str | None = ME,
) -> SealRecord:
    return SealRecord(chain, signer, height, h(seal), parent, at, time, instance)


def prop(height: int, seal: int, parent: bytes = P1, *, time: int = T, instance: str = ME) -> Proposal:
    return make_proposal(CHAIN, SIGNER, height, h(seal), parent, time, instance)


def run(mode: Mode, records: list[SealRecord], p: Proposal, now: float = NOW, limits: Limits = LIMITS):
    return decide(mode, limits, records, p, now)


# --- new heights, rollbacks, forks: unchanged from the first guard ----------------------------


@pytest.mark.parametrize("mode", GUARDED)
def test_first_seal_and_higher_heights_are_recorded(mode: Mode) -> None:
    first = run(mode, [], prop(10, 1))
    assert first.allowed and first.record and first.at == NOW
    later = run(mode, [rec(10, 1, time=T - 4)], prop(12, 2, P2))  # heights skip: other signers' slots
    assert later.allowed and later.record


@pytest.mark.parametrize("mode", GUARDED)
def test_rollback_is_refused_with_reset_hint(mode: Mode) -> None:
    d = run(mode, [rec(9, 1), rec(10, 2)], prop(9, 1))
    assert not d.allowed and not d.record
    assert "height 10 is already sealed" in d.reason
    assert f"sealward guard reset --chainid {CHAIN} --signer {SIGNER} --height 9" in d.reason


@pytest.mark.parametrize("mode", GUARDED)
def test_identical_header_again_is_allowed_and_not_recorded(mode: Mode) -> None:
    # Even long after its time and right after the first seal: it is the same header.
    d = run(mode, [rec(10, 1, time=T - 3600, at=NOW - 0.01)], prop(10, 1, time=T - 3600))
    assert d.allowed and not d.record


def test_strict_refuses_another_parent_and_names_both() -> None:
    d = run(Mode.STRICT, [rec(10, 1, P1)], prop(10, 2, P2))
    assert not d.allowed and "strict" in d.reason
    assert "0x" + P1.hex() in d.reason and "0x" + P2.hex() in d.reason


# --- another parent at the top height: geth switching between sibling blocks ------------------


def test_one_switch_to_another_parent_is_allowed_after_a_reorg() -> None:
    """Both sealers allowed at height 8 had sealed it on one sibling of block 7 when the network
    settled on the other: refusing them both halted a three-sealer chain."""
    d = run(Mode.RESUBMIT, [rec(10, 1, P1)], prop(10, 2, P2))
    assert d.allowed and d.record and "switched forks" in d.reason
    same_hash = run(Mode.RESUBMIT, [rec(10, 1, P1)], prop(10, 1, P2))  # a hash commits to its parent,
    assert same_hash.allowed  # so the same hash on another parent is a different header: a switch


def test_a_third_parent_at_one_height_is_refused() -> None:
    d = run(Mode.RESUBMIT, [rec(10, 1, P1), rec(10, 2, P2)], prop(10, 3, b"\x03" * 32))
    assert not d.allowed and "equivocation" in d.reason and "at most 2 parents per height" in d.reason
    assert "0x" + P1.hex() in d.reason and "0x" + P2.hex() in d.reason


def test_after_a_switch_both_parents_take_fresh_reseals() -> None:
    switched = [rec(10, 1, P1), rec(10, 2, P2)]
    assert run(Mode.RESUBMIT, switched, prop(10, 3, P1)).allowed
    assert run(Mode.RESUBMIT, switched, prop(10, 4, P2)).allowed


@pytest.mark.parametrize(("since", "allowed"), [(15, False), (16, True), (1, False)])
def test_switches_are_at_least_fork_switch_heights_apart(since: int, allowed: bool) -> None:
    top = 100
    records = [rec(top - since, 7, P1), rec(top - since, 8, P2), rec(top, 1, P1)]
    d = run(Mode.RESUBMIT, records, prop(top, 2, P2), limits=Limits(fork_switch=16))
    assert d.allowed is allowed, d.reason
    if not allowed:
        assert f"already switched forks at height {top - since}" in d.reason
        assert "--seal-guard-fork-switch" in d.reason


def test_fork_switch_zero_never_switches() -> None:
    d = run(Mode.RESUBMIT, [rec(10, 1, P1)], prop(10, 2, P2), limits=Limits(fork_switch=0))
    assert not d.allowed and "equivocation" in d.reason and "--seal-guard-fork-switch 0" in d.reason


def test_a_switch_needs_a_fresh_header() -> None:
    d = run(Mode.RESUBMIT, [rec(10, 1, P1)], prop(10, 2, P2, time=T - 60))
    assert not d.allowed and "on another parent" in d.reason and "60 s behind" in d.reason
    assert "0x" + P1.hex() in d.reason


def test_limits_window_covers_the_switch_spacing() -> None:
    assert Limits(fork_switch=16).window == 16 and Limits(fork_switch=0).window == 1


def test_by_default_a_key_may_switch_at_consecutive_heights() -> None:
    """Honest reorgs come in bursts; the default spacing must not turn one into a halt."""
    records = [rec(99, 7, P1), rec(99, 8, P2), rec(100, 1, P1)]
    assert Limits().fork_switch == 1
    assert run(Mode.RESUBMIT, records, prop(100, 2, P2)).allowed
    third = run(Mode.RESUBMIT, [*records, rec(100, 2, P2)], prop(100, 3, b"\x03" * 32))
    assert not third.allowed and "at most 2 parents per height" in third.reason


def test_strict_refuses_a_second_seal_hash_on_the_same_parent() -> None:
    d = run(Mode.STRICT, [rec(10, 1)], prop(10, 2))
    assert not d.allowed
    assert "strict" in d.reason and h(1).hex() in d.reason and h(2).hex() in d.reason


def test_off_allows_everything_and_records_nothing() -> None:
    records = [rec(10, 1, P1)]
    for p in (prop(3, 1), prop(10, 2, P2), prop(11, 3), prop(10**9, 4, time=T + 10**6)):
        d = run(Mode.OFF, records, p)
        assert d.allowed and not d.record


def test_other_keys_do_not_interfere() -> None:
    records = [rec(50, 1, signer=OTHER), rec(60, 1, chain=CHAIN + 1)]
    d = run(Mode.STRICT, records, prop(10, 1))
    assert d.allowed and d.record


# --- re-seals on the same parent: bounded by time, not by count -------------------------------


def test_a_period_20_height_resealed_every_second_is_never_refused() -> None:
    """geth at period 20 s, recommit 1 s: ~20 re-seals of one height with one timestamp (the
    first guard allowed 9 and halted the chain)."""
    header_time = T + 20  # Prepare: parent.time + period, 20 s ahead of the first request
    records: list[SealRecord] = []
    for second in range(21):
        now = NOW + second
        d = run(Mode.RESUBMIT, records, prop(10, second, time=header_time), now=now)
        assert d.allowed and d.record, (second, d.reason)
        records.append(rec(10, second, time=header_time, at=now))


def test_reseal_after_a_restart_with_a_new_timestamp_is_allowed() -> None:
    d = run(Mode.RESUBMIT, [rec(10, 1, time=T - 40, at=NOW - 38)], prop(10, 2, time=T))
    assert d.allowed and d.record


def test_reseals_close_together_are_allowed() -> None:
    """Two honest re-seals reached the guard 0.36 s apart on a loaded machine (geth's recommit timer
    runs from the start of the previous filling, and signing latency varies): no spacing rule."""
    records = [rec(10, 1, at=NOW - 0.3), rec(10, 2, at=NOW - 0.01)]
    d = run(Mode.RESUBMIT, records, prop(10, 3))
    assert d.allowed and d.record


@pytest.mark.parametrize(
    ("behind", "allowed"),
    [(0, True), (DEFAULT_CLOCK_SLACK, True), (DEFAULT_CLOCK_SLACK + 1, False), (3600, False)],
)
def test_reseal_needs_a_fresh_header_time_within_the_clock_slack(behind: int, allowed: bool) -> None:
    d = run(Mode.RESUBMIT, [rec(10, 1, time=T - 3600, at=NOW - 60)], prop(10, 2, time=T - behind))
    assert d.allowed is allowed, d.reason
    if not allowed:
        assert f"{behind} s behind" in d.reason and "--seal-guard-clock-slack" in d.reason


def test_clock_slack_is_a_setting() -> None:
    records = [rec(10, 1, at=NOW - 60)]
    assert not run(Mode.RESUBMIT, records, prop(10, 2, time=T - 30)).allowed
    assert run(Mode.RESUBMIT, records, prop(10, 2, time=T - 30), limits=Limits(clock_slack=30)).allowed


def test_reseal_in_the_near_future_is_allowed() -> None:
    """An honest header is up to one period ahead of the clock while geth waits for its slot."""
    d = run(Mode.RESUBMIT, [rec(10, 1, time=T + 15, at=NOW - 1)], prop(10, 2, time=T + 15))
    assert d.allowed and d.record


# --- poisoning: headers from the future and height jumps the timestamps cannot explain --------


@pytest.mark.parametrize("mode", GUARDED)
@pytest.mark.parametrize("records", [[], [rec(10, 1)]], ids=["empty", "after-10"])
def test_a_header_beyond_max_future_is_refused_everywhere(mode: Mode, records: list[SealRecord]) -> None:
    too_far = prop(11, 2, time=T + DEFAULT_MAX_FUTURE + 1)
    d = run(mode, records, too_far)
    assert not d.allowed and not d.record
    assert "61 s ahead" in d.reason and "--seal-guard-max-future" in d.reason
    at_bound = run(mode, records, prop(11, 2, time=T + DEFAULT_MAX_FUTURE))
    assert at_bound.allowed


def test_max_future_is_a_setting() -> None:
    p = prop(11, 2, time=T + 90)
    assert not run(Mode.RESUBMIT, [], p).allowed
    assert run(Mode.RESUBMIT, [], p, limits=Limits(max_future=120)).allowed


def test_a_height_jump_is_bounded_by_the_time_since_the_top_seal() -> None:
    records = [rec(100, 1, time=T - 50)]
    # 50 s since the top header + 10 s slack: up to 60 heights further at one block per second.
    assert run(Mode.RESUBMIT, records, prop(161, 2, P2)).allowed
    d = run(Mode.RESUBMIT, records, prop(162, 2, P2))
    assert not d.allowed and "cannot reach height 162" in d.reason and "highest reachable: 161" in d.reason


def test_an_absurd_height_right_after_a_seal_is_refused() -> None:
    d = run(Mode.STRICT, [rec(100, 1)], prop(MAX_INT64, 2, P2))
    assert not d.allowed and not d.record


def test_the_next_height_is_always_allowed_even_with_an_older_time() -> None:
    """After a reorg our next seal may carry a smaller time than the top record's."""
    d = run(Mode.RESUBMIT, [rec(100, 1, time=T + 20)], prop(101, 2, P2, time=T))
    assert d.allowed and d.record


def test_the_jump_bound_uses_the_newest_header_time_at_the_top() -> None:
    records = [rec(100, 1, time=T - 100), rec(100, 2, time=T - 10)]
    assert not run(Mode.RESUBMIT, records, prop(150, 3, P2)).allowed  # from T-10: 21 heights at most
    assert run(Mode.RESUBMIT, records, prop(121, 3, P2)).allowed


# --- records written before header times and instances were stored (migration) ---------------


def test_legacy_records_do_not_bound_height_jumps() -> None:
    legacy = [rec(100, 1, time=None, instance=None)]
    assert run(Mode.RESUBMIT, legacy, prop(100_000, 2, P2)).allowed


def test_legacy_records_still_refuse_rollbacks_and_stale_forks() -> None:
    legacy = [rec(100, 1, time=None, instance=None)]
    assert not run(Mode.RESUBMIT, legacy, prop(99, 2)).allowed
    assert "behind" in run(Mode.RESUBMIT, legacy, prop(100, 2, P2, time=T - 60)).reason
    assert not run(Mode.STRICT, legacy, prop(100, 2, P2)).allowed


def test_a_legacy_record_belongs_to_no_instance_so_any_instance_may_reseal_it() -> None:
    """After an upgrade the single-sealer chain must go on: the top height gets a re-seal."""
    legacy = [rec(100, 1, time=None, instance=None, at=NOW - 3)]
    d = run(Mode.RESUBMIT, legacy, prop(100, 2, instance=PEER))
    assert d.allowed and d.record


# --- instances sharing one key and one guard ----------------------------------------------------


@pytest.mark.parametrize("mode", GUARDED)
def test_another_instances_height_is_never_sealed(mode: Mode) -> None:
    owned = [rec(10, 1, instance=PEER, at=NOW - 5)]
    for p in (prop(10, 2, instance=ME), prop(10, 1, instance=ME)):  # a re-seal, the same header
        d = run(mode, owned, p)
        assert not d.allowed and not d.record
        assert f"sealed by signer instance {PEER}, not by this one ({ME})" in d.reason


def test_the_next_height_goes_to_whichever_instance_asks_first() -> None:
    d = run(Mode.RESUBMIT, [rec(10, 1, instance=PEER)], prop(11, 2, P2, instance=ME))
    assert d.allowed and d.record


def test_the_owner_keeps_resealing_its_height() -> None:
    d = run(Mode.RESUBMIT, [rec(10, 1, instance=ME)], prop(10, 2, instance=ME))
    assert d.allowed and d.record


def test_a_stored_instance_that_is_not_a_valid_id_is_quoted_in_messages() -> None:
    owned = [rec(10, 1, instance="evil\x1b[2J")]
    d = run(Mode.RESUBMIT, owned, prop(10, 2))
    assert "\x1b" not in d.reason and "'evil\\x1b[2J'" in d.reason
    assert "\x1b" not in str(owned[0])


# --- values -------------------------------------------------------------------------------------


def test_proposal_validation() -> None:
    p = make_proposal(1, "0x" + "AB" * 20, 0, h(1), P1, 0, ME)
    assert p.signer == SIGNER
    with pytest.raises(ValueError, match="32 bytes"):
        make_proposal(1, SIGNER, 1, b"\x01" * 31, P1, T, ME)
    with pytest.raises(ValueError, match="height"):
        make_proposal(1, SIGNER, MAX_INT64 + 1, h(1), P1, T, ME)
    with pytest.raises(ValueError, match="height"):
        make_proposal(1, SIGNER, -1, h(1), P1, T, ME)
    with pytest.raises(ValueError, match="chain id"):
        make_proposal(-1, SIGNER, 1, h(1), P1, T, ME)
    with pytest.raises(ValueError, match="header time"):
        make_proposal(1, SIGNER, 1, h(1), P1, 2**64 - 1, ME)
    with pytest.raises(ValueError, match="instance"):
        make_proposal(1, SIGNER, 1, h(1), P1, T, "a b")
    with pytest.raises(ValueError, match="signer"):
        normalize_signer("0x1234")


@pytest.mark.parametrize("bad", ["", "x" * 65, "a/b", "node\n", "nöde"])
def test_instance_ids_are_short_and_printable(bad: str) -> None:
    with pytest.raises(ValueError, match="instance id"):
        check_instance(bad)
    assert check_instance("host-1.example:7") == "host-1.example:7"


def test_limits_are_bounded() -> None:
    with pytest.raises(ValueError):
        Limits(max_future=-1)
    with pytest.raises(ValueError):
        Limits(clock_slack=10**6)


def test_parse_mode() -> None:
    assert parse_mode("Strict") is Mode.STRICT
    assert parse_mode(" off ") is Mode.OFF
    with pytest.raises(ValueError, match=r"strict\|resubmit\|off"):
        parse_mode("loose")


def test_record_renders_on_one_line() -> None:
    line = str(SealRecord(CHAIN, SIGNER, 10, h(1), P2, 1.7e9, 1_699_999_999, ME))
    assert line.startswith(
        f"chain={CHAIN} signer={SIGNER} height=10 seal=0x{h(1).hex()} parent=0x{P2.hex()} "
        f"time=1699999999 instance={ME} at="
    )
    legacy = str(SealRecord(CHAIN, SIGNER, 1, h(1), P1))
    assert "\n" not in line and legacy.endswith("time=- instance=- at=-")
