"""Ending well: closing a pair (early, at its end date or the program's, or when a person leaves),
what a closed pair keeps, deleting one's account, and deleting programs' content once their
retention has run out."""
