"""The audit log: Go slog text lines, request before response, failures recorded, no secrets."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from signer.api.audit import AuditedAPI
from signer.api.auditlog import AuditLog, go_quote, slog_value
from signer.codecs.hexutil import MixedcaseAddress
from signer.errors import RequestDenied
from signer.types import Metadata

ADDR = MixedcaseAddress.parse("0x9160DC9105f7De5dC5E7f3d97ef11DA47269BdA6")
CHAIN = re.compile(r" seq=\d+ hash=[0-9a-f]{64}$")
LINE = re.compile(
    r"^time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d) level=INFO msg=(\S+) api=signer "
)


class FakeBackedAPI:
    """An API that answers fixed values: the unit under test is the wrapper, not the signer."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def version(self, meta: Metadata) -> str:
        return "6.1.0"

    def list(self, meta: Metadata) -> list[str]:
        return ["0x9160dc9105f7de5dc5e7f3d97ef11da47269bda6"]

    def sign_data(self, meta: Metadata, content_type: str, address: MixedcaseAddress, data: Any) -> str:
        if content_type == "deny":
            raise RequestDenied()
        return "0x" + "ab" * 65

    def ec_recover(self, meta: Metadata, data: bytes, sig: bytes) -> str:
        raise RequestDenied("signature must be 65 bytes long")


def _lines(path: Path) -> list[str]:
    """The entries after the log's opening entry, without their chain fields (test_auditlog.py)."""
    lines = [CHAIN.sub("", line) for line in path.read_text().splitlines()]
    return [line for line in lines if "msg=AuditLogOpened" not in line]


def test_lines_are_slog_text_with_request_then_response(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.log")
    api = AuditedAPI(FakeBackedAPI(), log)  # type: ignore[arg-type]
    meta = Metadata("1.2.3.4:5", "localhost:8550", "HTTP/1.1", "curl/8", "")
    assert api.sign_data(meta, "text/plain", ADDR, "0x01") == "0x" + "ab" * 65
    lines = _lines(tmp_path / "audit.log")
    assert [LINE.match(line).group(2) for line in lines] == ["SignData", "SignData"]  # type: ignore[union-attr]
    assert "type=request" in lines[0] and "type=response" in lines[1]
    assert 'addr="0x9160DC9105f7De5dC5E7f3d97ef11DA47269BdA6 [chksum ok]"' in lines[0]
    assert 'data="\\"0x01\\""' in lines[0] and "content-type=text/plain" in lines[0]
    assert '"User-Agent":"curl/8"' in lines[0].replace('\\"', '"')
    assert lines[1].endswith("data=" + "ab" * 65 + " error=<nil>")


def test_failures_are_recorded_and_reraised(tmp_path: Path) -> None:
    api = AuditedAPI(FakeBackedAPI(), AuditLog(tmp_path / "a.log"))  # type: ignore[arg-type]
    with pytest.raises(RequestDenied):
        api.sign_data(Metadata(), "deny", ADDR, "0x01")
    with pytest.raises(RequestDenied):
        api.ec_recover(Metadata(), b"\x01", b"\x02")
    lines = _lines(tmp_path / "a.log")
    assert lines[1].endswith('data="" error="request denied"')
    assert lines[3].endswith(
        'address=0x0000000000000000000000000000000000000000 error="signature must be 65 bytes long"'
    )


def test_list_and_version(tmp_path: Path) -> None:
    api = AuditedAPI(FakeBackedAPI(), AuditLog(tmp_path / "a.log"))  # type: ignore[arg-type]
    api.list(Metadata())
    api.version(Metadata())
    lines = _lines(tmp_path / "a.log")
    assert lines[1].endswith("data=[0x9160DC9105f7De5dC5E7f3d97ef11DA47269BdA6] error=<nil>")
    assert lines[3].endswith("data=6.1.0 error=<nil>")


def test_go_quoting_rules() -> None:
    assert slog_value("plain") == "plain"
    assert slog_value("") == '""'
    assert slog_value("a b") == '"a b"'
    assert slog_value("k=v") == '"k=v"'
    assert slog_value(None) == "<nil>"
    assert slog_value(b"raw") == '"raw"'  # []byte values are always quoted
    assert go_quote('x"\n\x01\\') == '"x\\"\\n\\x01\\\\"'
    assert go_quote("é") == '"é"'


def test_file_is_appended_not_truncated(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    path.write_text("earlier line\n")
    AuditLog(path).event("Configured", ("audit log", str(path)))
    lines = path.read_text().splitlines()
    assert lines[0] == "earlier line"
    assert "msg=AuditLogOpened" in lines[1]
    assert f'"audit log"={path}' in lines[2]
