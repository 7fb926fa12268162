"""Reports and exports for assessors: PDF, HTML, CSV tables, xAPI statements, the cohort. No pygame here: the map
is an SVG in millimetres (mapsvg).

Each format's module is imported when it is first used (a CSV does not wait for the PDF library)."""

from __future__ import annotations

import importlib
from pathlib import Path

from sim.errors import InputError

_WHERE = {"LoadedRecord": "sim.session", "load_records": "sim.session", "cohort_pdf": "cohort", "cohort_summary": "cohort", "cohort_rows_of": "cohort", "to_html": "html",
          "to_pdf": "pdf", "cohort_csv": "tables", "safe_cell": "tables", "to_cohort_csv": "tables",
          "to_csv": "tables", "to_json": "tables", "post_statements": "xapi", "safe_address": "xapi", "shown_name": "pdf", "xapi_statements": "xapi"}


def __getattr__(name: str):
    if name in _WHERE:
        where = _WHERE[name]
        return getattr(importlib.import_module(where if "." in where else f"sim.exports.{where}"), name)
    raise AttributeError(f"module 'sim.exports' has no attribute {name!r}")


def render(items: list, fmt: str) -> bytes | str:
    """The report of `items` (LoadedRecord) in `fmt`: bytes for a PDF, text otherwise."""
    if fmt == "pdf":
        from sim.exports.pdf import to_pdf

        return to_pdf(items)
    if fmt == "html":
        from sim.exports.html import to_html

        return to_html(items)
    if fmt == "xapi":
        import json

        from sim.exports.xapi import xapi_statements

        return json.dumps(xapi_statements(items), indent=2, ensure_ascii=False) + "\n"
    from sim.exports import tables

    return {"csv": tables.to_csv, "cohort-csv": tables.to_cohort_csv, "json": tables.to_json}[fmt](items)


def write(items: list, fmt: str, out: str | None) -> None:
    emit(render(items, fmt), out)


def emit(data: bytes | str, out: str | None) -> None:
    """Standard output (text only) or the file `out`, written whole."""
    import sys

    if out in (None, "-"):
        if isinstance(data, bytes):
            raise InputError.one("-o", "a PDF needs an output file: -o REPORT.pdf")
        sys.stdout.write(data)
        sys.stdout.flush()
        return
    try:
        Path(out).write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    except OSError as exc:
        raise InputError.one(out, f"cannot write: {exc.strerror or exc}") from None


__all__ = ["LoadedRecord", "emit", "load_records", "render", "write", *_WHERE]
