"""When the pair meets next, whether they keep the pace they agreed, and their calendar feeds."""
