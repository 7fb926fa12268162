"""`mesosim preview`: the map with a scenario's target areas, partings, the patient's no-go spots and the danger
structures, drawn to a PNG without opening a window."""

from __future__ import annotations

from pathlib import Path

import pygame

from sim.core.exercise.scenario import LoadedScenario
from sim.ui import style
from sim.ui.mapview import MapView

LEGEND = 300


def render(scenario: LoadedScenario, size: tuple[int, int] = (1200, 900), danger: bool = True) -> pygame.Surface:
    pygame.font.init()
    w, h = size
    surf = pygame.Surface(size)
    surf.fill(style.BG)
    view = MapView(scenario, pygame.Rect(0, 0, w - LEGEND, h))
    view.show_danger = danger
    view.draw(surf)
    spec = scenario.spec
    x = w - LEGEND + 14
    panel = pygame.Rect(w - LEGEND, 0, LEGEND, h)
    pygame.draw.rect(surf, style.PANEL, panel)
    pygame.draw.line(surf, style.PANEL_EDGE, panel.topleft, panel.bottomleft)
    y = style.paragraph(surf, spec.title, pygame.Rect(x, 14, LEGEND - 28, 80), 26, style.INK, True) + 4
    facts = [f"{scenario.id} - {spec.map}, {scenario.atlas.variant_label.lower()}",
             f"{spec.mode}, pass mark {spec.pass_mark:g}", "techniques: " + ", ".join(scenario.technique_ids)]
    if spec.count:
        facts.append(f"injections {spec.count.min}-{spec.count.max}")
    if scenario.atlas.seed is not None:
        facts.append(f"anatomical variant, seed {scenario.atlas.seed}")
    for f in facts:
        y = style.paragraph(surf, f, pygame.Rect(x, y, LEGEND - 28, 60), 18, style.MUTED)
    y += 12
    items = [("target area", style.TARGET, "area")] if scenario.target_polygons else []
    if spec.partings:
        items.append(("parting", style.SKIN, "line"))
    if spec.no_go:
        items.append(("patient's no-go spot", style.SEVERITY["high"], "ring"))
    if danger:
        items += [(f"{sev} danger structure", colour, "line") for sev, colour in style.SEVERITY.items()]
    for label, colour, kind in items:
        if kind == "area":
            pygame.draw.rect(surf, colour, (x, y + 2, 24, 14), 0)
        elif kind == "ring":
            pygame.draw.circle(surf, colour, (x + 12, y + 9), 7, 2)
        else:
            pygame.draw.line(surf, colour if colour != style.SKIN else style.HAIR, (x, y + 9), (x + 24, y + 9), 4)
        style.text(surf, label, (x + 34, y), 19)
        y += 24
    y += 10
    if danger:
        style.paragraph(surf, "Danger structures are drawn at their lateral margin; each is hit only by a needle "
                        "tip at or below its depth (docs/atlas.md).", pygame.Rect(x, y, LEGEND - 28, 120), 17,
                        style.MUTED)
    return surf


def save_preview(scenario: LoadedScenario, out: str | Path, size=(1200, 900), danger: bool = True) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    pygame.image.save(render(scenario, size, danger), str(out))
    return out
