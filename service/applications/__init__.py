"""API clients of a tenant: their credentials and behaviors, and the Kibo app auth tickets they use."""
