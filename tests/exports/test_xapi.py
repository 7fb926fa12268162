"""xAPI statements posted to a record store on 127.0.0.1 that behaves as a strict one does (a statement id it has
must come with the very same statement, else 409): re-posting any record changes nothing, an attempt's statements
share a registration, the trainee's account is at the centre's configured address, the screening answer is the
response, the store's own error reaches the user, and credentials never follow a redirect to another address."""

import base64
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from sim.cli import main
from sim.core.records.signing import read_record, write_record

HOME = "https://training.example.org"
LOG = ("x_mm,y_mm,depth_mm,angle_deg,volume_ml,technique,t_s\n"
       "-4,40,0.5,45,0.01,superficial-nappage,1\n"
       "0,40,0.5,45,0.01,superficial-nappage,2\n"
       "17,30,4.0,45,0.01,medium-papule,3\n")


class Store:
    """A record store: statements by id; identical re-posts are no conflict (204 when nothing was new)."""

    def __init__(self, redirect: str | None = None, refuse: tuple[int, str] | None = None):
        self.statements: dict[str, dict] = {}
        self.requests: list[tuple[str, dict]] = []
        self.redirect, self.refuse = redirect, refuse
        store = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                store.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                if store.redirect:
                    code, where = store.redirect.split(" ", 1)
                    self.send_response(int(code))
                    self.send_header("Location", where)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if store.refuse:
                    return self._answer(store.refuse[0], {"detail": store.refuse[1]})
                new = 0
                for st in json.loads(body):
                    if st["id"] in store.statements and store.statements[st["id"]] != st:
                        return self._answer(409, {"detail": f"Differing statements with id {st['id']} already "
                                                            "exist"})
                    new += st["id"] not in store.statements
                    store.statements[st["id"]] = st
                self._answer(200 if new else 204, [s["id"] for s in json.loads(body)] if new else None)

            def _answer(self, code, data):
                text = b"" if data is None else json.dumps(data).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/xapi"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def store():
    s = Store()
    yield s
    s.close()


@pytest.fixture
def records(tmp_path, capsys, monkeypatch):
    """Three records of the ways they are made: `score --save` (no times, a screening answer), the trainer's (its
    times), and one saved before records had an attempt id or a time."""
    monkeypatch.setenv("MESOSIM_XAPI_HOME_PAGE", HOME)
    log = tmp_path / "a.csv"
    log.write_text(LOG)
    scored = tmp_path / "scored.json"
    assert main(["score", "screening-pregnancy", str(log), "--save", str(scored), "--trainee", "Ann  Lee",
                 "--screening", "no-go:pregnancy"]) == 0
    rec = read_record(scored)
    trainer = tmp_path / "trainer.json"
    write_record({**{k: v for k, v in rec.items() if k != "signature"}, "attempt_id": "0f0e6a47-1b8e-4a8d-9c1e-"
                  "3f5d2a1b7c90", "started": "2026-05-09T14:30:00+02:00", "ended": "2026-05-09T14:41:10+02:00"},
                 trainer)
    old = tmp_path / "old.json"
    write_record({k: v for k, v in rec.items() if k not in ("attempt_id", "saved", "signature")}, old)
    capsys.readouterr()
    return [scored, trainer, old]


def post(capsys, url, *paths, auth="key:secret"):
    """`report --format xapi --lrs URL`, the credentials from MESOSIM_LRS_AUTH (never on the command line)."""
    old = os.environ.pop("MESOSIM_LRS_AUTH", None)
    if auth:
        os.environ["MESOSIM_LRS_AUTH"] = auth
    try:
        code = main(["report", *map(str, paths), "--format", "xapi", "--lrs", url])
    finally:
        os.environ.pop("MESOSIM_LRS_AUTH", None)
        if old is not None:
            os.environ["MESOSIM_LRS_AUTH"] = old
    out, err = capsys.readouterr()
    return code, out, err


def test_statements_reach_the_store_and_reposting_changes_nothing(records, store, capsys):
    code, out, err = post(capsys, store.url, *records)
    assert code == 0 and "posted 9 statement(s)" in err and "(HTTP 200)" in err, err
    (path, headers), = store.requests
    assert path == "/xapi/statements"
    assert headers["authorization"] == "Basic " + base64.b64encode(b"key:secret").decode()
    assert headers["x-experience-api-version"] == "1.0.3"
    statements = json.loads(out)
    assert len(store.statements) == 9 and all("timestamp" in s for s in statements)
    scored, trainer, old = records
    for rec in (scored, trainer):  # a record's own time is its statements' time: touching the file changes nothing
        os.utime(rec, (1e9, 1e9))
    for rec in records:  # every kind of record, posted again on its own: the same statements, nothing new
        code, _, err = post(capsys, store.url, rec)
        assert code == 0 and "(HTTP 204)" in err and "had them already" in err, err
    assert len(store.statements) == 9


