"""The test cells of softplus's master notebook, word for word (never run).

Rewrite each as a check in checks_visible.py or checks_hidden.py: see
examples/master-notebook/README.md for a worked example.
"""

CELLS = [
    # code cell 6; points: 2; hidden: partly; question: 'test_softplus'
    (
        "assert np.isclose(softplus(0.0), np.log(2.0))\n"
        "assert np.isfinite(softplus(1e4))\n"
        "### BEGIN HIDDEN TESTS\n"
        "assert np.isclose(softplus(-1e4), 0.0)\n"
        "### END HIDDEN TESTS"
    ),
    # code cell 7; points: 1; hidden: no; question: 'test_softplus_grad'
    (
        "assert np.isclose(softplus_grad(0.0), 0.5)"
    ),
]
