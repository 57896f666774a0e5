-- A refund or void a till's manager approved with their PIN keeps who approved it.
ALTER TABLE sales ADD COLUMN approved_by uuid;

-- Tills send goods to another branch by name, so every branch is a `branch` change for every
-- station. Branches created from now on are logged as they are created, renamed or archived;
-- these are the ones that were there before.
INSERT INTO changes (seq, entity, entity_id, branch_id, payload, changed_at)
SELECT (SELECT last_seq FROM change_counter WHERE id = 1)
        + ROW_NUMBER() OVER (ORDER BY created_at, id),
    'branch', id, NULL,
    json_build_object('id', id, 'name', name, 'archived_at', archived_at)::text,
    created_at
FROM branches;
UPDATE change_counter SET last_seq = last_seq + (SELECT COUNT(*) FROM branches) WHERE id = 1;

-- Shop details saved before tills pulled them (tenant migration 7 to 9) head the receipts too:
-- the details as they are become the `shop` change, unless none is set.
INSERT INTO changes (seq, entity, entity_id, branch_id, payload, changed_at)
SELECT (SELECT last_seq FROM change_counter WHERE id = 1) + 1, 'shop',
    '00000000-0000-0000-0000-000000000000'::uuid, NULL,
    json_build_object('trading_name', trading_name, 'address', address, 'phone', phone,
        'tin', tin, 'receipt_footer', receipt_footer)::text,
    updated_at
FROM shop_details
WHERE id = 1 AND COALESCE(trading_name, address, phone, tin, receipt_footer) IS NOT NULL;
UPDATE change_counter SET last_seq = last_seq + (SELECT COUNT(*) FROM shop_details
    WHERE id = 1 AND COALESCE(trading_name, address, phone, tin, receipt_footer) IS NOT NULL)
WHERE id = 1;
