"""`mesosim preview`: an exercise drawn to a PNG without opening a window, for the instructor who writes it.

The map (sim.ui.mapview) with the exercise's target areas, partings, the patient's no-go spots and the danger
structures, and over it what an author needs to place things in millimetres: a grid with labelled axes, a label
for every target area, no-go spot and parting, a numbered badge on every danger structure (its name, severity and
depth in the key), no two labels overlapping; beside it a panel with the exercise, the legend, the patient's case
and a note for solution logs not written yet. `plan()` lays the overlay out; `render()` draws it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pygame

from sim.core.exercise.scenario import LoadedScenario, missing_solution_logs
from sim.core.spatial.geometry import points_in_polygon
from sim.ui import style
from sim.ui.mapview import MapView

AXIS_LEFT, AXIS_BOTTOM, MARGIN = 48, 40, 10
"""Room for the y axis's numbers at the left of the map, the x axis's below it, and around it [px]."""
GRID = (40, 70, 110)
LABEL_SIZE, BADGE_SIZE = 17, 15
PARTING_COLOUR = style.SKIN
"""The colour MapView draws a parting in (a line of skin through the hair); the legend shows the same."""
SCALE_BAR = (0, 0, 200, 34)
"""Where MapView draws its scale bar, from the bottom-left corner of the map [px]: kept free of labels."""


def panel_width(width: int) -> int:
    return int(np.clip(width * 0.3, 240, 380))


def map_rect(size: tuple[int, int]) -> pygame.Rect:
    """Where the map is drawn in a preview of `size` [px]: left of the panel, inside the axes."""
    w, h = size
    return pygame.Rect(AXIS_LEFT, MARGIN, max(50, w - panel_width(w) - AXIS_LEFT - MARGIN),
                       max(50, h - AXIS_BOTTOM - MARGIN))


@dataclass
class Label:
    """A text on the map: what it names, where that is (anchor, px) and where the text went (rect)."""

    text: str
    kind: str  # target | no-go | parting | danger
    anchor: tuple[float, float]
    rect: pygame.Rect
    colour: tuple[int, int, int]


@dataclass
class DangerKey:
    number: int
    name: str
    severity: str
    depth_mm: float


@dataclass
class Overlay:
    """The layout of everything drawn over and beside the map."""

    map_rect: pygame.Rect
    grid_step_mm: float
    ticks_x: list[tuple[float, float]]
    """(x [mm], px) of each labelled vertical grid line."""
    ticks_y: list[tuple[float, float]]
    labels: list[Label]
    unplaced: list[str]
    """What could not be labelled without an overlap (named in the panel instead)."""
    danger_key: list[DangerKey]
    notes: list[str] = field(default_factory=list)
    patient: list[str] = field(default_factory=list)


def _grid_steps(scale: float) -> tuple[float, float]:
    """The grid's step and the step of its numbered lines [mm] for `scale` [px/mm]."""
    step = next((s for s in (1, 2, 5, 10, 20, 50) if s * scale >= 14), 100)
    labelled = next((s for s in (5, 10, 20, 50, 100) if s >= step and s * scale >= 44), 200)
    return float(step), float(labelled)


def _inside_point(poly: np.ndarray) -> np.ndarray:
    """A point well inside a polygon [mm]: its centroid when that is inside, else the inside sample nearest to it."""
    centre = poly.mean(axis=0)
    if points_in_polygon(centre[None, :], poly)[0]:
        return centre
    x0, y0 = poly.min(axis=0)
    x1, y1 = poly.max(axis=0)
    gx, gy = np.meshgrid(np.linspace(x0, x1, 25), np.linspace(y0, y1, 25))
    samples = np.c_[gx.ravel(), gy.ravel()]
    inside = samples[points_in_polygon(samples, poly)]
    if len(inside) == 0:
        return centre
    return inside[np.argmin(np.hypot(*(inside - centre).T))]


def _along(points: np.ndarray, share: float) -> np.ndarray:
    """The point at `share` of a polyline's length [mm]."""
    if len(points) == 1:
        return points[0]
    seg = np.hypot(*np.diff(points, axis=0).T)
    target = share * seg.sum()
    k = int(np.searchsorted(np.cumsum(seg), target))
    k = min(k, len(seg) - 1)
    before = seg[:k].sum()
    t = 0.0 if seg[k] == 0 else (target - before) / seg[k]
    return points[k] + t * (points[k + 1] - points[k])


