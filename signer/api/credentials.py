"""Finding the password or PIN a backend needs: the vault first, then the UI (clef-compat §2.9)."""

from __future__ import annotations

import logging
from typing import Protocol

from backends.base import Account, Backend, Secret
from signer.approval.ui import UI
from signer.errors import InternalError
from signer.types import UserInputRequest

log = logging.getLogger("sealward.api")


class CredentialSource(Protocol):
    """Where stored credentials live (the vault's credentials.json). ``get`` returns None on a miss."""

    def get(self, key: str) -> str | None: ...


class NoCredentials:
    """The store used when the vault is locked: it always misses, so every password is asked."""

    def get(self, key: str) -> str | None:
        return None


def credential_for(
    backend: Backend, account: Account, purpose: str, store: CredentialSource, ui: UI
) -> Secret | None:
    """The credential ``backend.sign`` needs for ``account`` now, or None when it needs none."""
    need = backend.credential_need(account, purpose)
    if need is None:
        return None
    try:
        stored = store.get(need.key)
    except Exception as exc:  # a damaged store must not block an interactive answer
        log.warning("Reading the credential store failed err=%s", type(exc).__name__)
        stored = None
    if stored is not None:
        return Secret(stored)
    try:
        return Secret(ui.on_input_required(UserInputRequest(need.title, need.prompt, True)))
    except Exception as exc:
        # clef answers a vague "internal error" so a UI failure reveals nothing to the caller.
        log.warning("UI did not supply a credential err=%s", type(exc).__name__)
        raise InternalError() from exc
