"""``sealward status``: what the running signer's /readyz and /metrics say, for a person."""

from __future__ import annotations

import http.client
import json
import time
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.parser import text_string_to_metric_families


class StatusUnavailable(Exception):
    pass


@dataclass
class Status:
    url: str
    ready: bool
    checks: dict[str, dict[str, Any]]
    samples: dict[str, list[tuple[dict[str, str], float]]] = field(default_factory=dict)

    def value(self, name: str, **labels: str) -> float | None:
        for sample_labels, value in self.samples.get(name, []):
            if all(sample_labels.get(k) == v for k, v in labels.items()):
                return value
        return None

    def total(self, name: str, **labels: str) -> float:
        return sum(
            value
            for sample_labels, value in self.samples.get(name, [])
            if all(sample_labels.get(k) == v for k, v in labels.items())
        )

    def render(self) -> str:
        lines = [f"Sealward at {self.url}: {'READY' if self.ready else 'NOT READY'}"]
        for name, result in self.checks.items():
            mark = "ok  " if result.get("ok") else "FAIL"
            lines.append(f"  {mark} {_shown(name):<16} {_shown(result.get('detail', ''))}")
        build = self.samples.get("sealward_build_info", [({}, 0.0)])[0][0]
        started = self.value("process_start_time_seconds")
        uptime = f", up {_duration(time.time() - started)}" if started else ""
        lines.append(f"version {_shown(build.get('version', '?'))}{uptime}")
        lines.append(
            f"requests: {self.total('sealward_requests_total'):.0f} answered, "
            f"{self.total('sealward_requests_total', outcome='ok'):.0f} ok, "
            f"{self.total('sealward_requests_total', outcome='denied'):.0f} denied, "
            f"{self.total('sealward_requests_total', outcome='refused'):.0f} refused by the guard; "
            f"{self.total('sealward_inflight_requests'):.0f} in flight"
        )
        lines.append(
            f"seal guard: {self.total('sealward_seal_guard_decisions_total', decision='sealed'):.0f} sealed, "
            f"{self.total('sealward_seal_guard_decisions_total', decision='resubmit'):.0f} re-sealed, "
            f"{self.total('sealward_seal_guard_decisions_total', decision='refused'):.0f} refused, "
            f"{self.total('sealward_seal_guard_decisions_total', decision='unavailable'):.0f} unavailable"
        )
        for labels, height in self.samples.get("sealward_last_sealed_height", []):
            when = self.value(
                "sealward_last_seal_timestamp_seconds", chain_id=labels["chain_id"], signer=labels["signer"]
            )
            ago = f", {_duration(time.time() - when)} ago" if when else ""
            lines.append(
                f"  last sealed: chain {_shown(labels['chain_id'])} signer {_shown(labels['signer'])} "
                f"height {height:.0f}{ago}"
            )
        errors = self.total("sealward_audit_write_errors_total")
        lines.append(
            f"audit log: {self.total('sealward_audit_entries_total'):.0f} entries written"
            + (f", {errors:.0f} LOST (write errors)" if errors else "")
        )
        return "\n".join(lines)


_BIDI = {0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}


def _shown(text: object) -> str:
    """What the endpoint said, with control and bidi characters made visible: it reaches a terminal."""
    out = []
    for ch in str(text):
        code = ord(ch)
        if code < 0x20 or 0x7F <= code <= 0x9F or code in _BIDI:
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def _duration(seconds: float) -> str:
    s = max(0, int(seconds))
    if s >= 86400:
        return f"{s // 86400}d{s % 86400 // 3600}h"
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60}m"
    if s >= 60:
        return f"{s // 60}m{s % 60}s"
    return f"{s}s"


def _get(host: str, port: int, path: str, timeout: float) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read(8 << 20)
    finally:
        connection.close()


def fetch_status(host: str, port: int, timeout: float = 5.0) -> Status:
    url = f"http://{host}:{port}/"
    try:
        status, body = _get(host, port, "/readyz", timeout)
        _, metrics = _get(host, port, "/metrics", timeout)
    except OSError as exc:
        raise StatusUnavailable(
            f"no signer answers at {url} ({exc}): start it with --metrics (and the same "
            "--metrics.addr/--metrics.port), or give them here"
        ) from None
    if status not in (200, 503):
        raise StatusUnavailable(f"{url}readyz answered HTTP {status}: is this a Sealward metrics endpoint?")
    try:
        report = json.loads(body)
        checks = dict(report["checks"])
        ready = bool(report["ready"])
    except (ValueError, KeyError, TypeError) as exc:
        raise StatusUnavailable(
            f"{url}readyz answered something else than a readiness report: {exc}"
        ) from None
    result = Status(url, ready, checks)
    for family in text_string_to_metric_families(metrics.decode("utf-8", "replace")):
        for sample in family.samples:
            result.samples.setdefault(sample.name, []).append((dict(sample.labels), float(sample.value)))
    return result
