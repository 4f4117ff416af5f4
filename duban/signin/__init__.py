"""Signing in: the portal's accounts (accounts), the passwords people choose (password_policy), the second
factor (second_factor), and the limits on guessing a secret (guessing)."""
