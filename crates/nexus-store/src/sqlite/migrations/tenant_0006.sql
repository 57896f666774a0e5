-- Tenant schema, version 6: background jobs (a catalogue import runs in short transactions and
-- reports its progress here, readable from any server process), and the exceptions of sales that
-- arrived by sync although their price or discount was beyond the named staff member's rights.
CREATE TABLE jobs (
    id blob PRIMARY KEY,
    kind text NOT NULL,
    state text NOT NULL,
    rows_total bigint NOT NULL,
    rows_done bigint NOT NULL,
    -- JSON: the outcome (counts) once finished, and every per-line error found.
    outcome text,
    errors text NOT NULL,
    message text,
    created_by blob NOT NULL,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL
);
CREATE INDEX jobs_created_at ON jobs (created_at);

CREATE TABLE sale_exceptions (
    id blob PRIMARY KEY,
    sale_id blob NOT NULL,
    station_id blob,
    op_id blob,
    staff_id blob NOT NULL,
    kind text NOT NULL,
    detail text NOT NULL,
    detected_at bigint NOT NULL
);
CREATE INDEX sale_exceptions_detected_at ON sale_exceptions (detected_at, id);
