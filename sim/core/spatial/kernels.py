"""Compiled loops for scoring many injections at once (re-scoring a cohort, a very large attempt).

numba compiles the plain Python loops below to machine code on first use and keeps the result in its cache
(next to this file, or in the user's cache folder when that is read-only), so only the first use after an install
pays the compilation (about 1.5 s). numba is imported only when a compiled loop is asked for: a click, the trainer
and a single attempt never load it (sim.core.spatial.neighbours uses these loops from COMPILED_MIN points up).
Without numba (a platform it does not support) the same results come from the numpy code they replace.

Each loop does exactly the arithmetic of the numpy code it stands in for, in the same order, so that the results
are the same to the last bit (tests/core/test_spatial.py compares the two on random input).
"""

from __future__ import annotations

import functools
import math

import numpy as np


def ring_search(sx, sy, scell, first_in, end_in, nx, h, cap, rings, ask, best):
    """The ring search of neighbours.nearest_in_group, one point at a time.

    Points sorted by grid cell (sx, sy, scell); the points of cell c are [first_in[c], end_in[c]). For each
    sorted position p in `ask`: best[p] = the distance to the nearest other point found within `rings` rings of
    cells, +inf when the ring reached beyond cap[p] first. Returns the positions still unsettled after the last
    ring (best[p] then holds the nearest found so far), for the caller to settle another way."""
    left = np.empty(len(ask), dtype=np.int64)
    n_left = 0
    for k in range(len(ask)):
        p = ask[k]
        c = scell[p]
        px = sx[p]
        py = sy[p]
        b = np.inf  # least squared distance so far
        settled = False
        for ring in range(1, rings + 1):
            for dy in range(-ring, ring + 1):
                row = c + dy * nx
                # the top and bottom rows (all of ring 1's rows) are one run of 2 * ring + 1 cells; the rows
                # between have two runs of one cell, at either end
                whole = dy == -ring or dy == ring or ring == 1
                for lo in range(row - ring, row + ring + 1, 2 * ring + 1 if whole else 2 * ring):
                    hi = row + ring if whole else lo
                    for q in range(first_in[lo], end_in[hi]):
                        if q != p:
                            ddx = px - sx[q]
                            ddy = py - sy[q]
                            d2 = ddx * ddx + ddy * ddy
                            if d2 < b:
                                b = d2
            reach = ring * h * (1 - 1e-9)  # every point closer than this has been seen
            s = math.sqrt(b)
            if s < reach and s <= cap[p]:
                best[p] = s
                settled = True
                break
            if reach > cap[p]:
                best[p] = np.inf
                settled = True
                break
        if not settled:
            best[p] = math.sqrt(b)
            left[n_left] = p
            n_left += 1
    return left[:n_left]


@functools.lru_cache(maxsize=None)
def compiled(name: str):
    """The compiled version of the loop called `name`, or None when numba cannot be loaded."""
    try:
        import numba
    except ImportError:
        return None
    return numba.njit(cache=True, nogil=True)(globals()[name])
