"""Reports as tables: CSV per injection, a cohort row per attempt, and the reports as JSON.

Text a trainee typed (the name) is neutralised in CSV: a cell a spreadsheet would execute gets a leading
apostrophe."""

from __future__ import annotations

import csv
import io
import json
import re

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.session import LoadedRecord


FORMULA_STARTS = ("=", "+", "-", "@", "|", "%", " ", "\uff1d", "\uff0b", "\uff0d", "\uff20", "\uff5c", "\u3000")
"""What a spreadsheet may take as the start of a formula or a command (the full-width forms included, and a space
it trims first)."""


def safe_cell(value):
    """A cell a spreadsheet will show, never run: line breaks and other control characters become spaces (a
    carriage return would start a new row for some readers), then text starting with = + - @ | % a space or their
    full-width forms gets a leading apostrophe. Numbers stay numbers."""
    if not isinstance(value, str):
        return value
    value = "".join(c if c.isprintable() else " " for c in value)
    if value[:1] in FORMULA_STARTS:
        return "'" + value
    return value


INJECTION_COLUMNS = ["record", "signature", "trainee", "scenario", "mode", "started", "index", "x_mm", "y_mm",
                     "depth_mm", "angle_deg", "volume_ml", "technique", "bevel", "device", "t_s", "region", "layer",
                     "verdict", "number", "findings", "sources"]
"""One row per injection; `index` is the 0-based row of the log (contract.md), `number` the injection's number as
the window and the other reports show it (index + 1)."""
COHORT_COLUMNS = ["trainee", "scenario", "title", "date", "score", "pass_mark", "passed", "critical_findings",
                  "injections", "mode", "signature", "attempt_id", "started", "ended", "saved", "file", "gradebook_id", "verification", "exam_result"]
"""One row per attempt, the same from records (`mesosim report --format cohort-csv`) and from the gradebook
(`mesosim cohort --format csv`): `date` is the attempt's time (the record's saved, else ended or started; else the
file's time, or when the gradebook added it), `signature` verified or NOT verified, `file` the record's path (blank
from the gradebook), `gradebook_id` the row id (blank from records), `verification` the full status (the
signature, the form, the report checked against the injections), `exam_result` whether an exam record counts as
an exam result (blank for practice)."""
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)


def _csv(rows: list[dict], columns: list[str]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    w.writeheader()
    for row in rows:
        w.writerow({k: safe_cell(row.get(k)) for k in columns})
    return buf.getvalue()


def to_csv(items: list[LoadedRecord]) -> str:
    rows = []
    for it in items:
        rec, rep = it.record, it.record["report"]
        for e in rep["injections"]:
            rows.append({"record": it.path, "signature": signature_word(it),
                         "trainee": rec.get("trainee", ""), "scenario": rep["scenario"], "mode": rec.get("mode"),
                         "started": rec.get("started"), **{k: e.get(k) for k in INJECTION_COLUMNS[6:19]},
                         "number": e["index"] + 1,
                         "findings": " | ".join(f"{f['rule']} ({f['verdict']}): {f['message']}"
                                                for f in e["findings"]),
                         "sources": " | ".join(f["source"] for f in e["findings"])})
    return _csv(rows, INJECTION_COLUMNS)


def cohort_row(item: LoadedRecord) -> dict:
    """A record's row of the cohort CSV."""
    from sim.session import record_date

    rec, rep = item.record, item.record["report"]
    aid = item.raw.get("attempt_id")
    return {"trainee": rec.get("trainee", ""), "scenario": rep["scenario"], "title": rep.get("title"),
            "date": record_date(item), "score": rep["score"], "pass_mark": rep["pass_mark"], "passed": rep["passed"],
            "critical_findings": rep["critical_findings"], "injections": len(rep["injections"]),
            "mode": rec.get("mode"), "signature": signature_word(item),
            "attempt_id": aid if isinstance(aid, str) else "", "started": rec.get("started"),
            "ended": rec.get("ended"), "saved": item.raw.get("saved"), "file": item.path, "gradebook_id": None,
            "verification": item.status, "exam_result": getattr(item, "exam", None)}


def gradebook_cohort_row(row: dict) -> dict:
    """A gradebook row's (Gradebook.attempts) row of the cohort CSV: the same columns as a record's."""
    uid = row.get("uid") or ""
    return {"trainee": row["trainee"], "scenario": row["scenario"], "title": row.get("title"), "date": row["when"],
            "score": row["score"], "pass_mark": row.get("pass_mark"), "passed": bool(row["passed"]),
            "critical_findings": row["critical"], "injections": row["injections"], "mode": row["mode"],
            "signature": "verified" if row["signed"] else "NOT verified",
            "attempt_id": uid if _UUID.match(uid) else "", "started": row.get("started"), "ended": row.get("ended"),
            "saved": row.get("saved"), "file": None, "gradebook_id": row["id"],
            "verification": "signature verified" if row["signed"] else
            f"signature NOT verified: {row.get('why') or 'the gradebook says so'}", "exam_result": None}


def to_cohort_csv(items: list[LoadedRecord]) -> str:
    return _csv([cohort_row(it) for it in items], COHORT_COLUMNS)


def cohort_csv(rows: list[dict]) -> str:
    """The cohort CSV of gradebook rows (Gradebook.attempts)."""
    return _csv([gradebook_cohort_row(r) for r in rows], COHORT_COLUMNS)


def to_json(items: list[LoadedRecord]) -> str:
    """Each record's score report with `record`: its file, attempt id, trainee, date and signature (a list for
    several records)."""
    from sim.session import record_date

    reports = []
    for it in items:
        aid = it.raw.get("attempt_id")
        about = {"file": it.path, "attempt_id": aid if isinstance(aid, str) else None,
                 "trainee": it.record.get("trainee", ""), "date": record_date(it),
                 "signature": signature_word(it), "signature_status": it.status}
        reports.append({"record": about, **it.record["report"],
                        "verification": {"verified": it.verified, "status": it.status,
                                         "report_checked": getattr(it, "report_checked", False),
                                         "exam_result": getattr(it, "exam", None),
                                         "standing": getattr(it, "standing", "")}})
    return json.dumps(reports[0] if len(reports) == 1 else reports, indent=2, ensure_ascii=False) + "\n"


def signature_word(item: LoadedRecord) -> str:
    """The signature column of a table: verified or NOT verified."""
    return "verified" if item.verified else "NOT verified"
