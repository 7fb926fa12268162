"""xAPI 1.0.3 statements for each attempt (attempted, completed, then passed or failed), and posting them to a
Learning Record Store."""

from __future__ import annotations

import base64
import json
import uuid

from sim.errors import InputError
from sim.session import LoadedRecord

XAPI_VERSION = "1.0.3"
VERBS = {
    "attempted": "http://adlnet.gov/expapi/verbs/attempted",
    "completed": "http://adlnet.gov/expapi/verbs/completed",
    "passed": "http://adlnet.gov/expapi/verbs/passed",
    "failed": "http://adlnet.gov/expapi/verbs/failed",
}


def _duration(rep: dict) -> str | None:
    d = (rep.get("summary") or {}).get("duration_s")
    return None if d is None else f"PT{round(float(d), 2):g}S"


def xapi_statements(items: list[LoadedRecord]) -> list[dict]:
    """xAPI 1.0.3 statements for each attempt: attempted, completed, then passed or failed."""
    out = []
    for it in items:
        rec, rep = it.record, it.record["report"]
        name = rec.get("trainee") or "(no name)"
        actor = {"objectType": "Agent", "name": name, "account": {"homePage": "urn:mesosim", "name": name}}
        activity = {"objectType": "Activity", "id": f"urn:mesosim:scenario:{rep['scenario']}",
                    "definition": {"name": {"en-US": rep.get("title", rep["scenario"])},
                                   "type": "http://adlnet.gov/expapi/activities/simulation"}}
        seed = (rec.get("signature") or {}).get("value") or json.dumps(rec, sort_keys=True)
        result = {"score": {"scaled": round(rep["score"] / 100.0, 4), "raw": rep["score"], "min": 0, "max": 100},
                  "success": bool(rep["passed"]), "completion": True,
                  "extensions": {f"urn:mesosim:criterion:{c['rule']}": c["score"] for c in rep["criteria"]}}
        if _duration(rep):
            result["duration"] = _duration(rep)
        stamp = rec.get("ended") or rec.get("started")
        verbs = ["attempted", "completed"]
        if it.exam is not False:  # an exam record that is no exam result (a replay, a scored log): never a pass
            verbs.append("passed" if rep["passed"] else "failed")
        else:
            result.pop("success")
        for verb in verbs:
            st = {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:mesosim:{seed}:{verb}")), "version": XAPI_VERSION,
                  "actor": actor, "verb": {"id": VERBS[verb], "display": {"en-US": verb}}, "object": activity,
                  "context": {"extensions": {"urn:mesosim:signature": "verified" if it.verified else "not verified",
                                             "urn:mesosim:mode": rec.get("mode"),
                                             "urn:mesosim:exam-result": it.exam,
                                             "urn:mesosim:provenance": (rec.get("provenance") or {}).get("kind")
                                             if isinstance(rec.get("provenance"), dict) else None}}}
            if verb != "attempted":
                st["result"] = result
            if stamp:
                st["timestamp"] = stamp
            out.append(st)
    return out


def post_statements(statements: list[dict], lrs: str, auth: str | None, timeout: float = 30.0) -> int:
    """POST the statements to a Learning Record Store (`lrs` is its endpoint, `auth` is "user:password").
    Returns the HTTP status."""
    import urllib.error
    import urllib.request

    url = lrs.rstrip("/") + "/statements"
    if not url.startswith(("http://", "https://")):
        raise InputError.one("--lrs", f'"{safe_address(lrs)}" is not an http(s) address')
    shown = safe_address(url)
    req = urllib.request.Request(url, data=json.dumps(statements).encode(), method="POST")
    req.add_header("Content-Type", "application/json")
    req.add_header("X-Experience-API-Version", XAPI_VERSION)
    if auth:
        req.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    opener = urllib.request.build_opener(_no_redirect_handler())  # credentials go to the address given, never elsewhere
    try:
        with opener.open(req, timeout=timeout) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        if 300 <= exc.code < 400:
            raise InputError.one("--lrs", f"the record store at {shown} answered HTTP {exc.code}, a redirect to "
                                 f"{safe_address(exc.headers.get('Location') or '?')}: not followed (the statements "
                                 "and credentials go only to the address given); nothing was posted") from None
        raise InputError.one("--lrs", f"the record store refused the statements: HTTP {exc.code} {exc.reason}") \
            from None
    except (urllib.error.URLError, OSError) as exc:
        raise InputError.one("--lrs", f"cannot reach the record store at {shown}: "
                             f"{safe_address(str(getattr(exc, 'reason', exc)))}") from None


def safe_address(url: str) -> str:
    """A URL as it may be printed: a password in it (user:password@host) masked."""
    import re

    return re.sub(r"(?<=://)([^/@:\s]*):[^/@\s]*@", r"\1:***@", url)


def _no_redirect_handler():
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D401 - urllib's hook
            return None  # urllib then raises HTTPError with the 3xx code

    return NoRedirect

