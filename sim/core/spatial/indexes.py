"""Spatial indexes that keep scoring linear in the number of injections.

- `RegionIndex`: which atlas region a point is in, from a raster of the regions. A cell whose centre is farther
  than half the cell's diagonal from every region edge (and, outside all regions, farther than the snap distance
  too) is *pure*: every point in it is in the same region as its centre. Points in the other (*mixed*) cells get
  the exact polygon tests, with the same arithmetic as `geometry.points_in_polygon` and
  `geometry.closest_on_segments`, against only the regions whose bounding box holds them. The result is therefore
  exactly that of testing every point against every polygon (`Atlas.region_index_exact`), in a fraction of the
  time.
- `DangerIndex`: the danger structures that can be near a point, from a coarse grid of their bounding boxes; the
  exact distance, depth and margin are then computed for those (point, structure) pairs only, with the arithmetic
  of `Structure.hits`.

Both are built once per atlas (or scenario) and reused; both work on any number of points at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.core.spatial.geometry import points_in_polygon
from sim.core.spatial.kernels import compiled

FEW = 4
"""Up to this many points are looked up one by one in plain Python (a click, the cursor)."""
SMALL = 256
"""Fewer points than this are looked up exactly as long as the raster has not been built."""
EPS_MM = 1e-6
"""Slack on every "is it far enough" test, so float rounding never turns a mixed cell into a pure one."""


def _expand(counts: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For groups of `counts[k]` consecutive items starting at `starts[k]`: (group of each item, item index)."""
    total = int(counts.sum())
    group = np.repeat(np.arange(len(counts)), counts)
    first = np.cumsum(counts) - counts
    item = np.arange(total) + (starts - first)[group]
    return group, item


def _segment_distance(px, py, ax, ay, bx, by):
    """Distance from each point to segment a->b and the parameter t of the closest point, elementwise; the same
    operations in the same order as geometry.closest_on_segments, so the results are bit-identical."""
    abx, aby = bx - ax, by - ay
    return _segment_distance_ab(px, py, ax, ay, abx, aby, abx * abx + aby * aby)


def _segment_distance_ab(px, py, ax, ay, abx, aby, length2):
    """_segment_distance from a, b - a and |b - a|^2, when those are kept per segment."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(length2 > 0, ((px - ax) * abx + (py - ay) * aby) / np.where(length2 > 0, length2, 1.0), 0.0)
    t = np.clip(t, 0.0, 1.0)
    dx = px - (ax + t * abx)
    dy = py - (ay + t * aby)
    return np.sqrt(dx ** 2 + dy ** 2), t


def _crossings(px, py, xi, yi, xj, yj):
    """The even-odd ray test of geometry.points_in_polygon for one edge (xj, yj) -> (xi, yi), elementwise."""
    crosses = (yi > py) != (yj > py)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_at = (xj - xi) * (py - yi) / (yj - yi) + xi
    return crosses & (px < x_at)


def _label_type(n: int):
    """The smallest integer type for labels 0..n-1 and -2, -1: a small raster stays in the processor's cache."""
    return np.int8 if n < 127 else np.int16 if n < 32767 else np.int32


