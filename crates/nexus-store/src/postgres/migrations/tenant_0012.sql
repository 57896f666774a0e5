-- Customer accounts: sales on credit, refunds to the account and payments on account, kept as a
-- ledger whose sum is what each customer owes.

ALTER TABLE sale_tenders DROP CONSTRAINT sale_tenders_kind_check;
ALTER TABLE sale_tenders ADD CONSTRAINT sale_tenders_kind_check
    CHECK (kind IN ('cash', 'momo', 'card', 'credit'));
ALTER TABLE shift_tenders DROP CONSTRAINT shift_tenders_tender_check;
ALTER TABLE shift_tenders ADD CONSTRAINT shift_tenders_tender_check
    CHECK (tender IN ('cash', 'momo', 'card', 'credit'));

-- One row per entry, its id the sale's, refund's or payment's own, so a retried push or payment
-- is the same row. No reference to customers: a till's sale may name a customer whose own op
-- has not arrived yet, and the entry must not be lost.
CREATE TABLE account_entries (
    id uuid PRIMARY KEY,
    customer_id uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN ('sale', 'refund', 'payment')),
    -- What it adds to what the customer owes: payments and refunds are negative.
    amount_minor bigint NOT NULL,
    occurred_at bigint NOT NULL,
    recorded_at bigint NOT NULL,
    recorded_by uuid NOT NULL,
    branch_id uuid,
    station_id uuid,
    shift_id uuid,
    receipt_number text,
    -- How a payment was made (cash or momo), with the mobile-money details as a tender's.
    payment_kind text CHECK (payment_kind IN ('cash', 'momo')),
    network text,
    phone text,
    reference text,
    verified boolean NOT NULL DEFAULT TRUE
);
CREATE INDEX account_entries_customer ON account_entries (customer_id, occurred_at, id);
CREATE INDEX account_entries_shift ON account_entries (shift_id) WHERE shift_id IS NOT NULL;

-- Citus schema-based sharding wants a primary key on every table of a distributed schema; the
-- version row was the one table without.
ALTER TABLE schema_version ADD PRIMARY KEY (version);
