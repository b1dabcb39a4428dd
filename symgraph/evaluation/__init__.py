"""Numbers at a point: evaluation, the one interpreter, exact decisions, kinks."""
