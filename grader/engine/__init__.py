"""Grading runs: one submission, a folder of them, a cluster, a student's own check, Gradescope."""
