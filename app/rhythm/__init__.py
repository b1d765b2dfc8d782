"""The pair's rhythm: when they meet next, whether they keep the pace they agreed, and calendars."""
