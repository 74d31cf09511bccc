"""Where and how a worker runs: the sandbox tiers, the limits, the calls, the clean-up after it."""
