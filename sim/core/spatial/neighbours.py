"""Distance from each injection to its nearest neighbour of the same group (technique), on a uniform grid
(nearest_in_group): linear in the number of points, never all pairs; large batches run the compiled loop of
sim.core.spatial.kernels."""

from __future__ import annotations

import math

import numpy as np

from sim.core.spatial.kernels import compiled

RINGS = 6
"""Rings of grid cells searched around a point before a k-d tree of its group settles it."""
CELL_PER_SPACING = 0.7
"""Grid cell size against the typical spacing within a group: smaller cells, fewer candidates, more rings."""
COMPILED_MIN = 8192
"""From this many points on, the ring search runs compiled (sim.core.spatial.kernels, when numba is there): below it,
loading the compiler would cost more than it saves."""


def distance(x: np.ndarray, y: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Distance between points i and j, elementwise: the one formula for nearest-neighbour distances, so that
    every way of finding the neighbour gives the same number (nearest_in_group takes the square root of the
    least square, the same number since the square root is monotonic)."""
    return np.sqrt((x[i] - x[j]) ** 2 + (y[i] - y[j]) ** 2)


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
