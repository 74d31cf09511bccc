import numpy as np


def softplus(z):
    """`log(1 + exp(z))`, element-wise, without overflow for |z| up to 1e4."""
    ### BEGIN SOLUTION
    z = np.asarray(z, dtype=np.float64)
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))
    ### END SOLUTION


def softplus_grad(z):
    """`1 / (1 + exp(-z))`, element-wise, stable for |z| up to 1e4."""
    ### BEGIN SOLUTION
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    ### END SOLUTION
