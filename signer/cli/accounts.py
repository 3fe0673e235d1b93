"""Account commands: newaccount, importraw, list-accounts, list-wallets, gendoc (clef-compat §1.4)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click

from backends.base import Secret
from signer.approval.console import ConsoleUI
from signer.approval.terminal import default_terminal
from signer.cli.common import ask_password, initialize
from signer.cli.options import build_config, global_options
from signer.config import Config

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def _keystore(cfg: Config) -> Any:
    from backends.keystore import KeystoreBackend

    if cfg.keystore is None:
        raise click.ClickException("password based accounts not supported")
    return KeystoreBackend(cfg.keystore, light_kdf=cfg.light_kdf)


def _pkcs11(cfg: Config, token: str) -> Any:
    from backends.pkcs11 import Pkcs11Backend

    if not cfg.pkcs11_module:
        raise click.ClickException(
            "--pkcs11-module (or pkcs11-module in sealward.toml) is required with --pkcs11-token"
        )
    return Pkcs11Backend(cfg.pkcs11_module, [token])


def token_pin(cfg: Config, token: str) -> Secret:
    """The token PIN from the vault when it is unlocked with --master-password-file, else a prompt."""
    from signer.cli.vault import stored_credential

    stored = stored_credential(cfg, f"pkcs11:token={token}")
    if stored is not None:
        return stored
    term = default_terminal()
    term.write(f"## Token PIN\n\nPlease enter the PIN for PKCS#11 token {token}\n")
    return ask_password(term, "> ")


def read_key_file(path: Path) -> bytes:
    """clef's importraw key file: exactly 64 hex characters, optionally followed by white space."""
    text = path.read_text(errors="replace")
    stripped = text.rstrip()
    if len(stripped) < 64:
        raise click.ClickException("key file too short, want 64 hex characters")
    if len(stripped) > 64:
        raise click.ClickException("key file too long, want 64 hex characters")
    bad = re.search(r"[^0-9a-fA-F]", stripped)
    if bad:
        raise click.ClickException(f"invalid hex character {bad.group()!r} in private key".replace("'", '"'))
    value = int(stripped, 16)
    if value >= SECP256K1_N:
        raise click.ClickException("invalid private key, >=N")
    if value == 0:
        raise click.ClickException("invalid private key, zero or negative")
    return bytes.fromhex(stripped)


@click.command("newaccount")
@click.option("--label", help="Label of the key object (PKCS#11)")
@global_options
@click.pass_context
def newaccount(ctx: click.Context, /, label: str | None, **_: Any) -> None:
    """Create a new account (a keystore file, or a key pair on a PKCS#11 token)."""
    cfg = build_config(ctx)
    term = default_terminal()
    initialize(cfg, term)
    if cfg.pkcs11_tokens:
        token = cfg.pkcs11_tokens[0]
        account = _pkcs11(cfg, token).new_account(token, token_pin(cfg, token), label)
        click.echo(f"Generated account {account.address}")
        click.echo(f"Key: {account.url} (generated on the token: sensitive, never extractable)")
        return
    from signer.api.external import create_keystore_account
    from signer.vault.passwords import check_password_format

    address = create_keystore_account(_keystore(cfg), ConsoleUI(term), check_password_format)
    click.echo(f"Generated account {address}")


@click.command("importraw")
@click.argument("keyfile", required=False)
@click.argument("extra", nargs=-1)
@click.option("--label", help="Label of the key object (PKCS#11)")
@global_options
@click.pass_context
def importraw(
    ctx: click.Context, /, keyfile: str | None, extra: tuple[str, ...], label: str | None, **_: Any
) -> None:
    """Import a private key from a file holding 64 hex characters."""
    if keyfile is None or extra:
        raise click.ClickException("<keyfile> must be given as first argument")
    cfg = build_config(ctx)
    term = default_terminal()
    initialize(cfg, term)
    key = read_key_file(Path(keyfile))
    if cfg.pkcs11_tokens:
        token = cfg.pkcs11_tokens[0]
        backend = _pkcs11(cfg, token)
        account = backend.import_key(token, key, token_pin(cfg, token), label)
        click.echo(f"Imported account {account.address}")
        click.echo(
            f"Key: {account.url}\nThe key is now on the token, sensitive and not extractable. It is not "
            '"always sensitive": it existed outside the HSM before, so treat the source file as a copy '
            "of the key and destroy it."
        )
        return
    from signer.vault.passwords import check_password_format

    term.write("## Password\n\nPlease enter a password for the imported account\n")
    password = _ask_import_password(term)
    try:
        check_password_format(password.reveal())
    except ValueError as exc:
        raise click.ClickException(f"password requirements not met: {exc}") from exc
    account = _keystore(cfg).import_key(key, password)
    path = account.url.removeprefix("keystore://")
    ConsoleUI(term).show_info(
        f"Key imported:\n  Address {account.address}\n  Keystore file: {path}\n\n"
        "The key is now encrypted; losing the password will result in permanently losing\n"
        "access to the key and all associated funds!\n\n"
        "Make sure to backup keystore and passwords in a safe location."
    )


def _ask_import_password(term: Any) -> Secret:
    first = ask_password(term, "> ")
    term.write("-----------------------\n## Password\n\nPlease repeat the password you just entered\n")
    second = ask_password(term, "> ")
    term.write("-----------------------\n")
    if first != second:
        raise click.ClickException("Passwords do not match")
    return first


def _all_accounts(cfg: Config) -> list[Any]:
    from signer.accounts import AccountManager
    from signer.startup import make_backends

    manager = AccountManager(make_backends(cfg))
    try:
        return manager.accounts()
    finally:
        manager.close()


@click.command("list-accounts")
@global_options
@click.pass_context
def list_accounts(ctx: click.Context, /, **_: Any) -> None:
    """List the accounts of the keystore and of the configured tokens and devices."""
    cfg = build_config(ctx)
    initialize(cfg, default_terminal())
    accounts = _all_accounts(cfg)
    if not accounts:
        click.echo("\nThe keystore is empty.")
    click.echo("")
    for account in accounts:
        click.echo(f"{account.address} ({account.url})")


@click.command("list-wallets")
@global_options
@click.pass_context
def list_wallets(ctx: click.Context, /, **_: Any) -> None:
    """List wallets: one per keystore file, token key or device account."""
    cfg = build_config(ctx)
    initialize(cfg, default_terminal())
    accounts = _all_accounts(cfg)
    if not accounts:
        click.echo("\nThere are no wallets.")
    click.echo("")
    for index, account in enumerate(accounts):
        click.echo(f"- Wallet {index} at {account.url} (Locked )")
        click.echo(f"  -Account 0: {account.address} ({account.url})")
        click.echo("")


@click.command("gendoc")
def gendoc() -> None:
    """Print example JSON of the data types exchanged with a UI."""
    from signer.cli.gendoc import render

    click.echo(render(), nl=False)


COMMANDS = [newaccount, importraw, list_accounts, list_wallets, gendoc]
