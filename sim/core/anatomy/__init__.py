"""The anatomy atlas: landmarks, regions with their skin layers, danger structures and the drawing data, in mm."""
