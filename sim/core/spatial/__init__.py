"""Plane geometry in mm and the spatial indexes that keep scoring linear in the number of injections.

geometry.py (polygons, segments), grid.py (the raster and arithmetic the indexes share), regions.py (which region
a point is in), danger.py (which danger structures a needle tip reaches), coverage.py (the target cells within
reach), neighbours.py (nearest injection of the same technique), kernels.py (compiled loops for large batches).
Nothing here knows the atlas, an exercise or a score.
"""

from sim.core.spatial.coverage import CoverageGrid
from sim.core.spatial.danger import DangerHits, DangerIndex
from sim.core.spatial.neighbours import distance, nearest_in_group
from sim.core.spatial.regions import RegionIndex

__all__ = ["CoverageGrid", "DangerHits", "DangerIndex", "RegionIndex", "distance", "nearest_in_group"]
