-- Per-tenant signing keys for JWT access tokens. The current key signs; the previous key stays in
-- the JWKS so tokens it signed keep verifying until they expire.
CREATE TABLE signing_keys (
    kid          text        PRIMARY KEY,
    tenant_id    integer     NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    algorithm    text        NOT NULL CHECK (algorithm IN ('ES256', 'RS256', 'EdDSA')),
    private_pem  text        NOT NULL,
    public_jwk   jsonb       NOT NULL,
    status       text        NOT NULL CHECK (status IN ('current', 'previous', 'retired')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    retired_at   timestamptz
);
CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys (tenant_id) WHERE status = 'current';
CREATE UNIQUE INDEX signing_keys_one_previous ON signing_keys (tenant_id) WHERE status = 'previous';
