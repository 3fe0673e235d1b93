"""AuditedAPI: wraps the external API and writes a request line before and a response line after
every call (clef-compat §7). The request line is written before approval, so denied requests are
recorded too. Parameters are logged as the node sent them; no secret ever passes through here."""

from __future__ import annotations

import itertools
import json
from typing import Any

from eth_utils.address import to_checksum_address

from signer.api.auditlog import AuditLog
from signer.api.protocol import ExternalAPIProtocol
from signer.codecs.hexutil import MixedcaseAddress
from signer.errors import error_message
from signer.types import Metadata


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _meta(meta: Metadata) -> tuple[str, object]:
    return "metadata", _compact(meta.to_json())


def _to_json(value: Any) -> Any:
    to_json = getattr(value, "to_json", None)
    return to_json() if callable(to_json) else value


class AuditedAPI:
    """Each request line and its response line carry the same ``reqid`` (beyond clef's format):
    calls run concurrently, so the next response is not always the answer to the last request."""

    def __init__(self, api: ExternalAPIProtocol, log: AuditLog) -> None:
        self.api = api
        self.log = log
        self._ids = itertools.count(1)  # next() on a count is atomic under the GIL

    def _request(self, msg: str, *attrs: tuple[str, object]) -> int:
        reqid = next(self._ids)
        self.log.event(msg, ("type", "request"), ("reqid", reqid), *attrs)
        return reqid

    def _respond(
        self, msg: str, reqid: int, call: Any, ok: Any, failed: tuple[tuple[str, object], ...]
    ) -> Any:
        answer = ("type", "response"), ("reqid", reqid)
        try:
            result = call()
        except Exception as exc:
            self.log.event(msg, *answer, *failed, ("error", error_message(exc)))
            raise
        self.log.event(msg, *answer, *ok(result), ("error", None))
        return result

    def version(self, meta: Metadata) -> str:
        reqid = self._request("Version", _meta(meta))
        return str(
            self._respond(
                "Version", reqid, lambda: self.api.version(meta), lambda r: [("data", r)], (("data", None),)
            )
        )

    def list(self, meta: Metadata) -> list[str]:
        reqid = self._request("List", _meta(meta))

        def shown(result: list[str]) -> list[tuple[str, object]]:
            return [("data", "[" + " ".join(to_checksum_address(a) for a in result) + "]")]

        result: list[str] = self._respond(
            "List", reqid, lambda: self.api.list(meta), shown, (("data", None),)
        )
        return result

    def new(self, meta: Metadata) -> str:
        return self.api.new(meta)  # clef does not audit account_new

    def sign_data(self, meta: Metadata, content_type: str, address: MixedcaseAddress, data: Any) -> str:
        reqid = self._request(
            "SignData", _meta(meta), ("addr", str(address)),
            ("data", _compact(data).encode()), ("content-type", content_type),
        )  # fmt: skip
        return str(
            self._respond(
                "SignData",
                reqid,
                lambda: self.api.sign_data(meta, content_type, address, data),
                lambda r: [("data", r[2:])],
                (("data", ""),),
            )
        )

    def sign_typed_data(self, meta: Metadata, address: MixedcaseAddress, typed_data: Any) -> str:
        # clef dumped a Go struct here; we log the document as JSON, which can be read back.
        reqid = self._request(
            "SignTypedData",
            _meta(meta),
            ("addr", str(address)),
            ("data", _compact(typed_data)),
        )
        return str(
            self._respond(
                "SignTypedData",
                reqid,
                lambda: self.api.sign_typed_data(meta, address, typed_data),
                lambda r: [("data", r[2:])],
                (("data", ""),),
            )
        )

    def sign_transaction(self, meta: Metadata, args: Any, method_selector: str | None) -> Any:
        reqid = self._request(
            "SignTransaction", _meta(meta), ("tx", _compact(_to_json(args))),
            ("methodSelector", method_selector),
        )  # fmt: skip
        return self._respond(
            "SignTransaction",
            reqid,
            lambda: self.api.sign_transaction(meta, args, method_selector),
            lambda r: [("data", str(r["raw"])[2:])],
            (("data", None),),
        )

    def sign_gnosis_safe_tx(
        self, meta: Metadata, address: MixedcaseAddress, gnosis_tx: Any, method_selector: str | None
    ) -> Any:
        reqid = self._request(
            "SignGnosisSafeTx", _meta(meta), ("addr", str(address)),
            ("data", _compact(_to_json(gnosis_tx))), ("selector", method_selector),
        )  # fmt: skip
        return self._respond(
            "SignGnosisSafeTx",
            reqid,
            lambda: self.api.sign_gnosis_safe_tx(meta, address, gnosis_tx, method_selector),
            lambda r: [("data", _compact(_to_json(r)))],
            (("data", None),),
        )

    def ec_recover(self, meta: Metadata, data: bytes, sig: bytes) -> str:
        reqid = self._request("EcRecover", _meta(meta), ("data", data.hex()), ("sig", sig.hex()))
        return str(
            self._respond(
                "EcRecover",
                reqid,
                lambda: self.api.ec_recover(meta, data, sig),
                lambda r: [("address", to_checksum_address(r))],
                (("address", "0x" + "00" * 20),),
            )
        )
