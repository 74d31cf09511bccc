"""Auto-grading for NumPy neural-network assignments."""

__version__ = "0.1.0"
