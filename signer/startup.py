"""What the signer needs before it can serve: the backends, the unlocked vault, the attested rules.

Used by the composition root (``signer.app``) and by CLI commands that open backends without
serving. Every reason not to start unattended is a ``StartupError``.
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING

from backends.base import Backend, Secret
from signer.approval.ui import UI
from signer.config import Config
from signer.types import UserInputRequest

if TYPE_CHECKING:
    from signer.vault import Vault

log = logging.getLogger("sealward")


def make_backends(config: Config) -> list[Backend]:
    backends: list[Backend] = []
    if config.keystore is not None and str(config.keystore):
        from backends.keystore import KeystoreBackend

        backends.append(KeystoreBackend(config.keystore, light_kdf=config.light_kdf))
    if config.pkcs11_module:
        from backends.pkcs11 import Pkcs11Backend

        backends.append(Pkcs11Backend(config.pkcs11_module, list(config.pkcs11_tokens)))
    if config.ledger:
        try:
            from backends.ledger import LedgerBackend
        except ImportError as exc:
            log.warning("Ledger support is unavailable err=%s", exc)
        else:
            backends.append(LedgerBackend(accounts_per_path=config.ledger_accounts))
    return backends


class StartupError(Exception):
    """A fatal start-up failure; the CLI prints ``Fatal: <message>``."""


def master_password(config: Config, ui: UI) -> Secret:
    if config.master_password_file is not None:
        from signer.vault.passwords import read_password_file

        return read_password_file(config.master_password_file)
    request = UserInputRequest(
        "Master Password", "Please enter the password to decrypt the master seed", True
    )
    return Secret(ui.on_input_required(request))


def unattended(config: Config) -> bool:
    """The operator asked for unattended operation: a password file or a rule file was given.

    Then a vault or rules that cannot be loaded stop the start (fail closed): clef would only warn
    and send every request to a person nobody is watching.
    """
    return config.master_password_file is not None or config.rules is not None


def _disabled(fatal: bool, message: str, *args: object) -> None:
    """Log why rules are off, or refuse to start with the same reason when ``fatal``."""
    if fatal:
        text = message % args if args else message
        raise StartupError(f"{text}; refusing to start unattended without them (see docs/vault.md)")
    log.warning(message, *args)


def open_vault(config: Config, ui: UI) -> Vault | None:
    """The unlocked vault, or None: as in clef, a failure means 'rules disabled' and prompts,
    unless the start is unattended (``unattended``), where it raises StartupError."""
    from signer.vault import Vault, unlock_master_seed

    fatal = unattended(config)
    if not config.masterseed_path.exists():
        no_seed = "no master seed (run 'sealward init')"
        _disabled(fatal, "Failed to open master, rules disabled err=%s", no_seed)
        return None
    try:
        seed = unlock_master_seed(config.masterseed_path, master_password(config, ui))
        return Vault.open(config.configdir, seed)
    except Exception as exc:
        _disabled(fatal, "Failed to open master, rules disabled err=%s", exc)
        return None


def attested_rules(config: Config, vault: Vault | None) -> str | None:
    """The rule source when --rules is set and its sha256 matches the attested hash, else None.

    With --rules given, every reason not to load them raises StartupError instead.
    """
    if config.rules is None or vault is None:
        return None
    try:
        source = config.rules.read_bytes()
    except OSError as exc:
        _disabled(True, "Could not load rules file=%s err=%s", config.rules, exc.strerror or exc)
        return None
    actual = hashlib.sha256(source).hexdigest()
    try:
        expected = vault.ruleset_hash()
    except Exception as exc:
        _disabled(True, "Could not read the attested rule hash err=%s", exc)
        return None
    if actual != expected:
        _disabled(True, "Rule hash not attested hash=%s attested=%s", actual, expected or '""')
        return None
    return source.decode("utf-8", "replace")
