"""People's own data: an export of everything that is theirs, as one ZIP, kept for a day."""
