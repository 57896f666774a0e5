//! Every route against every role: the answer is allow or deny exactly as the permission
//! matrix in nexus-domain says.

use nexus_domain::{Permission, Role};
use nexus_testkit::{Backend, TestServer, backend_tests};
use reqwest::Method;
use serde_json::{Value, json};

backend_tests!(every_route_answers_each_role_as_the_matrix_says);

struct Route {
    method: Method,
    path: &'static str,
    permission: Permission,
}

/// Every authenticated route. `{branch}` and `{staff}` are filled with fresh fixtures per call,
/// so that one call (an archive, a deactivation) cannot change what the next one sees.
const ROUTES: &[Route] = &[
    Route {
        method: Method::GET,
        path: "/api/v1/me",
        permission: Permission::ViewOwnProfile,
    },
    Route {
        method: Method::GET,
        path: "/api/v1/branches",
        permission: Permission::ViewBranches,
    },
    Route {
        method: Method::POST,
        path: "/api/v1/branches",
        permission: Permission::ManageBranches,
    },
    Route {
        method: Method::GET,
        path: "/api/v1/branches/{branch}",
        permission: Permission::ViewBranches,
    },
    Route {
        method: Method::PATCH,
        path: "/api/v1/branches/{branch}",
        permission: Permission::ManageBranches,
    },
    Route {
        method: Method::POST,
        path: "/api/v1/branches/{branch}/archive",
        permission: Permission::ManageBranches,
    },
    Route {
        method: Method::GET,
        path: "/api/v1/staff",
        permission: Permission::ViewStaff,
    },
    Route {
        method: Method::POST,
        path: "/api/v1/staff",
        permission: Permission::ManageStaff,
    },
    Route {
        method: Method::GET,
        path: "/api/v1/staff/{staff}",
        permission: Permission::ViewStaff,
    },
    Route {
        method: Method::PATCH,
        path: "/api/v1/staff/{staff}",
        permission: Permission::ManageStaff,
    },
    Route {
        method: Method::POST,
        path: "/api/v1/staff/{staff}/deactivate",
        permission: Permission::ManageStaff,
    },
];

fn body_for(route: &Route, branch: &str) -> Option<Value> {
    match (route.method.as_str(), route.path) {
        ("POST", "/api/v1/branches") => {
            Some(json!({ "name": format!("Branch {}", uuid::Uuid::new_v4().simple()) }))
        }
        ("PATCH", "/api/v1/branches/{branch}") => {
            Some(json!({ "name": format!("Renamed {}", uuid::Uuid::new_v4().simple()) }))
        }
        ("POST", "/api/v1/staff") => Some(json!({
            "email": format!("new-{}@example.gh", uuid::Uuid::new_v4().simple()),
            "name": "New Cashier", "role": "cashier", "branch_ids": [branch], "pin": "1234"
        })),
        ("PATCH", "/api/v1/staff/{staff}") => Some(json!({ "branch_ids": [branch] })),
        _ => None,
    }
}

struct Member {
    role: Role,
    id: String,
    token: String,
}

/// A new branch that the manager and the cashier both belong to (with `home`).
async fn branch_everyone_sees(
    server: &TestServer,
    owner_token: &str,
    members: &[Member],
    home: &str,
) -> String {
    let name = format!("Branch {}", uuid::Uuid::new_v4().simple());
    let branch = server
        .post("/api/v1/branches", owner_token, json!({ "name": name }))
        .await
        .id();
    for member in members.iter().filter(|member| member.role != Role::Owner) {
        let branches = json!([home, branch]);
        let patched = server
            .patch(
                &format!("/api/v1/staff/{}", member.id),
                owner_token,
                json!({ "branch_ids": branches }),
            )
            .await;
        assert_eq!(patched.status, 200, "{:?}", patched.body);
    }
    branch
}

/// A new cashier in `branch`, whom the manager of that branch may manage.
async fn fresh_cashier(server: &TestServer, owner_token: &str, branch: &str) -> String {
    let email = format!("target-{}@example.gh", uuid::Uuid::new_v4().simple());
    let body =
        json!({ "email": email, "name": "Target", "role": "cashier", "branch_ids": [branch] });
    server.post("/api/v1/staff", owner_token, body).await.id()
}

async fn every_route_answers_each_role_as_the_matrix_says(backend: &Backend) {
    let server = TestServer::start(backend).await;
    let owner = server.register("Matrix Shop").await;
    let home = server.create_branch(&owner.access_token, "Home").await;

    let mut members = vec![Member {
        role: Role::Owner,
        id: owner.user_id.clone(),
        token: owner.access_token.clone(),
    }];
    for role in [Role::Manager, Role::Cashier] {
        let email = format!("{role}-{}@example.gh", uuid::Uuid::new_v4().simple());
        let body = json!({ "email": email, "name": role.as_str(), "role": role.as_str(), "branch_ids": [home], "password": "role password" });
        let created = server
            .post("/api/v1/staff", &owner.access_token, body)
            .await;
        assert_eq!(created.status, 201, "{:?}", created.body);
        let login = server.login(&email, "role password").await;
        let token = login.body["access_token"]
            .as_str()
            .expect("token")
            .to_owned();
        members.push(Member {
            role,
            id: created.id(),
            token,
        });
    }

    let mut checked = 0;
    for route in ROUTES {
        for member in &members {
            let branch = if route.path.contains("{branch}") {
                branch_everyone_sees(&server, &owner.access_token, &members, &home).await
            } else {
                home.clone()
            };
            let staff = if route.path.contains("{staff}") {
                fresh_cashier(&server, &owner.access_token, &home).await
            } else {
                String::new()
            };
            let path = route
                .path
                .replace("{branch}", &branch)
                .replace("{staff}", &staff);
            let answer = server
                .call(
                    route.method.clone(),
                    &path,
                    Some(&member.token),
                    body_for(route, &home),
                )
                .await;
            let role = member.role;
            if role.allows(route.permission) {
                assert!(
                    (200..300).contains(&answer.status),
                    "{role} {} {} should be allowed, got {} {:?}",
                    route.method,
                    route.path,
                    answer.status,
                    answer.body
                );
            } else {
                assert_eq!(
                    (answer.status, answer.error_code()),
                    (403, "forbidden"),
                    "{role} {} {} should be denied: {:?}",
                    route.method,
                    route.path,
                    answer.body
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, ROUTES.len() * members.len());
    server.stop().await;
}
