"""xAPI 1.0.3 statements for each attempt (attempted, completed, then passed or failed), and posting them to a
Learning Record Store.

Posting the same records again changes nothing in the store: a statement's id is derived from the attempt (its
`attempt_id`; for a record saved before attempts had one, its signature) and every statement carries the
attempt's own time, so the store receives the very same statements and answers that it has them. The
statements of one attempt share a registration (`context.registration`: the attempt id). The trainee is an
account at the training centre's web address (`account.homePage`), which the centre configures: the
MESOSIM_XAPI_HOME_PAGE environment variable, or `xapi: {home_page: URL}` in the user's config.yaml.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import uuid
from urllib.parse import urljoin, urlsplit

from sim.errors import InputError, Problem
from sim.gradebook import name_key
from sim.session import LoadedRecord, record_date

XAPI_VERSION = "1.0.3"
VERBS = {
    "attempted": "http://adlnet.gov/expapi/verbs/attempted",
    "completed": "http://adlnet.gov/expapi/verbs/completed",
    "passed": "http://adlnet.gov/expapi/verbs/passed",
    "failed": "http://adlnet.gov/expapi/verbs/failed",
}
HOME_PAGE_ENV = "MESOSIM_XAPI_HOME_PAGE"


def _web_address(value, where: str) -> str | None:
    """Why `value` is not an http(s) address with a host, or None when it is one."""
    if not isinstance(value, str) or not value.strip():
        return "expected the training centre's web address, e.g. https://training.example.org"
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f'"{value}" is not a web address (http:// or https:// and a host), e.g. https://training.example.org'
    return None


def home_page() -> str:
    """The centre's web address for the trainees' accounts: MESOSIM_XAPI_HOME_PAGE, else `xapi.home_page` in
    config.yaml; an InputError saying how to set it when neither is."""
    from sim.paths import config_file

    value = os.environ.get(HOME_PAGE_ENV)
    if value:
        why = _web_address(value, HOME_PAGE_ENV)
        if why:
            raise InputError.one(HOME_PAGE_ENV, why)
        return value.strip()
    cfg = config_file()
    if cfg.is_file():
        from sim.core.files.yamlio import load_yaml_file

        doc = load_yaml_file(cfg)
        section = doc.data.get("xapi") if isinstance(doc.data, dict) else None
        if section is not None:
            if not isinstance(section, dict) or "home_page" not in section:
                raise InputError([doc.problem(("xapi",), "expected home_page: the training centre's web address, "
                                              "e.g. xapi: {home_page: https://training.example.org}")])
            why = _web_address(section["home_page"], str(cfg))
            if why:
                raise InputError([doc.problem(("xapi", "home_page"), why)])
            return section["home_page"].strip()
    raise InputError.one(HOME_PAGE_ENV, "xAPI statements name each trainee as an account at the training centre's "
                         f"web address: set {HOME_PAGE_ENV}=https://... or put `xapi: {{home_page: https://...}}` "
                         f"in {cfg}")


def attempt_key(raw: dict) -> str:
    """What a record's statements are derived from: its attempt id; for an older record, its signature (else the
    hash of the record)."""
    if isinstance(raw.get("attempt_id"), str) and raw["attempt_id"]:
        return raw["attempt_id"]
    sig = raw.get("signature")
    if isinstance(sig, dict) and isinstance(sig.get("value"), str) and sig["value"]:
        return sig["value"]
    from sim.core.records.signing import canonical

    return hashlib.sha256(canonical(raw)).hexdigest()


def registration(raw: dict) -> str:
    """The attempt's registration: its attempt id when that is a UUID, else one derived from attempt_key."""
    try:
        return str(uuid.UUID(str(raw.get("attempt_id"))))
    except ValueError:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:mesosim:registration:{attempt_key(raw)}"))


def _duration(rep: dict) -> str | None:
    d = (rep.get("summary") or {}).get("duration_s")
    return None if d is None else f"PT{round(float(d), 2):g}S"


def _response(rec: dict) -> str | None:
    """The screening answer as the command line writes it: DECISION[:REASON]."""
    s = rec.get("screening")
    if not isinstance(s, dict) or not s.get("decision"):
        return None
    return s["decision"] + (f":{s['reason']}" if s.get("reason") else "")


