-- Tenant schema, version 2: settings and tax rates, the catalogue, the stock ledger, sales, and
-- the daily report rollups. Amounts are integer minor units of the tenant's currency;
-- quantities are integer thousandths ("_milli"); times are Unix milliseconds.

-- One row. Tax rates are data (tax_levies), so a tenant in another country sets its own.
CREATE TABLE settings (
    id integer PRIMARY KEY CHECK (id = 1),
    currency text NOT NULL,
    tax_enabled boolean NOT NULL,
    price_mode text NOT NULL CHECK (price_mode IN ('inclusive', 'exclusive')),
    time_zone text NOT NULL,
    updated_at bigint NOT NULL
);
INSERT INTO settings (id, currency, tax_enabled, price_mode, time_zone, updated_at)
VALUES (1, 'GHS', TRUE, 'inclusive', 'Africa/Accra', 0);

-- Ghana from 1 January 2026: VAT, NHIL and GETFund, all on the same base.
CREATE TABLE tax_levies (
    position integer PRIMARY KEY,
    code text NOT NULL UNIQUE,
    name text NOT NULL,
    rate_basis_points integer NOT NULL
);
INSERT INTO tax_levies (position, code, name, rate_basis_points) VALUES
    (1, 'VAT', 'VAT', 1500),
    (2, 'NHIL', 'NHIL', 250),
    (3, 'GETFUND', 'GETFund Levy', 250);

CREATE TABLE products (
    id uuid PRIMARY KEY,
    sku text NOT NULL,
    barcode text,
    name text NOT NULL,
    -- The name lowercased by Nexus (Unicode rules), for search that behaves alike on both backends.
    search_name text NOT NULL,
    price_minor bigint NOT NULL CHECK (price_minor >= 0),
    tax_class text NOT NULL CHECK (tax_class IN ('standard', 'exempt', 'zero_rated')),
    reorder_level_milli bigint,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    archived_at bigint
);
-- A SKU names one product for ever, archived or not; a barcode only while present.
CREATE UNIQUE INDEX products_sku ON products (sku);
CREATE UNIQUE INDEX products_barcode ON products (barcode) WHERE barcode IS NOT NULL;
CREATE INDEX products_search_name ON products (search_name);

-- The ledger. On-hand is never stored by a till; it is derived from these rows.
CREATE TABLE stock_movements (
    id uuid PRIMARY KEY,
    branch_id uuid NOT NULL REFERENCES branches (id),
    product_id uuid NOT NULL REFERENCES products (id),
    kind text NOT NULL CHECK (kind IN ('receipt', 'adjustment', 'count', 'sale', 'refund', 'transfer_in', 'transfer_out')),
    -- A signed change; for a count, the level that was counted.
    quantity_milli bigint NOT NULL,
    reason text,
    -- The sale, refund or transfer that caused the movement.
    source_id uuid,
    actor_id uuid,
    occurred_at bigint NOT NULL,
    recorded_at bigint NOT NULL
);
CREATE INDEX stock_movements_position ON stock_movements (branch_id, product_id, occurred_at, id);

-- On-hand per branch and product, kept current as movements are written: the latest count
-- (by occurred_at, then id) plus the changes ordered after it.
CREATE TABLE stock_levels (
    branch_id uuid NOT NULL REFERENCES branches (id),
    product_id uuid NOT NULL REFERENCES products (id),
    count_occurred_at bigint,
    count_movement_id uuid,
    count_milli bigint NOT NULL,
    delta_milli bigint NOT NULL,
    on_hand_milli bigint NOT NULL,
    updated_at bigint NOT NULL,
    PRIMARY KEY (branch_id, product_id)
);
CREATE INDEX stock_levels_product ON stock_levels (product_id);

CREATE TABLE stock_transfers (
    id uuid PRIMARY KEY,
    from_branch_id uuid NOT NULL REFERENCES branches (id),
    to_branch_id uuid NOT NULL REFERENCES branches (id),
    actor_id uuid NOT NULL,
    occurred_at bigint NOT NULL,
    recorded_at bigint NOT NULL
);

