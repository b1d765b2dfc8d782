"""The goal board: what each of the two wants to learn."""
