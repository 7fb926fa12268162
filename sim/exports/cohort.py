"""The gradebook over time: learning curves per trainee and exercise over the attempts' real dates, pass rates per
exercise and the most common findings (counted once per attempt, not per injection), as a summary (JSON) and a
PDF with charts.

Everything comes from the gradebook's columns (Gradebook.attempts: the score, the pass mark, the findings by kind);
no record is read, so 10,000 attempts take about a second."""

from __future__ import annotations

import datetime as _dt
import json
from collections import Counter, defaultdict

from sim.gradebook import name_key

TOP_FINDINGS = 15
"""How many kinds of finding the summary and the chart name."""


def _moment(stamp: str | None) -> _dt.datetime:
    if not stamp:
        return _dt.datetime.min.replace(tzinfo=_dt.timezone.utc)
    try:
        t = _dt.datetime.fromisoformat(stamp)
    except ValueError:
        return _dt.datetime.min.replace(tzinfo=_dt.timezone.utc)
    return t if t.tzinfo else t.astimezone()


def cohort_summary(rows: list[dict], trainee: str | None = None, scenario: str | None = None) -> dict:
    """From gradebook rows (Gradebook.attempts): per trainee (names that differ only in case and spacing are one
    trainee, shown as most often spelled) the attempts in date order; per exercise the pass rate; the findings
    most attempts had, each counted once per attempt."""
    spellings: dict[str, Counter] = defaultdict(Counter)
    by_trainee: dict[str, list[dict]] = defaultdict(list)
    by_scenario: dict[str, list[bool]] = defaultdict(list)
    titles: dict[str, str] = {}
    who: dict[str, set] = defaultdict(set)
    findings: Counter = Counter()
    injections: Counter = Counter()
    not_verified: Counter = Counter()
    for r in sorted(rows, key=lambda r: (_moment(r["when"]), r["id"])):
        key = name_key(r["trainee"])
        spellings[key][r["trainee"]] += 1
        by_trainee[key].append({"date": r["when"], "scenario": r["scenario"], "title": r.get("title"),
                                "score": r["score"], "pass_mark": r.get("pass_mark"), "passed": bool(r["passed"]),
                                "gradebook_id": r["id"], "verified": r.get("verified", r.get("signed", True))})
        if r.get("verified", r.get("signed", True)):  # a pass rate counts only attempts whose record verifies
            by_scenario[r["scenario"]].append(bool(r["passed"]))
        else:
            not_verified[r["scenario"]] += 1
            by_scenario.setdefault(r["scenario"], [])
        titles[r["scenario"]] = r.get("title") or r["scenario"]
        who[r["scenario"]].add(key)
        for rule, verdict, structure, n in json.loads(r.get("findings") or "[]"):
            findings[(rule, verdict, structure)] += 1
            injections[(rule, verdict, structure)] += n
    names = {k: c.most_common(1)[0][0] for k, c in spellings.items()}
    total = len(rows)
    dates = [r["when"] for r in rows if r["when"]]
    return {
        "selection": {"trainee": trainee, "scenario": scenario},
        "attempts": total,
        "from": min(dates, key=_moment) if dates else None,
        "to": max(dates, key=_moment) if dates else None,
        "trainees": {names[k]: v for k, v in sorted(by_trainee.items(), key=lambda kv: names[kv[0]].casefold())},
        "pass_rates": {s: {"title": titles[s], "attempts": len(v), "passed": sum(v),
                           "rate": round(sum(v) / len(v), 4) if v else None, "trainees": len(who[s]),
                           "not_verified": not_verified[s]}
                       for s, v in sorted(by_scenario.items())},
        "common_findings": [{"rule": k[0], "verdict": k[1], "structure": k[2], "count": n,
                             "share": round(n / total, 4), "injections": injections[k]}
                            for k, n in sorted(findings.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_FINDINGS]],
    }


def _finding_words(f: dict) -> str:
    return f"{f['rule'].replace('_', ' ')} ({f['verdict']})" + (f": {f['structure'].replace('-', ' ')}"
                                                              if f["structure"] else "")


