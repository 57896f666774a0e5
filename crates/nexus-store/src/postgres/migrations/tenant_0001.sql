-- Tenant schema, version 1: branches, staff, sessions. Runs with search_path set to the tenant's
-- own schema, so names are unqualified. Times are Unix milliseconds.
CREATE TABLE branches (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    -- The name folded to lowercase (Unicode rules) by Nexus, so both backends compare alike.
    name_key text NOT NULL,
    address text,
    created_at bigint NOT NULL,
    archived_at bigint
);
-- Two open shops of one organisation never share a name.
CREATE UNIQUE INDEX branches_open_name ON branches (name_key) WHERE archived_at IS NULL;

CREATE TABLE users (
    id uuid PRIMARY KEY,
    email text NOT NULL UNIQUE,
    name text NOT NULL,
    role text NOT NULL CHECK (role IN ('owner', 'manager', 'cashier')),
    password_hash text,
    pin_hash text,
    active boolean NOT NULL,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL
);

CREATE TABLE user_branches (
    user_id uuid NOT NULL REFERENCES users (id),
    branch_id uuid NOT NULL REFERENCES branches (id),
    PRIMARY KEY (user_id, branch_id)
);

-- A session is one sign-in: the family of refresh tokens rotated from it.
CREATE TABLE sessions (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id),
    created_at bigint NOT NULL,
    revoked_at bigint
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE refresh_tokens (
    token_hash bytea PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES sessions (id),
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL,
    rotated_at bigint
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);
