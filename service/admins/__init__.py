"""Platform and tenant administrators: their accounts, their bearer tokens, what each may touch."""
