-- Tenant schema, version 7: what the merchant dashboard keeps.
-- A station's last contact (any push or pull), apart from its last push (last_sync_at).
ALTER TABLE stations ADD COLUMN last_contact_at bigint;

-- Dashboard sessions: a cookie's token (hashed) on an API session, so that signing out,
-- deactivation and revoking the session end both; with its CSRF token and last activity.
CREATE TABLE web_sessions (
    token_hash blob PRIMARY KEY,
    session_id blob NOT NULL REFERENCES sessions (id),
    csrf_token text NOT NULL,
    created_at bigint NOT NULL,
    last_seen_at bigint NOT NULL
);
CREATE INDEX web_sessions_session ON web_sessions (session_id);

-- Password resets by email: a one-time token (hashed), valid for a while.
CREATE TABLE password_resets (
    token_hash blob PRIMARY KEY,
    user_id blob NOT NULL REFERENCES users (id),
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL,
    used_at bigint
);

-- The shop as its receipts and dashboard name it, and the first-run steps set aside.
CREATE TABLE shop_details (
    id integer PRIMARY KEY,
    trading_name text,
    address text,
    phone text,
    tin text,
    receipt_footer text,
    skipped_steps text NOT NULL,
    updated_at bigint NOT NULL
);
INSERT INTO shop_details (id, skipped_steps, updated_at) VALUES (1, '', 0);

-- How many of a station's writes wait to be pushed, as it last said.
ALTER TABLE stations ADD COLUMN unsynced_ops bigint;

-- Rollups the dashboard reads: what sold, per product, and how customers paid, per tender kind
-- and mobile-money network, per branch and local day. Kept in each sale's transaction.
CREATE TABLE daily_products (
    branch_id blob NOT NULL,
    local_day integer NOT NULL,
    product_id blob NOT NULL,
    quantity_milli bigint NOT NULL,
    total_minor bigint NOT NULL,
    PRIMARY KEY (branch_id, local_day, product_id)
);
CREATE INDEX daily_products_day ON daily_products (local_day);
CREATE TABLE daily_payments (
    branch_id blob NOT NULL,
    local_day integer NOT NULL,
    kind text NOT NULL,
    network text NOT NULL,
    amount_minor bigint NOT NULL,
    payments bigint NOT NULL,
    PRIMARY KEY (branch_id, local_day, kind, network)
);
CREATE INDEX daily_payments_day ON daily_payments (local_day);

-- From what was sold before this version.
INSERT INTO daily_products (branch_id, local_day, product_id, quantity_milli, total_minor)
SELECT sales.branch_id, sales.local_day, sale_lines.product_id, SUM(sale_lines.quantity_milli),
    SUM(sale_lines.total_minor)
FROM sale_lines JOIN sales ON sales.id = sale_lines.sale_id
GROUP BY sales.branch_id, sales.local_day, sale_lines.product_id;
INSERT INTO daily_payments (branch_id, local_day, kind, network, amount_minor, payments)
SELECT branch_id, local_day, kind, network, SUM(kept), SUM(counted) FROM (
    SELECT sales.branch_id, sales.local_day, sale_tenders.kind,
        COALESCE(sale_tenders.network, '') AS network,
        SUM(sale_tenders.amount_minor)
            - CASE WHEN sale_tenders.kind = 'cash' THEN MAX(sales.change_minor) ELSE 0 END AS kept,
        SUM(CASE WHEN sales.kind = 'sale' THEN 1 ELSE 0 END) AS counted
    FROM sale_tenders JOIN sales ON sales.id = sale_tenders.sale_id
    GROUP BY sales.id, sales.branch_id, sales.local_day, sale_tenders.kind, COALESCE(sale_tenders.network, '')
) AS per_sale GROUP BY branch_id, local_day, kind, network;

-- The receipts list pages newest first, and finds a receipt by its number.
CREATE INDEX sales_listed ON sales (occurred_at, id);
CREATE INDEX sales_receipt_number ON sales (receipt_number);
-- Reconciliation alerts: the few levels below zero, without reading every level.
CREATE INDEX stock_levels_negative ON stock_levels (branch_id) WHERE on_hand_milli < 0;
