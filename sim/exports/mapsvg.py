"""The map of an attempt as SVG in millimetres: the face or the scalp drawn from the atlas's drawing data, the
target areas, the danger structures and the numbered injections marked by verdict (colour and shape).

The picture is vectors (it scales without loss): the HTML report inlines it, the PDF embeds it. One SVG unit is
one millimetre of the map; y is flipped (the map's +y is up), and the top view of the scalp shows the patient's
left on the viewer's left, as the trainer window does.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

import numpy as np

from sim.core.exercise.scenario import LoadedScenario

# The window's palette (sim/ui/style.py), as hex, so that a report and the screen look alike.
PALETTE = {
    "bg": "#eceef1", "skin": "#f5dac4", "skin_edge": "#966e5a", "hair": "#5c4634", "hair_scalp": "#7c624a",
    "brow": "#6e543e", "lip": "#d68282", "eye_white": "#fcfcfa", "iris": "#608096", "pupil": "#14181e",
    "target": "#2ea078", "ink": "#212529", "mole": "#78503c",
}
SEVERITY = {"critical": "#c81e2d", "high": "#e16e14", "moderate": "#c8a014", "low": "#5a8c3c"}
VERDICT = {"ok": "#1e9650", "warn": "#e6a000", "fail": "#d73c28", "critical": "#961478"}
MARK_MM = 1.6
"""Half the size of an injection mark [mm]."""


@dataclass(frozen=True)
class Frame:
    """The SVG's viewBox [mm] and the map -> SVG transform (x mirrored on the top view, y flipped)."""

    x0: float
    y0: float
    width: float
    height: float
    sx: float

    def point(self, x_mm: float, y_mm: float) -> tuple[float, float]:
        return self.sx * x_mm, -y_mm

    def on_page(self, x_mm: float, y_mm: float, left: float, top: float, width: float) -> tuple[float, float]:
        """Where a map point lands when the picture is placed at (left, top) with `width` on a page."""
        u, v = self.point(x_mm, y_mm)
        k = width / self.width
        return left + (u - self.x0) * k, top + (v - self.y0) * k


def frame_of(scenario: LoadedScenario, pad_mm: float = 4.0) -> Frame:
    x0, y0, x1, y1 = scenario.atlas.bounds_mm
    sx = -1.0 if scenario.atlas.view == "top" else 1.0
    u0, u1 = sorted((sx * x0, sx * x1))
    return Frame(u0 - pad_mm, -y1 - pad_mm, (u1 - u0) + 2 * pad_mm, (y1 - y0) + 2 * pad_mm, sx)


def _path(frame: Frame, pts, closed: bool) -> str:
    xy = [frame.point(float(x), float(y)) for x, y in np.asarray(pts, dtype=float).reshape(-1, 2)]
    d = "M" + " L".join(f"{u:.2f},{v:.2f}" for u, v in xy)
    return d + (" Z" if closed else "")


def _shape(tag: str, **attrs) -> str:
    body = " ".join(f'{k.rstrip("_").replace("_", "-")}="{escape(str(v))}"' for k, v in attrs.items())
    return f"<{tag} {body}/>"


def _mark(u: float, v: float, verdict: str, r: float = MARK_MM) -> str:
    """One injection: ok a disc, warn a triangle, fail a square, critical an X in a ring (colour and shape); `r`
    is half its size."""
    c, k = VERDICT[verdict], r / MARK_MM
    if verdict == "ok":
        return _shape("circle", cx=f"{u:.2f}", cy=f"{v:.2f}", r=f"{r * 0.8:.2f}", fill=c, stroke="#ffffff",
                      stroke_width=f"{0.3 * k:.2f}")
    if verdict == "warn":
        pts = f"{u:.2f},{v - r:.2f} {u + r:.2f},{v + r * 0.8:.2f} {u - r:.2f},{v + r * 0.8:.2f}"
        return _shape("polygon", points=pts, fill=c, stroke="#ffffff", stroke_width=f"{0.3 * k:.2f}")
    if verdict == "fail":
        return _shape("rect", x=f"{u - r * 0.8:.2f}", y=f"{v - r * 0.8:.2f}", width=f"{r * 1.6:.2f}",
                      height=f"{r * 1.6:.2f}", fill=c, stroke="#ffffff", stroke_width=f"{0.3 * k:.2f}")
    a = r * 0.6
    return (_shape("circle", cx=f"{u:.2f}", cy=f"{v:.2f}", r=f"{r:.2f}", fill="#ffffff", stroke=c,
                   stroke_width=f"{0.5 * k:.2f}")
            + _shape("path", d=f"M{u - a:.2f},{v - a:.2f} L{u + a:.2f},{v + a:.2f} M{u - a:.2f},{v + a:.2f} "
                               f"L{u + a:.2f},{v - a:.2f}", fill="none", stroke=c, stroke_width=f"{0.5 * k:.2f}"))


