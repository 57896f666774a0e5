-- Ingest without per-row reference checks. Every row a synced sale writes was checked by the
-- store before it was written, set-based and in the same transaction: the branch is open, every
-- product exists, the cashier is a staff member with the right, a return's sale is recorded, the
-- station is the one that authenticated. None of the rows these keys point at is ever deleted
-- (products, branches and staff are archived; sales are never removed). PostgreSQL checks a
-- foreign key by a trigger and a locking query per inserted row: about 40 per 5-line sale, and
-- more than half of the insert work measured for these tables. The keys go; the checks stay
-- where they run once per push.
ALTER TABLE sale_levies DROP CONSTRAINT IF EXISTS sale_levies_sale_id_fkey;
ALTER TABLE sale_lines DROP CONSTRAINT IF EXISTS sale_lines_sale_id_fkey;
ALTER TABLE sale_lines DROP CONSTRAINT IF EXISTS sale_lines_product_id_fkey;
ALTER TABLE sale_tenders DROP CONSTRAINT IF EXISTS sale_tenders_sale_id_fkey;
ALTER TABLE sales DROP CONSTRAINT IF EXISTS sales_refers_to_fkey;
ALTER TABLE sales DROP CONSTRAINT IF EXISTS sales_branch_id_fkey;
ALTER TABLE sales DROP CONSTRAINT IF EXISTS sales_cashier_id_fkey;
ALTER TABLE stock_movements DROP CONSTRAINT IF EXISTS stock_movements_branch_id_fkey;
ALTER TABLE stock_movements DROP CONSTRAINT IF EXISTS stock_movements_product_id_fkey;
ALTER TABLE sync_ops DROP CONSTRAINT IF EXISTS sync_ops_station_id_fkey;
