"""The raster and the exact arithmetic the spatial indexes share: a grid of cells in mm, point-to-segment
distances and the polygon edge-crossing test, each with the operations of sim.core.spatial.geometry in the same
order, so that an index's answer is bit-identical to the plain definition it replaces."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

FEW = 4
"""Up to this many points are looked up one by one in plain Python (a click, the cursor)."""


def expand(counts: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For groups of `counts[k]` consecutive items starting at `starts[k]`: (group of each item, item index)."""
    total = int(counts.sum())
    group = np.repeat(np.arange(len(counts)), counts)
    first = np.cumsum(counts) - counts
    item = np.arange(total) + (starts - first)[group]
    return group, item


def segment_distance(px, py, ax, ay, bx, by):
    """Distance from each point to segment a->b and the parameter t of the closest point, elementwise; the same
    operations in the same order as geometry.closest_on_segments, so the results are bit-identical."""
    abx, aby = bx - ax, by - ay
    return segment_distance_ab(px, py, ax, ay, abx, aby, abx * abx + aby * aby)


def segment_distance_ab(px, py, ax, ay, abx, aby, length2):
    """segment_distance from a, b - a and |b - a|^2, when those are kept per segment."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(length2 > 0, ((px - ax) * abx + (py - ay) * aby) / np.where(length2 > 0, length2, 1.0), 0.0)
    t = np.clip(t, 0.0, 1.0)
    dx = px - (ax + t * abx)
    dy = py - (ay + t * aby)
    return np.sqrt(dx ** 2 + dy ** 2), t


def crossings(px, py, xi, yi, xj, yj):
    """The even-odd ray test of geometry.points_in_polygon for one edge (xj, yj) -> (xi, yi), elementwise."""
    crosses = (yi > py) != (yj > py)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_at = (xj - xi) * (py - yi) / (yj - yi) + xi
    return crosses & (px < x_at)


def label_type(n: int):
    """The smallest integer type for labels 0..n-1 and -2, -1: a small raster stays in the processor's cache."""
    return np.int8 if n < 127 else np.int16 if n < 32767 else np.int32


@dataclass(frozen=True)
class Grid:
    """A raster: cell (j, i) covers [x0 + i*cell, x0 + (i+1)*cell) x [y0 + j*cell, y0 + (j+1)*cell)."""

    x0: float
    y0: float
    cell: float
    nx: int
    ny: int

    @classmethod
    def around(cls, bbox: np.ndarray, pad: float, cell: float) -> Grid:
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
        labels = np.full((self.ny, self.nx), -1, dtype=label_type(len(polys)))
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
            d, _ = segment_distance(gx.ravel(), gy.ravel(), p[0], p[1], q[0], q[1])
            sel = np.nonzero(d <= reach)[0]
            jj, ii = np.divmod(sel, i1 - i0)
            cells.append((jj + j0) * self.nx + ii + i0)
            edges.append(np.full(len(sel), k, dtype=np.int64))
            dists.append(d[sel])
        if not cells:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
        return np.concatenate(cells), np.concatenate(edges), np.concatenate(dists)

