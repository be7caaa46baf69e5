"""The make_specimens management command and generate() write images plus ground truth."""

import json

import pytest
from django.core.management import CommandError, call_command

from kyc.specimens import generate


def test_command_writes_clean_images_and_truth(tmp_path, capsys):
    call_command("make_specimens", "--out", str(tmp_path), "--count", "1", "--seed", "4")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert "hkid_s4_0000.json" in names
    assert "eep_s4_0000_back_clean.jpg" in names
    assert len([n for n in names if n.endswith(".jpg")]) == 6  # 4 fronts + 2 backs
    record = json.loads((tmp_path / "mtp_s4_0000.json").read_text(encoding="utf-8"))
    assert record["document_type"] == "mainland_travel_permit"
    assert record["generator"].startswith("kyc.specimens/")
    assert set(record["sides"]) == {"front", "back"}
    front = record["sides"]["front"]
    assert front["files"] == {"clean": "mtp_s4_0000_front_clean.jpg"}
    assert front["degradation"]["clean"]["quality"] == 95
    assert {"truth", "printed", "layout"} <= set(front)
    assert "Wrote 4 specimens" in capsys.readouterr().out


def test_command_with_chosen_conditions(tmp_path):
    call_command("make_specimens", "--out", str(tmp_path), "--type", "hk_id_card", "--conditions", "rot3,down480")
    assert sorted(p.name for p in tmp_path.glob("*.jpg")) == [
        "hkid_s2026_0000_front_down480.jpg",
        "hkid_s2026_0000_front_rot3.jpg",
    ]


def test_command_rejects_unknown_conditions(tmp_path):
    with pytest.raises(CommandError, match="unknown conditions"):
        call_command("make_specimens", "--out", str(tmp_path), "--conditions", "clean,sepia")


def test_generate_is_reproducible(tmp_path):
    first = generate(tmp_path / "a", document_type="cn_passport", count=2, seed=9)
    second = generate(tmp_path / "b", document_type="cn_passport", count=2, seed=9)
    for x, y in zip(first, second, strict=True):
        assert x.json_path.read_text(encoding="utf-8") == y.json_path.read_text(encoding="utf-8")
        assert x.files["front"]["clean"].read_bytes() == y.files["front"]["clean"].read_bytes()
