"""RuleEngine against a real spawned dukpy worker: sandbox, limits, storage and console (§4.3)."""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from signer.approval.rules import MemoryStorage, RuleEngine, evaluate_offline
from signer.approval.rules.storage import ClefStorage
from signer.errors import RulesError
from tests.rules.helpers import engine, ruleset

TRANSACTION: dict[str, Any] = {
    "from": "0x8A8eAFb1cf62BfBeb1741769DAE1a9dd47996192",
    "to": "0x0000000000000000000000000000000000001337",
    "gas": "0x5208",
    "gasPrice": None,
    "maxFeePerGas": "0x3b9aca00",
    "maxPriorityFeePerGas": "0x1",
    "value": "0xde0b6b3a7640000",
    "nonce": "0x7",
    "data": "0x",
    "chainId": "0x1",
}
META = {"remote": "NA", "local": "NA", "scheme": "ipc", "User-Agent": "", "Origin": ""}
TX_REQUEST: dict[str, Any] = {"transaction": TRANSACTION, "call_info": None, "meta": META}


def tx_request(**fields: str) -> dict[str, Any]:
    return {**TX_REQUEST, "transaction": {**TRANSACTION, **fields}}


def test_request_reaches_the_rule_as_the_same_json() -> None:
    source = "function ApproveTx(req) { storage.put('seen', JSON.stringify(req)); return 'Approve'; }"
    store = MemoryStorage()
    with engine(source, store) as (eng, _):
        assert eng.call("ApproveTx", TX_REQUEST) == "Approve"
    assert json.loads(store.snapshot()["seen"]) == TX_REQUEST


def test_result_is_javascript_string_conversion() -> None:
    source = """
    function Undef() {}
    function Num() { return 42; }
    function Obj() { return {}; }
    function Arr() { return ['Appr', 'ove']; }
    """
    with engine(source) as (eng, _):
        assert eng.call("Undef", {}) == "undefined"
        assert eng.call("Num", {}) == "42"
        assert eng.call("Obj", {}) == "[object Object]"
        assert eng.call("Arr", {}) == "Appr,ove"


def test_fresh_context_per_call() -> None:
    source = """
    var loads = (typeof loads === 'undefined') ? 1 : loads + 1;
    function ApproveTx() {
        globalThis.calls = (globalThis.calls || 0) + 1;
        Array.prototype.polluted = (Array.prototype.polluted || 0) + 1;
        return [loads, calls, [].polluted].join(' ');
    }
    """
    with engine(source) as (eng, _):
        assert [eng.call("ApproveTx", {}) for _ in range(3)] == ["1 1 1"] * 3


def test_sandbox_exposes_only_console_storage_and_bignumber() -> None:
    source = """
    var names = ['require', 'process', 'Duktape', 'module', 'exports', 'define', 'call_python', 'dukpy',
                 'std', 'os', 'print', 'scriptArgs'];
    function Probe() {
        var out = {};
        names.forEach(function (n) { out[n] = eval('typeof ' + n); });
        out.console = typeof console.log + typeof console.error;
        out.storage = typeof storage.get + typeof storage.put;
        out.BigNumber = typeof BigNumber;
        return JSON.stringify(out);
    }
    """
    with engine(source) as (eng, _):
        seen = json.loads(eng.call("Probe", {}))
    assert {k: v for k, v in seen.items() if v != "undefined"} == {
        "console": "functionfunction",
        "storage": "functionfunction",
        "BigNumber": "function",
    }


def test_no_module_loading_or_file_access(tmp_path: Path) -> None:
    # import() is the only door QuickJS itself has to files; dukpy's loader is not installed.
    secret = tmp_path / "secret.js"
    secret.write_text("globalThis.leaked = 1; export default 1;")
    source = f"""
    var outcome = [];
    ['qjs:std', 'qjs:os', {json.dumps(str(secret))}, '/etc/passwd'].forEach(function (m) {{
        import(m).then(function () {{ outcome.push('loaded ' + m); }}, function () {{ outcome.push('blocked'); }});
    }});
    function Probe() {{ return outcome.join(',') + ' ' + typeof leaked; }}
    """
    with engine(source) as (eng, _):
        assert eng.call("Probe", {}) == "blocked,blocked,blocked,blocked undefined"


