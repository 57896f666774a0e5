-- Tenant schema, version 5: shifts and customers, as tills record them, and the shift and
-- customer a sale belongs to.
CREATE TABLE shifts (
    id uuid PRIMARY KEY,
    branch_id uuid NOT NULL REFERENCES branches (id),
    station_id uuid NOT NULL REFERENCES stations (id),
    cashier_id uuid NOT NULL REFERENCES users (id),
    opened_at bigint NOT NULL,
    float_minor bigint NOT NULL,
    -- NULL while the shift is open.
    closed_at bigint,
    closed_by uuid REFERENCES users (id),
    recorded_at bigint NOT NULL
);
CREATE INDEX shifts_branch_opened ON shifts (branch_id, opened_at);
CREATE INDEX shifts_opened ON shifts (opened_at);

-- The close figures: one row per tender counted.
CREATE TABLE shift_tenders (
    shift_id uuid NOT NULL REFERENCES shifts (id),
    tender text NOT NULL CHECK (tender IN ('cash', 'momo', 'card')),
    expected_minor bigint NOT NULL,
    counted_minor bigint NOT NULL,
    PRIMARY KEY (shift_id, tender)
);

CREATE TABLE customers (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    -- Lowercased name, for case-insensitive search.
    search_name text NOT NULL,
    phone text,
    created_at bigint NOT NULL,
    created_by uuid NOT NULL REFERENCES users (id)
);
CREATE INDEX customers_search_name ON customers (search_name);
CREATE INDEX customers_phone ON customers (phone);

-- No references: a sale is never refused because its shift or customer op was (sales are
-- append-only and must not be lost), so these may name a record the server does not have.
ALTER TABLE sales ADD COLUMN shift_id uuid;
ALTER TABLE sales ADD COLUMN customer_id uuid;
CREATE INDEX sales_shift ON sales (shift_id);
