"""Token formats and the standards surface: signing keys, JWT access tokens, JWKS, discovery,
RFC 7662 introspection and RFC 7009 revocation."""
