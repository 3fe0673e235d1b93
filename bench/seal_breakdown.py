"""Where a clique seal's time goes inside the signer, stage by stage, in one process.

    .venv/bin/python -m bench.seal_breakdown [--seals 1000]

The installation is the one ``bench.seal_bench`` uses (CLI-made vault, a SoftHSM key, the
walkthrough's attested clique rules, the SQLite guard, the audit log). The signer is built with
``App`` exactly as ``sealward`` builds it, but called in process: first the whole request through
the dispatcher (JSON-RPC bytes in, bytes out, no socket), then each stage alone on the same kind
of input. "rest" is the whole less the stages: JSON-RPC decoding and encoding, parameter binding,
the UI chain's bookkeeping. The IPC round trip of ``bench.seal_bench`` less this whole is what the
socket and the connection's threads add.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from signer.api.credentials import credential_for
from signer.app import App
from signer.clique.sealing import CliqueChain, request_payload
from signer.codecs.hexutil import MixedcaseAddress
from signer.codecs.signdata import plan_sign_data
from signer.config import Config
from signer.tools.sandbox import SOFTHSM_MODULE, Sandbox
from signer.types import IPC_METADATA

CLIQUE = "application/x-clique-header"


def _median_us(samples: list[float]) -> float:
    return statistics.median(samples) * 1e6 if samples else 0.0


def _mean_us(samples: list[float]) -> float:
    return statistics.fmean(samples) * 1e6 if samples else 0.0


def _timed(samples: list[float], action: Callable[[], object], cpu: list[float] | None = None) -> object:
    begin, begin_cpu = time.perf_counter(), time.process_time()
    result = action()
    samples.append(time.perf_counter() - begin)
    if cpu is not None:
        cpu.append(time.process_time() - begin_cpu)
    return result


def _children_cpu() -> float:
    """CPU seconds used so far by this process's live children (the rule workers)."""
    from bench.seal_bench import tree_cpu_seconds

    me = os.getpid()
    return tree_cpu_seconds(me) - _own_cpu(me)


def _own_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def breakdown(seals: int) -> list[tuple[str, float, float]]:
    with tempfile.TemporaryDirectory(prefix="sealward-breakdown-") as tmp:
        box = Sandbox(Path(tmp))
        box.init_vault()
        address = box.softhsm_key()
        rules = box.attest()
        previous = os.environ.get("SOFTHSM2_CONF")
        os.environ["SOFTHSM2_CONF"] = box.env["SOFTHSM2_CONF"]  # the token, for this process
        config = Config(
            configdir=box.config, keystore=None, chain_id=1337, rules=rules,
            master_password_file=box.password_file, pkcs11_module=SOFTHSM_MODULE,
            pkcs11_tokens=[box.hsm_token or "sealward"], auditlog=str(Path(tmp) / "audit.log"),
            guard_db=str(Path(tmp) / "guard.db"),
        )  # fmt: skip
        app = App(config)
        try:
            app.build()
            return _measure(app, address, seals)
        finally:
            app.close()
            if previous is None:
                os.environ.pop("SOFTHSM2_CONF", None)
            else:
                os.environ["SOFTHSM2_CONF"] = previous


def _stages(
    app: App,
    api: Any,
    guard: Any,
    address: str,
    header: Any,
    stages: dict[str, list[float]],
    cpu: dict[str, list[float]],
) -> bytes:
    """Each stage of one seal alone, timed; returns the seal."""
    data, who = request_payload(header), MixedcaseAddress.parse(address)
    plan = plan_sign_data(CLIQUE, who, data, IPC_METADATA)
    _timed(stages["plan"], lambda: plan_sign_data(CLIQUE, who, data, IPC_METADATA), cpu["plan"])
    _timed(
        stages["rules"], lambda: app.live_rules.call("ApproveSignData", plan.request.to_json()), cpu["rules"]
    )
    backend, account = _timed(stages["find"], lambda: app.accounts.find(plan.request.address.checksummed),
                              cpu["find"])  # type: ignore[misc]  # fmt: skip
    credential = _timed(stages["credential"],
                        lambda: credential_for(backend, account, "data", api.credentials, api.ui),
                        cpu["credential"])  # fmt: skip
    signature: Any = _timed(
        stages["sign"], lambda: backend.sign(account, plan.payload, credential), cpu["sign"]
    )
    _timed(stages["guard"], lambda: guard.check_and_record(
        4242, account.address, plan.clique_number, plan.payload.digest, plan.clique_parent,
        plan.clique_time), cpu["guard"])  # fmt: skip
    return bytes(signature.to_bytes(plan.v_offset))


def _measure(app: App, address: str, seals: int) -> list[tuple[str, float, float]]:
    whole: list[float] = []
    whole_cpu: list[float] = []
    chain = CliqueChain(first_number=1)
    for n in range(seals + 20):
        header = chain.propose()
        request = {"jsonrpc": "2.0", "id": n, "method": "account_signData",
                   "params": [CLIQUE, address, request_payload(header)]}  # fmt: skip
        data = json.dumps(request).encode()
        begin, begin_cpu = time.perf_counter(), time.process_time()
        reply = app.dispatcher.handle_bytes(data, IPC_METADATA)
        if n >= 20:  # the first ones warm caches and workers
            whole.append(time.perf_counter() - begin)
            whole_cpu.append(time.process_time() - begin_cpu)
        result = json.loads(reply or b"{}").get("result")
        if not isinstance(result, str):
            raise RuntimeError(f"the signer refused: {reply!r}")
        chain.seal(bytes.fromhex(result[2:]))

    names = ("plan", "rules", "find", "credential", "sign", "guard")
    stages: dict[str, list[float]] = {k: [] for k in names}
    cpu: dict[str, list[float]] = {k: [] for k in names}
    assert app.live_rules is not None and app.api is not None
    api = app.api.api if hasattr(app.api, "api") else app.api  # under AuditedAPI
    guard = api.seal_guard
    other = CliqueChain(first_number=1)
    workers_before = _children_cpu()
    for _ in range(seals):
        other.seal(_stages(app, api, guard, address, other.propose(), stages, cpu))
    worker_cpu = (_children_cpu() - workers_before) / seals
    audit: list[float] = []
    audit_cpu: list[float] = []
    if app.audit is not None:
        for _ in range(seals):
            _timed(audit, lambda: (app.audit.event("SignData", ("type", "request"), ("data", b"x" * 600)),
                                   app.audit.event("SignData", ("type", "response"), ("data", "y" * 130))),
                   audit_cpu)  # fmt: skip
    rows = [(name, _median_us(samples), _mean_us(cpu[name])) for name, samples in stages.items()]
    rows.append(("rules: in the worker process", 0.0, worker_cpu * 1e6))
    rows.append(("audit log (request and response lines)", _median_us(audit), _mean_us(audit_cpu)))
    total = _median_us(whole)
    total_cpu = _mean_us(whole_cpu) + worker_cpu * 1e6
    rows.append(("rest (JSON-RPC, binding, UI chain)", max(0.0, total - sum(r[1] for r in rows)),
                 max(0.0, total_cpu - sum(r[2] for r in rows))))  # fmt: skip
    rows.append(("whole request in process", total, total_cpu))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seals", type=int, default=1000)
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"{'stage':<45} {'median wall':>12} {'mean CPU':>10}")
    for name, wall, cpu in breakdown(args.seals):
        print(f"{name:<45} {wall:9.0f} µs {cpu:7.0f} µs")


if __name__ == "__main__":
    main()
