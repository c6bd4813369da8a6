"""Tenants and their customer sets, sites and settings."""
