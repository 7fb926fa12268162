"""The danger structures near each injection, from a coarse grid of their bounding boxes (DangerIndex), and the
hits among them (DangerHits): the exact distance, depth and margin for those (point, structure) pairs only, with
the arithmetic of `Structure.hits`, so the hits are the same as testing every structure."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.core.spatial.grid import FEW, Grid, crossings, expand, segment_distance_ab
from sim.core.spatial.regions import RegionIndex


@dataclass(frozen=True)
class DangerHits:
    """Every (injection, structure) hit, sorted by injection then structure: distance and structure depth there."""

    point: np.ndarray
    structure: np.ndarray
    distance: np.ndarray
    depth: np.ndarray

    def of(self, i: int) -> range:
        """Positions in the arrays of the hits of injection i."""
        lo, hi = np.searchsorted(self.point, [i, i + 1])
        return range(int(lo), int(hi))


def _boxes_meet(a, b) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def _layers(structures, ids: np.ndarray) -> list[list[int]]:
    """The areas `ids` in layers, each in the first layer none of whose bounding boxes meets its own: the areas
    of a layer never overlap, so one raster lookup per layer answers for all of them."""
    placed: list[list[int]] = []
    for k in ids.tolist():
        for layer in placed:
            if not any(_boxes_meet(structures[k].bbox, structures[j].bbox) for j in layer):
                layer.append(k)
                break
        else:
            placed.append([k])
    return placed


class _CellLists:
    """Items by grid cell: each item (a box) is listed in every cell its box touches, in ascending order."""

    def __init__(self, boxes: np.ndarray, cell: float):
        if not len(boxes):
            self.grid = Grid(0.0, 0.0, cell, 1, 1)
            self.count = np.zeros(1, dtype=np.int64)
            self.start = np.zeros(1, dtype=np.int64)
            self.items = np.zeros(0, dtype=np.int64)
            return
        x0 = float(math.floor(boxes[:, 0].min())) - cell
        y0 = float(math.floor(boxes[:, 1].min())) - cell
        nx = int(math.ceil((boxes[:, 2].max() - x0) / cell)) + 2
        ny = int(math.ceil((boxes[:, 3].max() - y0) / cell)) + 2
        self.grid = Grid(x0, y0, cell, nx, ny)
        i0 = ((boxes[:, 0] - x0) // cell).astype(np.int64)
        i1 = ((boxes[:, 2] - x0) // cell).astype(np.int64)
        j0 = ((boxes[:, 1] - y0) // cell).astype(np.int64)
        j1 = ((boxes[:, 3] - y0) // cell).astype(np.int64)
        cells, items = [], []
        for k in range(len(boxes)):
            jj, ii = np.mgrid[j0[k]:j1[k] + 1, i0[k]:i1[k] + 1]
            cells.append((jj * nx + ii).ravel())
            items.append(np.full(jj.size, k, dtype=np.int64))
        cell_of, item = np.concatenate(cells), np.concatenate(items)
        order = np.lexsort((item, cell_of))
        self.items = item[order]
        self.count = np.bincount(cell_of, minlength=nx * ny)
        self.start = np.cumsum(self.count) - self.count

    def pairs(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(point, item) for every item listed in each point's cell, by point then item."""
        idx, cell = self.grid.locate(xy)
        pair, item = expand(self.count[cell], self.start[cell])
        return idx[pair], self.items[item]


