"""Vault commands: init, setpw, delpw, attest (clef-compat §1.4), with --master-password-file."""

from __future__ import annotations

import logging
import re
from typing import Any

import click

from backends.base import Secret
from signer.approval.terminal import default_terminal
from signer.cli.common import Fatal, ask_new_password, ask_password, initialize
from signer.cli.options import build_config, global_options
from signer.config import Config

log = logging.getLogger("sealward")

INIT_TEXT = """This is required to be able to store credentials, such as:
* Passwords for keystores (used by rule engine)
* Storage for JavaScript auto-signing rules
* Hash of JavaScript rule-file

You should treat 'masterseed.json' with utmost secrecy and make a backup of it!
* The password is necessary but not enough, you need to back up the master seed too!
* The master seed does not contain your accounts, those need to be backed up separately!"""


def master_password_for_cli(cfg: Config) -> Secret:
    if cfg.master_password_file is not None:
        from signer.vault.passwords import read_password_file

        try:
            return read_password_file(cfg.master_password_file)
        except Exception as exc:
            raise Fatal(str(exc)) from exc
    term = default_terminal()
    term.write("Decrypt master seed of sealward\n")
    return ask_password(term, "Password: ")


def open_cli_vault(cfg: Config) -> Any:
    from signer.vault import Vault, unlock_master_seed

    try:
        seed = unlock_master_seed(cfg.masterseed_path, master_password_for_cli(cfg))
        return Vault.open(cfg.configdir, seed)
    except Fatal:
        raise
    except Exception as exc:
        raise Fatal(str(exc)) from exc


def stored_credential(cfg: Config, key: str) -> Secret | None:
    """A credential from the vault, when it can be opened without a prompt (password file)."""
    if cfg.master_password_file is None or not cfg.masterseed_path.exists():
        return None
    value = open_cli_vault(cfg).credentials.get(key)
    return None if value is None else Secret(value)


def credential_key(argument: str) -> str:
    """setpw/delpw take an address (stored checksummed, as clef does) or a token URI."""
    if argument.startswith("pkcs11:"):
        if not re.fullmatch(r"pkcs11:token=[^;]+", argument):
            raise Fatal(f"Invalid token specified: {argument} (expected pkcs11:token=LABEL)")
        return argument
    from signer.vault.passwords import checksum_address

    try:
        return checksum_address(argument)
    except ValueError as exc:
        raise Fatal(str(exc)) from exc


@click.command("init")
@global_options
@click.pass_context
def init(ctx: click.Context, /, **_: Any) -> None:
    """Initialize the signer: generate the master seed that protects the vault."""
    from signer.fsutil import ensure_private_dir
    from signer.vault import create_master_seed
    from signer.vault.passwords import check_password_format

    cfg = build_config(ctx)
    term = default_terminal()
    initialize(cfg, term)
    ensure_private_dir(cfg.configdir)
    if cfg.masterseed_path.exists():
        raise Fatal(f"master key {cfg.masterseed_path} already exists, will not overwrite")
    if cfg.master_password_file is not None:
        password = master_password_for_cli(cfg)
        try:
            check_password_format(password.reveal())
        except ValueError as exc:
            raise Fatal(f"invalid password: {exc}") from exc
    else:
        term.write(
            "The master seed of sealward will be locked with a password.\n"
            "Please specify a password. Do not forget this password!\n"
        )
        while True:
            password = ask_new_password(term)
            try:
                check_password_format(password.reveal())
                break
            except ValueError as exc:
                term.write(f"invalid password: {exc}\n")
        term.write("\n")
    try:
        create_master_seed(cfg.masterseed_path, password, cfg.light_kdf)
    except Exception as exc:
        raise Fatal(f"failed to encrypt master seed: {exc}") from exc
    click.echo(f"A master seed has been generated into {cfg.masterseed_path}\n\n{INIT_TEXT}\n")


@click.command("attest")
@click.argument("sha256", required=False)
@global_options
@click.pass_context
def attest(ctx: click.Context, /, sha256: str | None, **_: Any) -> None:
    """Attest that a ruleset file (by its sha256) may approve requests automatically."""
    if not sha256:
        raise Fatal("This command requires an argument.")
    cfg = build_config(ctx)
    initialize(cfg, default_terminal())
    open_cli_vault(cfg).attest(sha256)
    log.info("Ruleset attestation updated sha256=%s", sha256)


@click.command("setpw")
@click.argument("address", required=False)
@global_options
@click.pass_context
def setpw(ctx: click.Context, /, address: str | None, **_: Any) -> None:
    """Store a keystore password (or a token PIN: pkcs11:token=LABEL) in the vault."""
    if not address:
        raise Fatal("This command requires an address to be passed as an argument")
    cfg = build_config(ctx)
    term = default_terminal()
    initialize(cfg, term)
    key = credential_key(address)
    term.write("Please enter a password to store for this address:\n")
    password = ask_new_password(term, "Password:", "Repeat password:")
    term.write("\n")
    open_cli_vault(cfg).credentials.put(key, password.reveal())
    log.info("Credential store updated set=%s", key)


@click.command("delpw")
@click.argument("address", required=False)
@global_options
@click.pass_context
def delpw(ctx: click.Context, /, address: str | None, **_: Any) -> None:
    """Remove a stored password or PIN from the vault."""
    if not address:
        raise Fatal("This command requires an address to be passed as an argument")
    cfg = build_config(ctx)
    initialize(cfg, default_terminal())
    key = credential_key(address)
    open_cli_vault(cfg).credentials.delete(key)
    log.info("Credential store updated unset=%s", key)


COMMANDS = [init, attest, setpw, delpw]
