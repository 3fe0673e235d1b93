"""An emulator of the Ledger Ethereum app at the APDU level, which really signs.

Keys come from the well-known test mnemonic ("test test ... junk") through eth-account's BIP-32
derivation, so the addresses are the ones every Ethereum dev tool shows. The emulator signs
exactly the bytes it receives (keccak of the unsigned transaction, of the EIP-191 message, of the
EIP-712 hashes or of the document it rebuilt) and answers the status words a real device gives:

    0x5515 locked · 0x6511 dashboard (no app) · 0x6E00 another app · 0x6985 rejected on the device
    0x6D00 unknown INS (app too old) · 0x6501 transaction type unknown · 0x6A80 invalid data

It plugs in two ways: ``EmulatorDongle`` is what ledgereth takes as ``dongle=``, and
``ProxyServer`` speaks ledgerblue's TCP proxy protocol (the one speculos serves), so the real
``ledgerblue.commTCP`` transport runs. ``unplug()`` makes the device vanish from both.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from typing import Any

import coincurve
import rlp
from eth_account import Account as EthAccount
from eth_account.hdaccount import key_from_seed, seed_from_mnemonic
from eth_utils.crypto import keccak
from ledgerblue.commException import CommException

from tests.backends.ledger_emulator_eip712 import ProtocolError, TypedDataSession

MNEMONIC = "test test test test test test test test test test test junk"
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
OS_NAMES = {"ready": "Ethereum", "dashboard": "BOLOS", "other_app": "Bitcoin"}


class Unplugged(Exception):
    """The cable was pulled while the host waited for an answer."""


class EthAppEmulator:
    def __init__(
        self,
        version: tuple[int, int, int] = (1, 13, 0),
        tx_types: tuple[int, ...] = (0, 1, 2),
        mnemonic: str = MNEMONIC,
    ) -> None:
        self.version = version
        self.tx_types = tx_types
        self.state = "ready"  # ready | locked | dashboard | other_app
        self.plugged = True
        self.blind_signing = True
        self.reject_next = False  # the person presses "reject" on the next prompt
        self.unplug_on_prompt = False  # the cable is pulled while the next prompt is shown
        self.high_s = False  # answer with the (valid, but non-canonical) high-s twin
        self.os_app_info = True  # False: firmware older than GET_APP_AND_VERSION (B0 01)
        self.gate: threading.Event | None = None  # set: the person takes until the event to decide
        self.eip712_full = True  # False: a model/app build without clear signing (answers 0x6D00)
        self.received: list[bytes] = []
        self.prompts: list[str] = []  # what the person was asked to confirm, in order
        self._seed = seed_from_mnemonic(mnemonic, "")
        self._keys: dict[str, bytes] = {}
        self._buffers: dict[int, bytearray] = {}
        self._path: dict[int, str] = {}
        self._typed = TypedDataSession()
        self._lock = threading.Lock()

    # --- test helpers ----------------------------------------------------------------------------

    def key(self, path: str) -> bytes:
        if path not in self._keys:
            self._keys[path] = bytes(key_from_seed(self._seed, path))
        return self._keys[path]

    def address(self, path: str) -> str:
        return str(EthAccount.from_key(self.key(path)).address)

    # --- the device ------------------------------------------------------------------------------

    def handle(self, command: bytes) -> tuple[bytes, int]:
        """One APDU in, (data, status word) out. Raises Unplugged if the cable goes mid-request."""
        with self._lock:
            self.received.append(bytes(command))
            if len(command) < 5 or len(command) != 5 + command[4]:
                return b"", 0x6700
            if self.state == "locked":
                return b"", 0x5515
            cla, ins, p1, p2, data = command[0], command[1], command[2], command[3], bytes(command[5:])
            if cla == 0xB0 and ins == 0x01 and self.os_app_info:
                return self._app_and_version(), 0x9000
            if self.state != "ready":
                return b"", 0x6511 if self.state == "dashboard" else 0x6E00
            if cla != 0xE0:
                return b"", 0x6E00
            try:
                return self._ethereum(ins, p1, p2, data)
            except (ProtocolError, IndexError, ValueError, KeyError, rlp.DecodingError):
                self._buffers.clear()
                return b"", 0x6A80

    def _app_and_version(self) -> bytes:
        name = OS_NAMES[self.state].encode()
        version = ".".join(map(str, self.version)).encode() if self.state == "ready" else b"1.0.0"
        return bytes([1, len(name)]) + name + bytes([len(version)]) + version + b"\x01\x00"

    def _ethereum(self, ins: int, p1: int, p2: int, data: bytes) -> tuple[bytes, int]:
        if ins == 0x06:
            return bytes([0x01 if self.blind_signing else 0x00, *self.version]), 0x9000
        if ins == 0x02:
            path, _ = _path(data)
            public = coincurve.PrivateKey(self.key(path)).public_key.format(compressed=False)
            text = self.address(path)[2:].encode()
            return bytes([65]) + public + bytes([40]) + text + (b"\x00" * 32 if p2 == 1 else b""), 0x9000
        if ins in (0x04, 0x08):
            return self._streamed(ins, p1, data)
        if ins == 0x0C and p2 == 0x00 and self.version >= (1, 5, 0):
            path, rest = _path(data)
            self._typed = TypedDataSession()
            return self._prompt("typed data hashes", path, keccak(b"\x19\x01" + rest[:32] + rest[32:64]), 27)
        if self.version >= (1, 9, 19) and self.eip712_full and ins in (0x1A, 0x1C, 0x0C):
            return self._typed_full(ins, p1, p2, data)
        return b"", 0x6D00

    def _streamed(self, ins: int, p1: int, data: bytes) -> tuple[bytes, int]:
        if p1 == 0x00:
            self._path[ins], data = _path(data)
            self._buffers[ins] = bytearray()
        elif p1 != 0x80 or ins not in self._buffers:
            return b"", 0x6B00
        buffer = self._buffers[ins]
        buffer += data
        if ins == 0x08:
            length = int.from_bytes(buffer[:4], "big")
            if len(buffer) < 4 + length:
                return b"", 0x9000
            message = bytes(buffer[4 : 4 + length])
            del self._buffers[ins]
            prefix = b"\x19Ethereum Signed Message:\n" + str(len(message)).encode()
            return self._prompt("message", self._path[ins], keccak(prefix + message), 27)
        if len(buffer) < _envelope_length(buffer):
            return b"", 0x9000
        tx = bytes(self._buffers.pop(ins))
        tx_type = tx[0] if tx[0] < 0x80 else 0
        if tx_type not in self.tx_types:
            return b"", 0x6501
        items = rlp.decode(tx[1:] if tx_type else tx)
        data_index = {0: 5, 1: 6}.get(tx_type, 7)
        if items[data_index] and not self.blind_signing:
            return b"", 0x6A80
        if tx_type:
            return self._prompt(f"type {tx_type} transaction", self._path[ins], keccak(tx), 0)
        chain_id = int.from_bytes(items[6], "big") if len(items) == 9 else None
        return self._prompt("legacy transaction", self._path[ins], keccak(tx), 27, chain_id)

    def _typed_full(self, ins: int, p1: int, p2: int, data: bytes) -> tuple[bytes, int]:
        session = self._typed
        if ins == 0x1A:
            session.define_struct(data) if p2 == 0x00 else session.define_field(data)
        elif ins == 0x1C and p2 == 0x00:
            session.start_root(data)
        elif ins == 0x1C and p2 == 0x0F:
            session.array(data[0])
        elif ins == 0x1C and p2 == 0xFF:
            session.field_chunk(data, partial=p1 == 0x01)
        elif ins == 0x0C and p2 == 0x01:
            path, _ = _path(data)
            self._typed = TypedDataSession()
            return self._prompt("typed data fields", path, session.digest(), 27)
        else:
            return b"", 0x6B00
        return b"", 0x9000

    def _prompt(
        self, what: str, path: str, digest: bytes, v_base: int, chain_id: int | None = None
    ) -> tuple[bytes, int]:
        """The person looks at the screen: approve (sign), reject, or pull the cable."""
        self.prompts.append(what)
        if self.gate is not None:
            self.gate.wait(10)
        if self.unplug_on_prompt:
            self.unplug_on_prompt, self.plugged = False, False
            raise Unplugged()
        if self.reject_next:
            self.reject_next = False
            return b"", 0x6985
        raw = coincurve.PrivateKey(self.key(path)).sign_recoverable(digest, hasher=None)
        r, s, parity = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:64], "big"), raw[64]
        if self.high_s:
            s, parity = N - s, parity ^ 1
        v = (chain_id * 2 + 35 + parity) & 0xFF if chain_id is not None else v_base + parity
        return bytes([v]) + r.to_bytes(32, "big") + s.to_bytes(32, "big"), 0x9000


def _path(data: bytes) -> tuple[str, bytes]:
    count = data[0]
    indexes = struct.unpack(f">{count}I", data[1 : 1 + 4 * count])
    text = "/".join(f"{i & 0x7FFFFFFF}'" if i & 0x80000000 else str(i) for i in indexes)
    return "m/" + text, data[1 + 4 * count :]


def _envelope_length(buffer: bytes | bytearray) -> int:
    """Total length of a (typed) transaction from its RLP list header, as the app's parser knows it."""
    offset = 1 if buffer and buffer[0] < 0x80 else 0
    if len(buffer) <= offset:
        return offset + 1
    head = buffer[offset]
    if 0xC0 <= head <= 0xF7:
        return offset + 1 + head - 0xC0
    if head >= 0xF8:
        size_of_length = head - 0xF7
        return (
            offset
            + 1
            + size_of_length
            + int.from_bytes(buffer[offset + 1 : offset + 1 + size_of_length], "big")
        )
    raise ValueError("not an RLP list")