def cohort_pdf(summary: dict) -> bytes:
    """Page 1: what the cohort is, the pass rate of each exercise and the most common findings as charts; then
    each trainee's learning curves (three to a page); then a table per trainee and exercise."""
    from sim.exports.pdf import INK, LEFT, MUTED, WIDTH, Writer, new_pdf
    from sim.exports.plots import bars_height_mm, bars_png, learning_curves_png, styles

    pdf = new_pdf()
    pdf.set_auto_page_break(True, margin=14)
    w = Writer(pdf)
    pdf.add_page()
    w.para("Cohort report", 18, True, after=1)
    sel = summary["selection"]
    chosen = ", ".join(p for p in (f"trainee {sel['trainee']}" if sel.get("trainee") else "",
                                   f"exercise {sel['scenario']}" if sel.get("scenario") else "") if p)
    span = (f"from {summary['from'][:10]} to {summary['to'][:10]}" if summary["from"] else "no dates")
    w.para(f"{summary['attempts']} attempts by {len(summary['trainees'])} trainee(s) on "
           f"{len(summary['pass_rates'])} exercise(s), {span}" + (f"; {chosen}" if chosen else "") + ".", 10,
           colour=MUTED, after=3)
    if not summary["attempts"]:
        w.para("The gradebook holds no attempt for this selection.", 11)
        return bytes(pdf.output())
    rates = [(f"{v['title']}", v["rate"] or 0.0,
              (f"{v['passed']} of {v['attempts']} ({100 * v['rate']:.0f} %)" if v["rate"] is not None else
               "no verified attempt") + (f"; {v['not_verified']} NOT verified, not counted" if v["not_verified"] else ""))
             for v in summary["pass_rates"].values()]
    height = bars_height_mm(len(rates))
    pdf.image(bars_png(rates, "Pass rate per exercise", "attempts passed (%)", (WIDTH, height), "#009e73", True),
              x=LEFT, w=WIDTH)
    pdf.set_y(pdf.get_y() + 3)
    common = [(_finding_words(f), f["share"], f"{f['count']} of {summary['attempts']} attempts")
              for f in summary["common_findings"]]
    if common:
        height = bars_height_mm(len(common))
        w.room(height)
        pdf.image(bars_png(common, "Most common findings", "attempts with the finding (%), each counted once per "
                           "attempt", (WIDTH, height), "#d55e00", True), x=LEFT, w=WIDTH)
    trainees = list(summary["trainees"].items())
    style = styles([v["title"] for v in summary["pass_rates"].values()])
    per_page = 3
    for start in range(0, len(trainees), per_page):
        pdf.add_page()
        if start == 0:
            w.para("Learning curves", 14, True)
            w.para("Each trainee's score per exercise over the dates of the attempts; the dashed line is that "
                   "exercise's pass mark; a filled marker passed, an open one did not.", 8.5, colour=MUTED, after=2)
        panels = []
        for name, attempts in trainees[start:start + per_page]:
            series: dict[str, list[dict]] = defaultdict(list)
            for a in attempts:
                series[a["title"] or a["scenario"]].append(a)
            panels.append((name, dict(series)))
        height = pdf.page_break_trigger - pdf.get_y() - 2
        if len(panels) < per_page:  # the last page: panels as tall as on the full pages
            height *= (len(panels) + 0.6) / (per_page + 0.6)
        pdf.image(learning_curves_png(panels, style, (WIDTH, height), True), x=LEFT, w=WIDTH, h=height)
    pdf.add_page()
    w.para("Per trainee and exercise", 14, True, after=1)
    cols = [("trainee", 40), ("exercise", 62), ("attempts", 16), ("passed", 14), ("best", 14), ("last", 14),
            ("first passed", 20)]

    def head():
        w.font(7.5, True, MUTED)
        x, y = LEFT, pdf.get_y()
        for name, cw in cols:
            w.at(x, y, name)
            x += cw
        pdf.set_y(y + 4.5)

    head()
    for name, attempts in trainees:
        series = defaultdict(list)
        for a in attempts:
            series[a["title"] or a["scenario"]].append(a)
        for k, (title, points) in enumerate(series.items()):
            if pdf.get_y() + 4 > pdf.page_break_trigger:
                pdf.add_page()
                head()
            y = pdf.get_y()
            first = next((p["date"] for p in points if p["passed"]), None)
            cells = [w.clip(name, 38) if k == 0 else "", w.clip(title, 60), str(len(points)),
                     str(sum(p["passed"] for p in points)), f"{max(p['score'] for p in points):.1f}",
                     f"{points[-1]['score']:.1f}", (first or "-")[:10]]
            w.font(8, k == 0, INK)
            x = LEFT
            for (col, cw), text in zip(cols, cells):
                w.at(x, y, text)
                x += cw
                w.font(8, False, INK)
            pdf.set_y(y + 4)
    return bytes(pdf.output())
