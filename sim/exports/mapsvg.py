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


def _mark(u: float, v: float, verdict: str) -> str:
    """One injection: ok a disc, warn a triangle, fail a square, critical an X in a ring (colour and shape)."""
    c, r = VERDICT[verdict], MARK_MM
    if verdict == "ok":
        return _shape("circle", cx=f"{u:.2f}", cy=f"{v:.2f}", r=f"{r * 0.8:.2f}", fill=c, stroke="#ffffff",
                      stroke_width="0.3")
    if verdict == "warn":
        pts = f"{u:.2f},{v - r:.2f} {u + r:.2f},{v + r * 0.8:.2f} {u - r:.2f},{v + r * 0.8:.2f}"
        return _shape("polygon", points=pts, fill=c, stroke="#ffffff", stroke_width="0.3")
    if verdict == "fail":
        return _shape("rect", x=f"{u - r * 0.8:.2f}", y=f"{v - r * 0.8:.2f}", width=f"{r * 1.6:.2f}",
                      height=f"{r * 1.6:.2f}", fill=c, stroke="#ffffff", stroke_width="0.3")
    a = r * 0.6
    return (_shape("circle", cx=f"{u:.2f}", cy=f"{v:.2f}", r=f"{r:.2f}", fill="#ffffff", stroke=c,
                   stroke_width="0.5")
            + _shape("path", d=f"M{u - a:.2f},{v - a:.2f} L{u + a:.2f},{v + a:.2f} M{u - a:.2f},{v + a:.2f} "
                               f"L{u + a:.2f},{v - a:.2f}", fill="none", stroke=c, stroke_width="0.5"))


def map_svg(scenario: LoadedScenario, entries: list[dict], numbers: bool = True, danger: bool = True) -> str:
    """The map with `entries` (report injections: x_mm, y_mm, verdict, index) numbered from 1 as the window shows
    them. `numbers=False` leaves the numbers out (the PDF writes them itself, in its own font)."""
    frame = frame_of(scenario)
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
    for e in entries:
        u, v = frame.point(e["x_mm"], e["y_mm"])
        out.append(f'<g class="mark">{_mark(u, v, e["verdict"])}')
        if numbers:
            out.append(f'<text x="{u + MARK_MM + 0.3:.2f}" y="{v - MARK_MM:.2f}" font-size="2.6" '
                       f'font-family="Noto Sans, sans-serif" fill="{PALETTE["ink"]}">{e["index"] + 1}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)
