"""Signing in without passwords: passkeys first, one-time links and recovery codes as the way back."""
