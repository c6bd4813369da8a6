"""Customer authentication: logins, sessions, refresh rotation, logout (Kibo's auth tickets)."""
