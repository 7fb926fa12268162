"""The gradebook over time: learning curves per trainee, pass rates per exercise and the most common findings, as
a summary (JSON) and a PDF."""

from __future__ import annotations

from sim.exports.pdf import new_pdf, shown_name


def cohort_summary(rows: list[dict], records: list[dict]) -> dict:
    """Per trainee: attempts over time; per scenario: pass rate; and the most common findings."""
    from collections import Counter, defaultdict

    by_trainee: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_trainee[r["trainee"]].append(r)
    by_scenario: dict[str, list[bool]] = defaultdict(list)
    not_verified: Counter = Counter()
    for r in rows:
        if r.get("verified", True):  # a pass rate counts only attempts whose record verifies
            by_scenario[r["scenario"]].append(bool(r["passed"]))
        else:
            not_verified[r["scenario"]] += 1
            by_scenario.setdefault(r["scenario"], [])
    findings: Counter = Counter()
    for rec in records:
        for e in rec["report"]["injections"]:
            for f in e["findings"]:
                findings[(f["rule"], f["verdict"], f.get("structure") or "")] += 1
        for f in rec["report"]["attempt_findings"]:
            findings[(f["rule"], f["verdict"], "")] += 1
    return {
        "trainees": {t: [{"when": r.get("ended") or r.get("started") or r.get("saved") or r.get("added"), "scenario": r["scenario"],
                          "score": r["score"], "passed": bool(r["passed"]), "verified": r.get("verified", True),
                          "verification": r.get("verification", ""), "exam_result": r.get("exam_result")}
                         for r in rs]
                     for t, rs in sorted(by_trainee.items())},
        "pass_rates": {s: {"attempts": len(v), "passed": sum(v), "rate": round(sum(v) / len(v), 4) if v else None,
                           "not_verified": not_verified[s]}
                       for s, v in sorted(by_scenario.items())},
        "common_findings": [{"rule": k[0], "verdict": k[1], "structure": k[2], "count": n}
                            for k, n in sorted(findings.items(), key=lambda kv: (-kv[1], kv[0]))[:15]],
    }


def cohort_pdf(summary: dict) -> bytes:
    pdf = new_pdf()
    pdf.add_page()
    pdf.set_font("Noto", "B", 16)
    pdf.cell(0, 9, "Cohort report", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Noto", "B", 12)
    pdf.cell(0, 8, "Pass rate per exercise", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Noto", "", 10)
    for sid, pr in summary["pass_rates"].items():
        pdf.cell(90, 5, sid)
        pdf.cell(40, 5, f"{pr['passed']} of {pr['attempts']}")
        pdf.cell(30, 5, f"{pr['rate'] * 100:.0f} %" if pr["rate"] is not None else "-",
                 new_x="LMARGIN" if not pr.get("not_verified") else "RIGHT",
                 new_y="NEXT" if not pr.get("not_verified") else "TOP")
        if pr.get("not_verified"):
            pdf.set_text_color(150, 20, 120)
            pdf.cell(0, 5, f"{pr['not_verified']} NOT VERIFIED, not counted", new_x="LMARGIN", new_y="NEXT")
            pdf.set_text_color(0, 0, 0)
    pdf.ln(3)
    pdf.set_font("Noto", "B", 12)
    pdf.cell(0, 8, "Most common findings", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Noto", "", 10)
    for f in summary["common_findings"]:
        what = f"{f['rule']} ({f['verdict']})" + (f" - {f['structure']}" if f["structure"] else "")
        pdf.cell(130, 5, what)
        pdf.cell(30, 5, str(f["count"]), new_x="LMARGIN", new_y="NEXT")
    for trainee, attempts in summary["trainees"].items():
        pdf.add_page()
        pdf.set_font("Noto", "B", 14)
        pdf.multi_cell(0, 8, f"Learning curve: {shown_name(trainee)}", new_x="LMARGIN", new_y="NEXT")
        x0, y0, w, h = 25, pdf.get_y() + 4, 165, 80
        pdf.set_draw_color(120, 120, 120)
        pdf.rect(x0, y0, w, h)
        pdf.set_font("Noto", "", 8)
        for score in (0, 50, 100):
            y = y0 + h - h * score / 100
            pdf.text(x0 - 8, y + 1, str(score))
            pdf.set_draw_color(225, 225, 225)
            pdf.line(x0, y, x0 + w, y)
        n = len(attempts)
        pts = [(x0 + (w * (i + 0.5) / n), y0 + h - h * a["score"] / 100) for i, a in enumerate(attempts)]
        pdf.set_draw_color(36, 99, 171)
        pdf.set_line_width(0.6)
        for a, b in zip(pts, pts[1:]):
            pdf.line(*a, *b)
        pdf.set_line_width(0.2)
        for (x, y), a in zip(pts, attempts):
            pdf.set_fill_color(*((30, 150, 80) if a["passed"] else (215, 60, 40)))
            pdf.ellipse(x - 1.2, y - 1.2, 2.4, 2.4, style="F")
        pdf.set_y(y0 + h + 6)
        pdf.set_font("Noto", "", 9)
        for i, a in enumerate(attempts):
            pdf.cell(10, 5, str(i + 1))
            pdf.cell(55, 5, str(a["when"] or "")[:19])
            pdf.cell(70, 5, a["scenario"])
            if not a.get("verified", True):
                pdf.set_text_color(150, 20, 120)
            pdf.cell(20 if a.get("verified", True) else 45, 5,
                     f"{a['score']:.1f}" + ("" if a.get("verified", True) else " NOT VERIFIED"))
            pdf.cell(20, 5, "passed" if a["passed"] else "not passed", new_x="LMARGIN", new_y="NEXT")
            pdf.set_text_color(0, 0, 0)
    return bytes(pdf.output())
