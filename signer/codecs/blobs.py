"""EIP-4844 blob sidecars: clef's checks and fill-in (§2.4.3), with KZG from ckzg.

When a request carries blobs, clef computes (or verifies) the KZG commitments and proofs and
derives the versioned hashes, writing them back into the request: the UI then sees exactly what
will be signed. Proofs are one per blob (sidecar version 0) or 128 cell proofs per blob
(version 1, EIP-7594), chosen by ``blobVersion`` when clef computes them.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import ckzg

from signer.codecs.sendtx import SendTxArgs
from signer.errors import InvalidRequestData

CELL_PROOFS_PER_BLOB = 128
# Bounds the KZG work (~80 ms per blob, ~250 ms with cell proofs) one request can demand; no
# fork allows more than a handful of blobs per transaction, so this only stops abuse.
MAX_BLOBS = 32

_setup_lock = threading.Lock()
_setup: Any = None


class BlobSidecarError(InvalidRequestData):
    """A sidecar clef would refuse; the message is clef's."""


@dataclass(frozen=True)
class Sidecar:
    version: int
    blobs: tuple[bytes, ...]
    commitments: tuple[bytes, ...]
    proofs: tuple[bytes, ...]


def trusted_setup_path() -> Path | None:
    """The mainnet KZG setup shipped in eth-account's package data (ckzg ships none)."""
    try:
        path = resources.files("eth_account.typed_transactions.blob_transactions") / "kzg_trusted_setup.txt"
    except ModuleNotFoundError:
        return None
    return Path(str(path)) if path.is_file() else None


def kzg_setup() -> Any:
    """Load the trusted setup once (about 2 s) on first use, not at start-up."""
    global _setup
    with _setup_lock:
        if _setup is None:
            path = trusted_setup_path()
            if path is None:
                raise BlobSidecarError("blob sidecars are not supported: the KZG trusted setup was not found")
            _setup = ckzg.load_trusted_setup(str(path), 0)
        return _setup


def versioned_hash(commitment: bytes) -> bytes:
    return b"\x01" + hashlib.sha256(commitment).digest()[1:]


def sidecar_of(args: SendTxArgs) -> Sidecar | None:
    """The sidecar to attach after ``check_sidecar`` has filled the request in."""
    if args.blobs is None:
        return None
    proofs = args.proofs or []
    version = 1 if args.blobs and len(proofs) == CELL_PROOFS_PER_BLOB * len(args.blobs) else 0
    return Sidecar(version, tuple(args.blobs), tuple(args.commitments or ()), tuple(proofs))


def check_sidecar(args: SendTxArgs) -> None:
    """clef's ``validateTxSidecar``: checks in clef's order, filling commitments, proofs and hashes."""
    blobs = args.blobs
    if blobs is None:
        return
    n = len(blobs)
    if n > MAX_BLOBS:
        raise BlobSidecarError(f"too many blobs (have={n}, max={MAX_BLOBS})")
    if args.commitments is None and args.proofs is not None:
        raise BlobSidecarError("blob proofs provided while commitments were not")
    if args.commitments is not None and args.proofs is None:
        raise BlobSidecarError("blob commitments provided while proofs were not")
    if args.commitments is not None and len(args.commitments) != n:
        raise BlobSidecarError(
            f"number of blobs and commitments mismatch (have={len(args.commitments)}, want={n})"
        )
    hashes = args.blob_versioned_hashes
    if hashes is not None and len(hashes) != n:
        raise BlobSidecarError(f"number of blobs and hashes mismatch (have={len(hashes)}, want={n})")
    if args.commitments is None:
        args.commitments, args.proofs = _compute(blobs, cell_proofs=args.blob_version == 1)
    else:
        _verify(blobs, args.commitments, args.proofs or [])
    computed = [versioned_hash(c) for c in args.commitments]
    if hashes is None:
        args.blob_versioned_hashes = computed
        return
    for have, want in zip(hashes, computed, strict=True):
        if have != want:
            raise BlobSidecarError(
                f"blob hash verification failed (have=0x{have.hex()}, want=0x{want.hex()})"
            )


def _compute(blobs: list[bytes], cell_proofs: bool) -> tuple[list[bytes], list[bytes]]:
    setup = kzg_setup()
    commitments: list[bytes] = []
    proofs: list[bytes] = []
    for i, blob in enumerate(blobs):
        try:
            commitment = bytes(ckzg.blob_to_kzg_commitment(blob, setup))
        except RuntimeError as exc:
            raise BlobSidecarError(f"blobs[{i}]: error computing commitment: {exc}") from None
        commitments.append(commitment)
        try:
            if cell_proofs:
                _cells, cell_list = ckzg.compute_cells_and_kzg_proofs(blob, setup)
                proofs.extend(bytes(p) for p in cell_list)
            else:
                proofs.append(bytes(ckzg.compute_blob_kzg_proof(blob, commitment, setup)))
        except RuntimeError as exc:
            kind = "cell proof" if cell_proofs else "proof"
            raise BlobSidecarError(f"blobs[{i}]: error computing {kind}: {exc}") from None
    return commitments, proofs


def _verify(blobs: list[bytes], commitments: list[bytes], proofs: list[bytes]) -> None:
    n = len(blobs)
    setup = kzg_setup()
    try:
        if len(proofs) == n:
            for blob, commitment, proof in zip(blobs, commitments, proofs, strict=True):
                if not ckzg.verify_blob_kzg_proof(blob, commitment, proof, setup):
                    raise BlobSidecarError("failed to verify blob proof: invalid proof")
        elif len(proofs) == n * CELL_PROOFS_PER_BLOB:
            cells = [cell for blob in blobs for cell in ckzg.compute_cells(blob, setup)]
            owners = [c for c in commitments for _ in range(CELL_PROOFS_PER_BLOB)]
            indices = list(range(CELL_PROOFS_PER_BLOB)) * n
            if not ckzg.verify_cell_kzg_proof_batch(owners, indices, cells, proofs, setup):
                raise BlobSidecarError("failed to verify blob proof: invalid cell proof")
        else:
            want = f"want={n} or {n * CELL_PROOFS_PER_BLOB}"
            raise BlobSidecarError(f"number of proofs and blobs mismatch (have={len(proofs)}, {want})")
    except RuntimeError as exc:  # ckzg refuses points off the curve and non-canonical field elements
        raise BlobSidecarError(f"failed to verify blob proof: {exc}") from None
