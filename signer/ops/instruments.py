"""Metering by wrapping: each layer is measured at its boundary, none of them knows about metrics.

* ``MeteredDispatcher``: every registered JSON-RPC method, its outcome, duration and the number
  in flight per transport (the handler's ``Metadata`` says which transport a request came on).
* ``MeteredUI``: the decisions a person (or an external UI) makes.
* ``MeteredSealGuard``: the guard's answers, and the last height sealed per chain and signer.
* ``sign_observer``: the time a backend takes to sign and the kinds of failure it reports.
* ``rule_events``, ``audit_events``: callbacks for the rule engine's and the audit log's events.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from backends import base as backend_errors
from signer import errors
from signer.approval.ui import UI
from signer.clique.guard import SealGuard, SealGuardRefused, SealGuardUnavailable, SealReceipt
from signer.ops.metrics import Metrics
from signer.rpc.dispatch import Dispatcher
from signer.types import (
    JSON,
    ListRequest,
    Metadata,
    NewAccountRequest,
    SignDataRequest,
    SignTxRequest,
    SignTxResponse,
    StartupInfo,
    UserInputRequest,
)

# Most specific first; the outcome names are the values of sealward_requests_total{outcome}.
_OUTCOMES: list[tuple[type[BaseException], str]] = [
    (errors.RequestDenied, "denied"),
    (errors.SealGuardError, "refused"),
    (errors.AuditUnavailable, "audit_unavailable"),
    (errors.UnknownAccount, "unknown_account"),
    (backend_errors.UnknownKey, "unknown_account"),
    (errors.InvalidParams, "invalid"),
    (errors.InvalidRequestData, "invalid"),
    (errors.ValidationFailed, "invalid"),
    (errors.NotSupported, "invalid"),
    (backend_errors.BackendError, "backend_error"),
    (errors.SignerError, "error"),
]


def outcome_of(exc: BaseException) -> str:
    for cls, name in _OUTCOMES:
        if isinstance(exc, cls):
            return name
    return "crashed"


def transport_of(meta: Metadata) -> str:
    scheme = meta.scheme
    if scheme == "ipc":
        return "ipc"
    if scheme.startswith("HTTP"):
        return "http"
    return "other"


class MeteredDispatcher(Dispatcher):
    """A Dispatcher whose handlers are timed and counted by method and outcome."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        super().__init__()

    def add(
        self,
        name: str,
        handler: Callable[..., Any],
        required: int = 0,
        optional: int = 0,
        decoders: tuple[Callable[[Any], Any], ...] = (),
        *,
        inline: bool = False,
    ) -> None:
        counted = tuple(self._counted(name, decode) for decode in decoders)
        super().add(name, self._metered(name, handler), required, optional, counted, inline=inline)

    def _counted(self, name: str, decode: Callable[[Any], Any]) -> Callable[[Any], Any]:
        """A parameter the dispatcher cannot decode never reaches the handler: count it here."""
        requests = self._metrics.requests
        duration = self._metrics.request_duration.labels(name)

        def counted(value: Any) -> Any:
            start = time.perf_counter()
            try:
                return decode(value)
            except errors.SignerError:
                duration.observe(time.perf_counter() - start)
                requests.labels(name, "invalid").inc()
                raise

        return counted

    def _metered(self, name: str, handler: Callable[..., Any]) -> Callable[..., Any]:
        requests = self._metrics.requests
        duration = self._metrics.request_duration.labels(name)
        inflight = self._metrics.inflight

        def metered(meta: Metadata, *params: Any) -> Any:
            gauge = inflight.labels(transport_of(meta))
            gauge.inc()
            start = time.perf_counter()
            outcome = "ok"
            try:
                return handler(meta, *params)
            except BaseException as exc:
                outcome = outcome_of(exc)
                raise
            finally:
                duration.observe(time.perf_counter() - start)
                requests.labels(name, outcome).inc()
                gauge.dec()

        return metered


