-- Tenant schema, version 4: the conflict log. When a station's edit of a catalogue field
-- arrives and the field no longer holds the value that station saw, someone else changed it
-- meanwhile: the arriving edit wins (the server's clock orders writes) and both values are kept
-- here for the dashboard.
CREATE TABLE sync_conflicts (
    id blob PRIMARY KEY,
    entity text NOT NULL,
    entity_id blob NOT NULL,
    field text NOT NULL,
    -- JSON values: what the station saw before its edit, what it replaced, and what won.
    base_value text NOT NULL,
    lost_value text NOT NULL,
    won_value text NOT NULL,
    station_id blob NOT NULL,
    op_id blob NOT NULL,
    actor_id blob NOT NULL,
    detected_at bigint NOT NULL
);
CREATE INDEX sync_conflicts_detected ON sync_conflicts (detected_at, id);
