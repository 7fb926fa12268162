"""Plane geometry in mm and the spatial indexes that keep scoring linear: regions, danger, coverage, neighbours."""
