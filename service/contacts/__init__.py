"""A customer account's address book: contacts with types (Billing, Shipping), address and phones."""