MARK_WORDS = {"ok": "done right (disc)", "warn": "warning (triangle)", "fail": "failed (square)",
              "critical": "critical (X in a ring)"}
"""The legend of the marks, in the order of the verdicts."""
SEVERITY_WORDS = {"critical": "danger: vision or occlusion", "high": "danger: high", "moderate": "danger: moderate",
                  "low": "danger: low"}
"""The legend of the danger structures' colours."""


def legend_svg(verdicts=tuple(MARK_WORDS), severities=(), target: bool = False, size_mm: float = 4.0) -> str:
    """A legend as its own small SVG (one row per item): the marks of `verdicts`, the target area, the danger
    colours of `severities`."""
    rows = [("mark", v, MARK_WORDS[v]) for v in verdicts]
    if target:
        rows.append(("target", "", "target area"))
    rows += [("severity", s, SEVERITY_WORDS[s]) for s in severities]
    h, out = size_mm * 1.5, []
    for k, (kind, key, words) in enumerate(rows):
        u, v = size_mm * 0.6, h * k + h / 2
        if kind == "mark":
            out.append(_mark(u, v, key, size_mm * 0.4))
        elif kind == "target":
            out.append(_shape("rect", x=f"{u - size_mm * 0.45:.2f}", y=f"{v - size_mm * 0.35:.2f}",
                              width=f"{size_mm * 0.9:.2f}", height=f"{size_mm * 0.7:.2f}", fill=PALETTE["target"],
                              fill_opacity="0.25", stroke=PALETTE["target"], stroke_width="0.3"))
        else:
            out.append(_shape("rect", x=f"{u - size_mm * 0.45:.2f}", y=f"{v - size_mm * 0.35:.2f}",
                              width=f"{size_mm * 0.9:.2f}", height=f"{size_mm * 0.7:.2f}", fill=SEVERITY[key],
                              fill_opacity="0.25", stroke=SEVERITY[key], stroke_width="0.4"))
        out.append(f'<text x="{size_mm * 1.4:.2f}" y="{v + size_mm * 0.3:.2f}" font-size="{size_mm * 0.8:.2f}" '
                   f'font-family="Noto Sans, sans-serif" fill="{PALETTE["ink"]}">{escape(words)}</text>')
    width, height = size_mm * 16, h * len(rows)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.2f} {height:.2f}" width="{width:.1f}mm" '
            f'height="{height:.1f}mm" class="legend">' + "".join(out) + "</svg>")