class DangerIndex:
    """Danger structures by grid cell, so each point is measured against the few segments that can be within
    a margin of it, never against every structure.

    A line or point structure can only be hit through a segment within its largest margin of the point, so each
    of its segments is listed in the cells of its box grown by that margin. For every (point, structure) the
    nearest candidate segment is then the nearest segment of the structure whenever a hit is possible, with the
    arithmetic and the tie rule (the first segment) of Structure.hits.

    An area (inside counts as distance 0) with one depth and one margin all round is the same outside it; inside
    it a raster of the area (RegionIndex) answers without any distance. An area whose depth or margin varies
    along the outline is measured whole against every point in its bounding box."""

    def __init__(self, structures, cell_mm: float = 2.0):
        self.structures = list(structures)
        n = len(self.structures)
        self.seg_count = np.asarray([len(s.a) for s in self.structures], dtype=np.int64)
        self.seg_start = np.cumsum(self.seg_count) - self.seg_count
        self.seg_structure = np.repeat(np.arange(n), self.seg_count)
        cat = (lambda f: np.concatenate([f(s) for s in self.structures]) if n else np.zeros(0))
        self.a = cat(lambda s: s.a).reshape(-1, 2)
        self.b = cat(lambda s: s.b).reshape(-1, 2)
        self.depth_a, self.depth_b = cat(lambda s: s.depth_a), cat(lambda s: s.depth_b)
        self.margin_a, self.margin_b = cat(lambda s: s.margin_a), cat(lambda s: s.margin_b)
        self.is_area = np.asarray([s.area is not None for s in self.structures], dtype=bool)
        # the shallowest a structure gets (less a hair for the rounding of the depth interpolated between two)
        self.shallowest = np.asarray([min(float(s.depth_a.min()), float(s.depth_b.min())) - 1e-9
                                      for s in self.structures])
        self.abx, self.aby = self.b[:, 0] - self.a[:, 0], self.b[:, 1] - self.a[:, 1]
        self.length2 = self.abx * self.abx + self.aby * self.aby
        self.ax, self.ay = np.ascontiguousarray(self.a[:, 0]), np.ascontiguousarray(self.a[:, 1])
        uniform = np.asarray([len(set(np.concatenate([s.depth_a, s.depth_b]).tolist())) == 1
                              and len(set(np.concatenate([s.margin_a, s.margin_b]).tolist())) == 1
                              for s in self.structures], dtype=bool)
        self.plain_area = self.is_area & uniform
        # an area's outline runs a[k-1] -> a[k] in the inside test (geometry.points_in_polygon)
        self.prev = cat(lambda s: np.roll(s.a, 1, axis=0)).reshape(-1, 2)
        reach = np.asarray([max(float(s.margin_a.max()), float(s.margin_b.max())) for s in self.structures])
        r = reach[self.seg_structure] if n else np.zeros(0)
        whole = self.is_area & ~self.plain_area
        lines = np.nonzero(~whole[self.seg_structure])[0] if n else np.zeros(0, dtype=np.int64)
        lo, hi = np.minimum(self.a, self.b), np.maximum(self.a, self.b)
        boxes = np.column_stack([lo[:, 0] - r, lo[:, 1] - r, hi[:, 0] + r, hi[:, 1] + r])
        self.lines = lines
        self.line_cells = _CellLists(boxes[lines], cell_mm)
        self.areas = np.nonzero(whole)[0]
        self.area_bbox = np.asarray([self.structures[k].bbox for k in self.areas], dtype=np.float64).reshape(-1, 4)
        self.area_cells = _CellLists(self.area_bbox, cell_mm)
        self.layers: list[tuple[RegionIndex, np.ndarray]] = []
        for layer in _layers(self.structures, np.nonzero(self.plain_area)[0]):
            index = RegionIndex([self.structures[k].area for k in layer], 0.0)
            index.rasters  # small areas: build now, so that even a few points use the raster
            self.layers.append((index, np.asarray(layer, dtype=np.int64)))
        self.layer_bbox = [(index.bbox[:, 0].min(), index.bbox[:, 1].min(), index.bbox[:, 2].max(),
                            index.bbox[:, 3].max()) for index, _ in self.layers]

    def _line_candidates(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(point, segment) of line and point structures and the outline of plain areas, by point, then segment
        (so structure by structure)."""
        pt, item = self.line_cells.pairs(xy)
        return pt, self.lines[item]

    def _area_candidates(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(point, segment) of every outline segment of the other areas whose bounding box holds the point."""
        pt, k = self.area_cells.pairs(xy)
        x0, y0, x1, y1 = (self.area_bbox[k, c] for c in range(4))
        x, y = xy[pt, 0], xy[pt, 1]
        keep = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
        pt, st = pt[keep], self.areas[k[keep]]
        pair, seg = expand(self.seg_count[st], self.seg_start[st])
        return pt[pair], seg

    def _inside_plain(self, xy: np.ndarray, depth_mm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(point, structure) for every point inside a plain area deep enough to reach it."""
        pts, sts = [], []
        for (index, members), (x0, y0, x1, y1) in zip(self.layers, self.layer_bbox):
            near = np.nonzero((xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)
                              & (depth_mm >= self.shallowest[members].min()))[0]
            if not len(near):
                continue
            where = index.lookup(xy[near])
            inside = near[where >= 0]
            where = where[where >= 0]
            pts.append(inside)
            sts.append(members[where])
        if not pts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(pts), np.concatenate(sts)

    def hits(self, xy: np.ndarray, depth_mm: np.ndarray) -> DangerHits:
        """Every hit: the point within the structure's lateral margin and the tip at or below its depth there
        (Structure.hits, for all structures at once), sorted by point then structure."""
        xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        depth_mm = np.asarray(depth_mm, dtype=np.float64)
        if 0 < len(xy) <= FEW and self.structures:
            return self._hits_few(xy, depth_mm)
        if not self.structures or not len(xy):
            found = []
        else:
            ins_pt, ins_st = self._inside_plain(xy, depth_mm)
            found = [self._hits(xy, depth_mm, *self._line_candidates(xy), inside=(ins_pt, ins_st)),
                     self._hits(xy, depth_mm, *self._area_candidates(xy))]
            deep = depth_mm[ins_pt] >= self.depth_a[self.seg_start[ins_st]]
            found.append((ins_pt[deep], ins_st[deep], np.zeros(int(deep.sum())),
                          self.depth_a[self.seg_start[ins_st[deep]]]))
        found = [f for f in found if len(f[0])]
        if not found:
            empty = np.zeros(0)
            return DangerHits(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), empty, empty)
        point, structure, dist, depth = (np.concatenate(x) for x in zip(*found))
        order = np.lexsort((structure, point))
        return DangerHits(point[order], structure[order], dist[order], depth[order])

    def _hits_few(self, xy: np.ndarray, depth_mm: np.ndarray) -> DangerHits:
        """hits() for a click or two: each structure the grid names as a candidate asks Structure.hits itself."""
        rows = []
        areas = np.nonzero(self.is_area)[0].tolist()
        for k, (x, y) in enumerate(xy.tolist()):
            candidates = set()
            cells = self.line_cells
            if math.isfinite(x) and math.isfinite(y):
                c = cells.grid.cell_at(x, y)
                if c >= 0:
                    items = cells.items[cells.start[c]:cells.start[c] + cells.count[c]]
                    candidates.update(self.seg_structure[self.lines[items]].tolist())
                for s in areas:
                    x0, y0, x1, y1 = self.structures[s].bbox
                    if x0 <= x <= x1 and y0 <= y <= y1:
                        candidates.add(s)
            for s in sorted(candidates):
                hit, dist, sdepth = self.structures[s].hits(xy[k:k + 1], depth_mm[k:k + 1])
                if hit[0]:
                    rows.append((k, s, float(dist[0]), float(sdepth[0])))
        point, structure, dist, depth = (np.asarray(col) for col in zip(*rows)) if rows else ([], [], [], [])
        return DangerHits(np.asarray(point, dtype=np.int64), np.asarray(structure, dtype=np.int64),
                          np.asarray(dist, dtype=np.float64), np.asarray(depth, dtype=np.float64))

    def _hits(self, xy, depth_mm, pt, seg, inside=None):
        """Hits among (point, segment) candidates grouped by (point, structure). `inside`: (point, structure)
        pairs inside a plain area, settled elsewhere and skipped here; without it the candidates are whole
        areas, tested for inside here."""
        st = self.seg_structure[seg]
        # a tip above the structure's shallowest point cannot reach it, wherever it is
        deep_enough = np.nonzero(depth_mm[pt] >= self.shallowest[st])[0]
        pt, seg, st = pt[deep_enough], seg[deep_enough], st[deep_enough]
        if not len(pt):
            return pt, pt, np.zeros(0), np.zeros(0)
        head = np.ones(len(pt), dtype=bool)
        head[1:] = (pt[1:] != pt[:-1]) | (st[1:] != st[:-1])
        d, t = segment_distance_ab(xy[pt, 0], xy[pt, 1], self.ax[seg], self.ay[seg], self.abx[seg], self.aby[seg],
                                    self.length2[seg])
        starts = np.nonzero(head)[0]
        group = np.cumsum(head) - 1
        dmin = np.minimum.reduceat(d, starts)
        pos = np.nonzero(d == dmin[group])[0]
        at_group = group[pos]
        head_pos = np.ones(len(pos), dtype=bool)
        head_pos[1:] = at_group[1:] != at_group[:-1]
        best = pos[head_pos]  # the first segment at the minimum
        tb, sb = t[best], seg[best]
        gp, gs = pt[starts], st[starts]
        sdepth = self.depth_a[sb] + tb * (self.depth_b[sb] - self.depth_a[sb])
        margin = self.margin_a[sb] + tb * (self.margin_b[sb] - self.margin_a[sb])
        deep = depth_mm[gp] >= sdepth
        dist = dmin
        if inside is not None:
            ins_pt, ins_st = inside
            sel = np.nonzero(deep & self.plain_area[gs])[0]
            if len(ins_pt) and len(sel):  # drop the (point, plain area) groups the point is inside of
                n_st = len(self.structures)
                known = np.sort(ins_pt * n_st + ins_st)
                key = gp[sel] * n_st + gs[sel]
                at = np.minimum(np.searchsorted(known, key), len(known) - 1)
                deep[sel[known[at] == key]] = False
        else:  # inside an area counts as distance 0
            sel = np.nonzero(deep)[0]
            if len(sel):
                ins = np.nonzero(deep[group])[0]
                cross = crossings(xy[pt[ins], 0], xy[pt[ins], 1], self.a[seg[ins], 0], self.a[seg[ins], 1],
                                   self.prev[seg[ins], 0], self.prev[seg[ins], 1])
                inside_area = np.add.reduceat(cross.astype(np.int64), np.nonzero(head[ins])[0]) % 2 == 1
                dist = dmin.copy()
                dist[sel[inside_area]] = 0.0
        hit = (dist <= margin) & deep
        return gp[hit], gs[hit], dist[hit], sdepth[hit]

