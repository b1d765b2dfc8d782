"""The session journal: agenda, notes, action items, private reflections."""
