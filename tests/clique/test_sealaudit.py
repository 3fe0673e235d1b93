"""Seals read back from a real audit log: requests and answers paired by reqid, in any order."""

from __future__ import annotations

import json
from pathlib import Path

from signer.api.auditlog import AuditLog
from signer.clique.header import seal_hash
from signer.clique.sealing import CLIQUE_CONTENT_TYPE, make_header, request_payload
from signer.tools.sealaudit import SealReader


def _request(log: AuditLog, reqid: int, number: int) -> bytes:
    header = make_header(number, bytes([number]) * 32)
    payload = json.dumps(request_payload(header)).encode()
    log.event("SignData", ("type", "request"), ("reqid", reqid), ("data", payload),
              ("content-type", CLIQUE_CONTENT_TYPE))  # fmt: skip
    return seal_hash(header)


def _answer(log: AuditLog, reqid: int, seal: bytes | None) -> None:
    if seal is None:
        log.event("SignData", ("type", "response"), ("reqid", reqid), ("data", ""), ("error", "refused"))
    else:
        log.event("SignData", ("type", "response"), ("reqid", reqid), ("data", seal.hex()), ("error", None))


def test_concurrent_answers_pair_with_their_own_requests_across_reads(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    log = AuditLog(path)
    reader = SealReader(path)
    first, second = _request(log, 1, 10), _request(log, 2, 11)
    _answer(log, 2, b"\x02" * 65)  # the later request is answered first
    [only] = reader.read()
    assert (only.height, only.seal_hash, only.seal) == (11, second, b"\x02" * 65)
    third = _request(log, 3, 12)
    _answer(log, 1, b"\x01" * 65)
    _answer(log, 3, None)
    events = reader.read()  # request 1 was read by the first call, its answer only now
    assert [(e.height, e.seal_hash, e.seal, e.error) for e in events] == [
        (10, first, b"\x01" * 65, None),
        (12, third, None, "refused"),
    ]
    assert reader.read() == []
    log.close()
