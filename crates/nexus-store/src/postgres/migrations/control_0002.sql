-- Control schema, version 2: throttles keyed by what they slow down (an account, an account from
-- one address, registrations from one address), replacing the per-email sign-in throttle. Rows
-- are short-lived; those untouched for a day are removed as new attempts come.
DROP TABLE nexus_control.login_throttle;
CREATE TABLE nexus_control.throttles (
    key text PRIMARY KEY,
    attempts integer NOT NULL,
    blocked_until bigint NOT NULL,
    window_started bigint NOT NULL,
    touched_at bigint NOT NULL
);
CREATE INDEX throttles_touched_at ON nexus_control.throttles (touched_at);