class _Placer:
    """Puts rectangles near their anchors where they overlap nothing placed before and stay inside the map."""

    def __init__(self, bounds: pygame.Rect, obstacles: list[pygame.Rect]):
        self.bounds = bounds
        self.taken = list(obstacles)

    def place(self, size: tuple[int, int], anchor: tuple[float, float], centred: bool) -> pygame.Rect | None:
        w, h = size
        ax, ay = anchor
        tries: list[tuple[float, float]] = [(0.0, 0.0)] if centred else []
        for r in (10, 18, 28, 40, 56, 76, 100, 130):
            for k in range(16):
                a = 2 * np.pi * k / 16
                tries.append((np.cos(a) * (r + w / 2), -np.sin(a) * (r + h / 2)))
        for dx, dy in tries:
            rect = pygame.Rect(0, 0, w, h)
            rect.center = (round(ax + dx), round(ay + dy))
            if self.bounds.contains(rect) and rect.collidelist(self.taken) < 0:
                self.taken.append(rect)
                return rect
        return None


def plan(scenario: LoadedScenario, size: tuple[int, int] = (1200, 900), danger: bool = True) -> Overlay:
    """Lay out the grid, the labels and the danger key of a preview of `size` [px] (pygame.font must be ready)."""
    rect = map_rect(size)
    view = MapView(scenario, rect)
    spec = scenario.spec
    step, labelled = _grid_steps(view.scale)
    lo = view.to_mm(np.array([[rect.left, rect.bottom], [rect.right, rect.top]], dtype=float))
    x_lo, x_hi = sorted((lo[0, 0], lo[1, 0]))
    y_lo, y_hi = sorted((lo[0, 1], lo[1, 1]))
    ticks_x = [(float(v), float(view.to_px((v, 0))[0])) for v in np.arange(np.ceil(x_lo / labelled) * labelled,
                                                                           x_hi + 1e-9, labelled)]
    ticks_y = [(float(v), float(view.to_px((0, v))[1])) for v in np.arange(np.ceil(y_lo / labelled) * labelled,
                                                                           y_hi + 1e-9, labelled)]
    bar = pygame.Rect(rect.left + SCALE_BAR[0], rect.bottom - SCALE_BAR[3], SCALE_BAR[2], SCALE_BAR[3])
    placer = _Placer(rect.inflate(-4, -4), [bar])
    labels: list[Label] = []
    unplaced: list[str] = []
    font = style.font(LABEL_SIZE)

    def add(text: str, kind: str, at_mm, colour, centred: bool) -> None:
        anchor = tuple(float(v) for v in view.to_px(np.asarray(at_mm, dtype=float)))
        w, h = font.size(text)
        placed = placer.place((w + 8, h + 2), anchor, centred)
        if placed is None:
            unplaced.append(text)
        else:
            labels.append(Label(text, kind, anchor, placed, colour))

    for name, poly in scenario.target_polygons:
        add(name, "target", _inside_point(poly), (20, 100, 70), True)
    for spot in spec.no_go:
        add(f"{spot.name} ({spot.severity})", "no-go", spot.at_mm, style.SEVERITY[spot.severity], False)
    for k, parting in enumerate(spec.partings):
        add(parting.name or f"parting {k + 1}", "parting", parting.points_mm[0], style.HAIR, False)
    key: list[DangerKey] = []
    if danger:
        numbers: dict[str, int] = {}
        badge = style.font(BADGE_SIZE, True)
        order = sorted(scenario.atlas.structures, key=lambda s: style_order(s.severity))
        for st in order:
            base = st.name.removesuffix(" (left)").removesuffix(" (right)")
            if base not in numbers:
                numbers[base] = len(numbers) + 1
                depth = float(min(np.min(st.depth_a), np.min(st.depth_b)))
                key.append(DangerKey(numbers[base], base, st.severity, depth))
            if st.area is not None:
                at = _inside_point(st.area)
            else:
                at = _along(st.points, 0.5)
            text = str(numbers[base])
            anchor = tuple(float(v) for v in view.to_px(at))
            w, h = badge.size(text)
            placed = placer.place((max(w + 8, h + 2), h + 2), anchor, False)
            if placed is None:
                unplaced.append(f"{text} ({st.name})")
            else:
                labels.append(Label(text, "danger", anchor, placed, style.SEVERITY[st.severity]))
    notes = []
    missing = missing_solution_logs(scenario)
    if missing:
        notes.append("Solution logs not written yet: " + ", ".join(missing) + ". The preview is drawn without "
                     "them; mesosim validate needs them.")
    return Overlay(rect, step, ticks_x, ticks_y, labels, unplaced, key, notes, patient_lines(scenario))


def style_order(severity: str) -> int:
    return list(style.SEVERITY).index(severity) if severity in style.SEVERITY else len(style.SEVERITY)


