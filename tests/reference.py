"""The rules in plain Python, one injection at a time: the oracle the scoring engine is checked against.

It reads the same data (atlas, technique library, scoring.yaml) and must give the same per-injection verdicts as
sim.core.scoring: tests/core/scoring/test_reference.py asserts that on generated attempts over shipped
scenarios, and bench/run.py before it times both for the speed-up figure. Deliberately naive: every polygon and
every structure for each injection, all pairs for spacing; nothing of the engine's indexes or arrays."""

from __future__ import annotations

import math

from sim.core.vocabulary import CODE, INJECTION_RULES

RULES = INJECTION_RULES
"""The columns of Reference.verdicts, in this order."""


def _inside(x, y, poly) -> bool:
    inside = False
    xj, yj = poly[-1]
    for xi, yi in poly:
        if (yi > y) != (yj > y):
            x_at = (xj - xi) * (y - yi) / (yj - yi) + xi
            if x < x_at:
                inside = not inside
        xj, yj = xi, yi
    return inside


def _seg(px, py, ax, ay, bx, by):
    """(distance, t) from the point to the segment a->b."""
    dx, dy = bx - ax, by - ay
    l2 = dx * dx + dy * dy
    t = 0.0 if l2 <= 0 else ((px - ax) * dx + (py - ay) * dy) / l2
    t = min(1.0, max(0.0, t))
    nx, ny = ax + t * dx, ay + t * dy
    return math.sqrt((px - nx) ** 2 + (py - ny) ** 2), t


def _band(v, b):
    if b[0] <= v <= b[1]:
        return 0
    if b[2] <= v <= b[3]:
        return 1
    return 2


