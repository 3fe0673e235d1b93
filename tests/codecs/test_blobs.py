"""Blob transactions with a real blob: sidecar computed with ckzg, the network wrapper, clef's checks."""

from __future__ import annotations

import hashlib
from typing import Any

import ckzg
import pytest
from eth_account import Account

from signer.codecs.blobs import BlobSidecarError, kzg_setup, trusted_setup_path, versioned_hash
from signer.codecs.sendtx import SendTxArgs
from signer.codecs.transactions import prepare_transaction, to_unsigned
from signer.validation import FourByteDB, validate
from tests.codecs.txcheck import KEY, SENDER, TO, check_signed, sign_request

pytestmark = pytest.mark.skipif(
    trusted_setup_path() is None,
    reason="no KZG trusted setup: eth-account's package data (kzg_trusted_setup.txt) is not installed",
)


def make_blob(seed: bytes) -> bytes:
    """A valid blob: 4096 field elements, each with a zero top byte so it is below the BLS modulus."""
    out = bytearray()
    for i in range(4096):
        out += b"\x00" + hashlib.sha256(seed + i.to_bytes(2, "big")).digest()[:31]
    return bytes(out)


BLOB = make_blob(b"sealward")
HEX_BLOB = "0x" + BLOB.hex()
BASE: dict[str, Any] = {
    "from": SENDER,
    "to": TO,
    "gas": "0x5208",
    "maxFeePerGas": "0x77359400",
    "maxPriorityFeePerGas": "0x3b9aca00",
    "maxFeePerBlobGas": "0x3b9aca00",
    "value": "0x0",
    "nonce": "0x1",
    "input": "0x",
    "accessList": [],
    "chainId": "0x1",
}


def test_sidecar_is_computed_and_sent_in_the_network_wrapper() -> None:
    request = dict(BASE, blobs=[HEX_BLOB])
    args = SendTxArgs.from_json(request)
    assert validate(args, None, FourByteDB.empty()) == []
    # Validation filled the sidecar in, as clef does, so the UI sees what is signed.
    assert args.commitments is not None and args.proofs is not None and args.blob_versioned_hashes is not None
    (commitment,), (proof,), (vhash,) = args.commitments, args.proofs, args.blob_versioned_hashes
    setup = kzg_setup()
    assert commitment == bytes(ckzg.blob_to_kzg_commitment(BLOB, setup))
    assert ckzg.verify_blob_kzg_proof(BLOB, commitment, proof, setup)
    assert vhash == b"\x01" + hashlib.sha256(commitment).digest()[1:]

    filled = args.to_json()
    payload, raw, tx = sign_request(filled)
    decoded = check_signed(raw, tx, filled)
    version, blobs, commitments, proofs = decoded["sidecar"]
    assert (version, blobs, commitments, proofs) == (0, [BLOB], [commitment], [proof])
    assert tx["blobVersionedHashes"] == ["0x" + vhash.hex()]
    assert tx["blobs"] == [HEX_BLOB] and tx["commitments"] == ["0x" + commitment.hex()]
    assert tx["proofs"] == ["0x" + proof.hex()]
    assert list(tx)[-4:] == ["blobs", "commitments", "proofs", "hash"]
    # eth-account 0.13.7 builds the same EIP-4844 network form from the same fields and blob
    # (slow: it reloads the trusted setup for every KZG call).
    assert bytes(Account.sign_transaction(dict(payload.fields), KEY, blobs=[BLOB]).raw_transaction) == raw


def test_supplied_commitments_and_proofs_are_verified_not_recomputed() -> None:
    args = SendTxArgs.from_json(dict(BASE, blobs=[HEX_BLOB]))
    to_unsigned(args)
    supplied = args.to_json()
    again = SendTxArgs.from_json(supplied)
    tx = to_unsigned(again)
    assert tx.sidecar is not None and tx.sidecar.proofs == tuple(args.proofs or ())
    bad_proof = dict(supplied, proofs=supplied["commitments"])  # a valid point, but not the proof
    with pytest.raises(BlobSidecarError, match=r"^failed to verify blob proof: "):
        to_unsigned(SendTxArgs.from_json(bad_proof))


