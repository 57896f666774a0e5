-- Tenant schema, version 7: what the merchant dashboard keeps.
-- A station's last contact (any push or pull), apart from its last push (last_sync_at).
ALTER TABLE stations ADD COLUMN last_contact_at bigint;

-- Dashboard sessions: a cookie's token (hashed) on an API session, so that signing out,
-- deactivation and revoking the session end both; with its CSRF token and last activity.
CREATE TABLE web_sessions (
    token_hash bytea PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES sessions (id),
    csrf_token text NOT NULL,
    created_at bigint NOT NULL,
    last_seen_at bigint NOT NULL
);
CREATE INDEX web_sessions_session ON web_sessions (session_id);

-- Password resets by email: a one-time token (hashed), valid for a while.
CREATE TABLE password_resets (
    token_hash bytea PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id),
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL,
    used_at bigint
);

-- The shop as its receipts and dashboard name it, and the first-run steps set aside.
CREATE TABLE shop_details (
    id integer PRIMARY KEY,
    trading_name text,
    address text,
    phone text,
    tin text,
    receipt_footer text,
    skipped_steps text NOT NULL,
    updated_at bigint NOT NULL
);
INSERT INTO shop_details (id, skipped_steps, updated_at) VALUES (1, '', 0);
