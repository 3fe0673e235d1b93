"""Every metric Sealward exports, in one private registry (docs/operations.md lists them).

One ``Metrics`` object per running signer. Its methods are what the instrumented layers call;
each is a dictionary lookup and an add under prometheus_client's own lock, a few microseconds,
so the seal path does not notice them. Label values come only from bounded sets (registered
method names, backend names, error class names, the accounts the backends hold), never from
anything a caller sends.
"""

from __future__ import annotations

import platform

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)

from signer import __version__

# The *_created series double the output and no dashboard here uses them.
disable_created_metrics()  # type: ignore[no-untyped-call]

# From a fast listing (~0.1 ms) to a person thinking it over (minutes).
REQUEST_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1,
    2.5,
    5,
    10,
    30,
    60,
    300,
)
# A rule call takes ~1 ms warm; the default deadline is 10 s.
RULE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
# secp256k1 in software ~0.1 ms, SoftHSM ~0.6 ms, a network HSM ~10 ms, a Ledger seconds.
SIGN_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 30)
# SQLite with synchronous=FULL ~1-5 ms per commit; PostgreSQL adds a round trip.
GUARD_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 10)

TRANSPORTS = ("ipc", "http")


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        Info("sealward_build", "Version of the running signer", registry=r).info(
            {"version": __version__, "python": platform.python_version()}
        )
        self.requests = Counter(
            "sealward_requests", "account_* requests answered, by outcome", ["method", "outcome"], registry=r
        )
        self.request_duration = Histogram(
            "sealward_request_duration_seconds",
            "Time from decoded request to answer, approval included",
            ["method"],
            buckets=REQUEST_BUCKETS,
            registry=r,
        )
        self.inflight = Gauge(
            "sealward_inflight_requests",
            "Requests being handled now, by transport",
            ["transport"],
            registry=r,
        )
        for transport in TRANSPORTS:
            self.inflight.labels(transport)
        self.approvals = Counter(
            "sealward_approvals", "Approval decisions, by who decided", ["decider", "outcome"], registry=r
        )
        self.rule_duration = Histogram(
            "sealward_rule_duration_seconds",
            "Time of one rule function call",
            buckets=RULE_BUCKETS,
            registry=r,
        )
        self.rule_timeouts = Counter(
            "sealward_rule_timeouts", "Rule calls stopped at --rules-timeout", registry=r
        )
        self.rule_worker_restarts = Counter(
            "sealward_rule_worker_restarts", "Rule worker processes replaced after a failure", registry=r
        )
        self.rules_loaded = Gauge("sealward_rules_loaded", "1 while attested rules are active", registry=r)
        self.rules_reloads = Counter(
            "sealward_rules_reloads", "Rule file reloads on SIGHUP, by outcome", ["outcome"], registry=r
        )
        self.sign_duration = Histogram(
            "sealward_sign_duration_seconds",
            "Time a backend takes to sign, recovery check included",
            ["backend"],
            buckets=SIGN_BUCKETS,
            registry=r,
        )
        self.backend_errors = Counter(
            "sealward_backend_errors",
            "Backend failures while signing, by kind",
            ["backend", "kind"],
            registry=r,
        )
        self.guard_decisions = Counter(
            "sealward_seal_guard_decisions", "Seal guard answers", ["decision"], registry=r
        )
        self.guard_duration = Histogram(
            "sealward_seal_guard_duration_seconds",
            "Time to check and durably record a seal",
            buckets=GUARD_BUCKETS,
            registry=r,
        )
        self.last_sealed_height = Gauge(
            "sealward_last_sealed_height",
            "Highest clique height sealed, per chain and signer",
            ["chain_id", "signer"],
            registry=r,
        )
        self.last_seal_time = Gauge(
            "sealward_last_seal_timestamp_seconds",
            "Unix time of the last seal this process let through, per chain and signer",
            ["chain_id", "signer"],
            registry=r,
        )
        self.vault_unlocked = Gauge("sealward_vault_unlocked", "1 while the vault is open", registry=r)
        self.ready = Gauge("sealward_ready", "1 while every readiness check passes", registry=r)
        self.ready_check = Gauge(
            "sealward_ready_check", "Result of each readiness check (1 ok)", ["check"], registry=r
        )
        self.audit_entries = Counter("sealward_audit_entries", "Audit log entries written", registry=r)
        self.audit_write_errors = Counter(
            "sealward_audit_write_errors", "Audit log entries that could not be written", registry=r
        )
        self.audit_digested = Counter(
            "sealward_audit_values_digested",
            "Audit values too long to log, recorded as digest and length",
            registry=r,
        )
        self.audit_reopens = Counter("sealward_audit_reopens", "Audit log reopened (SIGHUP)", registry=r)
        for decision in ("sealed", "resubmit", "refused", "unavailable"):
            self.guard_decisions.labels(decision)
        for outcome in ("applied", "unchanged", "refused", "failed"):
            self.rules_reloads.labels(outcome)
