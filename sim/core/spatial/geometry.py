"""Plane geometry in millimetres, vectorised over many points with numpy."""

from __future__ import annotations

import numpy as np

Array = np.ndarray


def as_points(points) -> Array:
    arr = np.asarray(points, dtype=np.float64)
    return arr.reshape(-1, 2)


def points_in_polygon(points: Array, polygon: Array) -> Array:
    """Inside test (even-odd rule) for every point [mm] against one polygon [mm]; boundary points may go either way."""
    pts = as_points(points)
    poly = as_points(polygon)
    x, y = pts[:, 0], pts[:, 1]
    inside = np.zeros(len(pts), dtype=bool)
    xj, yj = poly[-1]
    for xi, yi in poly:
        crosses = (yi > y) != (yj > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_at = (xj - xi) * (y - yi) / (yj - yi) + xi
        inside ^= crosses & (x < x_at)
        xj, yj = xi, yi
    return inside


def polygon_area(polygon: Array) -> float:
    """Unsigned area [mm^2] by the shoelace formula."""
    p = as_points(polygon)
    x, y = p[:, 0], p[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2.0)


def _segments_cross(a, b, c, d) -> bool:
    """Proper or touching intersection of segments ab and cd."""

    def orient(p, q, r):
        v = (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])
        return 0 if abs(v) < 1e-12 else (1 if v > 0 else -1)

    def on(p, q, r):
        return min(p[0], r[0]) <= q[0] <= max(p[0], r[0]) and min(p[1], r[1]) <= q[1] <= max(p[1], r[1])

    o1, o2, o3, o4 = orient(a, b, c), orient(a, b, d), orient(c, d, a), orient(c, d, b)
    if o1 != o2 and o3 != o4:
        return True
    return (o1 == 0 and on(a, c, b)) or (o2 == 0 and on(a, d, b)) or (o3 == 0 and on(c, a, d)) or (
        o4 == 0 and on(c, b, d))


def polygon_problem(polygon) -> str | None:
    """Why a polygon cannot be used as an area (too few points, no area, crossing edges), or None."""
    p = as_points(polygon)
    if len(p) < 3:
        return "a polygon needs at least 3 points"
    if not np.all(np.isfinite(p)):
        return "polygon points must be finite numbers"
    if polygon_area(p) < 1e-6:
        return "the polygon has no area (its points are on one line or repeated)"
    n = len(p)
    for i in range(n):
        a, b = p[i], p[(i + 1) % n]
        for j in range(i + 1, n):
            if j == i or (j + 1) % n == i or j == (i + 1) % n:
                continue
            c, d = p[j], p[(j + 1) % n]
            if _segments_cross(a, b, c, d):
                return f"the polygon's edges cross each other (edge {i + 1} and edge {j + 1})"
    return None


def closest_on_segments(points: Array, a: Array, b: Array) -> tuple[Array, Array]:
    """Distance [mm] and parameter t in [0, 1] of the closest point on each segment a->b, for every point.

    Returns two (N, S) arrays. A segment with a == b is a point.
    """
    pts = as_points(points)[:, None, :]
    a = as_points(a)[None, :, :]
    ab = as_points(b)[None, :, :] - a
    length2 = np.sum(ab * ab, axis=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(length2 > 0, np.sum((pts - a) * ab, axis=2) / np.where(length2 > 0, length2, 1.0), 0.0)
    t = np.clip(t, 0.0, 1.0)
    nearest = a + t[:, :, None] * ab
    dist = np.sqrt(np.sum((pts - nearest) ** 2, axis=2))
    return dist, t


def ellipse_polygon(center, semi_axes, n: int = 48) -> Array:
    """An ellipse [mm] as an n-gon."""
    theta = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    cx, cy = center
    ax, ay = semi_axes
    return np.stack([cx + ax * np.cos(theta), cy + ay * np.sin(theta)], axis=1)


def mirror_x(points: Array) -> Array:
    p = as_points(points).copy()
    p[:, 0] = -p[:, 0]
    return p
