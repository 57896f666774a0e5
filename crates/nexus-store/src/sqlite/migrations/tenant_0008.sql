-- The dashboard's sales page counts refunds and voids per cashier over a range of days; they
-- are few among the sales, so a partial index finds them without reading every sale.
CREATE INDEX sales_returns_by_day ON sales (local_day) WHERE kind IN ('refund', 'void');
-- Low-stock alerts look only at products with a reorder level.
CREATE INDEX products_reordered ON products (id) WHERE reorder_level_milli IS NOT NULL AND archived_at IS NULL;
