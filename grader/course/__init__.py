"""A course on disk: its assignments, reference and expected values, and what students get of it."""
