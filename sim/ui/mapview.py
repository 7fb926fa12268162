"""The map, drawn from the atlas in millimetres and shown at any zoom and pan.

The static picture (skin, hair, features, target areas, danger structures) is drawn once per view into a cached
surface; the marks over it are kept the same way (sim.ui.layers.MarkLayer), so that a frame only blits them.
"""

from __future__ import annotations

import numpy as np
import pygame

from sim.core.exercise.scenario import LoadedScenario
from sim.ui import style

ZOOM_MIN, ZOOM_MAX = 0.6, 12.0


class MapView:
    def __init__(self, scenario: LoadedScenario, rect: pygame.Rect):
        self.scenario = scenario
        self.atlas = scenario.atlas
        self.rect = pygame.Rect(rect)
        self.zoom = 1.0
        self.centre = self._bounds_centre()
        self.show_danger = False
        self.show_regions = False
        self.label_danger = True
        """Name the danger structures on the map (the summary leaves them out: its numbered marks need the room)."""
        self.uncovered: np.ndarray | None = None
        """Centres [mm] of the target's grid cells no puncture reaches, drawn hatched (the summary)."""
        self.cell_mm = 1.0
        self._cache: pygame.Surface | None = None
        self._cache_key = None
        self._drawing = {d[0]: (d[1], d[2], d[3]) for d in self.atlas.drawing}
        # Seen from above with the face at the top, the patient's left (+x) is on the viewer's left; seen from the
        # front it is on the viewer's right.
        self.sx = -1.0 if self.atlas.view == "top" else 1.0

    # ------------------------------------------------------------ transform

    def _bounds_centre(self) -> np.ndarray:
        x0, y0, x1, y1 = self.atlas.bounds_mm
        return np.array([(x0 + x1) / 2, (y0 + y1) / 2])

    @property
    def base_scale(self) -> float:
        """Pixels per mm at zoom 1: the whole map fits the view."""
        x0, y0, x1, y1 = self.atlas.bounds_mm
        return min(self.rect.width / (x1 - x0), self.rect.height / (y1 - y0)) * 0.97

    @property
    def scale(self) -> float:
        return self.base_scale * self.zoom

    def to_px(self, mm) -> np.ndarray:
        mm = np.asarray(mm, dtype=np.float64)
        s = self.scale
        px = np.empty_like(mm)
        px[..., 0] = self.rect.centerx + self.sx * (mm[..., 0] - self.centre[0]) * s
        px[..., 1] = self.rect.centery - (mm[..., 1] - self.centre[1]) * s
        return px

    def to_local(self, mm) -> np.ndarray:
        """Pixels on the map's own surface (background(), sim.ui.layers.MarkLayer): to_px from the view's corner."""
        return self.to_px(mm) - np.array(self.rect.topleft)

    def to_mm(self, px) -> np.ndarray:
        px = np.asarray(px, dtype=np.float64)
        s = self.scale
        mm = np.empty_like(px)
        mm[..., 0] = self.centre[0] + self.sx * (px[..., 0] - self.rect.centerx) / s
        mm[..., 1] = self.centre[1] - (px[..., 1] - self.rect.centery) / s
        return mm

    def set_rect(self, rect: pygame.Rect) -> None:
        self.rect = pygame.Rect(rect)
        self._cache = None

    def zoom_at(self, px, factor: float) -> None:
        """Zoom by `factor` keeping the point under `px` where it is."""
        before = self.to_mm(px)
        self.zoom = float(np.clip(self.zoom * factor, ZOOM_MIN, ZOOM_MAX))
        after = self.to_mm(px)
        self.centre = self._kept_on_map(self.centre + (before - after))
        self._cache = None

    def pan_px(self, dx: float, dy: float) -> None:
        self.centre = self._kept_on_map(self.centre + np.array([-self.sx * dx, dy]) / self.scale)
        self._cache = None

    def _kept_on_map(self, centre: np.ndarray) -> np.ndarray:
        """The view's centre kept over the map's bounds: a pan cannot lose the map (nor send the drawing to
        coordinates of millions of pixels, which pygame's drawing handles slowly or not at all)."""
        x0, y0, x1, y1 = self.atlas.bounds_mm
        return np.array([min(max(centre[0], x0), x1), min(max(centre[1], y0), y1)])

    def fit_to(self, bounds_mm: tuple[float, float, float, float], margin_mm: float = 8.0) -> None:
        """Zoom and pan so that the box (x0, y0, x1, y1) [mm] and a margin around it fill the view."""
        x0, y0, x1, y1 = bounds_mm
        mx0, my0, mx1, my1 = self.atlas.bounds_mm
        w = max(x1 - x0 + 2 * margin_mm, 20.0)
        h = max(y1 - y0 + 2 * margin_mm, 20.0)
        whole = min(self.rect.width / (mx1 - mx0), self.rect.height / (my1 - my0)) * 0.97
        wanted = min(self.rect.width / w, self.rect.height / h) * 0.97
        self.zoom = float(np.clip(wanted / whole, 1.0, ZOOM_MAX))
        self.centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
        self._cache = None

    def fit(self) -> None:
        self.zoom = 1.0
        self.centre = self._bounds_centre()
        self._cache = None

    # ------------------------------------------------------------ drawing

    def background(self) -> pygame.Surface:
        key = (self.rect.size, self.zoom, tuple(self.centre), self.show_danger, self.show_regions,
               None if self.uncovered is None else len(self.uncovered))
        if self._cache is None or self._cache_key != key:
            self._cache = self._render_static()
            self._cache_key = key
        return self._cache

    def _pts(self, mm) -> list[tuple[float, float]]:
        return [(float(x), float(y)) for x, y in self.to_local(mm)]

    def _pair(self, base: str):
        """The closed outline made of a paired drawing item's left half and mirrored right half."""
        left, right = self._drawing.get(f"{base}-left"), self._drawing.get(f"{base}-right")
        if not left or not right:
            return None
        return np.concatenate([left[2], right[2][::-1]])

    def _render_static(self) -> pygame.Surface:
        surf = pygame.Surface(self.rect.size)
        surf.fill(style.BG)
        face = self.atlas.map == "face"
        line_w = max(1, round(self.scale * 0.45))
        neck = self._pair("neck")
        if neck is not None:
            pygame.draw.polygon(surf, style.SKIN, self._pts(neck))
        for name, (kind, closed, pts) in self._drawing.items():
            if kind == "ear":
                pygame.draw.polygon(surf, style.SKIN, self._pts(pts))
                pygame.draw.polygon(surf, style.SKIN_EDGE, self._pts(pts), line_w)
        head = self._pair("head")
        if head is not None:
            pygame.draw.polygon(surf, style.SKIN, self._pts(head))
        for name, (kind, closed, pts) in self._drawing.items():
            if kind == "hair":
                pygame.draw.polygon(surf, style.HAIR if face else style.HAIR_SCALP, self._pts(pts))
        if not face:  # hair texture: fine strands so the scalp reads as hair-bearing
            self._hair_texture(surf)
        if self.show_regions:
            for r in self.atlas.regions:
                pygame.draw.polygon(surf, style.REGION_EDGE, self._pts(r.polygon), 1)
        self._targets(surf)
        self._uncovered(surf)
        for name, (kind, closed, pts) in self._drawing.items():
            if kind == "brow":
                pygame.draw.polygon(surf, style.BROW, self._pts(pts))
            elif kind == "eye":
                pygame.draw.polygon(surf, style.EYE_WHITE, self._pts(pts))
        for name, (kind, closed, pts) in self._drawing.items():
            if kind == "iris":
                eye = self._drawing.get(name.replace("iris", "eye"))
                clip = surf.get_clip()
                if eye is not None:
                    ex = self._pts(eye[2])
                    xs, ys = [q[0] for q in ex], [q[1] for q in ex]
                    surf.set_clip(pygame.Rect(min(xs), min(ys), max(xs) - min(xs) + 1, max(ys) - min(ys) + 1))
                pygame.draw.polygon(surf, style.IRIS, self._pts(pts))
                c = np.asarray(pts).mean(axis=0)
                pygame.draw.circle(surf, (20, 24, 30), self._pts([c])[0], max(1.0, self.scale * 2.0))
                surf.set_clip(clip)
        self._fill_lips(surf)
        for name, (kind, closed, pts) in self._drawing.items():
            p = self._pts(pts)
            if kind in ("outline", "ear"):
                pygame.draw.lines(surf, style.SKIN_EDGE, closed, p, line_w + 1)
            elif kind in ("eye",):
                pygame.draw.lines(surf, (70, 50, 40), True, p, line_w + 1)
            elif kind in ("nose", "crease", "lip"):
                pygame.draw.lines(surf, style.SKIN_EDGE, closed, p, line_w)
            elif kind == "hairline":
                pygame.draw.lines(surf, style.HAIR, False, p, line_w)
            elif kind == "parting":
                pygame.draw.lines(surf, style.SKIN, False, p, max(2, line_w + 1))
        for parting in self.scenario.spec.partings:
            pygame.draw.lines(surf, style.SKIN, False, self._pts(parting.points_mm), max(2, line_w + 1))
        if self.show_danger:
            self._danger(surf)
        self._no_go(surf)
        self._scale_bar(surf)
        return surf

    def _hair_texture(self, surf) -> None:
        hair = self._pair("hair")
        if hair is None:
            return
        mask = pygame.Surface(surf.get_size(), pygame.SRCALPHA)
        rng = np.random.default_rng(7)
        x0, y0, x1, y1 = self.atlas.bounds_mm
        n = 900
        pts = np.c_[rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)]
        from sim.core.spatial.geometry import points_in_polygon

        pts = pts[points_in_polygon(pts, hair)]
        ang = np.arctan2(pts[:, 1], pts[:, 0])  # strands radiate from the crown
        a = self._pts(pts)
        b = self._pts(pts + 4 * np.c_[np.cos(ang), np.sin(ang)])
        for p, q in zip(a, b):
            pygame.draw.line(mask, (70, 52, 38, 150), p, q, 1)
        surf.blit(mask, (0, 0))

    def _fill_lips(self, surf) -> None:
        up, st, lo = (self._drawing.get(f"{n}-left") for n in ("upper-lip", "stomion-line", "lower-lip"))
        if not (up and st and lo):
            return
        for top, bottom in ((up[2], st[2]), (st[2], lo[2][::-1])):
            half = np.concatenate([top, bottom[::-1]])
            for side in (half, half * [-1, 1]):
                pygame.draw.polygon(surf, style.LIP, self._pts(side))

    def _targets(self, surf) -> None:
        if not self.scenario.target_polygons:
            return
        layer = pygame.Surface(surf.get_size(), pygame.SRCALPHA)
        for _name, poly in self.scenario.target_polygons:
            p = self._pts(poly)
            pygame.draw.polygon(layer, (*style.TARGET, 70), p)
            pygame.draw.polygon(layer, (*style.TARGET, 220), p, 2)
        self._cut_no_go(layer)
        surf.blit(layer, (0, 0))

    def _uncovered(self, surf) -> None:
        if self.uncovered is None or not len(self.uncovered):
            return
        mask = pygame.Surface(surf.get_size(), pygame.SRCALPHA)
        side = max(1, int(np.ceil(self.cell_mm * self.scale)))
        for x, y in self._pts(self.uncovered):
            pygame.draw.rect(mask, (*style.VERDICT["fail"], 255), (x - side / 2, y - side / 2, side + 1, side + 1))
        w, h = surf.get_size()
        hatch = pygame.Surface((w, h), pygame.SRCALPHA)  # diagonal strokes, kept where the cells are
        for k in range(-h, w, 7):
            pygame.draw.line(hatch, (*style.VERDICT["fail"], 210), (k, h), (k + h, 0), 2)
        hatch.blit(mask, (0, 0), special_flags=pygame.BLEND_RGBA_MIN)
        mask.set_alpha(50)
        surf.blit(mask, (0, 0))
        surf.blit(hatch, (0, 0))

    def _cut_no_go(self, layer: pygame.Surface) -> None:
        """Clear the target's shading where no needle may go at any depth, with its margin: the eye and its lid
        margin (a zone of depth 0) and the patient's no-go spots; the shading invites a click, and must never do
        so there (the lower lid's target reached the lid margin)."""
        clear = (0, 0, 0, 0)  # drawing on a per-pixel-alpha surface replaces the pixels, alpha and all
        s = self.scale
        for st in self.scenario.structures:
            if float(np.max(st.depth_a)) > 0:
                continue
            margin = float(np.max(st.margin_a)) * s
            if st.area is not None:
                pts = self._pts(st.area)
                pygame.draw.polygon(layer, clear, pts)
                if margin >= 1:
                    pygame.draw.lines(layer, clear, True, pts, max(1, round(2 * margin)))
                    for p in pts:
                        pygame.draw.circle(layer, clear, p, margin)
            else:  # a point (a no-go spot) or a line, with its margin either side
                pts = self._pts(st.points)
                if len(pts) > 1:
                    pygame.draw.lines(layer, clear, False, pts, max(1, round(2 * margin)))
                for p in pts:
                    pygame.draw.circle(layer, clear, p, max(1.0, margin))

    def _danger(self, surf) -> None:
        layer = pygame.Surface(surf.get_size(), pygame.SRCALPHA)
        s = self.scale
        for st in self.atlas.structures:
            c = style.SEVERITY[st.severity]
            if st.area is not None:
                pygame.draw.polygon(layer, (*c, 40), self._pts(st.area))
                pygame.draw.polygon(layer, (*c, 200), self._pts(st.area), 2)
            elif st.points is not None and len(st.points) == 1:
                centre = self._pts(st.points)[0]
                pygame.draw.circle(layer, (*c, 45), centre, float(st.margin_a[0]) * s)
                pygame.draw.circle(layer, (*c, 200), centre, float(st.margin_a[0]) * s, 2)
                pygame.draw.circle(layer, (*c, 255), centre, max(2.0, s))
            else:
                for a, b, ma, mb in zip(st.a, st.b, st.margin_a, st.margin_b):
                    w = max(2, int((ma + mb) * s))
                    pygame.draw.line(layer, (*c, 40), self._pts([a])[0], self._pts([b])[0], w)
                pygame.draw.lines(layer, (*c, 255), False, self._pts(st.points), max(2, round(s * 0.8)))
        surf.blit(layer, (0, 0))
        if self.label_danger:
            self._danger_labels(surf)

    def _danger_labels(self, surf) -> None:
        """Each danger structure's name beside it, in its severity's colour, once for a pair (on the first side in
        view); a label that would cover another is left out (zooming in makes room)."""
        placed: list[pygame.Rect] = []
        named: set[str] = set()
        bounds = surf.get_rect()
        font = style.font(15)
        for st in self.scenario.structures:
            if st.kind == "spot":
                continue
            if st.area is not None:
                at = np.asarray(st.area).mean(axis=0)
                at = (at[0], float(np.asarray(st.area)[:, 1].min()))  # under the area
            elif len(st.points) == 1:
                at = st.points[0]
            else:
                at = st.points[len(st.points) // 2]
            x, y = self._pts([at])[0]
            name = st.name.removesuffix(" (left)").removesuffix(" (right)")
            if name in named:
                continue
            img = font.render(name, True, style.SEVERITY[st.severity])
            rect = img.get_rect(midtop=(x, y + 6))
            if not bounds.contains(rect) or any(rect.colliderect(r) for r in placed):
                continue
            placed.append(rect.inflate(6, 2))
            named.add(name)
            box = pygame.Surface(rect.inflate(6, 2).size, pygame.SRCALPHA)
            box.fill((255, 255, 255, 200))
            surf.blit(box, rect.inflate(6, 2))
            surf.blit(img, rect)

    def _no_go(self, surf) -> None:
        for spot in self.scenario.spec.no_go:
            centre = self._pts([spot.at_mm])[0]
            r = spot.radius_mm * self.scale
            pygame.draw.circle(surf, (120, 80, 60), centre, max(2.0, r * 0.45))
            pygame.draw.circle(surf, style.SEVERITY[spot.severity], centre, r, 2)

    def _scale_bar(self, surf) -> None:
        for step in (1, 2, 5, 10, 20, 50):
            if step * self.scale >= 60:
                break
        w = step * self.scale
        x, y = 14, surf.get_height() - 18
        pygame.draw.line(surf, style.INK, (x, y), (x + w, y), 2)
        pygame.draw.line(surf, style.INK, (x, y - 4), (x, y + 4), 2)
        pygame.draw.line(surf, style.INK, (x + w, y - 4), (x + w, y + 4), 2)
        style.text(surf, f"{step} mm", (x + w + 6, y), 18, style.INK, anchor="midleft")

    def draw(self, target: pygame.Surface) -> None:
        target.blit(self.background(), self.rect.topleft)
