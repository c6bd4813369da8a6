"""Bringing customers over from another shop: bulk import jobs that stream a file in and import it in batches
that survive crashes, and the password hashes that shop stored (hash_formats.py)."""
