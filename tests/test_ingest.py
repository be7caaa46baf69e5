"""Bulk intake: single images, manifest folders, refusals reported, --wait prints final counts."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kyc.models import Applicant, Document
from tests.conftest import image_bytes
from tests.support import ScriptedProvider, specimen_image, truth_result

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def scripted(settings):
    settings.KYC_OCR = {**settings.KYC_OCR, "routes": "hk_id_card=scripted:HKID,mainland_travel_permit=scripted:MTP"}
    ScriptedProvider.script.clear()
    return


@pytest.mark.django_db(transaction=True)  # real commits: queued tasks run (sync mode) before --wait polls
def test_a_folder_of_images_and_a_manifest_folder(tmp_path, capsys):
    singles = tmp_path / "singles"
    singles.mkdir()
    for i in range(2):
        (singles / f"card{i}.jpg").write_bytes(specimen_image("hk_id_card", index=i))
    (singles / "notes.txt").write_text("ignored")
    family = tmp_path / "family"
    family.mkdir()
    (family / "f.jpg").write_bytes(specimen_image("mainland_travel_permit"))
    (family / "b.jpg").write_bytes(specimen_image("mainland_travel_permit", "back"))
    (family / "manifest.json").write_text(
        json.dumps(
            {
                "applicant": "FAM-1",
                "documents": [
                    {"file": "f.jpg", "type": "mainland_travel_permit", "side": "front"},
                    {"file": "b.jpg", "type": "mainland_travel_permit", "side": "back"},
                ],
            }
        )
    )
    ScriptedProvider.script.extend(
        [
            truth_result("hk_id_card", index=0),
            truth_result("hk_id_card", index=1),
            truth_result("mainland_travel_permit"),
            truth_result("mainland_travel_permit", "back"),
        ]
    )
    call_command(
        "ingest",
        str(singles),
        str(family),
        "--type",
        "hk_id_card",
        "--partner",
        "Backlog Bank",
        "--wait",
        "--timeout",
        "30",
    )
    out = capsys.readouterr().out
    assert "queued 4 document(s); refused 0" in out
    assert "extracted: 4" in out
    assert Applicant.objects.count() == 3
    assert Document.objects.filter(case__applicant__external_ref="FAM-1").count() == 2


def test_refused_files_are_listed_and_the_rest_still_ingested(tmp_path, capsys):
    (tmp_path / "ok.png").write_bytes(image_bytes("PNG", size=(400, 250)))
    (tmp_path / "anim.tif").write_bytes(image_bytes("GIF"))
    with pytest.raises(CommandError, match="1 file\\(s\\) refused"):
        call_command("ingest", str(tmp_path), "--type", "hk_id_card")
    captured = capsys.readouterr()
    assert "GIF files are not accepted" in captured.err
    assert Document.objects.count() == 1


def test_missing_paths_and_bad_manifests_are_clear_errors(tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("ingest", str(tmp_path / "nope"), "--type", "hk_id_card")
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(CommandError, match=r"manifest\.json is not valid"):
        call_command("ingest", str(tmp_path), "--type", "hk_id_card")
