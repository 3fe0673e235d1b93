"""The signer's configuration: clef's flags with clef's defaults, plus sealward's own."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path


def default_configdir() -> Path:
    home = Path.home()
    return home / ".sealward" if str(home) else Path("")


def default_keystore() -> Path:
    return Path.home() / ".ethereum" / "keystore"


@dataclass
class Config:
    configdir: Path = field(default_factory=default_configdir)
    keystore: Path | None = field(default_factory=default_keystore)
    chain_id: int = 1
    light_kdf: bool = False
    ipc_disable: bool = False
    ipc_path: Path | None = None
    http: bool = False
    http_addr: str = "localhost"
    http_port: int = 8550
    http_vhosts: list[str] = field(default_factory=lambda: ["localhost"])
    http_cors: list[str] = field(default_factory=list)
    auditlog: str = "audit.log"
    stdio_ui: bool = False
    advanced: bool = False
    suppress_bootwarn: bool = False
    loglevel: int = 3
    signersecret: Path | None = None
    master_password_file: Path | None = None
    rules: Path | None = None
    rules_timeout: float = 10.0
    fourbyte_custom: Path = Path("4byte-custom.json")
    pkcs11_module: str | None = None
    pkcs11_tokens: list[str] = field(default_factory=list)
    ledger: bool = False
    ledger_accounts: int = 5
    seal_guard: str = "resubmit"
    seal_guard_max_future: int = 60
    seal_guard_clock_slack: int = 10
    seal_guard_fork_switch: int = 1
    seal_guard_instance: str | None = None  # None: <configdir>/sealguard-instance
    guard_db: str | None = None
    # Operations (docs/operations.md): geth's metrics and log flags, the audit log's bounds.
    metrics: bool = False
    metrics_addr: str = "127.0.0.1"
    metrics_port: int = 6060
    log_format: str = "terminal"
    auditlog_maxvalue: int = 4096
    auditlog_required: bool = False

    @property
    def masterseed_path(self) -> Path:
        return self.signersecret or self.configdir / "masterseed.json"

    @property
    def ipc_socket(self) -> Path:
        """clef's rule: <ipcpath>/clef.ipc, else <configdir>/clef.ipc, else the temp dir."""
        if self.ipc_path is not None and str(self.ipc_path):
            return Path(os.path.expanduser(str(self.ipc_path))) / "clef.ipc"
        if str(self.configdir):
            return self.configdir / "clef.ipc"
        return Path(tempfile.gettempdir()) / "clef.ipc"

    @property
    def guard_location(self) -> str:
        return self.guard_db or str(self.configdir / "sealguard.db")
