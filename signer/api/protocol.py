"""The shape of the external API, so AuditedAPI can wrap ExternalAPI (or any other implementation)."""

from __future__ import annotations

from typing import Any, Protocol

from signer.codecs.hexutil import MixedcaseAddress
from signer.types import Metadata


class ExternalAPIProtocol(Protocol):
    def version(self, meta: Metadata) -> str: ...

    def list(self, meta: Metadata) -> list[str]: ...

    def new(self, meta: Metadata) -> str: ...

    def sign_data(self, meta: Metadata, content_type: str, address: MixedcaseAddress, data: Any) -> str: ...

    def sign_typed_data(self, meta: Metadata, address: MixedcaseAddress, typed_data: Any) -> str: ...

    def sign_transaction(self, meta: Metadata, args: Any, method_selector: str | None) -> Any: ...

    def sign_gnosis_safe_tx(
        self, meta: Metadata, address: MixedcaseAddress, gnosis_tx: Any, method_selector: str | None
    ) -> Any: ...

    def ec_recover(self, meta: Metadata, data: bytes, sig: bytes) -> str: ...
