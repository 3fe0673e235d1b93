"""The guard's settings: flags, sealward.toml keys, the removed re-seal count, the instance id."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from signer.cli.options import build_config, global_options
from signer.clique.guard.instance import INSTANCE_FILE, load_instance_id
from signer.config import Config
from tests.e2e.harness import run_cli


def config_from(args: list[str]) -> Config | str:
    """The Config the CLI builds from ``args``, or the error it prints."""
    built: list[Config] = []

    @click.command()
    @global_options
    @click.pass_context
    def probe(ctx: click.Context, **_: Any) -> None:
        built.append(build_config(ctx))

    result = CliRunner().invoke(probe, args)
    return built[0] if built else result.output


def test_defaults_and_flags(tmp_path: Path) -> None:
    cfg = config_from(["--configdir", str(tmp_path)])
    assert isinstance(cfg, Config)
    assert (cfg.seal_guard, cfg.seal_guard_max_future, cfg.seal_guard_clock_slack) == ("resubmit", 60, 10)
    assert cfg.seal_guard_instance is None
    cfg = config_from(["--configdir", str(tmp_path), "--seal-guard-max-future", "90",
                       "--seal-guard-clock-slack", "3", "--seal-guard-instance", "standby-1"])  # fmt: skip
    assert isinstance(cfg, Config)
    assert (cfg.seal_guard_max_future, cfg.seal_guard_clock_slack, cfg.seal_guard_instance) == (
        90,
        3,
        "standby-1",
    )


def test_the_config_file_carries_the_settings(tmp_path: Path) -> None:
    (tmp_path / "sealward.toml").write_text(
        'seal-guard-max-future = 120\nseal-guard-clock-slack = 4\nseal-guard-instance = "node-b"\n'
    )
    cfg = config_from(["--configdir", str(tmp_path), "--seal-guard-clock-slack", "5"])
    assert isinstance(cfg, Config)
    assert (cfg.seal_guard_max_future, cfg.seal_guard_clock_slack, cfg.seal_guard_instance) == (
        120,
        5,
        "node-b",
    )


def test_the_removed_resubmit_count_is_refused_with_the_reason(tmp_path: Path) -> None:
    out = config_from(["--configdir", str(tmp_path), "--seal-guard-resubmits", "8"])
    assert (
        isinstance(out, str) and "--seal-guard-resubmits was removed" in out and "docs/seal-guard.md" in out
    )
    (tmp_path / "sealward.toml").write_text("seal-guard-resubmits = 8\n")
    out = config_from(["--configdir", str(tmp_path)])
    assert isinstance(out, str) and "unknown setting(s) seal-guard-resubmits" in out


def test_instance_id_is_made_once_private_and_kept(tmp_path: Path) -> None:
    configdir = tmp_path / "new-configdir"
    first = load_instance_id(configdir)
    path = configdir / INSTANCE_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(configdir.stat().st_mode) == 0o700
    assert load_instance_id(configdir) == first and len(first) <= 64
    assert load_instance_id(configdir, "override-1") == "override-1"
    assert path.read_text().strip() == first  # the override never rewrites the file


def test_a_damaged_instance_file_stops_the_signer_with_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / INSTANCE_FILE).write_text("two words\n")
    with pytest.raises(ValueError, match="invalid seal guard instance id"):
        load_instance_id(tmp_path)
    out = run_cli(["--configdir", str(tmp_path), "--keystore", "", "--suppress-bootwarn", "--ipcdisable"])
    assert (
        out.returncode != 0 and "Fatal: seal guard: invalid seal guard instance id 'two words'" in out.stderr
    )
