-- Categories of the catalogue, and what goods cost the shop, so that reports give gross profit.

CREATE TABLE categories (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    -- The name lowercased by Nexus: "Drinks" and "drinks" are one category.
    search_name text NOT NULL UNIQUE,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    archived_at bigint
);

-- No foreign key: categories are archived, never deleted, and the store checks that a product's
-- category exists and is in use in the transaction that sets it.
ALTER TABLE products ADD COLUMN category_id uuid;
-- What one unit costs the shop now; NULL until it is known.
ALTER TABLE products ADD COLUMN cost_minor bigint CHECK (cost_minor >= 0);

-- Every unit cost a product has had, from the moment it was set: a sale takes the cost in effect
-- when it was rung up, even when it reaches the service days later.
CREATE TABLE product_costs (
    product_id uuid NOT NULL REFERENCES products (id),
    effective_at bigint NOT NULL,
    cost_minor bigint NOT NULL CHECK (cost_minor >= 0),
    PRIMARY KEY (product_id, effective_at)
);

-- A sold line keeps its unit cost and what the line cost (NULL when the cost was not known).
ALTER TABLE sale_lines ADD COLUMN unit_cost_minor bigint;
ALTER TABLE sale_lines ADD COLUMN cost_minor bigint;

-- The item report's sums: revenue net of tax, cost, and the quantity sold with no cost known.
ALTER TABLE daily_products ADD COLUMN net_minor bigint NOT NULL DEFAULT 0;
ALTER TABLE daily_products ADD COLUMN cost_minor bigint NOT NULL DEFAULT 0;
ALTER TABLE daily_products ADD COLUMN uncosted_milli bigint NOT NULL DEFAULT 0;
-- Sold before costs were kept: their net from the receipts, and all of it without a cost.
UPDATE daily_products SET
    net_minor = COALESCE((SELECT SUM(sale_lines.net_minor) FROM sale_lines
        JOIN sales ON sales.id = sale_lines.sale_id
        WHERE sales.branch_id = daily_products.branch_id
            AND sales.local_day = daily_products.local_day
            AND sale_lines.product_id = daily_products.product_id), 0),
    uncosted_milli = quantity_milli;

-- Packs: a product also sold by the carton or crate, at its own price and barcode. Stock stays
-- in base units.
CREATE TABLE product_packs (
    product_id uuid NOT NULL REFERENCES products (id),
    position integer NOT NULL,
    name text NOT NULL,
    units integer NOT NULL CHECK (units >= 2),
    barcode text UNIQUE,
    price_minor bigint NOT NULL CHECK (price_minor >= 0),
    PRIMARY KEY (product_id, position)
);
-- A line sold by the pack: its quantity counts packs of pack_units base units each.
ALTER TABLE sale_lines ADD COLUMN pack_name text;
ALTER TABLE sale_lines ADD COLUMN pack_units integer;

-- Wholesale: a product's (and a pack's) price on the wholesale list, the customers on that list,
-- and the list each sale was priced on.
ALTER TABLE products ADD COLUMN wholesale_price_minor bigint CHECK (wholesale_price_minor >= 0);
ALTER TABLE product_packs ADD COLUMN wholesale_price_minor bigint
    CHECK (wholesale_price_minor >= 0);
ALTER TABLE sales ADD COLUMN price_list text NOT NULL DEFAULT 'retail'
    CHECK (price_list IN ('retail', 'wholesale'));
ALTER TABLE customers ADD COLUMN price_list text NOT NULL DEFAULT 'retail'
    CHECK (price_list IN ('retail', 'wholesale'));
-- What the customer may owe the shop; NULL: no credit.
ALTER TABLE customers ADD COLUMN credit_limit_minor bigint CHECK (credit_limit_minor >= 0);
ALTER TABLE customers ADD COLUMN updated_at bigint NOT NULL DEFAULT 0;
UPDATE customers SET updated_at = created_at;
-- Every till now knows every customer (a wholesale trader buys at any branch): those recorded
-- before become `customer` changes.
INSERT INTO changes (seq, entity, entity_id, branch_id, payload, changed_at)
SELECT (SELECT last_seq FROM change_counter WHERE id = 1)
        + ROW_NUMBER() OVER (ORDER BY created_at, id),
    'customer', id, NULL,
    json_build_object('id', id, 'name', name, 'phone', phone, 'price_list', price_list,
        'credit_limit_minor', credit_limit_minor, 'updated_at', updated_at)::text,
    created_at
FROM customers;
UPDATE change_counter SET last_seq = last_seq + (SELECT COUNT(*) FROM customers) WHERE id = 1;

-- Suppliers and purchase orders. Each receipt against an order is a stock receipt in the ledger,
-- under the receipt's own id, so that a retried receipt counts once; it also sets the product's
-- cost to the order line's.
CREATE TABLE suppliers (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    search_name text NOT NULL UNIQUE,
    phone text,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL
);
CREATE TABLE purchase_orders (
    id uuid PRIMARY KEY,
    supplier_id uuid NOT NULL REFERENCES suppliers (id),
    branch_id uuid NOT NULL REFERENCES branches (id),
    status text NOT NULL CHECK (status IN ('open', 'closed')),
    created_by uuid NOT NULL,
    created_at bigint NOT NULL,
    closed_at bigint
);
CREATE INDEX purchase_orders_created ON purchase_orders (created_at);
CREATE TABLE purchase_order_lines (
    order_id uuid NOT NULL REFERENCES purchase_orders (id),
    line_no integer NOT NULL,
    product_id uuid NOT NULL REFERENCES products (id),
    quantity_milli bigint NOT NULL CHECK (quantity_milli > 0),
    cost_minor bigint NOT NULL CHECK (cost_minor >= 0),
    received_milli bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (order_id, line_no)
);
CREATE TABLE purchase_order_receipts (
    id uuid PRIMARY KEY,
    order_id uuid NOT NULL REFERENCES purchase_orders (id),
    received_by uuid NOT NULL,
    received_at bigint NOT NULL
);
