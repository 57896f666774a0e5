-- Control schema, version 1: the tenants directory, the login directory, sign-in throttling,
-- server secrets. Always schema-qualified; no tenant table refers to these.
CREATE TABLE nexus_control.tenants (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    schema_version integer NOT NULL,
    created_at bigint NOT NULL
);
CREATE INDEX tenants_schema_version ON nexus_control.tenants (schema_version);

-- One email signs in to exactly one tenant.
CREATE TABLE nexus_control.logins (
    email text PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES nexus_control.tenants (id) ON DELETE CASCADE,
    user_id uuid NOT NULL UNIQUE
);

CREATE TABLE nexus_control.login_throttle (
    email text PRIMARY KEY,
    failures integer NOT NULL,
    blocked_until bigint NOT NULL
);

CREATE TABLE nexus_control.server_secrets (
    name text PRIMARY KEY,
    secret bytea NOT NULL
);
