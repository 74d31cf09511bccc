"""Auto-grading for NumPy neural-network assignments."""

import os

# One BLAS thread per grading thread, set before anything imports NumPy: the grader judges
# several submissions at once on threads, and several threads calling a threaded OpenBLAS at
# once can deadlock (a batch then hangs inside a judge). The workers get the same setting from
# `grader.isolation.sandbox`.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"
del _name

__version__ = "0.1.0"