def test_cell_proofs_when_blob_version_is_one() -> None:
    request = dict(BASE, blobs=[HEX_BLOB], blobVersion=1)
    args = SendTxArgs.from_json(request)
    to_unsigned(args)
    assert args.proofs is not None and len(args.proofs) == 128
    _, raw, tx = sign_request(args.to_json())
    decoded = check_signed(raw, tx, args.to_json())
    version, blobs, commitments, proofs = decoded["sidecar"]
    assert version == 1 and blobs == [BLOB] and len(proofs) == 128
    setup = kzg_setup()
    cells = ckzg.compute_cells(BLOB, setup)
    assert ckzg.verify_cell_kzg_proof_batch(commitments * 128, list(range(128)), cells, proofs, setup)
    # Supplying the 128 cell proofs back selects version 1 and verifies them.
    assert to_unsigned(SendTxArgs.from_json(dict(args.to_json(), blobVersion=0))).sidecar is not None


def test_hashes_without_blobs_sign_a_plain_blob_tx() -> None:
    commitment = bytes(ckzg.blob_to_kzg_commitment(BLOB, kzg_setup()))
    request = dict(BASE, blobVersionedHashes=["0x" + versioned_hash(commitment).hex()])
    _, raw, tx = sign_request(request)
    decoded = check_signed(raw, tx, request)
    assert decoded["sidecar"] is None and "blobs" not in tx


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"commitments": ["0x" + "c0" + "00" * 47]}, "^blob commitments provided while proofs were not$"),
        ({"proofs": ["0x" + "c0" + "00" * 47]}, "^blob proofs provided while commitments were not$"),
        (
            {"commitments": [], "proofs": []},
            r"^number of blobs and commitments mismatch \(have=0, want=1\)$",
        ),
        (
            {"blobVersionedHashes": ["0x01" + "00" * 31] * 2},
            r"^number of blobs and hashes mismatch \(have=2, want=1\)$",
        ),
        (
            {"blobVersionedHashes": ["0x01" + "00" * 31]},
            r"^blob hash verification failed \(have=0x0100+, want=0x01[0-9a-f]{62}\)$",
        ),
    ],
)
def test_clefs_sidecar_errors(change: dict[str, Any], message: str) -> None:
    with pytest.raises(BlobSidecarError, match=message):
        to_unsigned(SendTxArgs.from_json(dict(BASE, blobs=[HEX_BLOB], **change)))


def test_proof_count_mismatch() -> None:
    args = SendTxArgs.from_json(dict(BASE, blobs=[HEX_BLOB]))
    to_unsigned(args)
    assert args.proofs is not None
    args.proofs = args.proofs * 2
    with pytest.raises(
        BlobSidecarError, match=r"number of proofs and blobs mismatch \(have=2, want=1 or 128\)"
    ):
        to_unsigned(args)


def test_invalid_blob_is_refused_with_clefs_prefix() -> None:
    bad = "0x" + "ff" * (4096 * 32)  # every field element above the BLS modulus
    with pytest.raises(BlobSidecarError, match=r"^blobs\[0\]: error computing commitment: "):
        to_unsigned(SendTxArgs.from_json(dict(BASE, blobs=[bad])))


def test_blob_count_is_bounded() -> None:
    args = SendTxArgs.from_json(BASE)
    args.blobs = [BLOB] * 33
    with pytest.raises(BlobSidecarError, match="too many blobs"):
        to_unsigned(args)


def test_prepare_carries_the_sidecar_to_the_payload() -> None:
    payload = prepare_transaction(SendTxArgs.from_json(dict(BASE, blobs=[HEX_BLOB])), 1)
    tx = payload.extra["transaction"]
    assert tx.sidecar is not None and tx.sidecar.blobs == (BLOB,)
    assert payload.fields["blobVersionedHashes"] == ["0x" + h.hex() for h in tx.blob_hashes]
