"""Load benchmark for Gatehouse: `make bench` (or `python -m bench`)."""
