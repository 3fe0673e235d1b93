"""The account manager: one view over every configured backend, in clef's order."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from backends.base import Account, Backend, KnownAccounts, Payload, Secret, Signature

log = logging.getLogger("sealward.accounts")


class DuplicateAccountError(Exception):
    """The same address is held by two backends; the signer refuses to start (ambiguous key)."""


def _url_sort_key(account: Account) -> tuple[str, str]:
    # geth sorts wallets by URL: scheme first, then the rest of the URL.
    parts = urlsplit(account.url)
    return parts.scheme, account.url[len(parts.scheme) :]


# Told of every signature: backend name, seconds taken, the exception when it failed.
SignObserver = Callable[[str, float, BaseException | None], None]


class AccountManager:
    def __init__(self, backends: Sequence[Backend], observer: SignObserver | None = None) -> None:
        self._backends = list(backends)
        self.observer = observer

    @property
    def backends(self) -> list[Backend]:
        return list(self._backends)

    def backend(self, name: str) -> Backend | None:
        return next((b for b in self._backends if b.name == name), None)

    def accounts(self) -> list[Account]:
        """All accounts of all backends, sorted by URL like geth's account manager."""
        found: list[Account] = []
        for backend in self._backends:
            try:
                found.extend(backend.accounts())
            except Exception as exc:  # a vanished device must not hide the other backends
                log.warning("Listing accounts failed backend=%s err=%s", backend.name, exc)
        return sorted(found, key=_url_sort_key)

    def find(self, address: str) -> tuple[Backend, Account] | None:
        """The backend and account for ``address`` (any case), or None.

        Backends are asked in order, each from what it already knows when it can say
        (``KnownAccounts``: no device round trip on the signing path), else by listing.
        """
        wanted = address.lower()
        for backend in self._backends:
            if isinstance(backend, KnownAccounts):
                known = backend.known_account(wanted)
                if known is not None:
                    return backend, known
            try:
                accounts = backend.accounts()
            except Exception as exc:
                log.warning("Listing accounts failed backend=%s err=%s", backend.name, exc)
                continue
            for account in accounts:
                if account.address.lower() == wanted:
                    return backend, account
        return None

    def sign(
        self, backend: Backend, account: Account, payload: Payload, credential: Secret | None
    ) -> Signature:
        """``backend.sign``, timed for the observer (metrics) when there is one."""
        if self.observer is None:
            return backend.sign(account, payload, credential)
        start = time.perf_counter()
        try:
            signature = backend.sign(account, payload, credential)
        except BaseException as exc:
            self.observer(backend.name, time.perf_counter() - start, exc)
            raise
        self.observer(backend.name, time.perf_counter() - start, None)
        return signature

    def check_no_duplicates(self) -> None:
        """Refuse the same address in two backends: which key would sign would be ambiguous."""
        seen: dict[str, Account] = {}
        for account in self.accounts():
            other = seen.get(account.address.lower())
            if other is not None and other.backend != account.backend:
                raise DuplicateAccountError(
                    f"account {account.address} is held by two backends ({other.url} and {account.url}); "
                    "remove one of them"
                )
            seen[account.address.lower()] = account

    def close(self) -> None:
        for backend in self._backends:
            try:
                backend.close()
            except Exception as exc:
                log.warning("Closing backend failed backend=%s err=%s", backend.name, exc)