class Reference:
    def __init__(self, scenario, library, config):
        self.scn, self.lib, self.cfg = scenario, library, config
        atlas = scenario.atlas
        self.regions = [([tuple(p) for p in r.polygon.tolist()], r) for r in atlas.regions]
        overrides = scenario.spec.patient.skin_overrides if scenario.spec.patient else {}
        self.skin = []
        for r in atlas.regions:
            o = overrides.get(r.id)
            self.skin.append((o.epidermis_mm, o.dermis_mm, o.fat_mm) if o else (r.epidermis_mm, r.dermis_mm,
                                                                                   r.fat_mm))
        self.targets = [[tuple(p) for p in poly.tolist()] for _n, poly in scenario.target_polygons]
        from sim.core.exercise.scenario import spot_structure

        self.structures = []
        for s in list(atlas.structures) + [spot_structure(sp, i) for i, sp in enumerate(scenario.spec.no_go)]:
            segs = [(float(a[0]), float(a[1]), float(b[0]), float(b[1]), float(da), float(db), float(ma), float(mb))
                    for a, b, da, db, ma, mb in zip(s.a, s.b, s.depth_a, s.depth_b, s.margin_a, s.margin_b)]
            area = None if s.area is None else [tuple(p) for p in s.area.tolist()]
            self.structures.append((segs, area, CODE[getattr(config.scoring.severity_verdict, s.severity)]))

    def region(self, x, y) -> int:
        """The region of (x, y); on the subject's right (x < 0) that of its mirror image, mirrored (the atlas's
        rule for a symmetric atlas: an edge goes to the same region on both sides)."""
        if x < 0 and self.scn.atlas.mirror_regions is not None:
            i = self._region(-x, y)
            if i < 0:
                return i
            rid = self.regions[i][1].id
            twin = rid[:-5] + "-right" if rid.endswith("-left") else rid[:-6] + "-left" if rid.endswith("-right") \
                else rid
            return next(k for k, (_p, r) in enumerate(self.regions) if r.id == twin)
        return self._region(x, y)

    def _region(self, x, y) -> int:
        for i, (poly, _r) in enumerate(self.regions):
            if _inside(x, y, poly):
                return i
        best, out = math.inf, -1
        snap = self.scn.atlas.snap_mm
        for i, (poly, _r) in enumerate(self.regions):
            n = len(poly)
            d = min(_seg(x, y, *poly[j], *poly[(j + 1) % n])[0] for j in range(n))
            if d < best and d <= snap:
                best, out = d, i
        return out

    def verdicts(self, records: list[dict]) -> list[list[int]]:
        lib, cfg, scn = self.lib, self.cfg, self.scn
        vcfg = cfg.scoring.verdicts
        limits = lib.limits
        out = []
        for i, r in enumerate(records):
            t = lib.get(r["technique"])
            x, y, depth = r["x_mm"], r["y_mm"], r["depth_mm"]
            reg = self.region(x, y)
            # technique
            v_tech = 0
            if r["technique"] not in scn.technique_ids:
                v_tech = max(v_tech, CODE[vcfg.technique_not_allowed])
            if scn.atlas.map not in t.maps:
                v_tech = max(v_tech, CODE[vcfg.technique_wrong_map])
            ind = scn.spec.indication
            if ind is not None and r["technique"] in scn.technique_ids and r["technique"] not in ind.techniques:
                v_tech = max(v_tech, CODE[vcfg.technique_not_indicated])
            # target
            if reg < 0:
                v_target = CODE[vcfg.off_map]
            elif self.targets and not any(_inside(x, y, p) for p in self.targets):
                v_target = CODE[vcfg.outside_target]
            else:
                v_target = 0
            # depth
            v_depth = _band(depth, t.depth_mm.bounds())
            if scn.atlas.map == "face" and depth > limits.face_max_depth_mm.value \
                    and t.id not in limits.face_max_depth_mm.exempt:
                v_depth = max(v_depth, CODE[vcfg.over_face_depth])
            # layer
            v_layer = 0
            if reg >= 0:
                e, d, f = self.skin[reg]
                bottoms = (e, e + d, e + d + f)
                layer = sum(1 for b in bottoms if depth >= b)
                name = ("epidermis", "dermis", "fat", "below")[layer]
                v_layer = 0 if name in t.layer.ok else (1 if name in t.layer.warn else 2)
            v_angle = _band(r["angle_deg"], t.angle_deg.bounds())
            # spacing: all pairs
            nn = math.inf
            for j, q in enumerate(records):
                if j != i and q["technique"] == r["technique"]:
                    nn = min(nn, math.hypot(q["x_mm"] - x, q["y_mm"] - y))
            v_spacing = 0
            if nn < math.inf:
                v_spacing = _band(nn, t.spacing_mm.bounds())
                if nn < cfg.scoring.spacing.double_puncture_mm:
                    v_spacing = 2
            # parting: distance to the nearest parting line of the exercise
            v_parting = 0
            if scn.spec.partings:
                near = min(_seg(x, y, *a, *b)[0] for pt in scn.spec.partings
                           for a, b in zip(pt.points_mm, pt.points_mm[1:]))
                pc = cfg.scoring.parting
                v_parting = 0 if near <= pc.ok_mm else (1 if near <= pc.warn_mm else 2)
            v_volume = _band(r["volume_ml"], t.volume_ml.bounds())
            if r["volume_ml"] > limits.max_volume_ml.value:
                v_volume = max(v_volume, CODE[vcfg.over_max_volume])
            v_bevel = CODE[vcfg.bevel_wrong] if (r.get("bevel", "up") == "down") != (t.bevel.required == "down") \
                else 0
            form = scn.spec.product.form
            v_product = 0 if form in t.products.allowed else CODE[vcfg.product_not_allowed]
            device = r.get("device", "hand")
            v_device = 0
            if device not in scn.spec.devices or device not in t.devices.allowed:
                v_device = CODE[vcfg.device_not_allowed]
            if device == "gun" and reg >= 0 and set(limits.gun.refused_tags) & set(self.regions[reg][1].tags):
                v_device = max(v_device, CODE[vcfg.device_refused_region])
            v_danger = 0
            for segs, area, code in self.structures:
                best, bt, bs = math.inf, 0.0, None
                for s in segs:
                    dist, tt = _seg(x, y, s[0], s[1], s[2], s[3])
                    if dist < best:
                        best, bt, bs = dist, tt, s
                sdepth = bs[4] + bt * (bs[5] - bs[4])
                margin = bs[6] + bt * (bs[7] - bs[6])
                if area is not None and _inside(x, y, area):
                    best = 0.0
                if best <= margin and depth >= sdepth:
                    v_danger = max(v_danger, code)
            out.append([v_tech, v_target, v_depth, v_layer, v_angle, v_spacing, v_parting, v_volume, v_bevel, v_product,
                        v_device, v_danger])
        return out
