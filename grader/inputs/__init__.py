"""Submissions as they arrive: folders, LMS downloads, zips, notebooks, read safely."""
