"""Customer accounts, their logins and passwords, and their contacts (Kibo's customer-account API)."""
