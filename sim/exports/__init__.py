"""Reports and exports for assessors: PDF, HTML, CSV tables, xAPI statements, the cohort. No pygame here: the map
is an SVG in millimetres (mapsvg)."""

from __future__ import annotations

import json
from pathlib import Path

from sim.errors import InputError
from sim.exports.cohort import cohort_pdf, cohort_summary
from sim.exports.html import to_html
from sim.exports.pdf import to_pdf
from sim.exports.tables import cohort_csv, safe_cell, to_cohort_csv, to_csv, to_json
from sim.exports.xapi import post_statements, safe_address, xapi_statements
from sim.session import LoadedRecord, load_records


def write(items: list[LoadedRecord], fmt: str, out: str | None) -> None:
    import sys

    if fmt == "pdf":
        data: bytes | str = to_pdf(items)
    elif fmt == "html":
        data = to_html(items)
    elif fmt == "csv":
        data = to_csv(items)
    elif fmt == "cohort-csv":
        data = to_cohort_csv(items)
    elif fmt == "json":
        data = to_json(items)
    else:
        data = json.dumps(xapi_statements(items), indent=2, ensure_ascii=False) + "\n"
    if out in (None, "-"):
        if isinstance(data, bytes):
            raise InputError.one("-o", "a PDF needs an output file: -o REPORT.pdf")
        sys.stdout.write(data)
        return
    try:
        Path(out).write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    except OSError as exc:
        raise InputError.one(out, f"cannot write: {exc.strerror or exc}") from None


__all__ = ["LoadedRecord", "cohort_csv", "cohort_pdf", "cohort_summary", "load_records", "post_statements",
           "safe_address", "safe_cell",
           "to_cohort_csv", "to_csv", "to_html", "to_json", "to_pdf", "write", "xapi_statements"]
