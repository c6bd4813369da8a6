"""Bulk imports of customer accounts: jobs that stream a file in, and import it in batches that survive crashes."""
