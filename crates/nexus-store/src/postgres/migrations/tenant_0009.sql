-- Low-stock alerts read a partial index of the level rows at or below their reorder level, not
-- every product with a reorder level at every branch. For that, each level row carries its
-- product's reorder level, and every open branch has a row for every product with a reorder
-- level, stocked there or not (a product never stocked is at zero, and low).
ALTER TABLE stock_levels ADD COLUMN reorder_level_milli bigint;
UPDATE stock_levels SET reorder_level_milli =
    (SELECT products.reorder_level_milli FROM products WHERE products.id = stock_levels.product_id);
INSERT INTO stock_levels (branch_id, product_id, count_milli, delta_milli, on_hand_milli, updated_at,
    reorder_level_milli)
SELECT branches.id, products.id, 0, 0, 0, products.updated_at, products.reorder_level_milli
FROM branches CROSS JOIN products
WHERE branches.archived_at IS NULL AND products.reorder_level_milli IS NOT NULL
AND NOT EXISTS (SELECT 1 FROM stock_levels AS level
    WHERE level.branch_id = branches.id AND level.product_id = products.id);
CREATE INDEX stock_levels_low ON stock_levels (branch_id, on_hand_milli)
    WHERE reorder_level_milli IS NOT NULL AND on_hand_milli >= 0 AND on_hand_milli <= reorder_level_milli;
DROP INDEX products_reordered;

-- Refunds and voids per cashier and day join the cashier rollup, so that the sales page reads
-- a few rows per day for them instead of searching the sales.
ALTER TABLE daily_cashiers ADD COLUMN refunds_count bigint NOT NULL DEFAULT 0;
ALTER TABLE daily_cashiers ADD COLUMN refunded_minor bigint NOT NULL DEFAULT 0;
ALTER TABLE daily_cashiers ADD COLUMN voids_count bigint NOT NULL DEFAULT 0;
DELETE FROM daily_cashiers;
INSERT INTO daily_cashiers (branch_id, local_day, cashier_id, sales_count, total_minor, refunds_count,
    refunded_minor, voids_count)
SELECT branch_id, local_day, cashier_id, SUM(CASE WHEN kind = 'sale' THEN 1 ELSE 0 END), SUM(total_minor),
    SUM(CASE WHEN kind = 'refund' THEN 1 ELSE 0 END), SUM(CASE WHEN kind = 'refund' THEN -total_minor ELSE 0 END),
    SUM(CASE WHEN kind = 'void' THEN 1 ELSE 0 END)
FROM sales GROUP BY branch_id, local_day, cashier_id;
DROP INDEX sales_returns_by_day;
