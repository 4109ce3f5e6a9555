-- DPoP (RFC 9449): sender-constrained tokens. A jkt is the RFC 7638
-- SHA-256 thumbprint (base64url) of the client's public key that a
-- token is bound to; '' means not bound (a bearer token). Keep in step
-- with ../postgres/0016_dpop.sql.

-- dpop_bound_access_tokens (RFC 9449 §5.2): the client must send a
-- proof with every token request.
ALTER TABLE oauth_clients ADD COLUMN dpop_bound INTEGER NOT NULL DEFAULT 0 CHECK (dpop_bound IN (0, 1));
ALTER TABLE oauth_access_tokens ADD COLUMN jkt TEXT NOT NULL DEFAULT '';
-- Refresh tokens of public clients are bound to the key (§5).
ALTER TABLE oauth_refresh_tokens ADD COLUMN jkt TEXT NOT NULL DEFAULT '';
-- dpop_jkt of the authorization request (§10): the code's redemption
-- must carry a proof of that key.
ALTER TABLE oauth_codes ADD COLUMN dpop_jkt TEXT NOT NULL DEFAULT '';
-- API keys and personal access tokens bound to a key: every use needs
-- a proof of it.
ALTER TABLE keys ADD COLUMN jkt TEXT NOT NULL DEFAULT '';