def map_svg(scenario: LoadedScenario, entries: list[dict], numbers: bool = True, danger: bool = True,
            frame: Frame | None = None, mark_mm: float = MARK_MM, font_mm: float = 2.6) -> str:
    """The map with `entries` (report injections: x_mm, y_mm, verdict, index) numbered from 1 as the window shows
    them, each number beside its mark where it has room (place_numbers). `numbers=False` leaves the numbers out
    (the PDF writes them itself, in its own font). `frame` is the part of the map shown (default: all of it,
    frame_of; worked_frame zooms to an attempt); `mark_mm` and `font_mm` size the marks and numbers [map mm], so
    that a zoomed map can keep them the same size on paper."""
    frame = frame or frame_of(scenario)
    drawing = {d[0]: (d[1], d[2], d[3]) for d in scenario.atlas.drawing}
    face = scenario.atlas.map == "face"
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{frame.x0:.2f} {frame.y0:.2f} {frame.width:.2f} '
           f'{frame.height:.2f}" width="{frame.width:.1f}mm" height="{frame.height:.1f}mm">',
           _shape("rect", x=f"{frame.x0:.2f}", y=f"{frame.y0:.2f}", width=f"{frame.width:.2f}",
                  height=f"{frame.height:.2f}", fill=PALETTE["bg"])]

    def pair(base):
        left, right = drawing.get(f"{base}-left"), drawing.get(f"{base}-right")
        if not left or not right:
            return None
        return np.concatenate([left[2], right[2][::-1]])

    def fill(pts, colour, stroke=None, width=0.0):
        attrs = {"d": _path(frame, pts, True), "fill": colour}
        if stroke:
            attrs.update(stroke=stroke, stroke_width=f"{width:.2f}", stroke_linejoin="round")
        out.append(_shape("path", **attrs))

    def line(pts, colour, width, closed=False):
        out.append(_shape("path", d=_path(frame, pts, closed), fill="none", stroke=colour,
                          stroke_width=f"{width:.2f}", stroke_linecap="round", stroke_linejoin="round"))

    neck = pair("neck")
    if neck is not None:
        fill(neck, PALETTE["skin"])
    for _name, (kind, _closed, pts) in drawing.items():
        if kind == "ear":
            fill(pts, PALETTE["skin"], PALETTE["skin_edge"], 0.5)
    head = pair("head")
    if head is not None:
        fill(head, PALETTE["skin"])
    for _name, (kind, _closed, pts) in drawing.items():
        if kind == "hair":
            fill(pts, PALETTE["hair"] if face else PALETTE["hair_scalp"])
    for _name, poly in scenario.target_polygons:
        out.append(_shape("path", d=_path(frame, poly, True), fill=PALETTE["target"], fill_opacity="0.25",
                          stroke=PALETTE["target"], stroke_width="0.5"))
    for _name, (kind, _closed, pts) in drawing.items():
        if kind == "brow":
            fill(pts, PALETTE["brow"])
        elif kind == "eye":
            fill(pts, PALETTE["eye_white"], "#46322a", 0.4)
    for name, (kind, _closed, pts) in drawing.items():
        if kind == "iris":
            fill(pts, PALETTE["iris"])
            c = np.asarray(pts, dtype=float).mean(axis=0)
            u, v = frame.point(*c)
            out.append(_shape("circle", cx=f"{u:.2f}", cy=f"{v:.2f}", r="2", fill=PALETTE["pupil"]))
    up, st, lo = (drawing.get(f"{n}-left") for n in ("upper-lip", "stomion-line", "lower-lip"))
    if up and st and lo:
        for top, bottom in ((up[2], st[2]), (st[2], lo[2][::-1])):
            half = np.concatenate([top, bottom[::-1]])
            for side in (half, half * [-1, 1]):
                fill(side, PALETTE["lip"])
    for _name, (kind, closed, pts) in drawing.items():
        if kind in ("outline", "ear"):
            line(pts, PALETTE["skin_edge"], 0.7, closed)
        elif kind in ("nose", "crease", "lip"):
            line(pts, PALETTE["skin_edge"], 0.45, closed)
        elif kind == "hairline":
            line(pts, PALETTE["hair"], 0.45)
        elif kind == "parting":
            line(pts, PALETTE["skin"], 1.0)
    for parting in scenario.spec.partings:
        line(parting.points_mm, PALETTE["skin"], 1.0)
    if danger:
        for s in scenario.atlas.structures:
            c = SEVERITY[s.severity]
            if s.area is not None:
                out.append(_shape("path", d=_path(frame, s.area, True), fill=c, fill_opacity="0.15", stroke=c,
                                  stroke_width="0.4"))
            elif s.points is not None and len(s.points) == 1:
                u, v = frame.point(*s.points[0])
                out.append(_shape("circle", cx=f"{u:.2f}", cy=f"{v:.2f}", r=f"{float(s.margin_a[0]):.2f}", fill=c,
                                  fill_opacity="0.15", stroke=c, stroke_width="0.4"))
            elif s.points is not None:
                line(s.points, c, 0.6)
    for spot in scenario.spec.no_go:
        u, v = frame.point(*spot.at_mm)
        out.append(_shape("circle", cx=f"{u:.2f}", cy=f"{v:.2f}", r=f"{spot.radius_mm * 0.45:.2f}",
                          fill=PALETTE["mole"]))
        out.append(_shape("circle", cx=f"{u:.2f}", cy=f"{v:.2f}", r=f"{spot.radius_mm:.2f}", fill="none",
                          stroke=SEVERITY[spot.severity], stroke_width="0.4"))
    out.append(marks_svg(frame, entries, numbers, mark_mm, font_mm))
    out.append("</svg>")
    return "\n".join(out)


