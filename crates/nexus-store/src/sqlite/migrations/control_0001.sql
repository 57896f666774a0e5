-- control.db, version 1: the tenants directory, the login directory, sign-in throttling,
-- server secrets. Lives in its own file beside the tenant files.
CREATE TABLE tenants (
    id blob PRIMARY KEY,
    name text NOT NULL,
    schema_version integer NOT NULL,
    created_at bigint NOT NULL
);
CREATE INDEX tenants_schema_version ON tenants (schema_version);

-- One email signs in to exactly one tenant.
CREATE TABLE logins (
    email text PRIMARY KEY,
    tenant_id blob NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id blob NOT NULL UNIQUE
);

CREATE TABLE login_throttle (
    email text PRIMARY KEY,
    failures integer NOT NULL,
    blocked_until bigint NOT NULL
);

CREATE TABLE server_secrets (
    name text PRIMARY KEY,
    secret blob NOT NULL
);