class EmulatorDongle:
    """What ledgereth calls ``dongle``: ledgerblue's interface, failing as hidapi does when unplugged."""

    def __init__(self, emulator: EthAppEmulator) -> None:
        self.emulator = emulator
        self.closed = False

    def exchange(self, apdu: bytes, timeout: int = 20000) -> bytearray:
        if self.closed or not self.emulator.plugged:
            raise OSError("read error")
        try:
            data, sw = self.emulator.handle(bytes(apdu))
        except Unplugged:
            raise OSError("read error") from None
        if sw != 0x9000:
            raise CommException(f"Invalid status {sw:04x}", sw, data)
        return bytearray(data)

    def close(self) -> None:
        self.closed = True


class EmulatorFactory:
    """A ``dongle_factory``: opening fails while the emulated device is unplugged."""

    def __init__(self, emulator: EthAppEmulator, device_id: str = "emulator") -> None:
        self.emulator, self.device_id = emulator, device_id
        self.opened: list[EmulatorDongle] = []

    def __call__(self) -> EmulatorDongle:
        if not self.emulator.plugged:
            raise OSError("open failed")
        self.opened.append(EmulatorDongle(self.emulator))
        return self.opened[-1]


class ProxyServer:
    """ledgerblue's TCP proxy protocol: request = uint32 length ‖ APDU; reply = uint32 length ‖ data ‖ SW.

    ``unplug()`` also runs on a serving thread (the cable pulled mid-request), and may still be
    closing things after the host saw its connection drop and the test called ``start()`` again.
    So listener and connections are swapped out under a lock and only those are closed: a late
    unplug must not close the listener or connections of the device plugged back in.
    """

    def __init__(self, emulator: EthAppEmulator) -> None:
        self.emulator = emulator
        self.port = 0
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._connections: list[socket.socket] = []
        self.start()

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(4)
        with self._lock:
            self.port = listener.getsockname()[1]
            self._listener = listener
            self.emulator.plugged = True
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def unplug(self) -> None:
        """The device disappears: the listener and every open connection close."""
        with self._lock:
            self.emulator.plugged = False
            listener, self._listener = self._listener, None
            connections, self._connections = self._connections, []
        if listener is not None:
            _close(listener)  # shutdown() wakes the thread blocked in accept(); close() alone does not
        for connection in connections:
            _close(connection)

    stop = unplug

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with self._lock:
                current = listener is self._listener and self.emulator.plugged
                if current:
                    self._connections.append(connection)
            if not current:  # accepted just before an unplug: that device is gone
                _close(connection)
                return
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        try:
            while True:
                header = _receive(connection, 4)
                data, sw = self.emulator.handle(_receive(connection, struct.unpack(">I", header)[0]))
                connection.sendall(struct.pack(">I", len(data)) + data + struct.pack(">H", sw))
        except Unplugged:
            self.unplug()
        except (OSError, EOFError):
            pass
        finally:
            _close(connection)


def _receive(connection: socket.socket, size: int) -> bytes:
    chunks = b""
    while len(chunks) < size:
        chunk = connection.recv(size - len(chunks))
        if not chunk:
            raise EOFError
        chunks += chunk
    return chunks


def _close(connection: Any) -> None:
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)
    connection.close()
