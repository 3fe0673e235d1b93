"""Loading a PKCS#11 module once per process, made safe for threads.

python-pkcs11 calls ``C_Initialize(NULL)``. The standard lets a module then assume a single thread,
and SoftHSM2 does exactly that: it disables its mutexes, and two threads signing at once crash it
(SIGSEGV, heap corruption). Two ways out, both implemented here:

* ``"os"``: right after loading, finalise and initialise again with ``CKF_OS_LOCKING_OK`` through
  ctypes on the same ``dlopen`` handle. The module then locks internally, so sessions can work in
  parallel. This is the default. On SoftHSM with 2 cores both strategies measured the same within
  noise (SoftHSM is CPU-bound); the gain is on network HSMs (CloudHSM), where a call mostly waits
  for I/O: parallel sessions overlap those waits, one lock would queue them.
* ``"serialise"``: one lock around every call into the module. Used when the module answers
  ``CKR_CANT_LOCK``. The lock is per *module*, not per token: with mutexes off, SoftHSM's global
  state (session table, object store) is shared by all its tokens.

Either way calls go through a CallGate (gate.py): the few calls that tear down sessions or login
never overlap a call in flight.

The ctypes side also gives us ``C_Login``/``C_Logout``/``C_GetSessionInfo``/``C_CloseAllSessions``,
which python-pkcs11 either lacks or wraps in ways that leak session handles (see token.py).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import threading
from collections.abc import Iterator
from typing import Any, Literal

import pkcs11

from backends.base import DeviceUnavailable
from backends.pkcs11.gate import CallGate

Locking = Literal["auto", "os", "serialise"]

CKR_OK = 0x000
CKR_CANT_LOCK = 0x00A
CKF_OS_LOCKING_OK = 0x002
# CK_FUNCTION_LIST entry order (PKCS#11 v2.40 §5.x); only the indices we call.
_F_INITIALIZE, _F_FINALIZE, _F_CLOSE_ALL, _F_SESSION_INFO, _F_LOGIN, _F_LOGOUT = 0, 1, 14, 15, 18, 19
_CKU_USER = 1
_CKS_RO_USER_FUNCTIONS, _CKS_RW_USER_FUNCTIONS = 1, 3

_ulong = ctypes.c_ulong


class _Version(ctypes.Structure):
    _fields_ = (("major", ctypes.c_ubyte), ("minor", ctypes.c_ubyte))


class _FunctionList(ctypes.Structure):
    _fields_ = (("version", _Version), ("fn", ctypes.c_void_p * 20))


class _InitArgs(ctypes.Structure):
    _fields_ = (("mutex_fns", ctypes.c_void_p * 4), ("flags", _ulong), ("reserved", ctypes.c_void_p))


class _SessionInfo(ctypes.Structure):
    _fields_ = (("slot", _ulong), ("state", _ulong), ("flags", _ulong), ("device_error", _ulong))


class Pkcs11Module:
    """One loaded module: the python-pkcs11 ``lib`` plus the raw calls and the locking strategy."""

    def __init__(self, path: str, locking: Locking) -> None:
        if not os.path.isfile(path):
            raise DeviceUnavailable(
                f"the PKCS#11 module {path} does not exist (is the HSM software installed?)"
            )
        try:
            self.lib: Any = pkcs11.lib(path)
            # dlopen of an already loaded file returns the same handle, so this is the very
            # function table python-pkcs11 calls through.
            handle = ctypes.CDLL(path)
        except (OSError, pkcs11.PKCS11Error) as exc:
            raise DeviceUnavailable(f"cannot load the PKCS#11 module {path}: {exc}") from exc
        table = ctypes.POINTER(_FunctionList)()
        handle.C_GetFunctionList(ctypes.byref(table))
        fn = table.contents.fn
        ptr, ul = ctypes.c_void_p, _ulong
        self._c_initialize = ctypes.CFUNCTYPE(ul, ptr)(fn[_F_INITIALIZE])
        self._c_finalize = ctypes.CFUNCTYPE(ul, ptr)(fn[_F_FINALIZE])
        self._c_close_all = ctypes.CFUNCTYPE(ul, ul)(fn[_F_CLOSE_ALL])
        self._c_session_info = ctypes.CFUNCTYPE(ul, ul, ptr)(fn[_F_SESSION_INFO])
        self._c_login = ctypes.CFUNCTYPE(ul, ul, ul, ctypes.c_char_p, ul)(fn[_F_LOGIN])
        self._c_logout = ctypes.CFUNCTYPE(ul, ul)(fn[_F_LOGOUT])
        self.path = path
        self._pid = os.getpid()
        self._gate = CallGate(serialise=True)
        self.locking: Literal["os", "serialise"] = "serialise"
        self.generation = 0  # bumped by reinitialize(): every session handle before it is dead
        self._init(locking)

    def _init(self, locking: Locking) -> None:
        """Replace python-pkcs11's C_Initialize(NULL) with one that asks for OS locking."""
        self._c_finalize(None)
        if locking != "serialise":
            args = _InitArgs(flags=CKF_OS_LOCKING_OK)
            rv = self._c_initialize(ctypes.addressof(args))
            if rv == CKR_OK:
                self.locking, self._gate.serialise = "os", False
                return
            if rv != CKR_CANT_LOCK or locking == "os":
                raise DeviceUnavailable(f"the PKCS#11 module {self.path} refused C_Initialize (CKR 0x{rv:x})")
        rv = self._c_initialize(None)
        if rv != CKR_OK:
            raise DeviceUnavailable(f"the PKCS#11 module {self.path} refused C_Initialize (CKR 0x{rv:x})")
        self.locking, self._gate.serialise = "serialise", True

    def _check_pid(self) -> None:
        if os.getpid() != self._pid:
            # PKCS#11 state does not survive fork(); the child must not touch the parent's sessions.
            raise DeviceUnavailable("the PKCS#11 module was loaded before fork(); start workers with spawn")

    @contextlib.contextmanager
    def calls(self) -> Iterator[None]:
        """Hold this around every ordinary call into the module (see gate.py)."""
        self._check_pid()
        with self._gate.shared():
            yield

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold this around calls that invalidate sessions or login: no other call runs meanwhile."""
        self._check_pid()
        with self._gate.exclusive():
            yield

    def reinitialize(self) -> None:
        """Finalise and initialise again, as an HSM restart would: every session and login is lost.

        Also how an in-process test switches SoftHSM configuration (SoftHSM reads SOFTHSM2_CONF
        and scans its token folder only in C_Initialize).
        """
        with self.exclusive():
            self.generation += 1
            self._init(self.locking)

    def find_token(self, label: str) -> Any:
        """The python-pkcs11 Token labelled ``label``; DeviceUnavailable names the ones present."""
        with self.calls():
            try:
                return self.lib.get_token(token_label=label)
            except pkcs11.NoSuchToken:
                present = ", ".join(repr(s.get_token().label) for s in self.lib.get_slots(token_present=True))
                raise DeviceUnavailable(
                    f"PKCS#11 token {label!r} is not present in {self.path} "
                    f"(tokens present: {present or 'none'})"
                ) from None
            except pkcs11.MultipleTokensReturned:
                raise DeviceUnavailable(f"several PKCS#11 tokens are labelled {label!r}") from None

    # --- raw calls python-pkcs11 does not offer in a usable form ------------------------------

    def login(self, session_handle: int, pin: bytes) -> int:
        """C_Login(CKU_USER) on an open session; returns the CKR code instead of raising."""
        with self.exclusive():
            return int(self._c_login(session_handle, _CKU_USER, pin, len(pin)))

    def logout(self, session_handle: int) -> int:
        with self.exclusive():
            return int(self._c_logout(session_handle))

    def is_user_session(self, session_handle: int) -> bool | None:
        """True when the session sees the user's objects, False when public, None when invalid."""
        info = _SessionInfo()
        with self.calls():
            rv = self._c_session_info(session_handle, ctypes.byref(info))
        if rv != CKR_OK:
            return None
        return info.state in (_CKS_RO_USER_FUNCTIONS, _CKS_RW_USER_FUNCTIONS)

    def close_all_sessions(self, slot_id: int) -> int:
        """C_CloseAllSessions: what removing and re-inserting the token looks like to us."""
        with self.exclusive():
            return int(self._c_close_all(slot_id))


_modules: dict[str, Pkcs11Module] = {}
_modules_lock = threading.Lock()


def load_module(path: str, locking: Locking = "auto") -> Pkcs11Module:
    """The process-wide module for ``path``; ``locking`` only matters on the first load."""
    with _modules_lock:
        module = _modules.get(path)
        if module is None:
            module = _modules[path] = Pkcs11Module(path, locking)
        return module


def loaded_module(path: str) -> Pkcs11Module | None:
    with _modules_lock:
        return _modules.get(path)
