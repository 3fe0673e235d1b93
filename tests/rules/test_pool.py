"""RuleEngine's worker pool: parallel calls, the storage lock, fresh contexts and failures per worker."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from signer.approval.rules import MemoryStorage, RuleEngine
from signer.errors import RulesError
from tests.rules.helpers import engine

BUSY = "function busy(ms) { var t = Date.now(); while (Date.now() - t < ms) {} }\n"


def concurrently(*calls: Callable[[], object]) -> tuple[list[object], float]:
    """Run the calls on one thread each; their results (or exceptions) and the elapsed time."""
    results: list[object] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            results[index] = calls[index]()
        except BaseException as err:
            results[index] = err

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, time.monotonic() - started


def warm(eng: RuleEngine) -> None:
    """Wait until every worker has started, so start-up time does not count in a timing."""
    for worker in eng._workers:
        worker.wait_ready()


def after(delay: float, call: Callable[[], object]) -> Callable[[], object]:
    def delayed() -> object:
        time.sleep(delay)
        return call()

    return delayed


def test_storage_read_modify_write_loses_no_update_across_workers() -> None:
    # The rule pauses between get and put, and names storage only through a computed property,
    # so the lock has to follow what the call does, not what the source text says.
    source = BUSY + (
        "function Inc() { var s = globalThis['stor' + 'age']; var n = +s.get('n');"
        " busy(2); s.put('n', n + 1); return 'ok'; }"
    )
    store = MemoryStorage()
    with engine(source, store) as (eng, _):
        results, _ = concurrently(*[lambda: [eng.call("Inc", {}) for _ in range(15)]] * 8)
    assert results == [["ok"] * 15] * 8
    assert store.snapshot() == {"n": "120"}


def test_calls_that_touch_storage_take_turns() -> None:
    source = BUSY + "function Slow() { storage.get('k'); busy(200); return 'done'; }"
    with engine(source) as (eng, _):
        warm(eng)
        results, elapsed = concurrently(lambda: eng.call("Slow", {}), lambda: eng.call("Slow", {}))
    assert results == ["done", "done"]
    assert elapsed >= 0.4


def test_storage_free_calls_run_in_parallel() -> None:
    source = BUSY + "function Slow() { busy(200); return 'done'; }"
    with engine(source) as (eng, _):
        warm(eng)
        results, elapsed = concurrently(lambda: eng.call("Slow", {}), lambda: eng.call("Slow", {}))
    assert results == ["done", "done"]
    assert elapsed < 0.33


def test_waiting_for_the_storage_lock_does_not_count_against_the_deadline() -> None:
    source = BUSY + "function Hold(r) { storage.get('k'); busy(r.ms); return 'done'; }"
    with engine(source, timeout=2.0) as (eng, _):
        warm(eng)
        # The second call waits ~1.4 s for the first's turn at storage, then runs 0.8 s of its own.
        results, elapsed = concurrently(
            lambda: eng.call("Hold", {"ms": 1500}), after(0.1, lambda: eng.call("Hold", {"ms": 800}))
        )
    assert results == ["done", "done"]
    assert elapsed > 2.2


def test_no_global_survives_into_a_later_call_on_any_worker() -> None:
    source = """
    var seen = [typeof leaked, typeof Object.prototype.polluted, typeof loads, typeof Math.max].join(',');
    var loads = 1;
    function Leak() {
        globalThis.leaked = 1;
        Object.prototype.polluted = 1;
        Math.max = null;
        return seen;
    }
    """
    fresh = "undefined,undefined,undefined,function"
    with engine(source) as (eng, _):
        assert [eng.call("Leak", {}) for _ in range(8)] == [fresh] * 8
        results, _ = concurrently(*[lambda: [eng.call("Leak", {}) for _ in range(10)]] * 4)
        assert results == [[fresh] * 10] * 4
        time.sleep(0.2)  # every worker has refilled its spare contexts
        assert [eng.call("Leak", {}) for _ in range(4)] == [fresh] * 4


def test_a_looping_call_blocks_neither_the_other_worker_nor_recovery() -> None:
    source = "function Loop() { for (;;) {} }\nfunction Ok() { return 'Approve'; }"
    with engine(source, timeout=1.5) as (eng, _):
        warm(eng)
        before = {worker.process.pid for worker in eng._workers}
        failures: list[str] = []

        def loop() -> None:
            try:
                eng.call("Loop", {})
            except RulesError as err:
                failures.append(str(err))

        looping = threading.Thread(target=loop)
        looping.start()
        time.sleep(0.2)  # the loop now occupies one worker
        started = time.monotonic()
        assert [eng.call("Ok", {}) for _ in range(5)] == ["Approve"] * 5
        assert time.monotonic() - started < 0.5
        looping.join()
        assert failures == ["rule Loop timed out after 1.5s"]
        assert [eng.call("Ok", {}) for _ in range(4)] == ["Approve"] * 4
        after = {worker.process.pid for worker in eng._workers}
    # Exactly the looping worker was replaced, and it was reaped, not left as a zombie.
    assert len(after) == 2 and len(before - after) == 1
    assert not Path(f"/proc/{(before - after).pop()}").exists()


def test_every_worker_has_the_memory_cap_and_close_reaps_them_all() -> None:
    eng = RuleEngine("function F() { return 'x'; }", MemoryStorage(), address_space=300 * 1024 * 1024)
    workers = eng._workers
    assert len(workers) == 2
    warm(eng)
    for worker in workers:
        limits = Path(f"/proc/{worker.process.pid}/limits").read_text()
        assert "Max address space         314572800            314572800" in limits
    eng.close()
    assert all(worker.process.returncode is not None for worker in workers)
    assert not any(Path(f"/proc/{worker.process.pid}").exists() for worker in workers)
    with pytest.raises(RulesError, match="closed"):
        eng.call("F", {})


def test_close_waits_for_the_call_in_flight() -> None:
    source = BUSY + "function Slow() { busy(300); return 'done'; }"
    eng = RuleEngine(source, MemoryStorage())
    results, _ = concurrently(lambda: eng.call("Slow", {}), after(0.1, eng.close))
    assert results[0] == "done"
    assert eng._workers == []


def test_pool_size_is_configurable() -> None:
    with pytest.raises(ValueError, match="at least one worker"):
        RuleEngine("", MemoryStorage(), workers=0)
    eng = RuleEngine("function F() { return 'one'; }", MemoryStorage(), workers=1)
    try:
        assert len(eng._workers) == 1
        assert [eng.call("F", {}) for _ in range(3)] == ["one"] * 3
    finally:
        eng.close()


def test_bignumber_is_there_for_a_rule_that_does_not_name_it() -> None:
    # Such a file gets BigNumber compiled on first use; it must look the same when it comes.
    source = """
    var name = 'Big' + 'Number', keys = Object.keys(globalThis).join(',');
    function Use() {
        var B = globalThis[name];
        return [new B('ff', 16).times(3).toString(10), keys, JSON.stringify(Object.getOwnPropertyDescriptor(globalThis, name))].join(' ');
    }
    function Replace() { globalThis[name] = 5; return globalThis[name]; }
    """
    with engine(source) as (eng, _):
        assert eng.call("Use", {}) == (
            '765 performance,console,storage,BigNumber,name,keys,Use,Replace {"writable":true,"enumerable":true,"configurable":true}'
        )
        assert eng.call("Replace", {}) == "5"
