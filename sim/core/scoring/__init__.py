"""The scoring engine: pure functions over numpy arrays from an attempt's injections to a score report."""
