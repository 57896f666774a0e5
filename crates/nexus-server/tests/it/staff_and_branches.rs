use nexus_testkit::{Backend, TestServer, backend_tests};
use serde_json::json;

backend_tests!(
    owner_adds_a_branch_and_a_cashier,
    managers_manage_only_cashiers_of_their_own_branches,
    the_last_owner_cannot_be_removed,
    branches_rename_archive_and_keep_unique_names,
    staff_input_is_validated,
    branch_names_clash_case_insensitively_beyond_ascii,
    a_change_checked_against_an_old_record_is_refused,
);

async fn owner_adds_a_branch_and_a_cashier(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let owner = server.register("Makola Provisions").await;
    let branch = server
        .post(
            "/api/v1/branches",
            &owner.access_token,
            json!({ "name": "Makola", "address": "Makola Market, Accra" }),
        )
        .await;
    assert_eq!(branch.status, 201, "{:?}", branch.body);
    assert_eq!(branch.body["address"], "Makola Market, Accra");

    let cashier = server
        .post(
            "/api/v1/staff",
            &owner.access_token,
            json!({ "email": "Abena@Makola.gh", "name": "Abena", "role": "cashier", "branch_ids": [branch.id()], "pin": "2580" }),
        )
        .await;
    assert_eq!(cashier.status, 201, "{:?}", cashier.body);
    assert_eq!(cashier.body["email"], "abena@makola.gh");
    assert_eq!(cashier.body["has_pin"], true);
    assert_eq!(cashier.body["has_password"], false);
    assert_eq!(cashier.body["branch_ids"], json!([branch.id()]));
    assert!(cashier.body.get("pin_hash").is_none());

    let staff = server.get("/api/v1/staff", &owner.access_token).await;
    assert_eq!(staff.list_len(), 2);
    let fetched = server
        .get(
            &format!("/api/v1/staff/{}", cashier.id()),
            &owner.access_token,
        )
        .await;
    assert_eq!(fetched.body["name"], "Abena");

    let duplicate = server
        .post("/api/v1/staff", &owner.access_token, json!({ "email": "abena@makola.gh", "name": "Abena 2", "role": "cashier", "branch_ids": [branch.id()] }))
        .await;
    assert_eq!(
        (duplicate.status, duplicate.error_code()),
        (409, "conflict")
    );
    let elsewhere = server.register("Another Org").await;
    let cross_tenant_duplicate = server
        .post(
            "/api/v1/staff",
            &elsewhere.access_token,
            json!({ "email": "abena@makola.gh", "name": "Abena", "role": "owner" }),
        )
        .await;
    assert_eq!(
        cross_tenant_duplicate.status, 409,
        "one email signs in to one organisation"
    );
    assert_eq!(
        server
            .get("/api/v1/staff", &elsewhere.access_token)
            .await
            .list_len(),
        1,
        "nothing half-made"
    );
    server.stop().await;
}

