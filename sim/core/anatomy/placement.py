"""Placing canonical atlas coordinates in a variant: the landmark warp, and the clip of an area by landmark heights."""

from __future__ import annotations

import numpy as np


def landmark_warp(canonical: np.ndarray, own: np.ndarray):
    """A map of points [mm] that takes each canonical landmark to the variant's own position exactly and moves
    every other point by the landmarks' moves blended by inverse squared distance (Shepard interpolation): a
    point follows the landmarks nearest to it. `canonical`, `own`: (n, 2) the same landmarks in both."""
    canonical = np.asarray(canonical, dtype=np.float64).reshape(-1, 2)
    move = np.asarray(own, dtype=np.float64).reshape(-1, 2) - canonical

    def warp(points: np.ndarray) -> np.ndarray:
        p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        if not len(canonical) or not len(p):
            return p.copy()
        d2 = ((p[:, None, :] - canonical[None, :, :]) ** 2).sum(axis=2)
        on = d2 < 1e-12
        w = 1.0 / np.where(on, 1.0, d2)
        w[on.any(axis=1)] = on[on.any(axis=1)]  # on a landmark: exactly its move
        return p + (w @ move) / w.sum(axis=1, keepdims=True)

    return warp


def clip_y(polygon: np.ndarray, y_min: float | None, y_max: float | None) -> np.ndarray:
    """The part of a convex polygon [mm] between two heights (either may be None: no limit there)."""
    poly = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
    for limit, keep_below in ((y_max, True), (y_min, False)):
        if limit is None:
            continue
        out = []
        for k in range(len(poly)):
            p, q = poly[k], poly[(k + 1) % len(poly)]
            p_in = p[1] <= limit if keep_below else p[1] >= limit
            q_in = q[1] <= limit if keep_below else q[1] >= limit
            if p_in:
                out.append(p)
            if p_in != q_in:
                t = (limit - p[1]) / (q[1] - p[1])
                out.append(p + t * (q - p))
        poly = np.asarray(out, dtype=np.float64).reshape(-1, 2)
    return poly
