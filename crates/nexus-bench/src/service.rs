//! The real service started in this process on a fresh PostgreSQL database, and a shop in it,
//! as the HTTP benchmarks need them.

use std::sync::Arc;

use nexus_domain::SystemClock;
use nexus_server::{App, Settings};
use serde_json::{Value, json};

/// A running service; [`BenchService::stop`] shuts it down.
pub(crate) struct BenchService {
    pub(crate) base: String,
    pub(crate) client: reqwest::Client,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<Result<(), nexus_server::LaunchError>>,
}

/// A registered organisation with one branch and its products.
pub(crate) struct Shop {
    pub(crate) tenant: Value,
    pub(crate) token: String,
    pub(crate) owner: Value,
    pub(crate) branch: Value,
    pub(crate) products: Vec<Value>,
}

impl BenchService {
    /// Drops and recreates the database at `database_url`, then serves it on 127.0.0.1.
    pub(crate) async fn start(database_url: &str, name: &str) -> Result<Self, String> {
        crate::recreate_database(database_url).await?;
        Self::serve(database_url, name).await
    }

    /// Serves the database at `database_url` as it is, on 127.0.0.1.
    pub(crate) async fn serve(database_url: &str, name: &str) -> Result<Self, String> {
        let mut settings = Settings::defaults();
        settings.data_dir = std::env::temp_dir().join(format!(
            "nexus-bench-{name}-{}",
            uuid::Uuid::now_v7().simple()
        ));
        settings.database_url = Some(nexus_server::SecretString::new(database_url.to_owned()));
        let app = App::open(settings, Arc::new(SystemClock))
            .await
            .map_err(|error| error.to_string())?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|error| error.to_string())?;
        let base = format!(
            "http://{}",
            listener.local_addr().map_err(|error| error.to_string())?
        );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.serve(listener, async {
            let _ = stopped.await;
        }));
        Ok(Self {
            base,
            client: reqwest::Client::new(),
            stop,
            server,
        })
    }

    /// One JSON call; an answer outside 2xx is an error carrying its body.
    pub(crate) async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> Result<Value, String> {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.map_err(|error| error.to_string())?;
        let status = response.status();
        let value: Value = response.json().await.map_err(|error| error.to_string())?;
        if status.is_success() {
            Ok(value)
        } else {
            Err(format!("{status}: {value}"))
        }
    }

    /// Registers `organisation` (owner `email`) with the branch Makola and `products` products
    /// P0, P1, … priced 4.50, 4.75, ….
    pub(crate) async fn shop(
        &self,
        organisation: &str,
        email: &str,
        products: usize,
    ) -> Result<Shop, String> {
        let post = reqwest::Method::POST;
        let registered = self
            .call(
                post.clone(),
                "/api/v1/auth/register",
                None,
                json!({ "organisation": organisation, "email": email, "password": "bench password" }),
            )
            .await?;
        let token = registered["access_token"]
            .as_str()
            .ok_or("no token")?
            .to_owned();
        let branch = self
            .call(
                post.clone(),
                "/api/v1/branches",
                Some(&token),
                json!({ "name": "Makola" }),
            )
            .await?["id"]
            .clone();
        let mut listed = Vec::with_capacity(products);
        for index in 0..products {
            let product = self
                .call(
                    post.clone(),
                    "/api/v1/products",
                    Some(&token),
                    json!({ "sku": format!("P{index}"), "name": format!("Product {index}"), "price_minor": 450 + index * 25 }),
                )
                .await?;
            listed.push(product["id"].clone());
        }
        Ok(Shop {
            tenant: registered["tenant_id"].clone(),
            token,
            owner: registered["user_id"].clone(),
            branch,
            products: listed,
        })
    }

    pub(crate) async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.server.await;
    }
}