class MeteredUI:
    """Counts what the wrapped UI (a person, or an external UI program) decides."""

    def __init__(self, next: UI, metrics: Metrics) -> None:
        self.next = next
        self._approvals = metrics.approvals

    def _count(self, approved: bool) -> None:
        self._approvals.labels("ui", "approved" if approved else "rejected").inc()

    def approve_tx(self, request: SignTxRequest) -> SignTxResponse:
        response = self.next.approve_tx(request)
        self._count(response.approved)
        return response

    def approve_sign_data(self, request: SignDataRequest) -> bool:
        approved = self.next.approve_sign_data(request)
        self._count(approved)
        return approved

    def approve_listing(self, request: ListRequest) -> list[JSON] | None:
        listed = self.next.approve_listing(request)
        self._count(listed is not None)
        return listed

    def approve_new_account(self, request: NewAccountRequest) -> bool:
        approved = self.next.approve_new_account(request)
        self._count(approved)
        return approved

    def on_input_required(self, request: UserInputRequest) -> str:
        return self.next.on_input_required(request)

    def show_error(self, text: str) -> None:
        self.next.show_error(text)

    def show_info(self, text: str) -> None:
        self.next.show_info(text)

    def on_approved_tx(self, result: JSON) -> None:
        self.next.on_approved_tx(result)

    def on_signer_startup(self, info: StartupInfo) -> None:
        self.next.on_signer_startup(info)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.next, name)  # e.g. StdioUI.register_server


class MeteredSealGuard:
    """Counts the guard's answers: sealed (a new height), resubmit (a height already sealed,
    asked again), refused, unavailable; keeps the last sealed height per chain and signer.

    Which is which follows from the height: the highest height recorded per key is read from the
    guard at start-up (``seed``) or before the key's first seal in this process, and kept up to
    date after that.
    """

    def __init__(self, guard: SealGuard, metrics: Metrics) -> None:
        self.guard = guard
        self._metrics = metrics
        self._top: dict[tuple[int, str], int] = {}

    def check_and_record(
        self, chain_id: int, signer: str, height: int, seal_hash: bytes, parent_hash: bytes, header_time: int
    ) -> SealReceipt | None:
        m = self._metrics
        key = (chain_id, signer.lower())
        if key not in self._top:
            recorded = self._recorded_top(chain_id, signer)
            if recorded is not None:
                self._top[key] = recorded
        start = time.perf_counter()
        try:
            receipt = self.guard.check_and_record(
                chain_id, signer, height, seal_hash, parent_hash, header_time
            )
        except SealGuardUnavailable:
            m.guard_decisions.labels("unavailable").inc()
            raise
        except SealGuardRefused:
            m.guard_decisions.labels("refused").inc()
            raise
        finally:
            m.guard_duration.observe(time.perf_counter() - start)
        top = self._top.get(key, height - 1)
        m.guard_decisions.labels("sealed" if height > top else "resubmit").inc()
        if height >= top:
            self._top[key] = height
            m.last_sealed_height.labels(str(chain_id), key[1]).set(height)
            m.last_seal_time.labels(str(chain_id), key[1]).set(time.time())
        return receipt

    def retract(self, receipt: SealReceipt) -> None:
        self.guard.retract(receipt)

    def _recorded_top(self, chain_id: int, signer: str) -> int | None:
        """The highest height recorded for the key, -1 for none, None when the guard cannot say."""
        try:
            records = self.guard.show(chain_id, signer, heights=1)
        except (errors.SealGuardError, ValueError):
            return None
        return max((r.height for r in records), default=-1)

    def seed(self, chain_id: int, signers: list[str]) -> None:
        """Publish each signer's last sealed height at start-up, so a stall shows after a restart."""
        for signer in signers:
            top = self._recorded_top(chain_id, signer)
            if top is None:
                continue
            self._top[(chain_id, signer.lower())] = top
            if top >= 0:
                self._metrics.last_sealed_height.labels(str(chain_id), signer.lower()).set(top)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.guard, name)


def sign_observer(metrics: Metrics) -> Callable[[str, float, BaseException | None], None]:
    """The callback AccountManager.sign reports each signature (or failure) to."""

    def observe(backend: str, seconds: float, error: BaseException | None) -> None:
        metrics.sign_duration.labels(backend).observe(seconds)
        if error is not None:
            kind = type(error).__name__ if isinstance(error, backend_errors.BackendError) else "Unexpected"
            metrics.backend_errors.labels(backend, kind).inc()

    return observe


def rule_events(metrics: Metrics) -> Callable[[str], None]:
    """The RuleEngine's ``on_event`` callback."""
    counters = {"timeout": metrics.rule_timeouts, "worker_restart": metrics.rule_worker_restarts}

    def on_event(event: str) -> None:
        counter = counters.get(event)
        if counter is not None:
            counter.inc()

    return on_event


def audit_events(metrics: Metrics) -> Callable[[str], None]:
    """The AuditLog's ``on_event`` callback."""
    counters = {
        "entry": metrics.audit_entries,
        "error": metrics.audit_write_errors,
        "digested": metrics.audit_digested,
        "reopen": metrics.audit_reopens,
    }

    def on_event(event: str) -> None:
        counter = counters.get(event)
        if counter is not None:
            counter.inc()

    return on_event
