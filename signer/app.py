"""The composition root: config -> UI -> vault -> rules -> backends -> API -> audit -> transports.

Nothing else wires components together; the CLI only parses flags and calls ``App``.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from typing import TYPE_CHECKING, Protocol

from signer.accounts import AccountManager
from signer.api.audit import AuditedAPI
from signer.api.auditlog import AuditLog
from signer.api.binding import bind_external_api
from signer.api.external import ExternalAPI
from signer.api.protocol import ExternalAPIProtocol
from signer.approval.console import ConsoleUI
from signer.approval.ui import UI
from signer.config import Config
from signer.rpc.dispatch import Dispatcher
from signer.startup import StartupError, attested_rules, make_backends, open_vault
from signer.types import Metadata, StartupInfo

if TYPE_CHECKING:  # imported where used: prometheus_client, the rule engine and PostgreSQL are optional
    from signer.api.extensions import Extensions
    from signer.approval.rules import RuleEngine
    from signer.approval.stdio import StdioUI
    from signer.clique.guard import SealGuard
    from signer.ops.instruments import MeteredSealGuard
    from signer.ops.live_rules import LiveRules
    from signer.ops.metrics import Metrics
    from signer.ops.readiness import Readiness
    from signer.vault import Vault

log = logging.getLogger("sealward")


class Server(Protocol):
    """An endpoint the signer started (IPC, HTTP, the ops listener)."""

    def close(self) -> None: ...


class App:
    def __init__(self, config: Config, ui: UI | None = None) -> None:
        self.config = config
        self.metrics: Metrics | None = None  # with --metrics (prometheus_client is imported only then)
        self.dispatcher = Dispatcher()
        if config.metrics:
            from signer.ops.instruments import MeteredDispatcher
            from signer.ops.metrics import Metrics

            self.metrics = Metrics()
            self.dispatcher = MeteredDispatcher(self.metrics)
        self.stdio: StdioUI | None = None
        self.base_ui: UI = ui or self._make_ui()
        if self.metrics is not None:
            from signer.ops.instruments import MeteredUI

            self.base_ui = MeteredUI(self.base_ui, self.metrics)
        self.ui: UI = self.base_ui
        self.vault: Vault | None = None
        self.live_rules: LiveRules | None = None  # while attested rules run
        self.accounts = AccountManager([])
        self.external: ExternalAPI | None = None
        self.api: ExternalAPIProtocol | None = None
        self.audit: AuditLog | None = None
        self.seal_guard: SealGuard | MeteredSealGuard | None = None
        self.servers: list[Server] = []
        self.startup_info: StartupInfo | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._reload_pending = False

    def _make_ui(self) -> UI:
        if self.config.stdio_ui:
            from signer.approval.stdio import StdioUI

            log.info("Using stdin/stdout as UI-channel")
            self.stdio = StdioUI(sys.stdin.buffer, sys.stdout.buffer)
            return self.stdio
        log.info("Using CLI as UI-channel")
        return ConsoleUI()

    # --- building ---------------------------------------------------------------------------------

    def build(self) -> None:
        cfg = self.config
        self.vault = open_vault(cfg, self.base_ui)
        if self.metrics is not None:
            self.metrics.vault_unlocked.set(0 if self.vault is None else 1)
        source = attested_rules(cfg, self.vault)
        if source is not None and self.vault is not None:
            from signer.approval.rules import RulesetUI
            from signer.ops.live_rules import LiveRules

            engine = self._rule_engine(source, self.vault)
            self.live_rules = LiveRules(engine, self.vault.ruleset_hash(), self.metrics)
            self.ui = RulesetUI(self.base_ui, self.live_rules)
            log.info("Rule engine configured file=%s", cfg.rules)
        log.info(
            "Starting signer chainid=%s keystore=%s light-kdf=%s advanced=%s",
            cfg.chain_id, cfg.keystore, cfg.light_kdf, cfg.advanced,
        )  # fmt: skip
        observer = None
        if self.metrics is not None:
            from signer.ops.instruments import sign_observer

            observer = sign_observer(self.metrics)
        self.accounts = AccountManager(make_backends(cfg), observer)
        self.accounts.check_no_duplicates()
        self._warn_about_duplicate_key_files()
        self.seal_guard = self._seal_guard()
        api = ExternalAPI(
            self.accounts,
            self.ui,
            cfg.chain_id,
            credentials=self.vault.credentials if self.vault is not None else None,
            advanced=cfg.advanced,
            seal_guard=self.seal_guard,
            extensions=self._extensions(),
        )
        if cfg.advanced:
            log.info("Sealward is in advanced mode: will warn instead of reject")
        self.external = self.api = api
        if cfg.auditlog:
            self.audit = self._audit_log()
            api.audit = self.audit
            self.audit.event("Configured", ("audit log", cfg.auditlog))
            self.api = AuditedAPI(api, self.audit)
            log.info("Audit logs configured file=%s", cfg.auditlog)
        bind_external_api(self.dispatcher, self.api)
        if self.stdio is not None:
            from signer.api.uiserver import bind_ui_server

            ui_dispatcher = Dispatcher()
            bind_ui_server(ui_dispatcher, api)
            self.stdio.register_server(
                lambda message: ui_dispatcher.handle(message, Metadata(scheme="stdio"))
            )

    def _warn_about_duplicate_key_files(self) -> None:
        from backends.keystore import KeystoreBackend

        keystore = self.accounts.backend("keystore")
        if isinstance(keystore, KeystoreBackend):
            for address, paths in keystore.duplicates().items():
                # Such an account refuses to sign until one file is removed: say so at start.
                log.warning(
                    "Multiple key files for one address address=%s files=%s", address, ",".join(paths)
                )

    def _seal_guard(self) -> SealGuard | MeteredSealGuard | None:
        if self.config.seal_guard == "off":
            log.warning("Seal guard is OFF: clique seals are not protected against double signing")
            return None
        from signer.clique.guard import Limits, load_instance_id, open_guard

        cfg = self.config
        try:
            limits = Limits(cfg.seal_guard_max_future, cfg.seal_guard_clock_slack, cfg.seal_guard_fork_switch)
            instance = load_instance_id(cfg.configdir, cfg.seal_guard_instance)
        except (ValueError, OSError) as exc:
            raise StartupError(f"seal guard: {exc}") from exc
        guard = open_guard(cfg.guard_location, cfg.seal_guard, instance=instance, limits=limits)
        log.info(
            "Seal guard enabled mode=%s instance=%s max-future=%ds clock-slack=%ds fork-switch=%d",
            cfg.seal_guard, instance, limits.max_future, limits.clock_slack, limits.fork_switch,
        )  # fmt: skip
        if self.metrics is not None:
            from signer.ops.instruments import MeteredSealGuard

            metered = MeteredSealGuard(guard, self.metrics)
            metered.seed(cfg.chain_id, [a.address for a in self.accounts.accounts()])
            return metered
        return guard

    def _rule_engine(self, source: str, vault: Vault) -> RuleEngine:
        from signer.approval.rules import RuleEngine

        on_event = None
        if self.metrics is not None:
            from signer.ops.instruments import rule_events

            on_event = rule_events(self.metrics)
        return RuleEngine(source, vault.jsstorage, timeout=self.config.rules_timeout, on_event=on_event)

    def _audit_log(self) -> AuditLog:
        on_event = None
        if self.metrics is not None:
            from signer.ops.instruments import audit_events

            on_event = audit_events(self.metrics)
        cfg = self.config
        return AuditLog(
            cfg.auditlog, max_value=cfg.auditlog_maxvalue, required=cfg.auditlog_required, on_event=on_event
        )

    def _extensions(self) -> Extensions:
        from signer.api.extensions import Extensions

        return Extensions(self.config)

    # --- serving ----------------------------------------------------------------------------------

    def start(self) -> StartupInfo:
        cfg = self.config
        info = StartupInfo()
        # The ops endpoint first: once a client can reach the signer, so can its monitoring.
        if self.metrics is not None:
            self._start_metrics(self.metrics)
        if cfg.http:
            from signer.rpc.http import HttpServer

            http = HttpServer(cfg.http_addr, cfg.http_port, self.dispatcher, cfg.http_vhosts, cfg.http_cors)
            try:
                http.start()
            except OSError as exc:
                raise StartupError(f"Could not start RPC api: {exc}") from exc
            self.servers.append(http)
            info.extapi_http = http.url
        if not cfg.ipc_disable:
            from signer.rpc.ipc import IpcServer

            ipc = IpcServer(cfg.ipc_socket, self.dispatcher)
            try:
                ipc.start()
            except OSError as exc:
                raise StartupError(f"Could not start IPC api: {exc}") from exc
            self.servers.append(ipc)
            info.extapi_ipc = str(ipc.path)
        self.startup_info = info
        self.ui.on_signer_startup(info)
        return info

    def _start_metrics(self, metrics: Metrics) -> None:
        from signer.ops.endpoint import OpsEndpoint

        endpoint = OpsEndpoint(self.config.metrics_addr, self.config.metrics_port, metrics, self.readiness())
        try:
            endpoint.start()
        except OSError as exc:
            raise StartupError(f"Could not start the metrics endpoint: {exc}") from exc
        self.servers.append(endpoint)

    def readiness(self) -> Readiness:
        """What /readyz checks (signer/ops/checks.py), cached and bounded (signer/ops/readiness.py)."""
        from signer.ops.checks import readiness_of

        return readiness_of(self, self.metrics)

    # --- running ----------------------------------------------------------------------------------

    def wait(self) -> None:
        def stop(signum: int, _frame: object) -> None:
            log.info("Exiting... signal=%s", signal.Signals(signum).name)
            self._stop.set()
            self._wake.set()

        def hangup(_signum: int, _frame: object) -> None:
            self._reload_pending = True
            self._wake.set()

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGHUP, hangup)
        while not self._stop.is_set():
            self._wake.wait(0.5)
            self._wake.clear()
            if self._reload_pending and not self._stop.is_set():
                self._reload_pending = False
                self.reload()

    def reload(self) -> None:
        """SIGHUP: reopen the audit log (after logrotate) and read the rule file again."""
        log.info("Reloading signal=SIGHUP")
        if self.audit is not None:
            self.audit.reopen()
        if self.config.rules is None or self.external is None:
            return
        from signer.approval.rules import RulesetUI
        from signer.ops.reload import RulesReload

        before = self.live_rules
        reload = RulesReload(self.config.rules, self.vault, self._rule_engine, self.audit, self.metrics)
        outcome, self.live_rules = reload.run(before)
        if outcome != "applied" or self.live_rules is None:
            return
        if before is None:  # rules attested since the start: they now come before the UI
            self.ui = RulesetUI(self.base_ui, self.live_rules)
            self.external.ui = self.ui
        if self.startup_info is not None:  # new rules start as if the signer had started with them
            try:
                self.live_rules.call("OnSignerStartup", self.startup_info.to_json())
            except Exception as exc:
                log.info("error occurred during execution: %s", exc)

    def close(self) -> None:
        for server in reversed(self.servers):
            server.close()
        self.servers.clear()
        if self.live_rules is not None:
            self.live_rules.close()
        if self.external is not None:
            self.external.close()
        self.accounts.close()
        if self.audit is not None:
            seq, digest = self.audit.head
            self.audit.close()
            log.info("Audit log closed file=%s seq=%d hash=%s", self.config.auditlog, seq, digest)


def run_daemon(config: Config) -> int:
    from signer.procmem import return_large_blocks_to_the_os

    return_large_blocks_to_the_os()  # request buffers leave with their request (issue 12)
    app = App(config)
    try:
        app.build()
        app.start()
        app.wait()
    finally:
        app.close()
    return 0