def marks_svg(frame: Frame, entries: list[dict], numbers: bool = True, mark_mm: float = MARK_MM,
              font_mm: float = 2.6) -> str:
    """The injections as marks (one `<g class="mark">` each, its number inside when it has room), in the SVG units
    of `frame`: an overlay for any drawing of the map."""
    if not entries:
        return ""
    uv = np.array([frame.point(e["x_mm"], e["y_mm"]) for e in entries], dtype=float)
    labels = [str(e["index"] + 1) for e in entries]
    placed = dict(place_numbers(uv, labels, mark_mm, font_mm)) if numbers else {}
    out = []
    for k, (e, (u, v)) in enumerate(zip(entries, uv)):
        out.append(f'<g class="mark">{_mark(u, v, e["verdict"], mark_mm)}')
        if k in placed:
            x, y = placed[k]
            out.append(f'<text x="{x:.2f}" y="{y:.2f}" font-size="{font_mm:.2f}" font-family="Noto Sans, sans-serif" '
                       f'fill="{PALETTE["ink"]}" stroke="#ffffff" stroke-width="{font_mm * 0.22:.2f}" '
                       f'paint-order="stroke">{labels[k]}</text>')
        out.append("</g>")
    return "\n".join(out)


def worked_frame(scenario: LoadedScenario, entries: list[dict], aspect: float, pad_mm: float = 8.0,
                 min_mm: float = 45.0) -> Frame:
    """The part of the map an attempt worked on: its injections and the exercise's target areas, `pad_mm` around
    them, at least `min_mm` across, widened to `aspect` (width / height) when it is narrower (a wider one keeps
    its own shape), kept inside the map's extent where it fits."""
    full = frame_of(scenario)
    pts = [full.point(e["x_mm"], e["y_mm"]) for e in entries]
    for _name, poly in scenario.target_polygons:
        pts += [full.point(float(x), float(y)) for x, y in np.asarray(poly, dtype=float).reshape(-1, 2)]
    if not pts:
        return full
    uv = np.asarray(pts, dtype=float)
    (u0, v0), (u1, v1) = uv.min(axis=0) - pad_mm, uv.max(axis=0) + pad_mm
    w, h = max(u1 - u0, min_mm), max(v1 - v0, min_mm)
    w = max(w, h * aspect)
    cu, cv = (u0 + u1) / 2, (v0 + v1) / 2

    def fit(centre: float, size: float, lo: float, extent: float) -> float:
        if size >= extent:
            return lo + (extent - size) / 2  # larger than the map: centred on it
        return min(max(centre - size / 2, lo), lo + extent - size)

    return Frame(fit(cu, w, full.x0, full.width), fit(cv, h, full.y0, full.height), w, h, full.sx)


def place_numbers(uv: np.ndarray, labels: list[str], mark_mm: float, font_mm: float,
                  limit: int = 3000) -> list[tuple[int, tuple[float, float]]]:
    """Where each injection's number goes: beside its mark (right, left, above, below, then the diagonals), never
    over another mark or number; a number with no free place is left out (the report's list names every
    injection). Returns (entry, text baseline-left position) pairs, in the units of `uv`. Past `limit` marks no
    number can be read anyway: none is placed."""
    n = len(labels)
    if n == 0 or n > limit:
        return []
    cw, th, r = 0.58 * font_mm, 0.75 * font_mm, mark_mm
    cell = max(4 * cw + 2 * r, th + 2 * r)
    grid: dict[tuple[int, int], list[tuple[float, float, float, float]]] = {}

    def cells(box):
        for gx in range(int(box[0] // cell), int(box[2] // cell) + 1):
            for gy in range(int(box[1] // cell), int(box[3] // cell) + 1):
                yield gx, gy

    def add(box):
        for key in cells(box):
            grid.setdefault(key, []).append(box)

    def free(box):
        return not any(b[0] < box[2] and box[0] < b[2] and b[1] < box[3] and box[1] < b[3]
                       for key in cells(box) for b in grid.get(key, ()))

    for u, v in uv:
        add((u - r, v - r, u + r, v + r))
    out = []
    gap = 0.25 * r
    for k, ((u, v), text) in enumerate(zip(uv, labels)):
        w = cw * len(text)
        for x, y in ((u + r + gap, v + th / 2), (u - r - gap - w, v + th / 2), (u - w / 2, v - r - gap),
                     (u - w / 2, v + r + gap + th), (u + r * 0.7, v - r * 0.7), (u - r * 0.7 - w, v - r * 0.7),
                     (u + r * 0.7, v + r * 0.7 + th), (u - r * 0.7 - w, v + r * 0.7 + th)):
            box = (x, y - th, x + w, y)
            if free(box):
                add(box)
                out.append((k, (x, y)))
                break
    return out
