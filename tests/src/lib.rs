//! Helpers of the black-box suite: start the real server on a random port against a fresh
//! database (SQLite in a temporary directory, or a PostgreSQL database of its own), and mint
//! tokens the way the auth service would.
#![expect(clippy::expect_used, reason = "test helpers fail loudly with a reason")]

mod tokens;

use std::time::Duration;

use actix_web::dev::ServerHandle;
use picture_domain::UserId;
use picture_server::settings::RawSettings;
use picture_server::{Application, Settings};
use picture_test_support::PgTestDb;

pub use tokens::{EdKey, TEST_JWT_SECRET, sign_hs256};

/// The `ADMIN_SERVICE_KEY` of test servers.
pub const TEST_ADMIN_KEY: &str = "test-admin-service-key";

/// Which database a test server uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    /// A SQLite file in the test's temporary directory.
    Sqlite,
    /// A PostgreSQL database created for the test.
    Postgres,
}

/// One database (and data directory) for several servers, as instances of one deployment.
pub struct SharedDatabase {
    /// The `DATABASE_URL` every instance uses.
    pub url: String,
    /// The `DATA_DIR` every instance uses.
    pub data_dir: String,
    _dir: tempfile::TempDir,
    _pg: Option<PgTestDb>,
}

impl SharedDatabase {
    /// A SQLite file in a temporary directory, or a PostgreSQL database of its own. `None` when
    /// PostgreSQL is absent on a developer's machine (in CI the helper panics instead).
    pub async fn create(db: Db) -> Option<Self> {
        let dir = tempfile::tempdir().expect("temporary directory");
        let pg = match db {
            Db::Sqlite => None,
            Db::Postgres => Some(PgTestDb::create().await?),
        };
        let url = match &pg {
            Some(pg) => pg.url().to_owned(),
            None => format!("sqlite://{}", dir.path().join("shared.db").display()),
        };
        Some(Self {
            url,
            data_dir: dir.path().display().to_string(),
            _dir: dir,
            _pg: pg,
        })
    }

    /// Points `raw` at this database and data directory.
    pub fn apply(&self, raw: &mut RawSettings) {
        raw.set("DATABASE_URL", self.url.clone());
        raw.set("DATA_DIR", self.data_dir.clone());
    }
}

/// A running server and what it needs to stay alive.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// A client with a timeout.
    pub client: reqwest::Client,
    /// The settings it runs with.
    pub settings: Settings,
    handle: ServerHandle,
    _dir: tempfile::TempDir,
    _pg: Option<PgTestDb>,
}

impl TestApp {
    /// Starts a server on `db` with the test defaults. `None` when PostgreSQL is absent on a
    /// developer's machine (the helper printed why; in CI it panics instead).
    pub async fn spawn(db: Db) -> Option<Self> {
        Self::spawn_with(db, |_| {}).await
    }

    /// Like [`spawn`](Self::spawn), with settings adjusted by `configure` first.
    ///
    /// # Panics
    /// When the server cannot be built.
    pub async fn spawn_with(db: Db, configure: impl FnOnce(&mut RawSettings)) -> Option<Self> {
        let dir = tempfile::tempdir().expect("temporary directory");
        let pg = match db {
            Db::Sqlite => None,
            Db::Postgres => Some(PgTestDb::create().await?),
        };
        let mut raw = RawSettings::default();
        raw.set("HOST", "127.0.0.1")
            .set("PORT", "0")
            .set("HTTP_WORKERS", "1")
            .set("DATA_DIR", dir.path().display().to_string())
            .set("JWT_SECRET", TEST_JWT_SECRET)
            .set("ADMIN_SERVICE_KEY", TEST_ADMIN_KEY);
        raw.set(
            "DATABASE_URL",
            match &pg {
                Some(pg) => pg.url().to_owned(),
                None => format!("sqlite://{}", dir.path().join("picture.db").display()),
            },
        );
        configure(&mut raw);
        let settings = Settings::from_raw(raw).expect("test settings");
        let app = Application::build(settings.clone())
            .await
            .expect("the server builds");
        let address = format!("http://127.0.0.1:{}", app.port());
        let handle = app.handle();
        tokio::spawn(app.run_until_stopped());
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("HTTP client");
        Some(Self {
            address,
            client,
            settings,
            handle,
            _dir: dir,
            _pg: pg,
        })
    }

