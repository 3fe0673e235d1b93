"""The in-process SoftHSM floor for ``bench.seal_bench``: what signing a seal hash costs with no
signer around it.

    SOFTHSM2_CONF=... python -m bench.hsm_floor <module> <token> <key-index> <signatures>   (PIN on stdin)

One process, one session, the token's ``key-index``-th secp256k1 key: C_Sign (CKM_ECDSA) on a
fresh 32-byte digest, then low-s and the recovery id against the public key, which is the least
any signer must do to return an Ethereum signature from this HSM. Prints ``ready``, waits for a
line on stdin, then prints one JSON line like ``bench.seal_client``.
"""

from __future__ import annotations

import json
import sys
import time

import pkcs11
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass

from backends.pkcs11.keys import is_secp256k1, key_ref_of
from backends.secp256k1 import signature_from_raw
from signer.codecs.hexutil import keccak256


def main(argv: list[str]) -> int:
    module, label, index, count = argv[1], argv[2], int(argv[3]), int(argv[4])
    pin = sys.stdin.readline().strip()
    token = pkcs11.lib(module).get_token(token_label=label)
    with token.open(user_pin=pin) as session:
        publics = []
        for obj in session.get_objects(
            {Attribute.CLASS: ObjectClass.PUBLIC_KEY, Attribute.KEY_TYPE: KeyType.EC}
        ):
            if is_secp256k1(obj[Attribute.EC_PARAMS]):
                publics.append(
                    key_ref_of(label, obj[Attribute.ID], obj[Attribute.LABEL], obj[Attribute.EC_POINT])
                )
        ref = sorted(publics, key=lambda r: r.address)[index]
        private = session.get_key(object_class=ObjectClass.PRIVATE_KEY, key_type=KeyType.EC, id=ref.key_id)
        digests = [keccak256(b"floor" + n.to_bytes(8, "big")) for n in range(count)]
        print("ready", flush=True)
        sys.stdin.readline()
        latencies: list[float] = []
        started = time.time()
        for digest in digests:
            begin = time.perf_counter()
            raw = private.sign(digest, mechanism=Mechanism.ECDSA)
            signature_from_raw(
                digest, int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"), ref.public_key
            )
            latencies.append(time.perf_counter() - begin)
        ended = time.time()
    print(json.dumps({"latencies": latencies, "started": started, "ended": ended, "errors": []}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
