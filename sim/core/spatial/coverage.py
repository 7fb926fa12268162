"""Coverage of a target area: a grid of cells inside the target polygons and the cells within reach of the
injections, marked row by row (CoverageGrid)."""

from __future__ import annotations

import numpy as np

from sim.core.spatial.geometry import points_in_polygon
from sim.core.spatial.grid import expand


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
        pt, row = expand(np.maximum(j_hi - j_lo, 0), j_lo)
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