def test_worker_has_no_environment_and_no_inherited_files() -> None:
    os.environ["SEALWARD_TEST_SECRET"] = "hunter2"
    try:
        with engine("function F() { return 'x'; }") as (eng, _):
            eng.call("F", {})
            workers = eng._workers
            assert len(workers) == 2
            for worker in workers:
                worker.wait_ready()  # past interpreter start-up, which opens files briefly
                pid = worker.process.pid
                assert Path(f"/proc/{pid}/environ").read_bytes() == b""
                assert sorted(int(fd) for fd in os.listdir(f"/proc/{pid}/fd")) == [0, 1, 2]
    finally:
        del os.environ["SEALWARD_TEST_SECRET"]


def test_errors_are_rules_errors_with_a_clear_message() -> None:
    source = (
        "function Throws() { throw new TypeError('bad request shape'); }\nfunction Ok() { return 'fine'; }"
    )
    with engine(source) as (eng, _):
        with pytest.raises(RulesError, match="Throws failed: TypeError: bad request shape"):
            eng.call("Throws", {})
        with pytest.raises(RulesError, match="ReferenceError: ApproveTx is not defined"):
            eng.call("ApproveTx", {})
        with pytest.raises(RulesError, match="invalid rule function name"):
            eng.call("ApproveTx(1);x", {})
        # The worker survived all of it.
        assert eng.call("Ok", {}) == "fine"


def test_syntax_error_fails_every_call() -> None:
    with engine("function ApproveTx( { return 'Approve' }") as (eng, _):
        for _ in range(2):
            with pytest.raises(RulesError, match="rule file failed: SyntaxError"):
                eng.call("ApproveTx", {})


def test_infinite_loop_is_stopped_at_the_deadline_and_the_next_call_works() -> None:
    source = "function Loop() { for (;;) {} }\nfunction Ok() { return 'Approve'; }"
    with engine(source, timeout=1.0) as (eng, _):
        started = time.monotonic()
        with pytest.raises(RulesError, match="timed out after 1s"):
            eng.call("Loop", {})
        assert 0.9 < time.monotonic() - started < 3.0
        assert eng.call("Ok", {}) == "Approve"


def test_loop_at_top_level_and_in_a_catch_all_is_still_stopped() -> None:
    source = "while (true) { try { for (;;) {} } catch (e) {} }\nfunction Ok() { return 'Approve'; }"
    with engine(source, timeout=0.5) as (eng, _), pytest.raises(RulesError, match="timed out"):
        eng.call("Ok", {})


def test_memory_bomb_is_stopped_and_the_next_call_works() -> None:
    source = """
    function Bomb() { var a = []; for (;;) a.push(new Array(1 << 16).join('x') + a.length); }
    function Ok() { return 'Approve'; }
    """
    with engine(source, timeout=20.0) as (eng, _):
        started = time.monotonic()
        with pytest.raises(RulesError, match="out of memory"):
            eng.call("Bomb", {})
        assert time.monotonic() - started < 20.0
        assert eng.call("Ok", {}) == "Approve"


def test_oversized_output_fails_the_call_not_the_signer() -> None:
    source = """
    function Shout() { console.log('x'.repeat(20 * 1024 * 1024)); return 'Approve'; }
    function Hoard() { storage.put('k', 'y'.repeat(20 * 1024 * 1024)); return 'Approve'; }
    function Deep() { function f(n) { return f(n + 1) + 1; } return f(0); }
    function Ok() { return 'Approve'; }
    """
    store = MemoryStorage()
    with engine(source, store) as (eng, console):
        for function in ("Shout", "Hoard"):
            with pytest.raises(RulesError, match="oversized message"):
                eng.call(function, {})
            assert eng.call("Ok", {}) == "Approve"
        with pytest.raises(
            RulesError, match=r"^Deep failed: RangeError: Maximum call stack size exceeded \(at f "
        ):
            eng.call("Deep", {})
    assert console == [] and store.snapshot() == {}


def test_an_interrupted_call_never_answers_the_next_one() -> None:
    class Interrupt(BaseException):
        pass

    interrupts = [Interrupt()]

    def console(line: str) -> None:
        if interrupts:
            raise interrupts.pop()

    source = (
        "function First() { console.log('x'); return 'Approve'; }\nfunction Second() { return 'Reject'; }"
    )
    eng = RuleEngine(source, MemoryStorage(), on_console=console)
    try:
        with pytest.raises(Interrupt):
            eng.call("First", {})
        # The first call's "Approve" is still on its way; a fresh worker answers instead.
        assert eng.call("Second", {}) == "Reject"
    finally:
        eng.close()


