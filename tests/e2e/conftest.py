"""Fixtures shared by the end-to-end tests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from signer.tools.sandbox import Sandbox
from tests.e2e.gethkit import Sealer


@pytest.fixture()
def box(tmp_path: Path) -> Iterator[Sandbox]:
    """A throw-away installation with an initialised vault; its daemon is stopped afterwards."""
    sandbox = Sandbox(tmp_path)
    sandbox.init_vault()
    yield sandbox
    sandbox.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep each phase's report on the test item, so fixtures can tell a failed test at teardown."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"report_{report.when}", report)


@pytest.fixture()
def sealers(request: pytest.FixtureRequest) -> Iterator[list[Sealer]]:
    """Sealers a geth test made (append them); all stopped afterwards, their Sealward and geth log
    tails printed when the test failed."""
    made: list[Sealer] = []
    yield made
    report = getattr(request.node, "report_call", None)
    for sealer in made:
        with contextlib.suppress(Exception):
            sealer.stop()
    if report is not None and report.failed:
        for sealer in made:
            print(sealer.logs())
