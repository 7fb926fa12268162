"""The map's legend: what each mark's shape and colour means, and, with the danger structures shown, what their
colours mean; drawn in a box at the bottom left of a map, above the scale bar."""

from __future__ import annotations

import pygame

from sim.ui import style

ROW = 22  # [px]


def legend(marks: bool, pending: bool, danger: bool, targets: bool, spots: bool, neutral: bool = False,
           max_width: int = 10_000) -> pygame.Surface:
    """The legend's picture: marks (or the neutral mark of an exam), the danger colours, targets and spots, in as
    few rows as max_width [px] allows."""
    rows: list[list[tuple[str, object]]] = []
    if neutral:
        rows.append([("placed (verdicts after submitting)", ("mark", None))])
    elif marks:
        row = [(style.VERDICT_WORDS[v], ("mark", v)) for v in ("ok", "warn", "fail", "critical")]
        if pending:
            row.append(("gap, judged at submit", ("pending", "ok")))
        rows.append(row)
    extra = []
    if targets:
        extra.append(("target area", ("fill", style.TARGET)))
    if spots:
        extra.append(("no-go spot", ("ring", style.SEVERITY["critical"])))
    if extra:
        rows.append(extra)
    if danger:
        rows.append([("danger:", None)] + [(s, ("fill", style.SEVERITY[s])) for s in ("critical", "high", "moderate",
                                                                                       "low")])
    f = style.font(16)

    def width(row) -> int:
        return sum(f.size(label)[0] + (20 if sym else 0) + 12 for label, sym in row) + 8

    packed: list[list[tuple[str, object]]] = []
    for group in rows:  # a group goes on the row before when it fits there, on a row of its own when it fits one
        if packed and width(packed[-1] + group) <= max_width:
            packed[-1] = packed[-1] + group
            continue
        packed.append([])
        for item in group:  # else item by item
            if packed[-1] and width(packed[-1] + [item]) > max_width:
                packed.append([])
            packed[-1].append(item)
    rows = packed
    surf = pygame.Surface((max(width(row) for row in rows), ROW * len(rows) + 8), pygame.SRCALPHA)
    surf.fill((255, 255, 255, 225))
    pygame.draw.rect(surf, style.PANEL_EDGE, surf.get_rect(), 1)
    for k, row in enumerate(rows):
        x, y = 8, 4 + ROW * k + ROW // 2
        for label, sym in row:
            if sym is not None:
                kind, what = sym
                if kind == "mark":
                    style.mark(surf, what, (x + 8, y), 5)
                elif kind == "pending":
                    style.mark(surf, what, (x + 8, y), 4, pending=True)
                elif kind == "fill":
                    pygame.draw.rect(surf, what, (x + 1, y - 6, 14, 12))
                elif kind == "ring":
                    pygame.draw.circle(surf, what, (x + 8, y), 6, 2)
                x += 20
            x = style.text(surf, label, (x, y), 16, style.INK, anchor="midleft").right + 12
    return surf
