-- Tenant schema, version 3: shop stations, what they pushed, and the change log they pull.
CREATE TABLE stations (
    id uuid PRIMARY KEY,
    branch_id uuid NOT NULL REFERENCES branches (id),
    name text NOT NULL,
    -- SHA-256 of the one-time enrolment code, until the station trades it for a credential.
    enrolment_code_hash bytea UNIQUE,
    enrolment_expires_at bigint,
    -- SHA-256 of the station's credential, once enrolled.
    credential_hash bytea UNIQUE,
    enrolled_at bigint,
    revoked_at bigint,
    created_by uuid NOT NULL,
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
    station_id uuid NOT NULL REFERENCES stations (id),
    seq bigint NOT NULL,
    op_id uuid NOT NULL UNIQUE,
    entity text NOT NULL,
    entity_id uuid NOT NULL,
    status text NOT NULL CHECK (status IN ('applied', 'rejected')),
    code text,
    message text,
    received_at bigint NOT NULL,
    PRIMARY KEY (station_id, seq)
);

-- The change log stations pull from. Writers take the counter row's lock, so seqs become
-- visible in commit order and a station's cursor never skips a change committed late.
CREATE TABLE change_counter (
    id integer PRIMARY KEY CHECK (id = 1),
    last_seq bigint NOT NULL
);
INSERT INTO change_counter (id, last_seq) VALUES (1, 0);

CREATE TABLE changes (
    seq bigint PRIMARY KEY,
    entity text NOT NULL,
    entity_id uuid NOT NULL,
    -- NULL: for every station of the tenant; otherwise only for that branch's stations.
    branch_id uuid,
    -- The record as it now is, as JSON.
    payload text NOT NULL,
    changed_at bigint NOT NULL
);
CREATE INDEX changes_branch ON changes (branch_id, seq);

-- The settings a tenant starts with (migration 2 wrote them) are the first change a new
-- station pulls. Migrations 2 and 3 run together when a tenant is provisioned.
INSERT INTO changes (seq, entity, entity_id, branch_id, payload, changed_at)
VALUES (1, 'settings', '00000000-0000-0000-0000-000000000000', NULL, '{"currency":"GHS","tax":{"enabled":true,"mode":"inclusive","levies":[{"code":"VAT","name":"VAT","rate_basis_points":1500},{"code":"NHIL","name":"NHIL","rate_basis_points":250},{"code":"GETFUND","name":"GETFund Levy","rate_basis_points":250}]},"time_zone":"Africa/Accra"}', 0);
UPDATE change_counter SET last_seq = 1;
