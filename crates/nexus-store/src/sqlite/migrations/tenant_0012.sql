-- Customer accounts: sales on credit, refunds to the account and payments on account, kept as a
-- ledger whose sum is what each customer owes.

-- SQLite cannot change a check constraint in place: the two tender tables are rebuilt with
-- credit among their kinds.
CREATE TABLE sale_tenders_with_credit (
    sale_id blob NOT NULL REFERENCES sales (id),
    position integer NOT NULL,
    kind text NOT NULL CHECK (kind IN ('cash', 'momo', 'card', 'credit')),
    amount_minor bigint NOT NULL,
    network text,
    phone text,
    reference text,
    verified integer NOT NULL,
    PRIMARY KEY (sale_id, position)
);
INSERT INTO sale_tenders_with_credit
    SELECT sale_id, position, kind, amount_minor, network, phone, reference, verified FROM sale_tenders;
DROP TABLE sale_tenders;
ALTER TABLE sale_tenders_with_credit RENAME TO sale_tenders;

CREATE TABLE shift_tenders_with_credit (
    shift_id blob NOT NULL REFERENCES shifts (id),
    tender text NOT NULL CHECK (tender IN ('cash', 'momo', 'card', 'credit')),
    expected_minor bigint NOT NULL,
    counted_minor bigint NOT NULL,
    PRIMARY KEY (shift_id, tender)
);
INSERT INTO shift_tenders_with_credit
    SELECT shift_id, tender, expected_minor, counted_minor FROM shift_tenders;
DROP TABLE shift_tenders;
ALTER TABLE shift_tenders_with_credit RENAME TO shift_tenders;

-- One row per entry, its id the sale's, refund's or payment's own, so a retried push or payment
-- is the same row. No reference to customers: a till's sale may name a customer whose own op
-- has not arrived yet, and the entry must not be lost.
CREATE TABLE account_entries (
    id blob PRIMARY KEY,
    customer_id blob NOT NULL,
    kind text NOT NULL CHECK (kind IN ('sale', 'refund', 'payment')),
    -- What it adds to what the customer owes: payments and refunds are negative.
    amount_minor bigint NOT NULL,
    occurred_at bigint NOT NULL,
    recorded_at bigint NOT NULL,
    recorded_by blob NOT NULL,
    branch_id blob,
    station_id blob,
    shift_id blob,
    receipt_number text,
    -- How a payment was made (cash or momo), with the mobile-money details as a tender's.
    payment_kind text CHECK (payment_kind IN ('cash', 'momo')),
    network text,
    phone text,
    reference text,
    verified integer NOT NULL DEFAULT 1
);
CREATE INDEX account_entries_customer ON account_entries (customer_id, occurred_at, id);
CREATE INDEX account_entries_shift ON account_entries (shift_id) WHERE shift_id IS NOT NULL;