def patient_lines(scenario: LoadedScenario) -> list[str]:
    """The patient's case as the panel shows it, one line per fact."""
    patient = scenario.spec.patient
    if patient is None:
        return []
    who = ", ".join(str(v) for v in (patient.name, patient.age_years, patient.sex) if v not in (None, ""))
    lines = [f"Patient: {who}", f"Complaint: {patient.complaint}"]
    if patient.history:
        lines.append("History: " + "; ".join(patient.history))
    if patient.medications:
        lines.append("Medications: " + "; ".join(patient.medications))
    if patient.skin_overrides:
        lines.append("Own skin: " + "; ".join(
            f"{rid} {s.epidermis_mm:g} + {s.dermis_mm:g} + {s.fat_mm:g} mm" for rid, s in
            patient.skin_overrides.items()))
    if patient.screening is not None:
        sc = patient.screening
        lines.append(f"Screening: expected {sc.expected} ({', '.join(sc.reasons)})")
    return lines


def _grid(surf: pygame.Surface, view: MapView, overlay: Overlay) -> None:
    rect = overlay.map_rect
    layer = pygame.Surface(rect.size, pygame.SRCALPHA)
    step = overlay.grid_step_mm
    corners = view.to_mm(np.array([[rect.left, rect.bottom], [rect.right, rect.top]], dtype=float))
    x_lo, x_hi = sorted(corners[:, 0])
    y_lo, y_hi = sorted(corners[:, 1])
    labelled_x = {round(v, 6) for v, _ in overlay.ticks_x}
    labelled_y = {round(v, 6) for v, _ in overlay.ticks_y}
    for v in np.arange(np.ceil(x_lo / step) * step, x_hi + 1e-9, step):
        px = view.to_px((v, 0))[0] - rect.left
        alpha = 150 if abs(v) < 1e-9 else 70 if round(v, 6) in labelled_x else 28
        pygame.draw.line(layer, (*GRID, alpha), (px, 0), (px, rect.height), 1)
    for v in np.arange(np.ceil(y_lo / step) * step, y_hi + 1e-9, step):
        py = view.to_px((0, v))[1] - rect.top
        alpha = 150 if abs(v) < 1e-9 else 70 if round(v, 6) in labelled_y else 28
        pygame.draw.line(layer, (*GRID, alpha), (0, py), (rect.width, py), 1)
    surf.blit(layer, rect.topleft)
    pygame.draw.rect(surf, style.PANEL_EDGE, rect, 1)
    for v, px in overlay.ticks_x:
        pygame.draw.line(surf, style.INK, (px, rect.bottom), (px, rect.bottom + 4), 1)
        style.text(surf, f"{v:g}", (px, rect.bottom + 5), 16, style.INK, anchor="midtop")
    for v, py in overlay.ticks_y:
        pygame.draw.line(surf, style.INK, (rect.left - 4, py), (rect.left, py), 1)
        style.text(surf, f"{v:g}", (rect.left - 6, py), 16, style.INK, anchor="midright")
    face = view.atlas.map == "face"
    x_words = "x [mm], + the subject's left" + (" (to the right)" if face else " (to the left)")
    y_words = "y [mm], + up" if face else "y [mm], + anterior (towards the face)"
    style.text(surf, x_words, (rect.centerx, rect.bottom + 22), 16, style.MUTED, anchor="midtop")
    words = style.font(16).render(y_words, True, style.MUTED)
    words = pygame.transform.rotate(words, 90)
    surf.blit(words, words.get_rect(midleft=(2, rect.centery)).move(0, 0))


def _labels(surf: pygame.Surface, overlay: Overlay) -> None:
    layer = pygame.Surface(surf.get_size(), pygame.SRCALPHA)
    for label in overlay.labels:
        r = label.rect
        cx, cy = r.center
        ax, ay = label.anchor
        if abs(cx - ax) > r.width / 2 or abs(cy - ay) > r.height / 2:  # moved off what it names: a leader
            pygame.draw.line(layer, (*style.INK, 160), (ax, ay), (cx, cy), 1)
            pygame.draw.circle(layer, (*style.INK, 200), (ax, ay), 2)
        pygame.draw.rect(layer, (255, 255, 255, 215), r, border_radius=4)
        pygame.draw.rect(layer, (*label.colour, 255), r, 1, border_radius=4)
    surf.blit(layer, (0, 0))
    for label in overlay.labels:
        bold = label.kind == "danger"
        size = BADGE_SIZE if bold else LABEL_SIZE
        colour = label.colour if label.kind != "parting" else style.INK
        style.text(surf, label.text, label.rect.center, size, colour, bold, "center")


