"""clef's global flags, accepted before the subcommand and by subcommands (clef's MigrateGlobalFlags)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from signer.config import Config, default_configdir, default_keystore

F = TypeVar("F", bound=Callable[..., Any])

# (flag names, destination, click kwargs)
GLOBAL_OPTIONS: list[tuple[tuple[str, ...], str, dict[str, Any]]] = [
    (("--loglevel",), "loglevel", {"type": int, "help": "0=crit 1=error 2=warn 3=info 4=debug 5=trace [3]"}),
    (("--keystore",), "keystore", {"help": "Directory for the keystore [~/.ethereum/keystore]"}),
    (("--configdir",), "configdir", {"help": "Directory for sealward configuration [~/.sealward]"}),
    (("--chainid",), "chainid", {"type": int, "help": "Chain id to use for signing (1=mainnet, 17000=Holesky) [1]"}),
    (("--lightkdf",), "lightkdf", {"is_flag": True, "default": None, "help": "Reduce key-derivation RAM & CPU usage"}),
    (("--ipcdisable",), "ipcdisable", {"is_flag": True, "default": None, "help": "Disable the IPC-RPC server"}),
    (("--ipcpath",), "ipcpath", {"help": "Directory for the IPC socket (the file is always clef.ipc)"}),
    (("--http",), "http", {"is_flag": True, "default": None, "help": "Enable the HTTP-RPC server"}),
    (("--http.addr", "http_addr"), "http_addr", {"help": "HTTP-RPC server listening interface [localhost]"}),
    (("--http.port", "http_port"), "http_port", {"type": int, "help": "HTTP-RPC server listening port [8550]"}),
    (("--http.vhosts", "http_vhosts"), "http_vhosts", {"help": "Comma separated accepted Host names [localhost]"}),
    (("--http.corsdomain", "http_corsdomain"), "http_corsdomain", {"help": "Comma separated CORS origins"}),
    (("--signersecret",), "signersecret", {"help": "Master seed file [<configdir>/masterseed.json]"}),
    (("--4bytedb-custom", "fourbyte_custom"), "fourbyte_custom", {"help": "Custom 4byte database [./4byte-custom.json]"}),
    (("--auditlog",), "auditlog", {"help": "File used to emit audit logs; '' disables [audit.log]"}),
    (("--rules",), "rules", {"help": "Path to the rule file to auto-authorize requests with"}),
    (("--rules-timeout",), "rules_timeout", {"type": float, "help": "Deadline per rule call in seconds [10]"}),
    (("--stdio-ui",), "stdio_ui", {"is_flag": True, "default": None, "help": "Use STDIN/STDOUT as a channel for an external UI"}),
    (("--stdio-ui-test",), "stdio_ui_test", {"is_flag": True, "default": None, "hidden": True}),
    (("--advanced",), "advanced", {"is_flag": True, "default": None, "help": "Warn instead of reject suspicious requests"}),
    (("--suppress-bootwarn",), "suppress_bootwarn", {"is_flag": True, "default": None, "help": "Skip the boot warning"}),
    (("--master-password-file",), "master_password_file", {"help": "File holding the master password (mode 0600)"}),
    (("--pkcs11-module",), "pkcs11_module", {"help": "PKCS#11 module (e.g. /usr/lib/softhsm/libsofthsm2.so)"}),
    (("--pkcs11-token",), "pkcs11_token", {"multiple": True, "help": "PKCS#11 token label (repeatable)"}),
    (("--ledger",), "ledger", {"is_flag": True, "default": None, "help": "Enable Ledger discovery over USB"}),
    (("--nousb",), "nousb", {"is_flag": True, "default": None, "help": "Disable USB hardware wallets"}),
    (("--ledger-accounts",), "ledger_accounts", {"type": int, "help": "Ledger addresses per path [5]"}),
    (("--seal-guard",), "seal_guard", {"type": click.Choice(["strict", "resubmit", "off"]), "help": "Double-seal policy [resubmit]"}),
    (("--seal-guard-max-future",), "seal_guard_max_future", {"type": int, "help": "Refuse clique headers more than this many seconds ahead of the clock [60]"}),
    (("--seal-guard-clock-slack",), "seal_guard_clock_slack", {"type": int, "help": "Seconds a re-sealed header's time may lag the clock [10]"}),
    (("--seal-guard-fork-switch",), "seal_guard_fork_switch", {"type": int, "help": "Heights between allowed switches to another parent after a reorg; 0 never [1: any height, once]"}),
    (("--seal-guard-instance",), "seal_guard_instance", {"help": "This signer's id in a shared guard [<configdir>/sealguard-instance]"}),
    (("--seal-guard-resubmits",), "seal_guard_resubmits", {"type": int, "hidden": True}),
    (("--guard-db",), "guard_db", {"help": "Seal guard database: a path or postgresql://… [<configdir>/sealguard.db]"}),
    (("--metrics",), "metrics", {"is_flag": True, "default": None, "help": "Serve /metrics, /healthz and /readyz"}),
    (("--metrics.addr", "metrics_addr"), "metrics_addr", {"help": "Metrics listening interface [127.0.0.1]"}),
    (("--metrics.port", "metrics_port"), "metrics_port", {"type": click.IntRange(0, 65535), "help": "Metrics listening port [6060]"}),
    (("--log.format", "log_format"), "log_format", {"type": click.Choice(["terminal", "json"]), "help": "Log format [terminal]"}),
    (("--auditlog.maxvalue", "auditlog_maxvalue"), "auditlog_maxvalue", {"type": click.IntRange(128), "help": "Longer audit values are logged as sha256 and length [4096]"}),
    (("--auditlog.required", "auditlog_required"), "auditlog_required", {"is_flag": True, "default": None, "help": "No audit, no signature: refuse requests the audit log cannot record"}),
    (("--pcscdpath",), "pcscdpath", {"hidden": True}),
]  # fmt: skip


def global_options(func: F) -> F:
    for names, dest, kwargs in reversed(GLOBAL_OPTIONS):
        flag_names = [n for n in names if n.startswith("--")]
        func = click.option(*flag_names, dest, **kwargs)(func)
    return func


def merged(ctx: click.Context) -> dict[str, Any]:
    """Option values from the group and the subcommand; the subcommand's explicit values win."""
    values: dict[str, Any] = {}
    chain = []
    node: click.Context | None = ctx
    while node is not None:
        chain.append(node)
        node = node.parent
    for level in reversed(chain):
        for key, value in level.params.items():
            if value is None or value == ():
                continue
            values[key] = value
    return values


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def build_config(ctx: click.Context) -> Config:
    v = merged(ctx)
    cfg = Config()
    cfg.configdir = Path(v["configdir"]).expanduser() if "configdir" in v else default_configdir()
    # --keystore "" disables the keystore backend, as in clef.
    keystore = v.get("keystore")
    cfg.keystore = (
        default_keystore() if keystore is None else (Path(keystore).expanduser() if keystore else None)
    )
    cfg.chain_id = v.get("chainid", 1)
    cfg.light_kdf = bool(v.get("lightkdf"))
    cfg.ipc_disable = bool(v.get("ipcdisable"))
    cfg.ipc_path = Path(v["ipcpath"]) if v.get("ipcpath") else None
    cfg.http = bool(v.get("http"))
    cfg.http_addr = v.get("http_addr", "localhost")
    cfg.http_port = v.get("http_port", 8550)
    cfg.http_vhosts = _csv(v.get("http_vhosts", "localhost"))
    cfg.http_cors = _csv(v.get("http_corsdomain", ""))
    cfg.signersecret = Path(v["signersecret"]) if v.get("signersecret") else None
    cfg.fourbyte_custom = Path(v.get("fourbyte_custom", "4byte-custom.json"))
    cfg.auditlog = v.get("auditlog", "audit.log")
    cfg.rules = Path(v["rules"]) if v.get("rules") else None
    cfg.rules_timeout = v.get("rules_timeout", 10.0)
    cfg.stdio_ui = bool(v.get("stdio_ui"))
    cfg.advanced = bool(v.get("advanced"))
    cfg.suppress_bootwarn = bool(v.get("suppress_bootwarn"))
    cfg.loglevel = v.get("loglevel", 3)
    cfg.master_password_file = Path(v["master_password_file"]) if v.get("master_password_file") else None
    cfg.pkcs11_module = v.get("pkcs11_module")
    cfg.pkcs11_tokens = list(v.get("pkcs11_token", ()))
    cfg.ledger = bool(v.get("ledger")) and not v.get("nousb")
    cfg.ledger_accounts = v.get("ledger_accounts", 5)
    cfg.seal_guard = v.get("seal_guard", "resubmit")
    if "seal_guard_resubmits" in v:
        raise click.UsageError(
            "--seal-guard-resubmits was removed: re-seals are now bounded by the header's time, "
            "not by a count (docs/seal-guard.md)"
        )
    cfg.seal_guard_max_future = v.get("seal_guard_max_future", 60)
    cfg.seal_guard_clock_slack = v.get("seal_guard_clock_slack", 10)
    cfg.seal_guard_fork_switch = v.get("seal_guard_fork_switch", 1)
    cfg.seal_guard_instance = v.get("seal_guard_instance")
    cfg.guard_db = v.get("guard_db")
    cfg.metrics = bool(v.get("metrics"))
    cfg.metrics_addr = v.get("metrics_addr", "127.0.0.1")
    cfg.metrics_port = v.get("metrics_port", 6060)
    cfg.log_format = v.get("log_format", "terminal")
    cfg.auditlog_maxvalue = v.get("auditlog_maxvalue", 4096)
    cfg.auditlog_required = bool(v.get("auditlog_required"))
    _apply_config_file(cfg, v)
    return cfg


def _apply_config_file(cfg: Config, explicit: dict[str, Any]) -> None:
    """<configdir>/sealward.toml mirrors the flags; flags given on the command line win."""
    from signer.cli.configfile import apply_config_file

    apply_config_file(cfg, explicit)


def warn_about_password_on_command_line(ctx: click.Context) -> None:
    """A PostgreSQL password in ``--guard-db`` is readable by every local user through ``ps``;
    libpq finds it without the URL (PGPASSFILE, a service file, PGPASSWORD): say so at start."""
    url = ctx.params.get("guard_db")
    if not url or ctx.get_parameter_source("guard_db") is not click.core.ParameterSource.COMMANDLINE:
        return
    from signer.clique.guard.store import is_postgres_url

    if not is_postgres_url(url):
        return
    from psycopg import conninfo

    try:
        has_password = bool(conninfo.conninfo_to_dict(url).get("password"))
    except Exception:  # an unparsable URL is reported when the guard first connects
        return
    if has_password:
        logging.getLogger("sealward").warning(
            "The seal guard's PostgreSQL password is on the command line, where every local user "
            "can read it (ps); use PGPASSFILE, a libpq service file or PGPASSWORD instead "
            "(docs/seal-guard.md)"
        )
