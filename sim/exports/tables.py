"""Reports as tables: CSV per injection, a cohort row per attempt, and the reports as JSON.

Text a trainee typed (the name) is neutralised in CSV: a cell a spreadsheet would execute gets a leading
apostrophe."""

from __future__ import annotations

import csv
import io
import json

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
                     "verdict", "findings", "sources"]
COHORT_COLUMNS = ["record", "signature", "trainee", "scenario", "title", "mode", "started", "ended", "score",
                  "pass_mark", "passed", "critical_findings", "injections", "verification", "exam_result"]


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
                         "findings": " | ".join(f"{f['rule']} ({f['verdict']}): {f['message']}"
                                                for f in e["findings"]),
                         "sources": " | ".join(f["source"] for f in e["findings"])})
    return _csv(rows, INJECTION_COLUMNS)


def cohort_rows(items: list[LoadedRecord]) -> list[dict]:
    rows = []
    for it in items:
        rec, rep = it.record, it.record["report"]
        rows.append({"record": it.path, "signature": signature_word(it), "verification": it.status,
                     "exam_result": it.exam,
                     "trainee": rec.get("trainee", ""), "scenario": rep["scenario"], "title": rep.get("title"),
                     "mode": rec.get("mode"), "started": rec.get("started"), "ended": rec.get("ended"),
                     "score": rep["score"], "pass_mark": rep["pass_mark"], "passed": rep["passed"],
                     "critical_findings": rep["critical_findings"], "injections": len(rep["injections"])})
    return rows


def to_cohort_csv(items: list[LoadedRecord]) -> str:
    return _csv(cohort_rows(items), COHORT_COLUMNS)



def cohort_csv(rows: list[dict]) -> str:
    cols = ["trainee", "scenario", "title", "mode", "started", "ended", "score", "passed", "critical", "injections",
            "signed", "verification", "exam_result"]
    return _csv(rows, cols)



def to_json(items: list[LoadedRecord]) -> str:
    reports = [{**it.record["report"], "verification": {"verified": it.verified, "status": it.status,
                                                         "report_checked": it.report_checked,
                                                         "exam_result": it.exam, "standing": it.standing}}
               for it in items]
    return json.dumps(reports[0] if len(reports) == 1 else reports, indent=2, ensure_ascii=False) + "\n"



def signature_word(item: LoadedRecord) -> str:
    """The signature column of a table: verified or NOT verified."""
    return "verified" if item.verified else "NOT verified"
