"""``<configdir>/sealward.toml``: the same settings as the flags, for daemons started by a service
manager. Unknown keys are refused so a typo never silently disables a setting."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import click

from signer.config import Config

# key in the file -> (Config attribute, flag destination, expected type)
_KEYS: dict[str, tuple[str, str, type]] = {
    "keystore": ("keystore", "keystore", str),
    "chainid": ("chain_id", "chainid", int),
    "lightkdf": ("light_kdf", "lightkdf", bool),
    "ipcdisable": ("ipc_disable", "ipcdisable", bool),
    "ipcpath": ("ipc_path", "ipcpath", str),
    "http": ("http", "http", bool),
    "http.addr": ("http_addr", "http_addr", str),
    "http.port": ("http_port", "http_port", int),
    "http.vhosts": ("http_vhosts", "http_vhosts", list),
    "http.corsdomain": ("http_cors", "http_corsdomain", list),
    "auditlog": ("auditlog", "auditlog", str),
    "rules": ("rules", "rules", str),
    "rules-timeout": ("rules_timeout", "rules_timeout", float),
    "advanced": ("advanced", "advanced", bool),
    "master-password-file": ("master_password_file", "master_password_file", str),
    "pkcs11-module": ("pkcs11_module", "pkcs11_module", str),
    "pkcs11-token": ("pkcs11_tokens", "pkcs11_token", list),
    "ledger": ("ledger", "ledger", bool),
    "ledger-accounts": ("ledger_accounts", "ledger_accounts", int),
    "seal-guard": ("seal_guard", "seal_guard", str),
    "seal-guard-max-future": ("seal_guard_max_future", "seal_guard_max_future", int),
    "seal-guard-clock-slack": ("seal_guard_clock_slack", "seal_guard_clock_slack", int),
    "seal-guard-fork-switch": ("seal_guard_fork_switch", "seal_guard_fork_switch", int),
    "seal-guard-instance": ("seal_guard_instance", "seal_guard_instance", str),
    "guard-db": ("guard_db", "guard_db", str),
    "metrics": ("metrics", "metrics", bool),
    "metrics.enabled": ("metrics", "metrics", bool),
    "metrics.addr": ("metrics_addr", "metrics_addr", str),
    "metrics.port": ("metrics_port", "metrics_port", int),
    "log.format": ("log_format", "log_format", str),
    "auditlog.maxvalue": ("auditlog_maxvalue", "auditlog_maxvalue", int),
    "auditlog.required": ("auditlog_required", "auditlog_required", bool),
}
# Settings with a fixed set of values, checked like their flags.
_CHOICES = {"log.format": ("terminal", "json")}
_PATHS = {"keystore", "ipc_path", "rules", "master_password_file"}


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def apply_config_file(cfg: Config, explicit: dict[str, Any]) -> None:
    path = cfg.configdir / "sealward.toml"
    if not path.is_file():
        return
    try:
        data = _flatten(tomllib.loads(path.read_text()))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise click.ClickException(f"cannot read {path}: {exc}") from exc
    unknown = sorted(set(data) - set(_KEYS))
    if unknown:
        raise click.ClickException(
            f"{path}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(_KEYS))}"
        )
    for key, value in data.items():
        attr, flag, kind = _KEYS[key]
        if flag in explicit:
            continue
        if kind is float and isinstance(value, int):
            value = float(value)
        if kind is list and isinstance(value, str):
            value = [value]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise click.ClickException(f"{path}: {key} must be a {kind.__name__}")
        if key in _CHOICES and value not in _CHOICES[key]:
            raise click.ClickException(f"{path}: {key} must be one of {', '.join(_CHOICES[key])}")
        if attr == "keystore" and value == "":
            value = None  # keystore = "" disables keystore accounts, as --keystore "" does
        setattr(cfg, attr, Path(str(value)).expanduser() if attr in _PATHS and value is not None else value)