def render(scenario: LoadedScenario, size: tuple[int, int] = (1200, 900), danger: bool = True) -> pygame.Surface:
    pygame.font.init()
    w, h = size
    surf = pygame.Surface(size)
    surf.fill(style.BG)
    overlay = plan(scenario, size, danger)
    view = MapView(scenario, overlay.map_rect)
    view.show_danger = danger
    view.draw(surf)
    _grid(surf, view, overlay)
    _labels(surf, overlay)
    _panel(surf, scenario, overlay, danger)
    return surf


def _panel(surf: pygame.Surface, scenario: LoadedScenario, overlay: Overlay, danger: bool) -> None:
    w, h = surf.get_size()
    width = panel_width(w)
    panel = pygame.Rect(w - width, 0, width, h)
    pygame.draw.rect(surf, style.PANEL, panel)
    pygame.draw.line(surf, style.PANEL_EDGE, panel.topleft, panel.bottomleft)
    spec = scenario.spec
    x = panel.left + 14
    inner = width - 28

    def para(text: str, y: int, size: int = 17, colour=style.MUTED, bold: bool = False) -> int:
        return style.paragraph(surf, text, pygame.Rect(x, y, inner, h - y - 4), size, colour, bold)

    y = para(spec.title, 12, 24, style.INK, True) + 4
    facts = [f"{scenario.id} - {spec.map}, {scenario.atlas.variant_label.lower()}",
             f"{spec.mode}, pass mark {spec.pass_mark:g}", "techniques: " + ", ".join(scenario.technique_ids)]
    if spec.count:
        facts.append(f"injections {spec.count.min}-{spec.count.max}")
    if spec.time_limit_s:
        facts.append(f"time limit {spec.time_limit_s:g} s")
    if scenario.atlas.seed is not None:
        facts.append(f"anatomical variant, seed {scenario.atlas.seed}")
    facts.append(f"grid {overlay.grid_step_mm:g} mm")
    for f in facts:
        y = para(f, y)
    y += 8
    for note in overlay.notes:  # before the rest, so that it is never cut off
        y = para(note, y, 17, style.VERDICT["fail"], True) + 4
    if overlay.patient:
        y += 4
        y = para("The patient", y, 19, style.INK, True)
        for line in overlay.patient:
            y = para(line, y, 16, style.INK)
        y += 8
    items = [("target area", style.TARGET, "area")] if scenario.target_polygons else []
    if spec.partings:
        items.append(("parting", PARTING_COLOUR, "parting"))
    if spec.no_go:
        items.append(("patient's no-go spot", style.SEVERITY["high"], "ring"))
    if danger:
        items += [(f"{sev} danger structure", colour, "line") for sev, colour in style.SEVERITY.items()]
    for label, colour, kind in items:
        if y + 22 > h:
            break
        if kind == "area":
            pygame.draw.rect(surf, colour, (x, y + 2, 24, 14), 0)
        elif kind == "ring":
            pygame.draw.circle(surf, colour, (x + 12, y + 9), 7, 2)
        elif kind == "parting":  # as drawn: a line of skin through the hair
            pygame.draw.rect(surf, style.HAIR_SCALP, (x, y + 2, 24, 14))
            pygame.draw.line(surf, colour, (x, y + 9), (x + 24, y + 9), 4)
        else:
            pygame.draw.line(surf, colour, (x, y + 9), (x + 24, y + 9), 4)
        style.text(surf, label, (x + 34, y), 17)
        y += 21
    if overlay.unplaced and y + 36 < h:
        y = para("Not labelled on the map (no room): " + ", ".join(overlay.unplaced), y + 6, 15) + 4
    if danger and overlay.danger_key:
        y += 6
        if y + 40 < h:
            y = para("Danger structures (lateral margin drawn; hit only at or below the depth)", y, 16,
                     style.INK, True)
        line = style.font(15).get_linesize() + 2
        for i, k in enumerate(overlay.danger_key):
            rest = len(overlay.danger_key) - i
            if rest > 1 and y + 3 * line > h:  # one line left: say what is not shown
                para(f"and {rest} more (a larger --size shows them)", y, 15)
                break
            style.text(surf, str(k.number), (x, y), 15, style.SEVERITY[k.severity], True)
            y = style.paragraph(surf, f"{k.name}, from {k.depth_mm:.1f} mm", pygame.Rect(x + 24, y, inner - 24,
                                h - y - 2), 15, style.INK)


def save_preview(scenario: LoadedScenario, out: str | Path, size=(1200, 900), danger: bool = True) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    pygame.image.save(render(scenario, size, danger), str(out))
    return out
