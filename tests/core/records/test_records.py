"""Signed attempt records: signing, verification, tampering, and `mesosim score --save` / `mesosim verify`."""

import json
import os
import stat

import pytest

from sim.cli import main
import sim.core.records.signing as records

LOG = ("x_mm,y_mm,depth_mm,angle_deg,volume_ml,technique,t_s\n"
       "0,40,0.5,45,0.01,superficial-nappage,1\n"
       "4,40,0.5,45,0.01,superficial-nappage,2\n"
       "17,30,4.0,45,0.01,medium-papule,3\n")


@pytest.fixture(autouse=True)
def key_file(tmp_path, monkeypatch):
    path = tmp_path / "config" / "signing.key"
    monkeypatch.setenv("MESOSIM_KEY_FILE", str(path))
    return path


@pytest.fixture
def saved(tmp_path, capsys):
    log = tmp_path / "a.csv"
    log.write_text(LOG)
    out = tmp_path / "attempt.json"
    assert main(["score", "face-free", str(log), "--save", str(out), "--trainee", "Ann"]) == 0
    report = json.loads(capsys.readouterr().out)
    return out, report


def test_key_is_created_once_with_mode_0600(key_file):
    k1 = records.load_key()
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert records.load_key() == k1 and len(k1) == 32


def test_score_save_writes_a_signed_record_with_the_report(saved, capsys):
    out, report = saved
    rec = json.loads(out.read_text())
    assert rec["report"] == report and rec["trainee"] == "Ann" and len(rec["injections"]) == 3
    assert rec["scenario"]["id"] == "face-free" and len(rec["scenario"]["sha256"]) == 64
    assert rec["signature"]["algorithm"] == "HMAC-SHA256"
    assert main(["verify", str(out)]) == 0
    assert capsys.readouterr().out == f"{out}: signature verified\n"


@pytest.mark.parametrize("edit", ["byte", "remove", "reorder", "score"])
def test_tampering_is_detected(saved, capsys, edit):
    out, _ = saved
    text = out.read_text()
    if edit == "byte":
        i = text.index('"depth_mm": 4.0') + len('"depth_mm": ')
        text = text[:i] + "3" + text[i + 1:]
    else:
        rec = json.loads(text)
        if edit == "remove":
            rec["injections"].pop(2)
        elif edit == "reorder":
            rec["injections"].reverse()
        else:
            rec["report"]["score"] = 99.0
        text = json.dumps(rec, indent=2)
    out.write_text(text)
    assert main(["verify", str(out)]) == 1
    assert capsys.readouterr().out == f"{out}: signature NOT verified: the content was changed after signing\n"


def test_every_single_byte_edit_is_detected(saved):
    out, _ = saved
    data = out.read_bytes()
    key = records.load_key()
    for i in range(0, len(data), max(1, len(data) // 300)):
        edited = bytearray(data)
        edited[i] = (edited[i] + 1) % 256
        try:
            rec = json.loads(bytes(edited).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            continue  # not even a record any more: refused as such
        if not isinstance(rec, dict):
            continue
        assert not records.verify(rec, key)[0], i


def test_another_key(saved, capsys, tmp_path, monkeypatch):
    out, _ = saved
    monkeypatch.setenv("MESOSIM_KEY_FILE", str(tmp_path / "other.key"))
    records.load_key()
    assert main(["verify", str(out)]) == 1
    assert "signed with another key" in capsys.readouterr().out


def test_not_a_record(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    nosig = tmp_path / "nosig.json"
    nosig.write_text(json.dumps({"attempt_version": 1}))
    assert main(["verify", str(bad), str(nosig)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{bad}: signature NOT verified: not valid JSON")
    assert out[1] == f"{nosig}: signature NOT verified: the record carries no signature"