-- Sales, refunds and voids. Immutable. Refunds and voids are their own rows referring to the
-- sale, with negative amounts, so that sums over the table are revenue.
CREATE TABLE sales (
    id uuid PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('sale', 'refund', 'void')),
    refers_to uuid REFERENCES sales (id),
    branch_id uuid NOT NULL REFERENCES branches (id),
    cashier_id uuid NOT NULL REFERENCES users (id),
    device_id uuid,
    receipt_number text,
    currency text NOT NULL,
    price_mode text NOT NULL,
    gross_minor bigint NOT NULL,
    discount_minor bigint NOT NULL,
    net_minor bigint NOT NULL,
    tax_minor bigint NOT NULL,
    total_minor bigint NOT NULL,
    tendered_minor bigint NOT NULL,
    change_minor bigint NOT NULL,
    reason text,
    occurred_at bigint NOT NULL,
    -- Days since 1970-01-01 in the tenant's time zone when the sale was recorded, for reports.
    local_day integer NOT NULL,
    recorded_at bigint NOT NULL
);
CREATE INDEX sales_branch_day ON sales (branch_id, local_day);
CREATE INDEX sales_refers_to ON sales (refers_to);

CREATE TABLE sale_lines (
    sale_id uuid NOT NULL REFERENCES sales (id),
    line_no integer NOT NULL,
    product_id uuid NOT NULL REFERENCES products (id),
    sku text NOT NULL,
    name text NOT NULL,
    tax_class text NOT NULL,
    quantity_milli bigint NOT NULL,
    unit_price_minor bigint NOT NULL,
    gross_minor bigint NOT NULL,
    discount_minor bigint NOT NULL,
    net_minor bigint NOT NULL,
    tax_minor bigint NOT NULL,
    total_minor bigint NOT NULL,
    -- For a refund line: the line of the original sale it returns.
    refers_to_line integer,
    PRIMARY KEY (sale_id, line_no)
);

CREATE TABLE sale_levies (
    sale_id uuid NOT NULL REFERENCES sales (id),
    line_no integer NOT NULL,
    code text NOT NULL,
    amount_minor bigint NOT NULL,
    PRIMARY KEY (sale_id, line_no, code)
);

CREATE TABLE sale_tenders (
    sale_id uuid NOT NULL REFERENCES sales (id),
    position integer NOT NULL,
    kind text NOT NULL CHECK (kind IN ('cash', 'momo', 'card')),
    amount_minor bigint NOT NULL,
    network text,
    phone text,
    reference text,
    verified boolean NOT NULL,
    PRIMARY KEY (sale_id, position)
);

-- Daily rollups, updated in the sale's own transaction, so that a monthly report reads about 31
-- rows per branch however many sales there were.
CREATE TABLE daily_sales (
    branch_id uuid NOT NULL,
    local_day integer NOT NULL,
    sales_count bigint NOT NULL,
    refunds_count bigint NOT NULL,
    gross_minor bigint NOT NULL,
    discount_minor bigint NOT NULL,
    net_minor bigint NOT NULL,
    tax_minor bigint NOT NULL,
    total_minor bigint NOT NULL,
    PRIMARY KEY (branch_id, local_day)
);
CREATE TABLE daily_levies (
    branch_id uuid NOT NULL,
    local_day integer NOT NULL,
    code text NOT NULL,
    amount_minor bigint NOT NULL,
    PRIMARY KEY (branch_id, local_day, code)
);
CREATE TABLE daily_cashiers (
    branch_id uuid NOT NULL,
    local_day integer NOT NULL,
    cashier_id uuid NOT NULL,
    sales_count bigint NOT NULL,
    total_minor bigint NOT NULL,
    PRIMARY KEY (branch_id, local_day, cashier_id)
);
CREATE TABLE daily_tenders (
    branch_id uuid NOT NULL,
    local_day integer NOT NULL,
    kind text NOT NULL,
    amount_minor bigint NOT NULL,
    PRIMARY KEY (branch_id, local_day, kind)
);
