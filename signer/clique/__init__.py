"""Clique (proof-of-authority) headers: the ``application/x-clique-header`` content type.

``header`` decodes and checks the RLP a sealer sends and computes the seal hash; ``sealing`` is a
geth-like sealing client used by the demo, the benchmark and the end-to-end tests.
"""

from signer.clique.header import (
    CLIQUE_MAX_FIELDS,
    MAX_HEADER_BYTES,
    SEAL_LENGTH,
    CliqueHeader,
    CliqueHeaderError,
    CliqueSigningMaterial,
    clique_findings,
    clique_signing_material,
    decode_header,
    encode_header,
    seal_hash,
    sig_rlp,
)

__all__ = [
    "CLIQUE_MAX_FIELDS",
    "MAX_HEADER_BYTES",
    "SEAL_LENGTH",
    "CliqueHeader",
    "CliqueHeaderError",
    "CliqueSigningMaterial",
    "clique_findings",
    "clique_signing_material",
    "decode_header",
    "encode_header",
    "seal_hash",
    "sig_rlp",
]
