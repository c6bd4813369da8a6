"""Gatehouse: identity and auth for commerce customers."""

__version__ = "0.1.0"
