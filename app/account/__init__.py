"""A person's own account: their passkeys and recovery codes."""
