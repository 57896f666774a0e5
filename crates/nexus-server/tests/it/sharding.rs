//! Citus schema-based sharding, checked on plain PostgreSQL (Citus cannot be installed here):
//! every rule a distributed tenant schema must obey holds for the schema a new tenant gets, and
//! the tenant code never reaches outside its own schema. Without Citus, distributing is refused
//! with a message that says why.

use nexus_testkit::{Backend, TestServer, backend_tests};

backend_tests!(a_tenant_schema_obeys_the_rules_of_citus_schema_based_sharding);

async fn a_tenant_schema_obeys_the_rules_of_citus_schema_based_sharding(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let owner = server.register("Sharded Traders").await;
    let tenant: nexus_domain::TenantId = owner.tenant_id.parse().expect("tenant id");

    // No Citus here: nothing claims to distribute, and asking says why.
    assert_eq!(server.store.citus_version().await.expect("version"), None);
    let refused = server
        .store
        .distribute_tenant(tenant)
        .await
        .expect_err("no Citus");
    assert!(
        refused.to_string().contains("Citus") || refused.to_string().contains("citus"),
        "{refused}"
    );

    tenant_code_stays_in_its_schema();
    let Some(url) = server.direct_database_url() else {
        server.stop().await;
        return;
    };
    let pool = sqlx::PgPool::connect(&url).await.expect("connect");
    let schema = tenant.storage_name();
    let names = |sql: &'static str| {
        let (pool, schema) = (&pool, schema.clone());
        async move {
            sqlx::query_scalar::<_, String>(sql)
                .bind(schema)
                .fetch_all(pool)
                .await
                .expect(sql)
        }
    };
    // Every table has a primary key.
    let keyless = names(
        "SELECT c.relname::text FROM pg_class c WHERE c.relnamespace = to_regnamespace($1) \
         AND c.relkind IN ('r', 'p') AND NOT EXISTS (SELECT 1 FROM pg_constraint k \
         WHERE k.conrelid = c.oid AND k.contype = 'p') ORDER BY 1",
    )
    .await;
    assert!(
        keyless.is_empty(),
        "tables without a primary key: {keyless:?}"
    );
    let tables = names(
        "SELECT relname::text FROM pg_class WHERE relnamespace = to_regnamespace($1) AND relkind = 'r'",
    )
    .await;
    assert!(tables.len() > 30, "the tenant's tables: {tables:?}");
    // No foreign key leaves the schema (into the control schema or another tenant's).
    let outward = names(
        "SELECT k.conname::text FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid \
         JOIN pg_class r ON r.oid = k.confrelid WHERE k.contype = 'f' \
         AND c.relnamespace = to_regnamespace($1) AND r.relnamespace <> c.relnamespace",
    )
    .await;
    assert!(
        outward.is_empty(),
        "foreign keys out of the schema: {outward:?}"
    );
    // Only PostgreSQL's own base types: no domain, enum or composite type that would have to
    // be created on every worker.
    let types = names(
        "SELECT DISTINCT t.typname::text FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
         JOIN pg_type t ON t.oid = a.atttypid WHERE c.relnamespace = to_regnamespace($1) \
         AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped \
         AND (t.typnamespace <> 'pg_catalog'::regnamespace OR t.typtype <> 'b' \
              OR t.typname NOT IN ('bool', 'bytea', 'int4', 'int8', 'text', 'uuid'))",
    )
    .await;
    assert!(
        types.is_empty(),
        "column types outside the supported set: {types:?}"
    );
    // No sequence, identity or generated column (ids are UUIDs made by the client; counters are
    // rows), and no view, function or trigger that could read another schema.
    let objects = names(
        "SELECT relname::text || ' (' || relkind::text || ')' FROM pg_class \
         WHERE relnamespace = to_regnamespace($1) AND relkind IN ('S', 'v', 'm', 'f')",
    )
    .await;
    assert!(
        objects.is_empty(),
        "sequences, views or foreign tables: {objects:?}"
    );
    let generated = names(
        "SELECT c.relname::text || '.' || a.attname::text FROM pg_attribute a \
         JOIN pg_class c ON c.oid = a.attrelid WHERE c.relnamespace = to_regnamespace($1) \
         AND (a.attidentity <> '' OR a.attgenerated <> '')",
    )
    .await;
    assert!(
        generated.is_empty(),
        "identity or generated columns: {generated:?}"
    );
    let defaults = names(
        "SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d JOIN pg_class c ON c.oid = d.adrelid \
         WHERE c.relnamespace = to_regnamespace($1) AND pg_get_expr(d.adbin, d.adrelid) ILIKE '%nextval%'",
    )
    .await;
    assert!(defaults.is_empty(), "sequence defaults: {defaults:?}");
    let code = names(
        "SELECT proname::text FROM pg_proc WHERE pronamespace = to_regnamespace($1) \
         UNION ALL SELECT g.tgname::text FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid \
         WHERE c.relnamespace = to_regnamespace($1) AND NOT g.tgisinternal",
    )
    .await;
    assert!(code.is_empty(), "functions or triggers: {code:?}");
    pool.close().await;
    server.stop().await;
}

/// The tenant queries and migrations name no schema: a tenant transaction's search path is its
/// own schema alone, so a query of another tenant or of the control schema cannot be written
/// there without naming it.
fn tenant_code_stays_in_its_schema() {
    let store = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../nexus-store/src");
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(store.join("tenant"))
        .expect("tenant code")
        .map(|entry| entry.expect("entry").path())
        .collect();
    for backend in ["postgres", "sqlite"] {
        files.extend(
            std::fs::read_dir(store.join(backend).join("migrations"))
                .expect("migrations")
                .map(|entry| entry.expect("entry").path())
                .filter(|path| {
                    path.file_name()
                        .and_then(|name| name.to_str())
                        .is_some_and(|name| name.starts_with("tenant_"))
                }),
        );
    }
    assert!(files.len() > 20, "{files:?}");
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        for named in ["nexus_control", "\"t_", "public."] {
            assert!(
                !text.contains(named),
                "{} names {named:?}: tenant code must stay in the tenant's schema",
                file.display()
            );
        }
    }
}
