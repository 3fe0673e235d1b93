"""One token's login state and sessions, shared by everything in the process that uses the token.

PKCS#11 login belongs to the *application*, not to a session: one logged-in session unlocks every
session of the process, and logging out (or closing that session) locks them all. Hence:

* one "master" session per token carries the login and stays open until we lock;
* signing happens on PIN-less working sessions from a small pool (a session runs one operation at a
  time, so each thread borrows its own);
* the state is per (module, token) in the process (``acquire``/``release``), because two objects
  logging in separately would trip over ``CKR_USER_ALREADY_LOGGED_IN`` and each other's logout.

When a session or the login is lost (token pulled and re-inserted, HSM restarted, login timed out)
the first thread to notice logs in again with the PIN it remembers, and the call is retried once.
A PIN the token rejected is remembered (as a keyed hash) and never sent again: tokens lock after a
few failures, and an automatic retry loop is how people lose their keys. A different PIN is tried.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import pkcs11

from backends.base import CredentialRequired, DeviceUnavailable, InvalidCredential, Secret
from backends.pkcs11.module import Pkcs11Module
from backends.pkcs11.pin import CKR_OK, CKR_USER_ALREADY_LOGGED_IN, RejectedPins, login_error, same_pin

T = TypeVar("T")
_SESSION_LOST = (
    pkcs11.SessionHandleInvalid,
    pkcs11.SessionClosed,
    pkcs11.TokenNotPresent,
    pkcs11.DeviceRemoved,
    pkcs11.DeviceError,
)
_LOGIN_LOST = (pkcs11.UserNotLoggedIn, pkcs11.KeyHandleInvalid, pkcs11.ObjectHandleInvalid)
Loss = Literal["session", "login"]


@dataclass(eq=False)
class Worker:
    """A PIN-less working session and the private-key objects found on it (handles are cheap to keep)."""

    session: Any
    epoch: int
    login_epoch: int
    keys: dict[bytes | str, Any] = field(default_factory=dict)


class TokenSession:
    def __init__(self, module: Pkcs11Module, label: str, max_sessions: int = 4) -> None:
        self.module, self.label = module, label
        self._lock = threading.Lock()  # order: this lock, then module.calls(); never the reverse
        self._slots = threading.BoundedSemaphore(max_sessions)  # YubiHSM 2 allows only 16 sessions
        self._token: Any = None
        self._master: Any = None
        self._pin: Secret | None = None
        self._rejected = RejectedPins(module.path, label)
        self._idle: list[Worker] = []
        self._epoch = 0  # sessions older than this are dead
        self._login_epoch = 0  # key handles found before this may be stale
        self._generation = module.generation
        self._users = 0

    @property
    def logged_in(self) -> bool:
        return self._pin is not None

    # --- login ------------------------------------------------------------------------------

    def login(self, pin: Secret) -> None:
        with self._lock:
            self._check_generation()
            if self._pin is not None:
                if same_pin(pin, self._pin):
                    return
                raise InvalidCredential(
                    f"the PIN supplied for PKCS#11 token {self.label} is not the one it is logged in with"
                )
            self._rejected.refuse_if_rejected(pin)
            self._login_locked(pin)

    def _login_locked(self, pin: Secret) -> None:
        token = self._find_token()
        master = self._open(token)
        rv = self.module.login(master.handle, pin.reveal().encode("utf-8"))
        # ALREADY_LOGGED_IN: someone else in this process unlocked the token; it is unlocked.
        if rv in (CKR_OK, CKR_USER_ALREADY_LOGGED_IN):
            self._master, self._pin = master, pin
            self._rejected.forget_all()
            self._login_epoch += 1
            return
        self._close_quietly(master)
        error, counted = login_error(self.label, rv)
        if counted:
            self._rejected.record(pin)
        raise error

    def logout(self) -> None:
        """Lock the token. Working sessions stay open; they see only public objects from now on."""
        with self._lock:
            # After a module re-init the old master handle may name someone else's session.
            if self._master is not None and self._generation == self.module.generation:
                self.module.logout(self._master.handle)
                self._close_quietly(self._master)
            self._master, self._pin = None, None
            self._login_epoch += 1

    def check(self) -> None:
        """One cheap call (C_GetTokenInfo on the token's slot); DeviceUnavailable when it fails."""
        with self._lock:
            self._check_generation()
            token = self._find_token()
        try:
            with self.module.calls():
                token.slot.get_token()
        except pkcs11.PKCS11Error as exc:
            with self._lock:
                self._token = None  # look the token up again next time: its slot may change
            raise DeviceUnavailable(
                f"PKCS#11 token {self.label} does not answer: {type(exc).__name__}"
            ) from exc

    # --- work -------------------------------------------------------------------------------

    def run(self, fn: Callable[[Worker], T], *, needs_login: bool) -> T:
        """Run ``fn`` on a working session; after a lost session or login, log in again and retry once."""
        for attempt in range(2):
            if needs_login and self._pin is None:
                raise CredentialRequired(f"PKCS#11 token {self.label} needs its PIN")
            worker = self._borrow()
            seen = (worker.epoch, worker.login_epoch)
            try:
                with self.module.calls():
                    return fn(worker)
            except (*_SESSION_LOST, *_LOGIN_LOST, pkcs11.NoSuchKey) as exc:
                loss = self._classify(exc, worker, needs_login)
                if loss is None:
                    raise  # a key that really is not there
                if attempt == 1:
                    raise DeviceUnavailable(
                        f"PKCS#11 token {self.label} keeps losing its {loss}: {exc!r}"
                    ) from exc
            except pkcs11.PKCS11Error as exc:
                raise DeviceUnavailable(f"PKCS#11 token {self.label}: {type(exc).__name__} {exc}") from exc
            finally:
                self._give_back(worker)
            self._recover(seen, loss)
        raise AssertionError("unreachable")

    def _classify(self, exc: Exception, worker: Worker, needs_login: bool) -> Loss | None:
        if isinstance(exc, _SESSION_LOST):
            return "session"
        if isinstance(exc, pkcs11.NoSuchKey):
            # After a logout, private objects are simply invisible; ask the session which it is.
            if not needs_login:
                return None
            state = self.module.is_user_session(worker.session.handle)
            return None if state else ("session" if state is None else "login")
        return "login"

    def _recover(self, seen: tuple[int, int], loss: Loss) -> None:
        with self._lock:
            if seen != (self._epoch, self._login_epoch):
                return  # another thread already recovered; just retry
            if loss == "session":
                self._drop_all()
            self._relogin_locked()

    def _relogin_locked(self) -> None:
        # The old master is dead or logged out. Its handle may already belong to a new session,
        # so it is abandoned rather than closed.
        self._master = None
        self._login_epoch += 1
        pin = self._pin  # kept meanwhile: other threads read it, unlocked, as "is there a PIN"
        if pin is None:
            return
        try:
            self._login_locked(pin)
        except DeviceUnavailable:
            raise  # the token is away, not the PIN wrong: try again when it is back
        except BaseException:
            self._pin = None  # rejected (now remembered as such) or locked: ask a person
            raise

    def _drop_all(self) -> None:
        """Forget every session without closing it: the handles are dead and may be reused."""
        self._idle.clear()
        self._epoch += 1
        self._token = None  # the slot id can change when a token comes back

    def _check_generation(self) -> None:
        if self._generation != self.module.generation:
            self._generation = self.module.generation
            self._drop_all()
            # The token may be gone; the call that needs it reports that.
            with contextlib.suppress(DeviceUnavailable):
                self._relogin_locked()

    def _borrow(self) -> Worker:
        self._slots.acquire()
        try:
            with self._lock:
                self._check_generation()
                while self._idle:
                    worker = self._idle.pop()
                    if worker.epoch == self._epoch:
                        if worker.login_epoch != self._login_epoch:
                            worker.keys.clear()
                            worker.login_epoch = self._login_epoch
                        return worker
                return Worker(self._open(self._find_token()), self._epoch, self._login_epoch)
        except BaseException:
            self._slots.release()
            raise

    def _give_back(self, worker: Worker) -> None:
        with self._lock:
            if worker.epoch != self._epoch:
                pass  # dead (see _drop_all)
            elif self._users > 0:
                self._idle.append(worker)
            else:
                self._close_quietly(worker.session)  # the token was closed while this call ran
        self._slots.release()

    # --- plumbing ---------------------------------------------------------------------------

    def _find_token(self) -> Any:
        if self._token is None:
            self._token = self.module.find_token(self.label)
        return self._token

    def _open(self, token: Any) -> Any:
        try:
            with self.module.calls():
                return token.open(rw=True)
        except pkcs11.PKCS11Error as exc:
            self._token = None
            raise DeviceUnavailable(f"cannot open a session on PKCS#11 token {self.label}: {exc!r}") from exc

    def _close_quietly(self, session: Any) -> None:
        try:
            with self.module.calls():
                session.close()
        except pkcs11.PKCS11Error:
            pass  # already gone

    def close(self) -> None:
        """Lock the token and close the idle sessions (the last user of the token calls this)."""
        self.logout()
        with self._lock:
            for worker in self._idle:
                self._close_quietly(worker.session)
            self._idle.clear()


_registry: dict[tuple[str, str], TokenSession] = {}
_registry_lock = threading.Lock()


def acquire(module: Pkcs11Module, label: str) -> TokenSession:
    """The process-wide state of token ``label`` on ``module``; pair every call with ``release``."""
    with _registry_lock:
        state = _registry.get((module.path, label))
        if state is None:
            state = _registry[(module.path, label)] = TokenSession(module, label)
        with state._lock:
            state._users += 1
        return state


def release(state: TokenSession) -> None:
    with _registry_lock:
        with state._lock:
            state._users -= 1
            last = state._users == 0
        if last:
            del _registry[(state.module.path, state.label)]
            state.close()
