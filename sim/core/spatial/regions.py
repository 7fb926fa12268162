"""Which atlas region a point is in, in O(1) per point, from an exact raster of the regions (RegionIndex).

A cell whose centre is farther than half the cell's diagonal from every region edge (and, outside all regions,
farther than the snap distance too) is *pure*: every point in it is in the same region as its centre. Points in
the other (*mixed*) cells get the exact polygon tests, with the same arithmetic as `geometry.points_in_polygon`
and `geometry.closest_on_segments`, against only the regions whose bounding box holds them. The result is
therefore exactly that of testing every point against every polygon (`Atlas.region_index_exact`), in a fraction
of the time. Built once per atlas (or scenario target) and reused, on any number of points at once.
"""

from __future__ import annotations

import math

import numpy as np

from sim.core.spatial.grid import FEW, Grid, crossings, expand, label_type, segment_distance

SMALL = 256
"""Fewer points than this are looked up exactly as long as the raster has not been built."""
EPS_MM = 1e-6
"""Slack on every "is it far enough" test, so float rounding never turns a mixed cell into a pure one."""


def _cell_label(grid: Grid, labels: np.ndarray, x: float, y: float) -> int:
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
        self._rasters: tuple[Grid, np.ndarray, Grid, np.ndarray] | None = None

    # ------------------------------------------------------------ the rasters

    @property
    def rasters(self) -> tuple[Grid, np.ndarray, Grid, np.ndarray]:
        """(fine grid, its labels, coarse grid, its labels). Fine: the region of each pure cell, -1 outside all
        regions, -2 mixed. Coarse, for points outside all regions: the region a pure cell snaps to, -1 beyond
        snap distance, -2 mixed. Built on first use."""
        if self._rasters is None:
            self._rasters = self._build()
        return self._rasters

    @property
    def built(self) -> bool:
        """Whether the rasters exist yet (a few lookups before they do are answered without them)."""
        return self._rasters is not None

    def _build(self) -> tuple[Grid, np.ndarray, Grid, np.ndarray]:
        if not self._polys:
            g = Grid(0.0, 0.0, 1.0, 1, 1)
            return g, np.full((1, 1), -1, dtype=np.int8), g, np.full((1, 1), -1, dtype=np.int8)
        fine = Grid.around(self.bbox, 2 * self._cell + 1.0, self._cell)
        labels = fine.fill(self._polys)
        cells, _, _ = fine.near(self.cur, self.next, fine.half_diagonal + EPS_MM)
        labels.ravel()[cells] = -2  # an edge passes through the cell (or close enough to count)

        coarse = Grid.around(self.bbox, self.snap + 2 * self._snap_cell + 1.0, self._snap_cell)
        outer = np.full((coarse.ny, coarse.nx), -1, dtype=label_type(len(self._polys)))
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
            pair, e = expand(self.edge_count[reg], self.edge_start[reg])
            p = pt[pair]
            cross = crossings(xy[p, 0], xy[p, 1], self.cur[e, 0], self.cur[e, 1], self.prev[e, 0], self.prev[e, 1])
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
        pair, e = expand(self.edge_count[reg], self.edge_start[reg])
        p = todo[pt[pair]]
        d, _ = segment_distance(xy[p, 0], xy[p, 1], self.cur[e, 0], self.cur[e, 1], self.next[e, 0],
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