def test_each_attempt_has_its_registration_account_and_response(records, capsys, monkeypatch):
    assert main(["report", *map(str, records), "--format", "xapi"]) == 0
    statements = json.loads(capsys.readouterr().out)
    scored, trainer, old = (statements[k:k + 3] for k in (0, 3, 6))
    rec = read_record(records[0])
    assert [s["verb"]["display"]["en-US"] for s in scored] == ["attempted", "completed", "passed" if
                                                               rec["report"]["passed"] else "failed"]
    assert {s["context"]["registration"] for s in scored} == {rec["attempt_id"]}
    assert {s["context"]["registration"] for s in trainer} == {"0f0e6a47-1b8e-4a8d-9c1e-3f5d2a1b7c90"}
    assert len({s["context"]["registration"] for s in old}) == 1 and old[0]["context"]["registration"] != \
        rec["attempt_id"]
    assert len({s["id"] for s in statements}) == 9
    actor = scored[0]["actor"]
    assert actor == {"objectType": "Agent", "name": "Ann Lee", "account": {"homePage": HOME, "name": "ann lee"}}
    assert scored[2]["result"]["response"] == trainer[2]["result"]["response"] == "no-go:pregnancy"
    assert scored[2]["timestamp"] == rec["saved"]
    assert trainer[0]["timestamp"] == "2026-05-09T14:30:00+02:00" and trainer[2]["timestamp"] == \
        "2026-05-09T14:41:10+02:00"


def test_the_home_page_is_configured_by_the_centre(records, capsys, monkeypatch, tmp_path):
    from sim.paths import config_file

    monkeypatch.delenv("MESOSIM_XAPI_HOME_PAGE")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # this test's own config.yaml
    assert main(["report", str(records[0]), "--format", "xapi"]) == 2
    err = capsys.readouterr().err
    assert "MESOSIM_XAPI_HOME_PAGE:0:0: xAPI statements name each trainee as an account at the training centre's" \
           " web address" in err and "Traceback" not in err
    cfg = config_file()
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text("xapi:\n  home_page: urn:nowhere\n")
    assert main(["report", str(records[0]), "--format", "xapi"]) == 2
    assert capsys.readouterr().err.startswith(f"{cfg}:2:")
    cfg.write_text("xapi:\n  home_page: https://lrs.centre.example/\n")
    assert main(["report", str(records[0]), "--format", "xapi"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["actor"]["account"]["homePage"] == "https://lrs.centre.example/"


def test_the_statements_address_or_the_base_address(records, store, capsys):
    assert post(capsys, store.url + "/statements/", records[0])[0] == 0
    assert post(capsys, store.url + "/", records[1])[0] == 0
    assert [p for p, _h in store.requests] == ["/xapi/statements", "/xapi/statements"]


def test_the_stores_own_words_are_in_the_message(records, capsys):
    s = Store(refuse=(400, "Invalid statement: actor.account.homePage is not an IRL"))
    try:
        code, _, err = post(capsys, s.url, records[0])
    finally:
        s.close()
    assert code == 2 and "HTTP 400" in err and "Invalid statement: actor.account.homePage is not an IRL" in err


def test_credentials_never_follow_a_redirect(records, capsys):
    elsewhere = Store()
    here = Store(redirect=f"307 {elsewhere.url}/statements")
    moved = Store(redirect=f"301 {elsewhere.url}/statements")
    try:
        code, _, err = post(capsys, here.url, records[0])
        assert code == 2 and f"redirects to {elsewhere.url}/statements, another address (HTTP 307)" in err
        assert "the credentials were not sent there and nothing was posted" in err
        code, _, err = post(capsys, moved.url, records[0])
        assert code == 2 and "HTTP 301" in err
        here.redirect = "308 /lrs/statements"  # within the same store: reported as well, nothing re-sent
        code, _, err = post(capsys, here.url, records[0])
        assert code == 2 and f"redirects to {here.url[:-5]}/lrs/statements (HTTP 308); nothing was posted" in err
        assert elsewhere.requests == [] and [p for p, _h in here.requests] == ["/xapi/statements"] * 2
    finally:
        for s in (elsewhere, here, moved):
            s.close()


def test_an_unreachable_store_is_said_so(records, capsys):
    code, _, err = post(capsys, "http://127.0.0.1:9/xapi", records[0])
    assert code == 2 and "cannot reach the record store at http://127.0.0.1:9/xapi/statements" in err
