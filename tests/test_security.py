"""Results that survive the person at the station: each forgery of issue 19 refused or detected, each hostile
input refused with a clear message and exit 2 (docs/records.md "Threat model", docs/reliability.md)."""

import csv
import io
import json
import os
import sqlite3
import stat
import threading
from pathlib import Path
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from sim.cli import main
from sim.core.records.signing import load_key, record_text, sign
from sim.session import load_record

LOG = ("x_mm,y_mm,depth_mm,angle_deg,volume_ml,technique,t_s\n"
       "0,40,0.5,45,0.01,superficial-nappage,1\n"
       "4,40,0.5,45,0.01,superficial-nappage,2\n")
BAD = LOG + "17,30,4.0,45,0.01,medium-papule,3\n"
EXAM = "forehead-nappage-exam"
EXAM_LOG = f"scenarios/face/solutions/{EXAM}/reference.csv"


@pytest.fixture(autouse=True)
def _own_folders(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("MESOSIM_DB", f"sqlite:///{tmp_path / 'g.sqlite'}")


def _save(tmp_path, capsys, text, trainee, name, scenario="face-free", *extra):
    log = tmp_path / f"{name}.csv"
    log.write_text(text)
    out = tmp_path / f"{name}.json"
    assert main(["score", scenario, str(log), "--save", str(out), "--trainee", trainee, *extra]) == 0
    capsys.readouterr()
    return out


def _resign(path, record):
    """What a person with the station's key can do in a few lines: edit, sign again, write as mesosim does."""
    path.write_text(record_text(sign(record, load_key())))


def _verify(capsys, path):
    code = main(["verify", str(path)])
    return code, capsys.readouterr().out


# -- forgeries

def test_a_scored_exam_log_is_never_an_exam_pass(tmp_path, capsys):
    out = _save(tmp_path, capsys, Path(EXAM_LOG).read_text(), "Bob", "bob", EXAM)
    item = load_record(out)
    assert item.record["report"]["passed"] and item.raw["provenance"] == {"kind": "scored-log"}
    assert item.exam is False and "NOT an exam result: an injection log scored" in item.standing
    assert main(["report", str(out), "--format", "html"]) == 0
    html = capsys.readouterr().out
    assert "PASSED, NOT AN EXAM RESULT" in html and "NOT an exam result" in html


def test_a_report_swapped_in_and_signed_again_does_not_verify(tmp_path, capsys):
    alice = json.loads(_save(tmp_path, capsys, LOG, "Alice", "alice").read_text())
    bob_path = _save(tmp_path, capsys, BAD, "Bob", "bob")
    bob = json.loads(bob_path.read_text())
    bob["report"] = alice["report"]  # Alice's pass in Bob's record
    _resign(bob_path, bob)
    code, out = _verify(capsys, bob_path)
    assert code == 1 and "the report does not match its injections (scored again:" in out and "NOT PASSED" in out
    assert main(["report", str(bob_path), "--format", "cohort-csv"]) == 0
    (row,) = csv.DictReader(io.StringIO(capsys.readouterr().out))
    assert row["signature"] == "NOT verified"


def test_an_edited_score_signed_again_does_not_verify(tmp_path, capsys):
    path = _save(tmp_path, capsys, BAD, "Bob", "bob")
    rec = json.loads(path.read_text())
    rec["report"]["score"], rec["report"]["passed"] = 98.0, True
    _resign(path, rec)
    assert _verify(capsys, path)[0] == 1
    assert main(["report", str(path), "--format", "pdf", "-o", str(tmp_path / "r.pdf")]) == 0


def test_rescore_save_never_signs_an_unverified_record(tmp_path, capsys):
    path = _save(tmp_path, capsys, BAD, "Bob", "bob")
    rec = json.loads(path.read_text())
    rec["trainee"] = "Carol"  # edited without the key
    path.write_text(record_text(rec))
    new = tmp_path / "new.json"
    assert main(["rescore", str(path), "--save", str(new)]) == 1
    err = capsys.readouterr().err
    assert "the content was changed after signing; a record that does not verify is not re-signed" in err
    assert not new.exists()


def test_rescore_says_when_it_scores_with_the_file_a_record_names(tmp_path, capsys):
    scn = tmp_path / "mine.yaml"
    scn.write_text(Path("scenarios/builtin/face-free.yaml").read_text().replace("id: face-free", "id: my-own"))
    path = _save(tmp_path, capsys, LOG, "Ann", "ann", str(scn))
    assert main(["rescore", str(path), "--save", str(tmp_path / "again.json")]) == 0
    err = capsys.readouterr().err
    assert f"scored with {scn}, the file the record names (no exercise of that id is in the library)" in err
    assert json.loads((tmp_path / "again.json").read_text())["rescored_from"]["exercise"].startswith("scored with")


def test_a_gradebook_row_edited_in_sql_shows_as_not_verified(tmp_path, capsys):
    _save(tmp_path, capsys, BAD, "Bob", "bob")
    with sqlite3.connect(tmp_path / "g.sqlite") as c:
        c.execute("UPDATE attempts SET score = 99, passed = 1")
    assert main(["cohort", "--format", "csv"]) == 0
    (row,) = csv.DictReader(io.StringIO(capsys.readouterr().out))
    assert row["signature"] == "NOT verified" and row["verification"].startswith("signature NOT verified: the gradebook row "
                                                                      "was changed after it was added")
    assert main(["cohort", "--format", "json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["pass_rates"]["face-free"] == {"title": "Free practice - face", "attempts": 0, "passed": 0,
                                                  "rate": None, "trainees": 1, "not_verified": 1}
    assert summary["trainees"]["Bob"][0]["verified"] is False
    assert main(["gradebook", "list"]) == 0
    assert "99.0 NOT VERIFIED" in capsys.readouterr().out


def test_a_gradebook_record_edited_in_sql_shows_as_not_verified(tmp_path, capsys):
    _save(tmp_path, capsys, BAD, "Bob", "bob")
    with sqlite3.connect(tmp_path / "g.sqlite") as c:
        (text,) = c.execute("SELECT record FROM attempts").fetchone()
        c.execute("UPDATE attempts SET record = ?", (text.replace('"Bob"', '"Eve"'),))
    assert main(["gradebook", "list", "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["signed"] is False and "its hash does not match" in row["why"]


@pytest.mark.parametrize("edit, why", [
    (lambda t, s: json.dumps(json.loads(t)), "not in the form mesosim writes"),  # minified
    (lambda t, s: t.replace('"Bob"', '"\\u0042ob"'), "not in the form mesosim writes"),  # an escape
    (lambda t, s: t.replace(f'"score": {s}', f'"score": {s / 10}e1'), "not in the form mesosim writes"),
])
def test_a_record_not_in_the_canonical_form_does_not_verify(tmp_path, capsys, edit, why):
    path = _save(tmp_path, capsys, BAD, "Bob", "bob")
    text = path.read_text()
    score = json.loads(text)["report"]["score"]
    assert f'"score": {score}' in text
    path.write_text(edit(text, score))
    assert path.read_text() != text
    code, out = _verify(capsys, path)
    assert code == 1 and why in out


def test_a_duplicate_key_is_refused(tmp_path, capsys):
    path = _save(tmp_path, capsys, BAD, "Bob", "bob")
    text = path.read_text()
    path.write_text(text.replace('{\n  "attempt_version": 1,', '{\n  "trainee": "Alice",\n  "attempt_version": 1,', 1))
    assert main(["report", str(path), "--format", "json"]) == 2
    err = capsys.readouterr().err
    assert 'the key "trainee" appears twice in one object' in err and f"{path}:" in err


def test_the_parse_cache_cannot_decide_a_score(tmp_path, capsys):
    import marshal

    import sim.core.files.yamlio as yamlio

    cache = yamlio.parse_cache
    load_key()
    text = Path("assets/techniques/superficial-nappage.yaml").read_text()
    doc = yamlio.load_yaml_text(text, "x")
    poisoned = dict(doc.data)
    blob = marshal.dumps((poisoned | {"name": "poisoned"}, doc.values, doc.keys))
    cache.folder.mkdir(parents=True, exist_ok=True)
    cache.entry(text).write_bytes(b"\0" * 32 + blob)  # an entry written without the key
    assert cache.get(text) is None  # not authenticated: parsed again
    cache.entry(text).write_bytes(cache._mac(cache._digest(text), blob) + blob)  # one with the key
    assert cache.get(text)[0]["name"] == "poisoned"
    with pytest.raises(yamlio.CacheTampered):
        yamlio.recheck_parse_cache()  # what a save does before signing
    assert not cache.entry(text).exists()  # removed
    for n in range(cache.MAX_ENTRIES + 10):
        cache.put(f"a: {n}\n", yamlio.load_yaml_text(f"a: {n}\n"))
    assert len(list(cache.folder.iterdir())) <= cache.MAX_ENTRIES  # pruned


def test_an_unverified_record_is_not_posted_and_no_redirect_is_followed(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MESOSIM_XAPI_HOME_PAGE", "https://training.example.org")
    path = _save(tmp_path, capsys, BAD, "Bob", "bob")
    hits = []

    class LRS(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            hits.append((self.path, self.headers.get("Authorization")))
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:9/steal")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), LRS)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("MESOSIM_LRS_AUTH", "key:secret")
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/xapi"
        assert main(["report", str(path), "--format", "xapi", "-o", str(tmp_path / "x.json"), "--lrs", url]) == 2
        err = capsys.readouterr().err
        assert "redirects to http://127.0.0.1:9/steal, another address" in err and "credentials were not sent" in err
        assert hits[0][1] == "Basic a2V5OnNlY3JldA=="  # the credentials from the environment, to the address given
        from sim.exports import safe_address

        assert safe_address("https://user:pw@lrs.example/x") == "https://user:***@lrs.example/x"
        assert len(hits) == 1  # nothing re-sent elsewhere
        rec = json.loads(path.read_text())
        rec["trainee"] = "Eve"
        path.write_text(record_text(rec))
        assert main(["report", str(path), "--format", "xapi", "-o", str(tmp_path / "x.json"), "--lrs", url]) == 1
        assert "an unverified record is not posted" in capsys.readouterr().err and len(hits) == 1
        assert main(["report", str(path), "--format", "xapi", "--lrs", url, "--lrs-auth", "u:p"]) == 2
        assert "--lrs-auth-file" in capsys.readouterr().err
    finally:
        server.shutdown()
        server.server_close()


# -- names in outputs

@pytest.mark.parametrize("name", ["\r=1+1", "\n=1+1", " =1+1", "\uff1d1+1", "|calc", "@SUM(1)"])
def test_formula_prefixes_are_neutralised_in_csv(tmp_path, capsys, name):
    path = _save(tmp_path, capsys, LOG, "x", "x")
    rec = json.loads(path.read_text())
    rec["trainee"] = name
    _resign(path, rec)
    assert main(["report", str(path), "--format", "cohort-csv"]) == 0
    text = capsys.readouterr().out
    (row,) = csv.DictReader(io.StringIO(text))
    assert row["trainee"].startswith("'") and "\r" not in text and text.count("\n") == 2


def test_a_name_cannot_push_the_result_to_another_page(tmp_path, capsys):
    from sim.exports.pdf import shown_name

    assert shown_name("Bob\nSignature verified\nScore 98.0 - PASSED" + "\n" * 60) == \
        "Bob Signature verified Score 98.0 - PASSED"
    assert len(shown_name("x " * 5000)) == 103
    assert main(["score", "face-free", "x.csv", "--trainee", "Bob\nScore 98"]) == 2
    assert "--trainee:0:0: the name holds a line break" in capsys.readouterr().err


# -- hostile inputs: a clear message and exit 2

def test_a_record_naming_a_device_or_a_fifo_as_its_exercise(tmp_path, capsys):
    path = _save(tmp_path, capsys, LOG, "Ann", "ann")
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    for target in ("/dev/zero", "/dev/urandom", str(fifo)):
        rec = json.loads(path.read_text())
        rec["scenario"] = {"id": "no-such-exercise", "file": target, "sha256": ""}
        _resign(path, rec)
        assert main(["rescore", str(path)]) == 2
        assert 'the exercise "no-such-exercise" of this record cannot be found' in capsys.readouterr().err
        assert main(["report", str(path), "--format", "html"]) == 0  # drawn without the map, said so
        assert "so the map cannot be drawn" in capsys.readouterr().out
    assert main(["validate", str(fifo), "/dev/zero"]) == 2
    err = capsys.readouterr().err
    assert "is not a regular file (a pipe (FIFO))" in err and "/dev/zero:0:0: is not a regular file (a device)" in err
    assert main(["score", "face-free", "/dev/zero"]) == 2


def test_deep_nesting_surrogates_and_nul_in_a_record(tmp_path, capsys):
    path = _save(tmp_path, capsys, LOG, "Ann", "ann")
    base = json.loads(path.read_text())
    for extra, why in [({"notes": json.loads("[" * 300 + "]" * 300)}, "nested deeper than 32 levels"),
                       ({"trainee": "\ud800"}, "trainee: holds a lone surrogate"),
                       ({"trainee": "A\0nn"}, "trainee: holds a NUL character")]:
        text = json.dumps({**base, **extra}, indent=2)
        path.write_text(text)
        for command in (["report", str(path), "--format", "json"], ["rescore", str(path)], ["verify", str(path)]):
            code = main(command)
            err = capsys.readouterr()
            assert code in (1, 2) and why in err.err + err.out, (command, why)


def test_huge_yaml_integers_and_separators(tmp_path, capsys):
    scn = tmp_path / "s.yaml"
    scn.write_text(Path("scenarios/builtin/face-free.yaml").read_text() + "pass_mark: " + "9" * 5000 + "\n")
    assert main(["validate", str(scn)]) == 2
    assert "a number of 5000 characters; at most 40 are accepted" in capsys.readouterr().err
    scn.write_text(Path("scenarios/builtin/face-free.yaml").read_text() + "pass_mark: 8_0\n")
    assert main(["validate", str(scn)]) == 2
    assert '"8_0" is not a number here' in capsys.readouterr().err


@pytest.mark.parametrize("argv", [
    ["validate", "a" * 300 + ".yaml"],
    ["score", "face-free", "a" * 300 + ".csv"],
    ["score", "a" * 300, "x.csv"],
    ["score", "face-free", "x.csv", "--trainee", "x" * 5000],
    ["calibrate", "face-free", "--attempts", "\u0661\u0660"],
    ["calibrate", "face-free", "--attempts", "1_0"],
    ["preview", "face-free", "-o", "x.png", "--size", "\uff11\uff12\uff10\uff10x900"],
    ["gradebook", "list", "--db", "postgresql+psycopg://station:secret@gradebook/mesosim"],
])
def test_unusable_arguments_are_exit_2(capsys, argv):
    with pytest.raises(SystemExit) if "--attempts" in argv else _nothing():
        code = main(argv)
        assert code == 2
    err = capsys.readouterr().err
    assert err and "Traceback" not in err


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_a_non_utf8_trainee_is_refused_before_anything_is_written(tmp_path, capsys):
    name = b"B\xffb".decode("utf-8", "surrogateescape")  # what Python makes of such bytes in argv
    assert main(["score", "face-free", "x.csv", "--trainee", name, "--save", str(tmp_path / "r.json")]) == 2
    assert "not UTF-8 text" in capsys.readouterr().err
    assert main(["run", "face-free", "--trainee", name]) == 2
    assert not (tmp_path / "data" / "mesosim" / "journal").exists()


# -- files for the owner only

def test_records_journals_and_the_gradebook_are_the_owners_only(tmp_path, capsys):
    old = os.umask(0o022)
    try:
        path = _save(tmp_path, capsys, LOG, "Ann", "ann")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "g.sqlite").stat().st_mode) == 0o600
    from sim.core.records.journal import Journal

    j = Journal(tmp_path / "data" / "j" / "x.jsonl", {"scenario": {"id": "face-free"}})
    j.close(remove=False)
    assert stat.S_IMODE(j.path.stat().st_mode) == 0o600 and stat.S_IMODE(j.path.parent.stat().st_mode) == 0o700


def test_a_planted_link_is_not_followed(tmp_path):
    from sim.core.files.atomic import write_atomic

    target = tmp_path / "victim"
    target.write_text("keep")
    (tmp_path / "out.json").symlink_to(target)
    write_atomic(tmp_path / "out.json", b"new")  # the link is replaced, its target untouched
    assert target.read_text() == "keep" and not (tmp_path / "out.json").is_symlink()


@pytest.mark.parametrize("title, what", [("Free \\ud800 x", "a lone surrogate"),
                                         ("Free \\0 x", "the control character U+0000")])
def test_a_scenario_text_no_report_can_show_is_refused(tmp_path, capsys, title, what):
    scn = tmp_path / "s.yaml"
    text = Path("scenarios/builtin/face-free.yaml").read_text()
    scn.write_text("\n".join(f'title: "{title}"' if line.startswith("title:") else line
                             for line in text.splitlines()) + "\n")
    assert main(["validate", str(scn)]) == 2
    assert f"the text holds {what}, which no report can show" in capsys.readouterr().err
    log = tmp_path / "a.csv"
    log.write_text(LOG)
    assert main(["score", str(scn), str(log), "--save", str(tmp_path / "r.json")]) == 2
    assert not (tmp_path / "r.json").exists()


def test_a_solution_log_path_too_long_is_a_message(tmp_path, capsys):
    scn = tmp_path / "s.yaml"
    text = Path("scenarios/face/forehead-nappage.yaml").read_text()
    import re

    scn.write_text(re.sub(r"log: \S+reference\.csv", "log: " + "a" * 300 + ".csv", text, count=1))
    assert main(["validate", str(scn)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "too long" in err.lower()


def test_a_sealed_record_verifies_elsewhere_with_the_public_key_alone(tmp_path, capsys, monkeypatch):
    path = _save(tmp_path, capsys, LOG, "Ann", "ann")
    key = tmp_path / "centre" / "centre.key"
    key.parent.mkdir()
    assert main(["seal", "--new-key", str(key)]) == 0
    assert "keep it on the assessor's machine" in capsys.readouterr().out
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert main(["seal", "--new-key", str(key)]) == 2  # never overwritten
    capsys.readouterr()
    assert main(["seal", str(path), "--key", str(key), "-o", str(tmp_path / "out")]) == 0
    sealed = tmp_path / "out" / path.name
    capsys.readouterr()
    # elsewhere: another machine, another station key, the centre's public key trusted
    monkeypatch.setenv("MESOSIM_KEY_FILE", str(tmp_path / "other.key"))
    assert _verify(capsys, sealed)[0] == 1  # without trusting the centre: another key, not verified
    monkeypatch.setenv("MESOSIM_TRUSTED_KEYS", str(key) + ".pub")
    code, out = _verify(capsys, sealed)
    assert code == 0 and "signature verified (sealed by centre " in out
    rec = json.loads(sealed.read_text())
    rec["trainee"] = "Eve"  # renamed and signed again with this machine's key, the seal kept
    forged = sign(rec, load_key())
    forged["seal"] = rec["seal"]
    sealed.write_text(record_text(forged))
    code, out = _verify(capsys, sealed)
    assert code == 1 and "the centre's seal does not hold" in out
    assert main(["seal", str(sealed), "--key", str(key), "-o", str(tmp_path / "out2")]) == 1  # never sealed
    assert "only a record that verifies here is sealed" in capsys.readouterr().err


def test_a_password_in_a_config_others_can_read_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("MESOSIM_DB")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    cfg = tmp_path / "config" / "mesosim" / "config.yaml"
    cfg.parent.mkdir(parents=True)
    cfg.write_text("database: postgresql+psycopg://station:secret@127.0.0.1:9/mesosim\n")
    cfg.chmod(0o644)
    assert main(["gradebook", "list"]) == 2
    err = capsys.readouterr().err
    assert "holds a password and this file can be read by other users" in err and "secret" not in err
