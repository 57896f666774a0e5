-- Mobile-money reconciliation: the column layout of each network's merchant statement, the
-- statements uploaded (each once, known by its content's hash), the payments they list (each
-- transaction id once per network, however many statements repeat it), and one verdict per
-- mobile-money tender, which a manager may sign off with a note.
CREATE TABLE momo_mappings (
    network text PRIMARY KEY CHECK (network IN ('mtn', 'telecel', 'airteltigo')),
    transaction_id_column text NOT NULL,
    time_column text NOT NULL,
    amount_column text NOT NULL,
    payer_column text,
    status_column text,
    time_format text NOT NULL,
    updated_at bigint NOT NULL,
    updated_by uuid NOT NULL
);

CREATE TABLE momo_statements (
    id uuid PRIMARY KEY,
    network text NOT NULL CHECK (network IN ('mtn', 'telecel', 'airteltigo')),
    content_hash text NOT NULL UNIQUE,
    uploaded_at bigint NOT NULL,
    uploaded_by uuid NOT NULL,
    payments bigint NOT NULL,
    first_at bigint,
    last_at bigint,
    matched bigint NOT NULL,
    amount_differs bigint NOT NULL,
    not_found bigint NOT NULL,
    claimed_twice bigint NOT NULL
);
CREATE INDEX momo_statements_uploaded ON momo_statements (uploaded_at, id);

-- The transaction id is kept as compared: trimmed and lower-cased.
CREATE TABLE momo_payments (
    network text NOT NULL,
    transaction_id text NOT NULL,
    statement_id uuid NOT NULL,
    paid_at bigint NOT NULL,
    amount_minor bigint NOT NULL,
    payer text,
    PRIMARY KEY (network, transaction_id)
);

-- No reference to sale_tenders: a verdict is about the tender, kept by its sale and position.
CREATE TABLE momo_verdicts (
    sale_id uuid NOT NULL,
    position integer NOT NULL,
    network text NOT NULL,
    reference text NOT NULL,
    amount_minor bigint NOT NULL,
    occurred_at bigint NOT NULL,
    state text NOT NULL CHECK (state IN ('matched', 'amount_differs', 'not_found', 'claimed_twice')),
    statement_id uuid NOT NULL,
    statement_amount_minor bigint,
    decided_at bigint NOT NULL,
    signed_off_by uuid,
    signed_off_at bigint,
    note text,
    PRIMARY KEY (sale_id, position)
);
CREATE INDEX momo_verdicts_state ON momo_verdicts (state, decided_at);

-- Request to pay: the network account the shop collects into (its secrets are never shown
-- back), and each request a till made, known by the reference the till chose, which the network
-- also takes as its idempotency key: a request sent twice is one charge.
CREATE TABLE momo_accounts (
    network text PRIMARY KEY CHECK (network IN ('mtn', 'telecel', 'airteltigo')),
    api_user text NOT NULL,
    api_key text NOT NULL,
    subscription_key text NOT NULL,
    target_environment text NOT NULL,
    currency_code text,
    updated_at bigint NOT NULL,
    updated_by uuid NOT NULL
);

CREATE TABLE momo_requests (
    id uuid PRIMARY KEY,
    network text NOT NULL,
    phone text NOT NULL,
    amount_minor bigint NOT NULL,
    currency_code text NOT NULL,
    station_id uuid,
    state text NOT NULL CHECK (state IN ('sending', 'pending', 'paid', 'failed')),
    reason text,
    transaction_id text,
    sale_id uuid,
    created_at bigint NOT NULL,
    checked_at bigint NOT NULL,
    updated_at bigint NOT NULL
);
-- Lower-cased and trimmed, as a tender's reference is compared; one payment verifies one tender.
CREATE UNIQUE INDEX momo_requests_transaction ON momo_requests (network, transaction_id);
CREATE INDEX momo_requests_open ON momo_requests (state, checked_at);
