"""Independent clique seal verification for tests: rlp + eth-keys only, none of our own code."""

from __future__ import annotations

import rlp
from eth_keys.datatypes import Signature as EthSignature
from eth_utils.crypto import keccak


def recover_clique_signer(clique_rlp: bytes, signature: bytes) -> str:
    """Seal the header as geth does (signature appended to extra) and recover the sealer."""
    fields = rlp.decode(clique_rlp)
    fields[12] = fields[12] + signature
    sealed = rlp.decode(rlp.encode(fields))
    unsealed = list(sealed)
    unsealed[12] = sealed[12][:-65]
    seal_hash = keccak(rlp.encode(unsealed))
    recovered = EthSignature(sealed[12][-65:]).recover_public_key_from_msg_hash(seal_hash)
    return str(recovered.to_checksum_address())
