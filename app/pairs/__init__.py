"""The pair space: the list of a person's pairs, and the parent blueprint every pair route hangs under."""
