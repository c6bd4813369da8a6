"""Bringing customers over from another shop: their accounts, and their passwords in the hashes that shop stored."""
