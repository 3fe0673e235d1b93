"""``run_doctor`` on real SoftHSM tokens: what it finds, and that failures read as instructions."""

from __future__ import annotations

import pytest

from backends.base import Secret
from backends.pkcs11 import Pkcs11Backend
from backends.pkcs11.doctor import DoctorReport, run_doctor
from tests.helpers.softhsm import SoftHsmToken, create_token

PIN = "doctor-1234"


@pytest.fixture(scope="module")
def hsm(tmp_path_factory: pytest.TempPathFactory) -> SoftHsmToken:
    token = create_token(tmp_path_factory.mktemp("doctor"), label="keys", pin=PIN)
    token.add_token("empty", pin=PIN)
    token.activate()
    backend = Pkcs11Backend(token.module, ["keys"])
    try:
        backend.new_account("keys", Secret(PIN))
    finally:
        backend.close()
    return token


def _status(report: DoctorReport) -> dict[str, bool | None]:
    return {check.name: check.ok for check in report.checks}


def test_healthy_token(hsm: SoftHsmToken) -> None:
    report = run_doctor(hsm.module, "keys", Secret(PIN))
    assert report.ok, report.render()
    assert _status(report) == {
        "load module": True,
        "slots and tokens": True,
        "find token": True,
        "PIN state": True,
        "CKM_ECDSA": True,
        "CKM_EC_KEY_PAIR_GEN": True,
        "log in": True,
        "secp256k1 keys": True,
        "sign and verify": True,
    }
    text = report.render()
    assert "SoftHSM" in text and "OS locking" in text and text.endswith("All checks passed.")
    assert "serial b'" not in text


def test_token_without_keys_proves_the_curve_and_stores_nothing(hsm: SoftHsmToken) -> None:
    report = run_doctor(hsm.module, "empty", Secret(PIN))
    status = _status(report)
    assert status["secp256k1 keys"] is None and status["secp256k1"] is True, report.render()
    assert "sealward newaccount --pkcs11-token empty" in report.render()
    backend = Pkcs11Backend(hsm.module, ["empty"])
    try:
        assert backend.accounts() == []
    finally:
        backend.close()


def test_wrong_pin_is_reported_once_and_never_shown(hsm: SoftHsmToken) -> None:
    report = run_doctor(hsm.module, "keys", Secret("doctor-wrong-9"))
    assert _status(report)["log in"] is False and not report.ok
    text = report.render()
    assert "rejected the PIN" in text and "doctor-wrong-9" not in text
    assert "1 check(s) failed: log in." in text


def test_no_pin_skips_the_login(hsm: SoftHsmToken) -> None:
    report = run_doctor(hsm.module, "keys", None)
    assert _status(report)["log in"] is None and report.ok
    assert "sealward setpw pkcs11:token=keys" in report.render()


def test_unknown_or_ambiguous_token(hsm: SoftHsmToken) -> None:
    report = run_doctor(hsm.module, "Keys", Secret(PIN))
    assert _status(report)["find token"] is False
    assert "case-sensitive" in report.render()
    report = run_doctor(hsm.module, None, Secret(PIN))
    assert _status(report)["choose token"] is False
    assert "'keys'" in report.render() and "--pkcs11-token" in report.render()


def test_missing_module() -> None:
    report = run_doctor("/nonexistent/libpkcs11.so", None, None)
    assert _status(report) == {"load module": False}
    assert "does not exist" in report.render() and "libsofthsm2.so" in report.render()