    /// `GET {address}{path}`, with a bearer token when given.
    pub async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut request = self.client.get(format!("{}{path}", self.address));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request sent")
    }

    /// `{method} {address}{path}` with a JSON body, with a bearer token when given.
    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.address))
            .json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request sent")
    }

    /// `{method} {address}{path}` without a body.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.address));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request sent")
    }

    /// Grants `amount` credits to `user` through the admin route, once per `key`.
    pub async fn grant(&self, user: &str, amount: i64, key: &str) -> reqwest::Response {
        self.client
            .post(format!("{}/api/v1/admin/credits/grant", self.address))
            .header("X-Service-Key", TEST_ADMIN_KEY)
            .json(&serde_json::json!({
                "userId": user, "amount": amount, "reason": "test", "idempotencyKey": key
            }))
            .send()
            .await
            .expect("request sent")
    }

    /// `user`'s credit account as stored (read straight from the database).
    pub async fn account(&self, user: &str) -> picture_domain::ports::CreditAccount {
        use picture_domain::ports::CreditAccounts;
        let database = picture_persistence::Database::connect(
            &self.settings.database.url,
            picture_persistence::PoolOptions::default(),
        )
        .await
        .expect("database");
        picture_persistence::DieselLedger::new(database)
            .account(&UserId::parse(user).expect("valid user id"))
            .await
            .expect("account")
    }

    /// `POST /api/v1/generate` of a short prompt on `model` for `token`'s user.
    pub async fn generate(&self, token: &str, model: &str, wait: bool) -> reqwest::Response {
        self.send_json(
            reqwest::Method::POST,
            "/api/v1/generate",
            Some(token),
            &serde_json::json!({"prompt": "a corgi", "modelId": model, "waitForResult": wait}),
        )
        .await
    }

    /// `GET /api/v1/generate/{id}/status` as JSON.
    pub async fn status(&self, token: &str, id: &str) -> serde_json::Value {
        self.get(&format!("/api/v1/generate/{id}/status"), Some(token))
            .await
            .json()
            .await
            .expect("status JSON")
    }

    /// The id of the default model.
    pub async fn default_model_id(&self) -> String {
        let models: serde_json::Value = self
            .get("/api/v1/models", None)
            .await
            .json()
            .await
            .expect("models JSON");
        models[0]["id"].as_str().expect("model id").to_owned()
    }

    /// A token for `user` signed like `picture-server token` does.
    pub fn token(&self, user: &str, email: Option<&str>) -> String {
        picture_server::startup::local_tokens(&self.settings)
            .expect("embedded auth mode")
            .issue(
                &UserId::parse(user).expect("valid user id"),
                email,
                Duration::from_secs(600),
            )
            .expect("token signed")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { handle.stop(false).await });
        }
    }
}

/// Declares each listed test twice, `on_sqlite::NAME` and `on_postgres::NAME`, each calling
/// `NAME(app)` with a fresh server on that database; with `with CONFIGURE;` first, the
/// server's settings are adjusted by `CONFIGURE(&mut RawSettings)`.
#[macro_export]
macro_rules! on_both_databases {
    (with $configure:path; $($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = $crate::TestApp::spawn_with($crate::Db::Sqlite, $configure)
                        .await
                        .unwrap();
                    super::$name(app).await;
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(app) =
                        $crate::TestApp::spawn_with($crate::Db::Postgres, $configure).await
                    else {
                        return;
                    };
                    super::$name(app).await;
                }
            )*
        }
    };
    ($($name:ident),* $(,)?) => {
        $crate::on_both_databases!(with $crate::keep_defaults; $($name),*);
    };
}

/// Leaves the test settings as they are (for [`on_both_databases!`]).
pub fn keep_defaults(_: &mut RawSettings) {}

/// Declares each listed test twice, `on_sqlite::NAME` and `on_postgres::NAME`, each calling
/// `NAME(db)` with the [`Db`] to set its own server(s) up on.
#[macro_export]
macro_rules! for_both_databases {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Db::Sqlite).await;
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Db::Postgres).await;
                }
            )*
        }
    };
}
