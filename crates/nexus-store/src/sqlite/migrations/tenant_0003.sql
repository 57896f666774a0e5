-- Tenant database, version 3: shop stations and what they have pushed.
CREATE TABLE stations (
    id blob PRIMARY KEY,
    branch_id blob NOT NULL REFERENCES branches (id),
    name text NOT NULL,
    -- SHA-256 of the one-time enrolment code, until the station trades it for a credential.
    enrolment_code_hash blob UNIQUE,
    enrolment_expires_at bigint,
    -- SHA-256 of the station's credential, once enrolled.
    credential_hash blob UNIQUE,
    enrolled_at bigint,
    revoked_at bigint,
    created_by blob NOT NULL,
    created_at bigint NOT NULL,
    -- What the station said at its last contact, for the dashboard's sync health.
    last_sync_at bigint,
    unsynced_since bigint,
    app_version text,
    -- Highest op seq of this station held with no gap below it.
    acknowledged_seq bigint NOT NULL
);

-- Every op a station pushed, once: (station, seq) and op_id are each unique, so a retry after a
-- lost answer can never apply an op twice.
CREATE TABLE sync_ops (
    station_id blob NOT NULL REFERENCES stations (id),
    seq bigint NOT NULL,
    op_id blob NOT NULL UNIQUE,
    entity text NOT NULL,
    entity_id blob NOT NULL,
    status text NOT NULL CHECK (status IN ('applied', 'rejected')),
    code text,
    message text,
    received_at bigint NOT NULL,
    PRIMARY KEY (station_id, seq)
);
