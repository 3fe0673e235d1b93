"""Every bound the transports enforce, in one place, with the reason for each number.

A hostile caller meets a clear JSON-RPC error (or a closed connection) at these limits; honest
callers stay far below them. Measured against the real process, without them two IPC batches of
16.5 MB sent while approvals waited grew the signer from 58 MiB to 890 MiB RSS, never given back
(issue 12, finding 1; figures in docs/reliability.md).

**Message size: 5 MiB** on IPC and HTTP (HTTP was already 5 MiB, geth's own HTTP body limit).
The largest honest message is geth's ``account_signTransaction`` for a blob transaction with its
sidecar: at most 6 blobs per transaction (the protocol's cap since EIP-7594, and what geth's
client sends) of 131,072 bytes, hex-encoded as 262,146 characters each (1,572,876), plus 6
commitments and up to 6 × 128 cell proofs of 48 bytes (98 characters each, 76,048 in all), plus
the call data: geth's pool refuses transactions over 128 KiB, so at most 262,146 characters of
``input``. About 1.92 MB with the JSON around it, so 5 MiB leaves 2.7× headroom (up to 19 blobs
without proofs fit, of the 32 signer.codecs.blobs accepts); 16 MiB, the old IPC limit, was only
a larger target.

**Values per message: 65,536** (objects, arrays and elements, counted from the bytes before
decoding). The decoded form, not the bytes, is what costs memory: ``[{},{},…]`` turns 3 bytes
into a 64-byte dict, so 5 MiB of it is ~110 MB of objects. 65,536 values stay under ~10 MB
decoded; a batch of 1,000 calls needs ~6,000 and the largest EIP-712 documents seen a few hundred.

**Calls in flight: 128 per transport, 32 per connection** (queued or running, a batch counts each
call). Calls wait for a person, so they are cheap in CPU but hold their decoded request; the pool
has as many threads as the transport has calls in flight, so an admitted call never waits
behind calls parked on a prompt. geth pipelines a handful at most.

**Request bytes in flight: 16 MiB per transport, 8 MiB per connection**: what those calls hold,
so that 128 parked 5 MiB requests cannot hold 640 MiB. A parked call holds several times its
bytes (the decoded JSON, the payload, what is shown to the person: ~25 MB for a 5 MB
``text/plain`` request, measured), so this is the number that bounds memory. Honest traffic is
one request at a time per person; three full-size blob transactions fit.

**Incomplete messages: 32 MiB per transport** for the part of each partly-received message above
64 KiB; a connection that would go beyond waits (stops reading) instead of buffering. Small
requests never wait. A message must be complete **30 s** after its first byte (IPC; HTTP has
the same deadline for the whole request), so a trickling sender cannot hold the budget.

**Connections: 128 per transport; on HTTP 64 per client address.** When HTTP is full, the
connection that has been idle or reading the longest is closed to make room: slow or silent
connections cannot lock out a normal client. On IPC (mode 0600: only the signer's own user can
connect) a new connection beyond the limit is refused.

Cheap methods (``account_version``, ``rpc_modules``) are answered on the connection's own thread,
outside every queue: geth calls ``account_version`` at start, and it must not wait behind
requests parked on a person.
"""

from __future__ import annotations

from dataclasses import dataclass

KIB = 1024
MIB = 1024 * KIB


@dataclass(frozen=True)
class Limits:
    max_message_size: int = 5 * MIB
    max_values: int = 65_536
    max_calls: int = 128
    max_calls_per_connection: int = 32
    max_bytes_in_flight: int = 16 * MIB
    max_bytes_per_connection: int = 8 * MIB
    read_budget: int = 32 * MIB
    small_message: int = 64 * KIB  # partial messages up to this size never wait for the budget
    message_deadline: float = 30.0
    max_connections: int = 128
    max_connections_per_client: int = 64


DEFAULT_LIMITS = Limits()