async fn managers_manage_only_cashiers_of_their_own_branches(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let owner = server.register("Two Branch Co").await;
    let token = &owner.access_token;
    let osu = server.create_branch(token, "Osu").await;
    let tema = server.create_branch(token, "Tema").await;
    let manager = server
        .post("/api/v1/staff", token, json!({ "email": "m@two.gh", "name": "M", "role": "manager", "branch_ids": [osu], "password": "manager password" }))
        .await;
    assert_eq!(manager.status, 201);
    let manager_token = server.login("m@two.gh", "manager password").await.body["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let tema_cashier = server
        .post(
            "/api/v1/staff",
            token,
            json!({ "email": "t@two.gh", "name": "T", "role": "cashier", "branch_ids": [tema] }),
        )
        .await
        .id();

    let own = server
        .post(
            "/api/v1/staff",
            &manager_token,
            json!({ "email": "o@two.gh", "name": "O", "role": "cashier", "branch_ids": [osu] }),
        )
        .await;
    assert_eq!(own.status, 201, "{:?}", own.body);
    let other_branch = server
        .post(
            "/api/v1/staff",
            &manager_token,
            json!({ "email": "x@two.gh", "name": "X", "role": "cashier", "branch_ids": [tema] }),
        )
        .await;
    assert_eq!(other_branch.status, 403);
    let a_manager = server
        .post(
            "/api/v1/staff",
            &manager_token,
            json!({ "email": "y@two.gh", "name": "Y", "role": "manager", "branch_ids": [osu] }),
        )
        .await;
    assert_eq!(a_manager.status, 403, "managers do not create managers");
    let promote = server
        .patch(
            &format!("/api/v1/staff/{}", own.id()),
            &manager_token,
            json!({ "role": "manager" }),
        )
        .await;
    assert_eq!(promote.status, 403, "nor promote cashiers");
    let move_away = server
        .patch(
            &format!("/api/v1/staff/{}", own.id()),
            &manager_token,
            json!({ "branch_ids": [tema] }),
        )
        .await;
    assert_eq!(
        move_away.status, 403,
        "nor move them to a branch that is not theirs"
    );
    let invisible = server
        .get(&format!("/api/v1/staff/{tema_cashier}"), &manager_token)
        .await;
    assert_eq!(
        invisible.status, 404,
        "staff of other branches are not visible"
    );
    let listed = server.get("/api/v1/staff", &manager_token).await;
    let emails: Vec<&str> = listed
        .body
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|member| member["email"].as_str())
        .collect();
    assert!(
        emails.contains(&"o@two.gh")
            && emails.contains(&"m@two.gh")
            && !emails.contains(&"t@two.gh"),
        "{emails:?}"
    );
    let deactivate = server
        .post(
            &format!("/api/v1/staff/{}/deactivate", own.id()),
            &manager_token,
            json!({}),
        )
        .await;
    assert_eq!(deactivate.status, 200, "{:?}", deactivate.body);
    let manager_branches = server.get("/api/v1/branches", &manager_token).await;
    assert_eq!(
        manager_branches.list_len(),
        1,
        "a manager sees their own branches"
    );
    assert_eq!(
        server
            .get(&format!("/api/v1/branches/{tema}"), &manager_token)
            .await
            .status,
        404
    );
    server.stop().await;
}

