"""Feedback prompts: short two-way check-ins on what works."""
