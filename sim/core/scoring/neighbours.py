"""Each injection's nearest neighbour of the same technique, which the spacing rule judges: for a whole attempt,
for one injection exactly, and kept up to date as injections are added."""

from __future__ import annotations

import numpy as np

from sim.core.scoring.injections import Injections
from sim.core.spatial import distance, nearest_in_group


def _distance(xy: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Distance [mm] between injections i and j, elementwise; the one formula both the whole-attempt and the
    injection-by-injection spacing use."""
    return distance(xy[:, 0], xy[:, 1], i, j)


def nearest_same_technique(xy: np.ndarray, technique: np.ndarray, cap: np.ndarray | None = None) -> np.ndarray:
    """Distance [mm] from each injection to its nearest neighbour of the same technique; NaN when it has none;
    +inf when it is beyond `cap` (its exact value is then worked out only when a finding needs it). A spatial
    grid (sim.core.spatial.neighbours.nearest_in_group): linear in the number of injections, never all pairs."""
    return nearest_in_group(xy, technique, cap)


def exact_nearest(xy: np.ndarray, group: np.ndarray, i: int) -> float:
    """The distance [mm] from injection i to its nearest neighbour of the same group, by the same formula."""
    same = np.nonzero(group == group[i])[0]
    same = same[same != i]
    return float(_distance(xy, same, np.full(len(same), i)).min()) if len(same) else float("nan")


def extend_nearest(nearest: np.ndarray, old: Injections, new: Injections, cap: np.ndarray) -> np.ndarray:
    """nearest_same_technique of old + new, from that of old: each new injection is measured against the ones of
    its technique before it, which may in turn come closer to it than to their old neighbour. `cap` is for all
    of old + new."""
    xy = np.concatenate([old.xy, new.xy])
    technique = np.concatenate([old.technique, new.technique])
    out = np.concatenate([nearest, np.full(len(new), np.nan)])
    for k in range(len(old), len(xy)):
        same = np.nonzero(technique[:k] == technique[k])[0]
        if not len(same):
            continue
        d = _distance(xy, same, np.full(len(same), k))
        out[k] = d.min()
        closer = ~(out[same] <= d)  # NaN (no neighbour yet) too
        out[same[closer]] = d[closer]
    out[out > cap] = np.inf
    return out