async fn the_last_owner_cannot_be_removed(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let owner = server.register("Solo Owner Ltd").await;
    let token = &owner.access_token;
    let branch = server.create_branch(token, "Main").await;
    let me = format!("/api/v1/staff/{}", owner.user_id);
    let demote = server
        .patch(
            &me,
            token,
            json!({ "role": "manager", "branch_ids": [branch] }),
        )
        .await;
    assert_eq!(
        (demote.status, demote.error_code()),
        (409, "last_owner"),
        "{:?}",
        demote.body
    );
    let deactivate = server
        .post(&format!("{me}/deactivate"), token, json!({}))
        .await;
    assert_eq!(
        (deactivate.status, deactivate.error_code()),
        (409, "last_owner")
    );
    assert_eq!(
        server.get(&me, token).await.body["role"],
        "owner",
        "nothing changed"
    );

    let second = server.post("/api/v1/staff", token, json!({ "email": "co@solo.gh", "name": "Co", "role": "owner", "password": "co-owner password" })).await;
    assert_eq!(second.status, 201, "{:?}", second.body);
    let demote = server
        .patch(
            &me,
            token,
            json!({ "role": "manager", "branch_ids": [branch] }),
        )
        .await;
    assert_eq!(
        demote.status, 200,
        "with another owner the first may step down: {:?}",
        demote.body
    );
    let co_token = server.login("co@solo.gh", "co-owner password").await.body["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let last = server
        .post(
            &format!("/api/v1/staff/{}/deactivate", second.id()),
            &co_token,
            json!({}),
        )
        .await;
    assert_eq!(
        last.status, 409,
        "the remaining owner cannot deactivate themselves"
    );
    server.stop().await;
}

async fn branches_rename_archive_and_keep_unique_names(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let owner = server.register("Branchy").await;
    let token = &owner.access_token;
    let osu = server
        .post(
            "/api/v1/branches",
            token,
            json!({ "name": "Osu", "address": "Oxford St" }),
        )
        .await
        .id();
    let clash = server
        .post("/api/v1/branches", token, json!({ "name": " osu " }))
        .await;
    assert_eq!(
        (clash.status, clash.body["error"]["field"].as_str()),
        (409, Some("name")),
        "{:?}",
        clash.body
    );

    let renamed = server
        .patch(
            &format!("/api/v1/branches/{osu}"),
            token,
            json!({ "name": "Osu Oxford Street" }),
        )
        .await;
    assert_eq!(renamed.status, 200);
    assert_eq!(
        renamed.body["address"], "Oxford St",
        "an absent address is kept"
    );
    let cleared = server
        .patch(
            &format!("/api/v1/branches/{osu}"),
            token,
            json!({ "address": null }),
        )
        .await;
    assert_eq!(
        cleared.body["address"],
        serde_json::Value::Null,
        "null clears it"
    );
    assert_eq!(
        server
            .patch(&format!("/api/v1/branches/{osu}"), token, json!({}))
            .await
            .status,
        422
    );

    let archived = server
        .post(&format!("/api/v1/branches/{osu}/archive"), token, json!({}))
        .await;
    assert_eq!(archived.status, 200);
    assert!(archived.body["archived_at"].is_i64());
    assert_eq!(server.get("/api/v1/branches", token).await.list_len(), 0);
    assert_eq!(
        server
            .get("/api/v1/branches?include_archived=true", token)
            .await
            .list_len(),
        1
    );
    let reuse = server
        .post(
            "/api/v1/branches",
            token,
            json!({ "name": "Osu Oxford Street" }),
        )
        .await;
    assert_eq!(reuse.status, 201, "an archived branch's name is free again");
    let into_archived = server
        .post(
            "/api/v1/staff",
            token,
            json!({ "email": "c@b.gh", "name": "C", "role": "cashier", "branch_ids": [osu] }),
        )
        .await;
    assert_eq!(
        into_archived.status, 422,
        "no staff into an archived branch"
    );
    server.stop().await;
}

async fn staff_input_is_validated(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let owner = server.register("Validators").await;
    let token = &owner.access_token;
    let branch = server.create_branch(token, "Main").await;
    let cases = [
        (
            json!({ "email": "bad", "name": "N", "role": "cashier", "branch_ids": [branch] }),
            "email",
        ),
        (
            json!({ "email": "a@b.gh", "name": " ", "role": "cashier", "branch_ids": [branch] }),
            "name",
        ),
        (
            json!({ "email": "a@b.gh", "name": "N", "role": "admin", "branch_ids": [branch] }),
            "role",
        ),
        (
            json!({ "email": "a@b.gh", "name": "N", "role": "cashier", "branch_ids": [] }),
            "branch",
        ),
        (
            json!({ "email": "a@b.gh", "name": "N", "role": "cashier", "branch_ids": [branch], "pin": "12" }),
            "pin",
        ),
        (
            json!({ "email": "a@b.gh", "name": "N", "role": "cashier", "branch_ids": [branch], "password": "short" }),
            "password",
        ),
        (
            json!({ "email": "a@b.gh", "name": "N", "role": "cashier", "branch_ids": [uuid::Uuid::nil()] }),
            "branch",
        ),
    ];
    for (body, mentions) in cases {
        let answer = server.post("/api/v1/staff", token, body.clone()).await;
        assert_eq!(answer.status, 422, "{body}: {:?}", answer.body);
        let message = answer.body["error"]["message"].as_str().unwrap_or("");
        assert!(
            message.contains(mentions),
            "{body}: message {message:?} should mention {mentions}"
        );
    }
    assert_eq!(
        server.get("/api/v1/staff", token).await.list_len(),
        1,
        "nothing was created"
    );
    server.stop().await;
}

async fn branch_names_clash_case_insensitively_beyond_ascii(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let owner = server.register("Unicode Names").await;
    let token = &owner.access_token;
    assert_eq!(
        server
            .post("/api/v1/branches", token, json!({ "name": "Émile Shop" }))
            .await
            .status,
        201
    );
    let clash = server
        .post("/api/v1/branches", token, json!({ "name": "émile shop" }))
        .await;
    assert_eq!(
        clash.status, 409,
        "the same on both backends: {:?}",
        clash.body
    );
    assert_eq!(
        server
            .post("/api/v1/branches", token, json!({ "name": "Émile Shop 2" }))
            .await
            .status,
        201
    );
    server.stop().await;
}

/// A permission decision is made on a record; if the record changes before the update runs,
/// the update is refused rather than applied outside the decision.
async fn a_change_checked_against_an_old_record_is_refused(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let owner = server.register("Moving Target").await;
    let token = &owner.access_token;
    let osu = server.create_branch(token, "Osu").await;
    let tema = server.create_branch(token, "Tema").await;
    let cashier = server
        .post(
            "/api/v1/staff",
            token,
            json!({ "email": "c@moving.gh", "name": "C", "role": "cashier", "branch_ids": [osu] }),
        )
        .await
        .id();
    let tenant: nexus_domain::TenantId = owner.tenant_id.parse().expect("tenant");
    let user: nexus_domain::UserId = cashier.parse().expect("user");
    let checked = server
        .store
        .get_user(tenant, user)
        .await
        .expect("read")
        .expect("exists");

    let moved = server
        .patch(
            &format!("/api/v1/staff/{cashier}"),
            token,
            json!({ "branch_ids": [tema] }),
        )
        .await;
    assert_eq!(moved.status, 200);
    let change = nexus_store::UserChange {
        active: Some(false),
        ..Default::default()
    };
    let outcome = server
        .store
        .update_user(
            tenant,
            &checked,
            change,
            nexus_domain::Clock::now(server.clock.as_ref()),
        )
        .await;
    assert!(
        matches!(outcome, Err(nexus_store::StoreError::Stale)),
        "{outcome:?}"
    );
    assert_eq!(
        server
            .get(&format!("/api/v1/staff/{cashier}"), token)
            .await
            .body["active"],
        true,
        "nothing changed"
    );
    server.stop().await;
}

/// SQLite only: there a login row and its user live in two files, so a crash between the two
/// writes can leave a login without a user. Such an email must be usable again. (On PostgreSQL
/// both rows commit in one transaction and the case cannot arise.)
#[tokio::test]
async fn an_orphaned_login_is_reclaimed_on_sqlite() {
    use sqlx::Connection as _;
    let server = TestServer::start(&Backend::Sqlite).await;
    let owner = server.register("Crash Survivor").await;
    let branch = server.create_branch(&owner.access_token, "Main").await;
    let options =
        sqlx::sqlite::SqliteConnectOptions::new().filename(server.data_dir().join("control.db"));
    let mut control = sqlx::SqliteConnection::connect_with(&options)
        .await
        .expect("open control.db");
    let tenant: uuid::Uuid = owner.tenant_id.parse().expect("tenant");
    sqlx::query("INSERT INTO logins (email, tenant_id, user_id) VALUES ('lost@crash.gh', $1, $2)")
        .bind(tenant)
        .bind(uuid::Uuid::new_v4())
        .execute(&mut control)
        .await
        .expect("orphan");
    control.close().await.expect("close");

    let created = server
        .post("/api/v1/staff", &owner.access_token, json!({ "email": "lost@crash.gh", "name": "L", "role": "cashier", "branch_ids": [branch] }))
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let duplicate = server
        .post("/api/v1/staff", &owner.access_token, json!({ "email": "lost@crash.gh", "name": "L2", "role": "cashier", "branch_ids": [branch] }))
        .await;
    assert_eq!(duplicate.status, 409, "a real user's email stays taken");
    server.stop().await;
}