def test_storage_persists_across_calls() -> None:
    source = "function Count() { var n = +storage.get('n') + 1; storage.put('n', n); return n; }"
    store = MemoryStorage()
    with engine(source, store) as (eng, _):
        assert [eng.call("Count", {}) for _ in range(3)] == ["1", "2", "3"]
    assert store.snapshot() == {"n": "3"}


def test_storage_has_clef_semantics() -> None:
    source = """
    function Run() {
        var r = [storage.put('arr', [1, 2]), storage.put('obj', {}), storage.put('undef', undefined),
                 storage.put(7, 8), storage.put('', 'ignored'), storage.put('gone', '')];
        r.push(storage.get('missing') === '', storage.get('') === '', storage.get(7) === '8');
        return JSON.stringify(r);
    }
    """
    store = MemoryStorage({"gone": "old"})
    with engine(source, store) as (eng, _):
        assert json.loads(eng.call("Run", {})) == [None] * 6 + [True, True, True]
    assert store.snapshot() == {"arr": "1,2", "obj": "[object Object]", "undef": "undefined", "7": "8"}


def test_storage_errors_read_as_empty_and_writes_are_swallowed() -> None:
    class Broken:
        def get(self, key: str) -> str | None:
            raise OSError("vault unreadable")

        def apply(self, changes: Mapping[str, str | None]) -> None:
            raise OSError("disk full")

        def sizes(self) -> dict[str, int]:
            raise OSError("vault unreadable")

    store = ClefStorage(Broken())
    assert store.get("k") == ""
    store.put("k", "v")
    store.put("k", "")


def test_concurrent_calls_lose_no_storage_update() -> None:
    source = "function Inc() { storage.put('counter', +(storage.get('counter') || 0) + 1); return 'ok'; }"
    store = MemoryStorage()
    errors: list[BaseException] = []
    with engine(source, store) as (eng, _):

        def worker() -> None:
            try:
                for _ in range(25):
                    assert eng.call("Inc", {}) == "ok"
            except BaseException as err:
                errors.append(err)

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    assert store.snapshot() == {"counter": "200"}


def test_console_lines_use_clefs_format() -> None:
    source = "function Log() { console.log('hello', 5, [1, 2], null); console.error('oops'); console.log(); }"
    with engine(source) as (eng, console):
        eng.call("Log", {})
    assert console == ["JS:>  hello 5 1,2 null", "JS:>  oops", "JS:> "]


def test_console_goes_to_stderr_by_default(capfd: pytest.CaptureFixture[str]) -> None:
    eng = RuleEngine("function Log() { console.log('to', 'stderr'); }", MemoryStorage())
    try:
        eng.call("Log", {})
    finally:
        eng.close()
    captured = capfd.readouterr()
    assert "JS:>  to stderr\n" in captured.err
    assert "JS:>" not in captured.out


def test_bignumber_is_available_and_exact_in_the_sandbox() -> None:
    source = "function Big(r) { return new BigNumber(r.a.slice(2), 16).times(r.b).plus(1).toString(10); }"
    with engine(source) as (eng, _):
        assert eng.call("Big", {"a": "0x" + "f" * 64, "b": "3"}) == str((2**256 - 1) * 3 + 1)


def test_closed_engine_refuses_calls() -> None:
    eng = RuleEngine("function F() { return 1; }", MemoryStorage())
    eng.close()
    with pytest.raises(RulesError, match="closed"):
        eng.call("F", {})


def test_weekly_rate_limit_ruleset_with_onapprovedtx() -> None:
    store = MemoryStorage()
    tenth = hex(10**17)
    with engine(ruleset("rate_limit.js"), store) as (eng, console):
        for i in range(10):
            assert eng.call("ApproveTx", tx_request(value=tenth)) == "Approve", i
            eng.call("OnApprovedTx", {"raw": "0x", "tx": {"value": tenth}})
        assert eng.call("ApproveTx", tx_request(value="0x1")) == "Over limit"
    txs = json.loads(store.snapshot()["txs"])
    assert [tx["value"] for tx in txs] == [str(10**17)] * 10
    assert console[-1] == f"JS:>  spent {10**18} requested 1"


