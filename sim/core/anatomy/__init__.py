"""The anatomy atlas: landmarks, regions with their skin layers, danger structures and the drawing data, in mm.

files.py reads and validates the atlas files of assets/atlas/<map>/; atlas.py compiles them into the `Atlas` of
one map in one variant (load_atlas), with seeded anatomical variation.
"""
