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


# -- every save is an attempt of its own, with its time; old records still load

def test_the_same_log_saved_twice_gives_two_attempts_with_their_times(tmp_path, capsys):
    log = tmp_path / "a.csv"
    log.write_text(LOG)
    recs = []
    for name in ("one.json", "two.json"):
        assert main(["score", "face-free", str(log), "--save", str(tmp_path / name)]) == 0
        recs.append(json.loads((tmp_path / name).read_text()))
    a, b = recs
    assert a["attempt_id"] != b["attempt_id"] and a["signature"] != b["signature"]
    assert a["saved"] and b["saved"] and a["started"] is None  # a log's time of making is not known
    assert {k: v for k, v in a.items() if k not in ("attempt_id", "saved", "signature")} == \
        {k: v for k, v in b.items() if k not in ("attempt_id", "saved", "signature")}


def test_a_record_of_the_earlier_layout_still_loads_and_verifies(saved, tmp_path, capsys):
    from sim.session import load_record

    out, _report = saved
    old = {k: v for k, v in json.loads(out.read_text()).items() if k not in ("attempt_id", "saved")}
    records.write_record(old, tmp_path / "old.json")
    item = load_record(tmp_path / "old.json")
    assert item.verified and item.record["attempt_id"] is None and item.record["saved"] is None


# -- durable writes: a full disk leaves nothing half-written

def _disk_full_after(monkeypatch, module, nbytes: int):
    """The disk as `module` sees it fills up after `nbytes` more bytes: os.write, then os.fsync fail with ENOSPC."""
    import errno

    left = [nbytes]

    class FullDisk:
        def __getattr__(self, name):
            return getattr(os, name)

        @staticmethod
        def write(fd, data):
            if left[0] <= 0:
                raise OSError(errno.ENOSPC, "No space left on device")
            n = os.write(fd, bytes(data[:left[0]]))
            left[0] -= n
            return n

        @staticmethod
        def fsync(fd):
            if left[0] <= 0:
                raise OSError(errno.ENOSPC, "No space left on device")
            return os.fsync(fd)

    monkeypatch.setattr(module, "os", FullDisk())


def test_a_full_disk_leaves_no_record_and_no_temporary_file(tmp_path, monkeypatch, capsys):
    import sim.core.files.atomic as atomic

    log = tmp_path / "a.csv"
    log.write_text(LOG)
    records.load_key()
    out = tmp_path / "records" / "a.json"
    out.parent.mkdir()
    _disk_full_after(monkeypatch, atomic, 1000)
    code = main(["score", "face-free", str(log), "--format", "text", "--save", str(out),
                 "--db", f"sqlite:///{tmp_path / 'g.sqlite'}"])
    cap = capsys.readouterr()
    assert code == 2 and "Score " in cap.out  # the report is printed all the same
    assert cap.err == (f"{out}:0:0: cannot write: the disk is full (No space left on device); nothing was saved: "
                       "free some space and save again\n")
    assert list(out.parent.iterdir()) == []


def test_a_full_disk_never_leaves_a_short_signing_key(key_file, monkeypatch):
    import sim.core.files.atomic as atomic

    _disk_full_after(monkeypatch, atomic, 10)
    with pytest.raises(OSError) as exc:
        records.load_key()
    assert exc.value.filename == str(key_file)
    assert list(key_file.parent.iterdir()) == []
    monkeypatch.undo()
    monkeypatch.setenv("MESOSIM_KEY_FILE", str(key_file))
    assert len(records.load_key()) == 32 and len(key_file.read_bytes()) == 65


def test_an_empty_key_left_by_an_earlier_version_is_explained(key_file, tmp_path, capsys):
    key_file.parent.mkdir(parents=True)
    key_file.write_text("")
    log = tmp_path / "a.csv"
    log.write_text(LOG)
    assert main(["score", "face-free", str(log), "--save", str(tmp_path / "a.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{key_file}:0:0: the signing key file is empty") and "delete the file" in err


def test_an_attempt_goes_on_when_its_journal_cannot_be_written(tmp_path, monkeypatch, library, config):
    from sim.core.exercise.scenario import load_scenario
    from sim.core.records.attempt import Attempt
    import sim.core.records.journal as journal

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    attempt = Attempt(load_scenario("face-free", library), library, config, "practice")
    attempt.open_journal()
    attempt.add(0, 40, 0.5, 45, 0.01, "superficial-nappage")
    _disk_full_after(monkeypatch, journal, 0)
    attempt.add(4, 40, 0.5, 45, 0.01, "superficial-nappage")
    attempt.add(8, 40, 0.5, 45, 0.01, "superficial-nappage")
    assert len(attempt) == 3 and attempt.journal is None
    assert "no longer kept safe against a crash" in attempt.journal_problem
