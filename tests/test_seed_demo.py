"""`make run`'s demo data: every case status shown, a printed login, and a second run that adds nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from kyc.management.commands.seed_demo import DEMO_APPLICANTS, SEED
from kyc.models import Applicant, Case, Document
from tests.support import ScriptedProvider, truth_result

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def scripted(settings):
    routes = ",".join(
        f"{t}=scripted:DEMO" for t in ("hk_id_card", "cn_passport", "exit_entry_permit", "mainland_travel_permit")
    )
    settings.KYC_OCR = {**settings.KYC_OCR, "routes": routes}
    ScriptedProvider.script.clear()
    for index, (_ref, document_type, _sides, outcome) in enumerate(DEMO_APPLICANTS):
        if outcome != "queued":  # decided demo cases are read during seeding
            ScriptedProvider.script.append(truth_result(document_type, index=index, seed=SEED))
    return


def test_demo_data_covers_every_case_status_and_prints_a_login(capsys, settings, monkeypatch):
    monkeypatch.setenv("KYC_ADDR", "127.0.0.1:8765")  # where scripts/run.sh serves (its default: 8000)
    call_command("seed_demo")
    out = capsys.readouterr().out
    password = (settings.VAR_DIR / "demo-login.txt").read_text().strip()
    assert "http://127.0.0.1:8765/admin/" in out
    assert f"password '{password}'" in out
    assert "reviewer1" in out
    assert User.objects.get(username="reviewer1").check_password(password)
    statuses = dict(Case.objects.values_list("applicant__external_ref", "status"))
    assert statuses == {
        "DEMO-HKID-001": "open",
        "DEMO-PASS-001": "open",
        "DEMO-EEP-001": "open",
        "DEMO-MTP-001": "open",
        "DEMO-HKID-002": "awaiting_second_approval",
        "DEMO-PASS-002": "approved",
        "DEMO-EEP-002": "rejected",
        "DEMO-MTP-002": "resubmission_requested",
    }
    assert Document.objects.filter(status="queued").count() == 6  # read by the worker once `make run` starts it
    assert Document.objects.get(case__applicant__external_ref="DEMO-PASS-002").fields.count() > 5
    assert not ScriptedProvider.script


def test_a_second_run_adds_nothing_and_keeps_the_password(capsys):
    call_command("seed_demo")
    first = capsys.readouterr().out
    call_command("seed_demo")
    assert capsys.readouterr().out.splitlines()[-1] == first.splitlines()[-1]
    assert Applicant.objects.count() == len(DEMO_APPLICANTS)