@dataclass(frozen=True)
class _Grid:
    """A raster: cell (j, i) covers [x0 + i*cell, x0 + (i+1)*cell) x [y0 + j*cell, y0 + (j+1)*cell)."""

    x0: float
    y0: float
    cell: float
    nx: int
    ny: int

    @classmethod
    def around(cls, bbox: np.ndarray, pad: float, cell: float) -> "_Grid":
        x0 = float(math.floor(bbox[:, 0].min() - pad))
        y0 = float(math.floor(bbox[:, 1].min() - pad))
        nx = int(math.ceil((bbox[:, 2].max() + pad - x0) / cell))
        ny = int(math.ceil((bbox[:, 3].max() + pad - y0) / cell))
        return cls(x0, y0, cell, nx, ny)

    @property
    def xs(self) -> np.ndarray:
        return self.x0 + (np.arange(self.nx) + 0.5) * self.cell

    @property
    def ys(self) -> np.ndarray:
        return self.y0 + (np.arange(self.ny) + 0.5) * self.cell

    @property
    def half_diagonal(self) -> float:
        return self.cell * math.sqrt(0.5)

    def cell_at(self, x: float, y: float) -> int:
        """The flat cell index of one finite point, -1 off the grid (locate() for a single point)."""
        i = math.floor((x - self.x0) / self.cell)
        j = math.floor((y - self.y0) / self.cell)
        return j * self.nx + i if 0 <= i < self.nx and 0 <= j < self.ny else -1

    def locate(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(indices of the points on the grid, their flat cell index)."""
        with np.errstate(invalid="ignore"):
            fx = np.floor((xy[:, 0] - self.x0) / self.cell)
            fy = np.floor((xy[:, 1] - self.y0) / self.cell)
            on = (fx >= 0) & (fx < self.nx) & (fy >= 0) & (fy < self.ny)
        idx = np.nonzero(on)[0]
        return idx, fy[idx].astype(np.int64) * self.nx + fx[idx].astype(np.int64)

    def fill(self, polys: list[np.ndarray]) -> np.ndarray:
        """Index of the first polygon holding each cell centre, -1 for none: a scanline fill whose crossings are
        computed exactly as geometry.points_in_polygon computes them, so every centre gets the same answer."""
        xs, ys = self.xs, self.ys
        labels = np.full((self.ny, self.nx), -1, dtype=_label_type(len(polys)))
        for k in range(len(polys) - 1, -1, -1):  # earlier polygons overwrite later ones
            poly = polys[k]
            rows = np.nonzero((ys >= poly[:, 1].min()) & (ys <= poly[:, 1].max()))[0]
            if not len(rows):
                continue
            y = ys[rows][:, None]
            xi, yi = poly[:, 0], poly[:, 1]
            xj, yj = np.roll(xi, 1), np.roll(yi, 1)
            crosses = (yi > y) != (yj > y)
            with np.errstate(divide="ignore", invalid="ignore"):
                x_at = (xj - xi) * (y - yi) / (yj - yi) + xi
            r, e = np.nonzero(crosses)
            right_of = np.searchsorted(xs, x_at[r, e], side="left")  # centres with x < x_at: this edge counts
            hist = np.bincount(r * (self.nx + 1) + right_of, minlength=len(rows) * (self.nx + 1))
            hist = hist.reshape(len(rows), self.nx + 1)
            # edges to the right of centre i: all crossing edges of the row but those with right_of <= i
            right = hist.sum(axis=1, keepdims=True) - np.cumsum(hist[:, :self.nx], axis=1)
            labels[rows] = np.where(right % 2 == 1, k, labels[rows])
        return labels

    def near(self, a: np.ndarray, b: np.ndarray, reach: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(flat cell, edge, distance) for every cell centre within `reach` of edge a[k] -> b[k]."""
        cells, edges, dists = [], [], []
        xs, ys, c = self.xs, self.ys, self.cell
        for k, (p, q) in enumerate(zip(a, b)):
            i0 = max(int((min(p[0], q[0]) - reach - self.x0) / c) - 1, 0)
            i1 = min(int((max(p[0], q[0]) + reach - self.x0) / c) + 2, self.nx)
            j0 = max(int((min(p[1], q[1]) - reach - self.y0) / c) - 1, 0)
            j1 = min(int((max(p[1], q[1]) + reach - self.y0) / c) + 2, self.ny)
            if i0 >= i1 or j0 >= j1:
                continue
            gx, gy = np.meshgrid(xs[i0:i1], ys[j0:j1])
            d, _ = _segment_distance(gx.ravel(), gy.ravel(), p[0], p[1], q[0], q[1])
            sel = np.nonzero(d <= reach)[0]
            jj, ii = np.divmod(sel, i1 - i0)
            cells.append((jj + j0) * self.nx + ii + i0)
            edges.append(np.full(len(sel), k, dtype=np.int64))
            dists.append(d[sel])
        if not cells:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
        return np.concatenate(cells), np.concatenate(edges), np.concatenate(dists)


def _cell_label(grid: _Grid, labels: np.ndarray, x: float, y: float) -> int:
    c = grid.cell_at(x, y)
    return int(labels.ravel()[c]) if c >= 0 else -1


class RegionIndex:
    """Region of every point in O(1) per point; see the module docstring. `polygons` in priority order (an earlier
    one wins where they overlap); points outside all of them within `snap_mm` of one belong to the nearest.

    Two rasters: a fine one (`cell_mm`) of the regions, and a coarse one (`snap_cell_mm`) of the band around them
    where points snap to the nearest region."""

    def __init__(self, polygons: list[np.ndarray], snap_mm: float, cell_mm: float = 0.125,
                 snap_cell_mm: float = 0.5):
        self.snap = float(snap_mm)
        polys = [np.asarray(p, dtype=np.float64).reshape(-1, 2) for p in polygons]
        self._polys = polys
        counts = np.asarray([len(p) for p in polys], dtype=np.int64)
        self.edge_count = counts
        self.edge_start = np.cumsum(counts) - counts
        self.edge_region = np.repeat(np.arange(len(polys)), counts)
        cat = (lambda shift: np.concatenate([np.roll(p, shift, axis=0) for p in polys]) if polys
               else np.zeros((0, 2)))
        self.cur, self.prev, self.next = cat(0), cat(1), cat(-1)
        self.bbox = np.asarray([(p[:, 0].min(), p[:, 1].min(), p[:, 0].max(), p[:, 1].max()) for p in polys],
                               dtype=np.float64).reshape(-1, 4)
        self._cell, self._snap_cell = float(cell_mm), float(snap_cell_mm)
        self._rasters: tuple[_Grid, np.ndarray, _Grid, np.ndarray] | None = None

    # ------------------------------------------------------------ the rasters

    @property
    def rasters(self) -> tuple[_Grid, np.ndarray, _Grid, np.ndarray]:
        """(fine grid, its labels, coarse grid, its labels). Fine: the region of each pure cell, -1 outside all
        regions, -2 mixed. Coarse, for points outside all regions: the region a pure cell snaps to, -1 beyond
        snap distance, -2 mixed. Built on first use."""
        if self._rasters is None:
            self._rasters = self._build()
        return self._rasters

    def _build(self) -> tuple[_Grid, np.ndarray, _Grid, np.ndarray]:
        if not self._polys:
            g = _Grid(0.0, 0.0, 1.0, 1, 1)
            return g, np.full((1, 1), -1, dtype=np.int8), g, np.full((1, 1), -1, dtype=np.int8)
        fine = _Grid.around(self.bbox, 2 * self._cell + 1.0, self._cell)
        labels = fine.fill(self._polys)
        cells, _, _ = fine.near(self.cur, self.next, fine.half_diagonal + EPS_MM)
        labels.ravel()[cells] = -2  # an edge passes through the cell (or close enough to count)

        coarse = _Grid.around(self.bbox, self.snap + 2 * self._snap_cell + 1.0, self._snap_cell)
        outer = np.full((coarse.ny, coarse.nx), -1, dtype=_label_type(len(self._polys)))
        if self.snap > 0:
            r = coarse.half_diagonal + EPS_MM
            crossed, _, _ = coarse.near(self.cur, self.next, r)
            inside = coarse.fill(self._polys) >= 0
            # off the regions but within snap distance: pure when every point of the cell is within snap_mm of
            # the same nearest region, with a clear second (no tie can fall inside the cell)
            cell, edge, dist = coarse.near(self.cur, self.next, self.snap + r)
            best, second, region = _nearest_two(cell, self.edge_region[edge], dist, coarse.nx * coarse.ny)
            with np.errstate(invalid="ignore"):  # inf - inf where no region is near: not pure
                pure = (best + r < self.snap) & (second - best > 2 * r)
            near = best <= self.snap + r
            flat = outer.ravel()
            flat[near] = -2
            flat[pure] = region[pure]
            flat[inside.ravel()] = -2  # never consulted for points in a region; kept honest all the same
            flat[crossed] = -2
        return fine, labels, coarse, outer

    @property
    def mixed_fraction(self) -> float:
        """Share of the fine raster's cells that need the exact test."""
        return float(np.mean(self.rasters[1] == -2))

    def lookup(self, xy: np.ndarray) -> np.ndarray:
        """Index of the region of every point, -1 when off the map. A few points (a click, the cursor) are
        tested exactly until the rasters exist, so the first hover never waits for them to be built."""
        xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        if self._rasters is None and len(xy) < SMALL:
            return self.exact(xy)
        if not len(xy):
            return np.zeros(0, dtype=np.int64)
        if len(xy) <= FEW:
            return self._lookup_few(xy)
        fine, labels, coarse, outer = self.rasters
        out = np.full(len(xy), -1, dtype=np.int64)
        idx, cell = fine.locate(xy)
        out[idx] = labels.ravel()[cell]
        if self.snap > 0:
            off = np.nonzero(out == -1)[0]
            idx, cell = coarse.locate(xy[off])
            out[off[idx]] = outer.ravel()[cell]
        mixed = np.nonzero(out == -2)[0]
        if len(mixed):
            out[mixed] = self.exact(xy[mixed])
        return out

    def _lookup_few(self, xy: np.ndarray) -> np.ndarray:
        """lookup() for a click or two, in plain Python: the same cells, the same answers, less overhead."""
        fine, labels, coarse, outer = self.rasters
        out = np.full(len(xy), -1, dtype=np.int64)
        for k, (x, y) in enumerate(xy.tolist()):
            if not (math.isfinite(x) and math.isfinite(y)):
                continue
            label = _cell_label(fine, labels, x, y)
            if label == -1 and self.snap > 0:
                label = _cell_label(coarse, outer, x, y)
            out[k] = self.exact(xy[k:k + 1])[0] if label == -2 else label
        return out

    # ------------------------------------------------------------ the exact test, for mixed cells

    def exact(self, xy: np.ndarray) -> np.ndarray:
        """The polygon tests for every point, restricted to regions whose bounding box can matter."""
        out = np.full(len(xy), -1, dtype=np.int64)
        for s in range(0, len(xy), 20000):
            out[s:s + 20000] = self._exact(xy[s:s + 20000])
        return out

    def _pairs(self, xy: np.ndarray, pad: float) -> tuple[np.ndarray, np.ndarray]:
        b = self.bbox
        x, y = xy[:, 0:1], xy[:, 1:2]
        near = (x >= b[:, 0] - pad) & (x <= b[:, 2] + pad) & (y >= b[:, 1] - pad) & (y <= b[:, 3] + pad)
        return np.nonzero(near)  # ordered by point, then by region

    def _exact(self, xy: np.ndarray) -> np.ndarray:
        out = np.full(len(xy), -1, dtype=np.int64)
        pt, reg = self._pairs(xy, EPS_MM)
        if len(pt):
            pair, e = _expand(self.edge_count[reg], self.edge_start[reg])
            p = pt[pair]
            cross = _crossings(xy[p, 0], xy[p, 1], self.cur[e, 0], self.cur[e, 1], self.prev[e, 0], self.prev[e, 1])
            starts = np.cumsum(self.edge_count[reg]) - self.edge_count[reg]
            inside = (np.add.reduceat(cross.astype(np.int64), starts) % 2).astype(bool)
            first_pt, first = np.unique(pt[inside], return_index=True)
            out[first_pt] = reg[inside][first]
        if self.snap <= 0:
            return out
        todo = np.nonzero(out < 0)[0]
        if not len(todo):
            return out
        pt, reg = self._pairs(xy[todo], self.snap + EPS_MM)
        if not len(pt):
            return out
        pair, e = _expand(self.edge_count[reg], self.edge_start[reg])
        p = todo[pt[pair]]
        d, _ = _segment_distance(xy[p, 0], xy[p, 1], self.cur[e, 0], self.cur[e, 1], self.next[e, 0],
                                 self.next[e, 1])
        starts = np.cumsum(self.edge_count[reg]) - self.edge_count[reg]
        dmin = np.minimum.reduceat(d, starts)
        order = np.lexsort((reg, dmin, pt))  # per point: nearest first, the earlier region on a tie
        first = order[np.unique(pt[order], return_index=True)[1]]
        ok = dmin[first] <= self.snap
        out[todo[pt[first[ok]]]] = reg[first[ok]]
        return out


def _nearest_two(cell: np.ndarray, region: np.ndarray, dist: np.ndarray, n_cells: int):
    """From (cell, region, distance) triples: per cell the smallest distance, the smallest to another region
    (inf when none) and the nearest region (-1 when none)."""
    best, second = np.full(n_cells, np.inf), np.full(n_cells, np.inf)
    nearest = np.full(n_cells, -1, dtype=np.int64)
    if not len(cell):
        return best, second, nearest
    order = np.lexsort((dist, region, cell))
    cell, region, dist = cell[order], region[order], dist[order]
    head = np.ones(len(cell), dtype=bool)  # first (smallest) entry of each (cell, region)
    head[1:] = (cell[1:] != cell[:-1]) | (region[1:] != region[:-1])
    cell, region, dist = cell[head], region[head], dist[head]
    order = np.lexsort((region, dist, cell))
    cell, region, dist = cell[order], region[order], dist[order]
    first = np.unique(cell, return_index=True)[1]
    best[cell[first]] = dist[first]
    nearest[cell[first]] = region[first]
    has_second = np.nonzero(np.diff(np.append(first, len(cell))) > 1)[0]
    second[cell[first[has_second]]] = dist[first[has_second] + 1]
    return best, second, nearest


# ---------------------------------------------------------------- danger structures


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


class _CellLists:
    """Items by grid cell: each item (a box) is listed in every cell its box touches, in ascending order."""

    def __init__(self, boxes: np.ndarray, cell: float):
        self.cell = cell
        if not len(boxes):
            self.x0 = self.y0 = 0.0
            self.nx = self.ny = 1
            self.count = np.zeros(1, dtype=np.int64)
            self.start = np.zeros(1, dtype=np.int64)
            self.items = np.zeros(0, dtype=np.int64)
            return
        self.x0 = float(math.floor(boxes[:, 0].min())) - cell
        self.y0 = float(math.floor(boxes[:, 1].min())) - cell
        self.nx = int(math.ceil((boxes[:, 2].max() - self.x0) / cell)) + 2
        self.ny = int(math.ceil((boxes[:, 3].max() - self.y0) / cell)) + 2
        i0 = ((boxes[:, 0] - self.x0) // cell).astype(np.int64)
        i1 = ((boxes[:, 2] - self.x0) // cell).astype(np.int64)
        j0 = ((boxes[:, 1] - self.y0) // cell).astype(np.int64)
        j1 = ((boxes[:, 3] - self.y0) // cell).astype(np.int64)
        cells, items = [], []
        for k in range(len(boxes)):
            jj, ii = np.mgrid[j0[k]:j1[k] + 1, i0[k]:i1[k] + 1]
            cells.append((jj * self.nx + ii).ravel())
            items.append(np.full(jj.size, k, dtype=np.int64))
        cell_of, item = np.concatenate(cells), np.concatenate(items)
        order = np.lexsort((item, cell_of))
        self.items = item[order]
        self.count = np.bincount(cell_of, minlength=self.nx * self.ny)
        self.start = np.cumsum(self.count) - self.count

    @property
    def grid(self) -> _Grid:
        return _Grid(self.x0, self.y0, self.cell, self.nx, self.ny)

    def pairs(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(point, item) for every item listed in each point's cell, by point then item."""
        idx, cell = self.grid.locate(xy)
        pair, item = _expand(self.count[cell], self.start[cell])
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
        boxes = np.column_stack([np.minimum(self.a[:, 0], self.b[:, 0]) - r, np.minimum(self.a[:, 1], self.b[:, 1]) - r,
                                 np.maximum(self.a[:, 0], self.b[:, 0]) + r, np.maximum(self.a[:, 1], self.b[:, 1]) + r])
        self.lines = lines
        self.line_cells = _CellLists(boxes[lines], cell_mm)
        self.areas = np.nonzero(whole)[0]
        self.area_bbox = np.asarray([self.structures[k].bbox for k in self.areas], dtype=np.float64).reshape(-1, 4)
        self.area_cells = _CellLists(self.area_bbox, cell_mm)
        # plain areas in layers of areas whose bounding boxes do not meet: one raster lookup per layer
        self.layers: list[tuple[RegionIndex, np.ndarray]] = []
        placed: list[list[int]] = []
        for k in np.nonzero(self.plain_area)[0]:
            for layer in placed:
                if not any(_boxes_meet(self.structures[k].bbox, self.structures[j].bbox) for j in layer):
                    layer.append(int(k))
                    break
            else:
                placed.append([int(k)])
        for layer in placed:
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
        pair, seg = _expand(self.seg_count[st], self.seg_start[st])
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
        d, t = _segment_distance_ab(xy[pt, 0], xy[pt, 1], self.ax[seg], self.ay[seg], self.abx[seg], self.aby[seg],
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
                cross = _crossings(xy[pt[ins], 0], xy[pt[ins], 1], self.a[seg[ins], 0], self.a[seg[ins], 1],
                                   self.prev[seg[ins], 0], self.prev[seg[ins], 1])
                inside_area = np.add.reduceat(cross.astype(np.int64), np.nonzero(head[ins])[0]) % 2 == 1
                dist = dmin.copy()
                dist[sel[inside_area]] = 0.0
        hit = (dist <= margin) & deep
        return gp[hit], gs[hit], dist[hit], sdepth[hit]


# ---------------------------------------------------------------- coverage


class CoverageGrid:
    """The target area sampled on a square grid of `cell_mm` (cell centres inside the target polygons), and how
    to mark the cells within reach of injections: row by row, the run of cells a disc covers, so the cost grows
    with the number of injections times the rows a disc spans, never with injections times cells.

    A cell (cx, cy) is covered by an injection at p with reach r when, with dy2 = (cy - py)^2 and
    half = sqrt(r^2 - dy2), px - half <= cx <= px + half: the disc, measured along the cell's row, in that
    arithmetic, so that marking one injection at a time (the trainer) and all at once (scoring) cover the same
    cells."""

    def __init__(self, polygons: list[np.ndarray], cell_mm: float):
        allp = np.concatenate(polygons)
        x0, y0 = allp.min(axis=0)
        x1, y1 = allp.max(axis=0)
        self.xs = np.arange(x0 + cell_mm / 2, x1, cell_mm)
        self.ys = np.arange(y0 + cell_mm / 2, y1, cell_mm)
        gx, gy = np.meshgrid(self.xs, self.ys)
        cells = np.stack([gx.ravel(), gy.ravel()], axis=1)
        inside = np.zeros(len(cells), dtype=bool)
        for p in polygons:
            inside |= points_in_polygon(cells, p)
        self.inside = inside.reshape(gx.shape)
        self.n_inside = int(inside.sum())

    def empty(self) -> np.ndarray:
        return np.zeros(self.inside.shape, dtype=bool)

    def fraction(self, covered: np.ndarray) -> float:
        """Share of the target cells covered."""
        return float(np.count_nonzero(covered & self.inside) / self.n_inside) if self.n_inside else 0.0

    def cover(self, covered: np.ndarray, xy: np.ndarray, reach: np.ndarray, layer: np.ndarray | None = None) -> None:
        """Mark in `covered` every cell within reach[k] of xy[k]. `covered` is one grid (ny, nx) or a stack of
        them (L, ny, nx), one per attempt, with layer[k] saying whose injection k is."""
        xs, ys = self.xs, self.ys
        nx, ny = len(xs), len(ys)
        if not len(xy) or not nx or not ny:
            return
        px, py, r = xy[:, 0], xy[:, 1], np.asarray(reach, dtype=np.float64)
        near = np.nonzero((px + r >= xs[0]) & (px - r <= xs[-1]))[0]  # discs that miss every column: skip
        if len(near) < len(px):
            px, py, r = px[near], py[near], r[near]
            layer = None if layer is None else layer[near]
        r2 = r * r
        j_lo = np.searchsorted(ys, py - r, side="left")
        j_hi = np.searchsorted(ys, py + r, side="right")
        pt, row = _expand(np.maximum(j_hi - j_lo, 0), j_lo)
        if not len(pt):
            return
        px, r2 = px[pt], r2[pt]
        dy2 = (ys[row] - py[pt]) ** 2
        with np.errstate(invalid="ignore"):
            half = np.sqrt(r2 - dy2)
        lo = np.searchsorted(xs, px - half, side="left")  # the first centre at or right of the disc's left edge
        hi = np.searchsorted(xs, px + half, side="right")  # one past the last centre at or left of its right
        keep = lo < hi
        row, lo, hi = row[keep], lo[keep], hi[keep]
        if layer is not None:
            row = row + layer[pt[keep]] * ny
        rows = covered.size // nx
        width = nx + 1
        diff = np.bincount(row * width + lo, minlength=rows * width) - np.bincount(row * width + hi,
                                                                                   minlength=rows * width)
        covered |= (np.cumsum(diff.reshape(rows, width), axis=1)[:, :nx] > 0).reshape(covered.shape)


# ---------------------------------------------------------------- nearest neighbours


RINGS = 6
"""Rings of grid cells searched around a point before a k-d tree of its group settles it."""
CELL_PER_SPACING = 0.7
"""Grid cell size against the typical spacing within a group: smaller cells, fewer candidates, more rings."""


def distance(x: np.ndarray, y: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Distance between points i and j, elementwise: the one formula for nearest-neighbour distances, so that
    every way of finding the neighbour gives the same number (nearest_in_group takes the square root of the
    least square, the same number since the square root is monotonic)."""
    return np.sqrt((x[i] - x[j]) ** 2 + (y[i] - y[j]) ** 2)


COMPILED_MIN = 8192
"""From this many points on, the ring search runs compiled (sim.core.spatial.kernels, when numba is there): below it,
loading the compiler would cost more than it saves."""


def nearest_in_group(xy: np.ndarray, group: np.ndarray, cap: np.ndarray | None = None) -> np.ndarray:
    """Distance from each point to its nearest other point of the same group: NaN when the group has no other
    point, +inf when none is within cap[k] (the distance is then not needed; None: no cap).

    A uniform grid per group, the cell about the typical spacing within a group: the point's own cell and the
    rings of cells around it, ring by ring, for the points not yet settled (a point is settled once its nearest
    candidate is closer than the ring's inner distance, or the ring is beyond its cap); after RINGS rings the few
    left are settled with a k-d tree of their group. Linear in the number of points, never all pairs.
    Distances by `distance`. From COMPILED_MIN points on, the rings are searched point by point by a compiled
    loop (kernels.ring_search) with the same arithmetic, so the result does not depend on which one ran."""
    n = len(xy)
    out = np.full(n, np.nan)
    if n < 2:
        return out
    cap = np.full(n, np.inf) if cap is None else np.asarray(cap, dtype=np.float64)
    group = np.asarray(group, dtype=np.int64)
    present = np.bincount(group - group.min())
    remap = np.cumsum(present > 0) - 1
    inverse = remap[group - group.min()]  # groups numbered 0.. in order, without sorting
    counts = present[present > 0]
    todo = np.nonzero(counts[inverse] > 1)[0]
    if not len(todo):
        return out
    xs, ys = np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1])
    x0, x1, y0, y1 = xs.min(), xs.max(), ys.min(), ys.max()
    w, hgt = max(x1 - x0, 1e-9), max(y1 - y0, 1e-9)
    h = max(CELL_PER_SPACING * math.sqrt(max(w * hgt, 1.0) * len(counts) / n), max(w, hgt) / 4096)
    nx = int(w / h) + 1 + 2 * RINGS
    ny = int(hgt / h) + 1 + 2 * RINGS
    cx = ((xs - x0) / h).astype(np.int64) + RINGS
    cy = ((ys - y0) / h).astype(np.int64) + RINGS
    cell = (inverse.astype(np.int64) * ny + cy) * nx + cx
    order = np.argsort(cell, kind="stable")
    in_cell = np.bincount(cell, minlength=len(counts) * ny * nx)
    end_in = np.cumsum(in_cell)
    first_in = end_in - in_cell
    sx, sy = xs[order], ys[order]
    scell = cell[order]
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    best = np.full(n, np.inf)  # by sorted position
    ask = np.arange(n) if len(todo) == n else np.sort(rank[todo])  # sorted positions still searching
    kernel = compiled("ring_search") if n >= COMPILED_MIN else None
    search = kernel if kernel is not None else _ring_search
    ask = search(sx, sy, scell, first_in, end_in, nx, h, cap[order], RINGS, ask, best)
    if len(ask):  # a few far-flung points
        _settle(np.column_stack([sx, sy]), inverse[order], ask, best)
    out[todo] = best[rank[todo]]
    out[out > cap] = np.inf
    return out


def _ring_search(sx, sy, scell, first_in, end_in, nx, h, cap, rings, ask, best):
    """kernels.ring_search in numpy, all the points ring by ring (`cap` by sorted position): sets best[p] for the
    sorted positions `ask`, returns those not settled after the last ring."""
    for ring in range(1, rings + 1):
        # the cells `ring` away, as ranges of a row (a row's cells are consecutive in the sorted order): ring 1
        # is the whole 3 x 3 square, further rings only their outline
        first_cell, last_cell = _ring_ranges(ring, nx)
        rows = first_cell
        here = scell if ring == 1 and len(ask) == len(sx) else scell[ask]
        lo = first_in[here[:, None] + first_cell[None, :]].ravel()
        hi = end_in[here[:, None] + last_cell[None, :]].ravel()
        counts = hi - lo
        total = int(counts.sum())
        if total:
            pos = np.arange(total) + np.repeat(lo - (np.cumsum(counts) - counts), counts)
            per_point = counts.reshape(len(ask), len(rows)).sum(axis=1)
            at = np.repeat(ask, per_point)
            # squared distances (the point itself excluded): the nearest is the square root of the least
            d2 = (sx[at] - sx[pos]) ** 2 + (sy[at] - sy[pos]) ** 2
            d2[at == pos] = np.inf
            has = np.nonzero(per_point)[0]
            starts = (np.cumsum(per_point) - per_point)[has]
            first = ask[has]
            best[first] = np.minimum(best[first], np.sqrt(np.minimum.reduceat(d2, starts)))
        reach = ring * h * (1 - 1e-9)  # every point closer than this has been seen
        c = cap[ask]
        found = (best[ask] < reach) & (best[ask] <= c)
        beyond = (reach > c) & ~found
        best[ask[beyond]] = np.inf
        ask = ask[~(found | beyond)]
        if not len(ask):
            break
    return ask


def _ring_ranges(ring: int, nx: int) -> tuple[np.ndarray, np.ndarray]:
    """Offsets of the first and the last cell of each run of cells `ring` away from a cell (grid width nx)."""
    if ring == 1:
        runs = [(dy, -1, 1) for dy in (-1, 0, 1)]
    else:
        runs = [(-ring, -ring, ring), (ring, -ring, ring)]
        runs += [(dy, dx, dx) for dy in range(-ring + 1, ring) for dx in (-ring, ring)]
    first = np.asarray([dy * nx + a for dy, a, _b in runs], dtype=np.int64)
    last = np.asarray([dy * nx + b for dy, _a, b in runs], dtype=np.int64)
    return first, last


def _settle(sxy: np.ndarray, group: np.ndarray, ask: np.ndarray, best: np.ndarray) -> None:
    from scipy.spatial import cKDTree

    for g in np.unique(group[ask]):
        members = np.nonzero(group == g)[0]
        mine = ask[group[ask] == g]
        _, idx = cKDTree(sxy[members]).query(sxy[mine], k=2)
        first = members[idx[:, 0]]
        other = np.where(first == mine, members[idx[:, 1]], first)
        best[mine] = distance(sxy[:, 0], sxy[:, 1], mine, other)