def test_offline_evaluation_reports_decision_console_and_storage_changes() -> None:
    source = ruleset("clique_stateful.js")
    request = {
        "content_type": "application/x-clique-header",
        "messages": [{"name": "Clique header", "value": "clique header 12 [0xab]", "type": "clique"}],
    }
    result = evaluate_offline(source, "ApproveSignData", request, storage={"lastblock": "11", "other": "x"})
    assert (result.decision, result.error, result.outcome) == ("Approve", None, "approved")
    assert result.console == ["JS:>  header 12 latest 11"]
    assert result.storage_changes == {"lastblock": "12"}
    assert "outcome:  approved" in result.format()

    again = evaluate_offline(source, "ApproveSignData", request, storage={"lastblock": "12"})
    assert (again.decision, again.outcome, again.storage_changes) == ("Reject", "rejected", {})

    broken = evaluate_offline("function ApproveSignData( {", "ApproveSignData", request)
    assert broken.decision is None and broken.error is not None and "SyntaxError" in broken.error
    assert broken.outcome == "manual (next UI)"

    deleting = evaluate_offline(
        "function OnApprovedTx() { storage.put('k', ''); }", "OnApprovedTx", {}, storage={"k": "v"}
    )
    assert (deleting.outcome, deleting.storage_changes) == ("ignored (notification)", {"k": None})

    with pytest.raises(ValueError, match="unknown rule method"):
        evaluate_offline(source, "ApproveNewAccount", {})


def test_fresh_context_latency_with_a_fifty_line_ruleset() -> None:
    """Median and p99 per call over 1000 calls; printed for the record (pytest -s)."""
    source = ruleset("fifty_lines.js")
    assert len(source.splitlines()) == 50
    request = tx_request(to="0x8a8eafb1cf62bfbeb1741769dae1a9dd47996192", value="0x2386f26fc10000")
    results: dict[str, list[float]] = {}
    with engine(source, MemoryStorage({"txs": '[{"tstamp": 1, "value": "5"}]'})) as (eng, _):
        assert eng.call("ApproveTx", request) == "Approve"
        for label, gap in (("idle between requests", 0.003), ("back to back", 0.0)):
            samples = []
            for _ in range(1000):
                if gap:
                    time.sleep(gap)
                started = time.perf_counter()
                assert eng.call("ApproveTx", request) == "Approve"
                samples.append(time.perf_counter() - started)
            results[label] = samples
    for label, samples in results.items():
        ordered = sorted(samples)
        median, p99 = statistics.median(ordered) * 1e3, ordered[int(len(ordered) * 0.99)] * 1e3
        print(f"\n{label}: median {median:.2f} ms, p99 {p99:.2f} ms")
    # Loose bounds: they catch a regression such as a respawn per call, not machine noise.
    assert statistics.median(results["idle between requests"]) < 0.005
    assert statistics.median(results["back to back"]) < 0.010


ORPHAN_SCRIPT = """
import sys, threading
from signer.approval.rules import MemoryStorage, RuleEngine
engine = RuleEngine("function Loop() { for (;;) {} }", MemoryStorage(), 120.0)
print(*(worker.process.pid for worker in engine._workers), flush=True)
loops = [threading.Thread(target=engine.call, args=("Loop", {})) for _ in engine._workers]
for loop in loops:
    loop.start()
for loop in loops:
    loop.join()
"""


def test_worker_exits_when_the_signer_dies_mid_rule() -> None:
    signer = subprocess.Popen(
        [sys.executable, "-c", ORPHAN_SCRIPT],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    assert signer.stdout is not None
    worker_pids = [int(pid) for pid in signer.stdout.readline().split()]
    assert len(worker_pids) == 2
    try:
        time.sleep(1.0)  # every worker's rule is now looping
        for worker_pid in worker_pids:
            assert worker_state(worker_pid) not in ("gone", "Z")
        signer.kill()
        signer.wait()
        deadline = time.monotonic() + 10
        for worker_pid in worker_pids:
            while worker_state(worker_pid) not in ("gone", "Z") and time.monotonic() < deadline:
                time.sleep(0.1)
            assert worker_state(worker_pid) in ("gone", "Z")
    finally:
        for worker_pid in worker_pids:
            if worker_state(worker_pid) not in ("gone", "Z"):
                os.kill(worker_pid, signal.SIGKILL)  # do not leave a spinning orphan behind


def worker_state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return "gone"
