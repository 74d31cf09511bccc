def sigmoid(z):
    import numpy as np
    return 1 / (1 + np.exp(-z))