def xapi_statements(items: list[LoadedRecord], home: str | None = None) -> list[dict]:
    """xAPI 1.0.3 statements for each attempt: attempted, completed, then passed or failed. `home` is the
    centre's web address (default: home_page())."""
    home = home or home_page()
    out = []
    for it in items:
        rec, rep = it.record, it.record["report"]
        name = " ".join((rec.get("trainee") or "").split()) or "(no name)"
        actor = {"objectType": "Agent", "name": name, "account": {"homePage": home, "name": name_key(name)}}
        activity = {"objectType": "Activity", "id": f"urn:mesosim:scenario:{rep['scenario']}",
                    "definition": {"name": {"en-US": rep.get("title", rep["scenario"])},
                                   "type": "http://adlnet.gov/expapi/activities/simulation"}}
        key = attempt_key(it.raw)
        result = {"score": {"scaled": round(rep["score"] / 100.0, 4), "raw": rep["score"], "min": 0, "max": 100},
                  "success": bool(rep["passed"]), "completion": True,
                  "extensions": {f"urn:mesosim:criterion:{c['rule']}": c["score"] for c in rep["criteria"]}}
        if _duration(rep):
            result["duration"] = _duration(rep)
        if _response(rec):
            result["response"] = _response(rec)
        date = record_date(it)
        provenance = rec.get("provenance")
        context = {"registration": registration(it.raw), "platform": "mesosim",
                   "extensions": {"urn:mesosim:signature": "verified" if it.verified else "not verified",
                                  "urn:mesosim:mode": rec.get("mode"), "urn:mesosim:attempt": key,
                                  "urn:mesosim:exam-result": getattr(it, "exam", None),
                                  "urn:mesosim:provenance": provenance.get("kind")
                                  if isinstance(provenance, dict) else None}}
        verbs = ["attempted", "completed"]
        if getattr(it, "exam", None) is not False:  # an exam record that is no exam result: never a pass
            verbs.append("passed" if rep["passed"] else "failed")
        else:
            result.pop("success")
        for verb in verbs:
            st = {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:mesosim:{key}:{verb}")), "version": XAPI_VERSION,
                  "actor": actor, "verb": {"id": VERBS[verb], "display": {"en-US": verb}}, "object": activity,
                  "context": context}
            if verb != "attempted":
                st["result"] = result
            stamp = (rec.get("started") if verb == "attempted" else rec.get("ended")) or date
            if stamp:
                st["timestamp"] = stamp
            out.append(st)
    return out


def statements_url(lrs: str) -> str:
    """The statements resource of a record store given by its base address (.../xapi) or by that resource itself
    (.../xapi/statements)."""
    parts = urlsplit(lrs.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError.one("--lrs", f'"{lrs}" is not an http(s) address')
    path = parts.path.rstrip("/")
    if not path.endswith("/statements"):
        path += "/statements"
    return parts._replace(path=path, fragment="").geturl()


def _origin(url: str) -> tuple[str, str, int | None]:
    p = urlsplit(url)
    return p.scheme, (p.hostname or "").lower(), p.port or {"http": 80, "https": 443}.get(p.scheme)


def _body(exc) -> str:
    """The store's own words from an error response (its JSON detail, else its text), on one line."""
    try:
        text = exc.read(4000).decode("utf-8", "replace")
    except Exception:  # a body that cannot be read says nothing more
        return ""
    try:
        data = json.loads(text)
        if isinstance(data, dict):
            text = str(data.get("detail") or data.get("message") or data.get("error") or data)
    except ValueError:
        pass
    text = " ".join(text.split())
    return text[:400] + ("..." if len(text) > 400 else "")


def _opener():
    """An opener that follows no redirect: the credentials stay with the store that was named."""
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, req, fp, code, msg, headers, newurl):
            return None

    return urllib.request.build_opener(NoRedirect())


def post_statements(statements: list[dict], lrs: str, auth: str | None, timeout: float = 30.0) -> int:
    """POST the statements to a Learning Record Store (`lrs` its base address or its statements resource, `auth`
    "user:password"). Returns the HTTP status. A redirect is never followed (the credentials go to the address
    given and nowhere else, and a 301-303 would turn the POST into a GET): it is reported with the address it
    names. Anything else the store refuses is an InputError with the store's own message."""
    import urllib.error
    import urllib.request

    url = statements_url(lrs)
    req = urllib.request.Request(url, data=json.dumps(statements, ensure_ascii=False).encode("utf-8"),
                                 method="POST")
    req.add_header("Content-Type", "application/json")
    req.add_header("X-Experience-API-Version", XAPI_VERSION)
    if auth:
        req.add_header("Authorization", "Basic " + base64.b64encode(auth.encode("utf-8")).decode("ascii"))
    try:
        with _opener().open(req, timeout=timeout) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        if 300 <= exc.code < 400:
            target = urljoin(url, exc.headers.get("Location") or "")
            other = _origin(target) != _origin(url)
            sent = ("the credentials were not sent there and nothing was posted" if auth and other
                    else "nothing was posted")
            raise InputError([Problem("--lrs", 0, 0, "", f"the record store at {safe_address(url)} redirects to "
                                      f"{safe_address(target)}"
                                      + (", another address" if other else "") + f" (HTTP {exc.code}); {sent}: "
                                      f"give --lrs {target} if that is the store")]) from None
        body = _body(exc)
        raise InputError.one("--lrs", f"the record store at {safe_address(url)} refused the statements: HTTP {exc.code} "
                             f"{exc.reason}" + (f": {body}" if body else "")) from None
    except (urllib.error.URLError, OSError) as exc:
        raise InputError.one("--lrs", f"cannot reach the record store at {safe_address(url)}: "
                             f"{safe_address(str(getattr(exc, 'reason', None) or exc))}") from None


def safe_address(url: str) -> str:
    """A URL as it may be printed: a password in it (user:password@host) masked."""
    import re

    return re.sub(r"(?<=://)([^/@:\s]*):[^/@\s]*@", r"\1:***@", url)
