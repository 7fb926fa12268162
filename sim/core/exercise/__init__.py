"""Exercises: the technique library, scenario files and their templates and schema, the screening catalogue."""
