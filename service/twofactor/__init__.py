"""Second factors and account protection: 2FA challenges, authenticator apps (TOTP), recovery
codes, trusted devices, passwordless email codes, lockout and per-address throttling."""
