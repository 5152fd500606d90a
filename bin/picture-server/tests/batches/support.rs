//! What the batch process tests share: a fake of Replicate's prediction API (create, read,
//! cancel and the list `find_submitted` reads) with its output host, the real server binary as
//! a child process, tokens, and the HTTP calls of a batch.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use picture_domain::UserId;
use picture_server::Settings;
use picture_server::settings::RawSettings;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const JWT_SECRET: &str = "batch-process-tests-secret-of-32-bytes!";
const ADMIN_KEY: &str = "batch-admin";
const WEBHOOK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// The price of a paid generation (the default `CREDITS_PER_GENERATION`).
pub const PRICE: i64 = 10;
/// Free generations per user (the default `FREE_GENERATIONS`).
pub const FREE: i64 = 3;
/// Predictions per page of Replicate's list (§A.2).
const PAGE: usize = 100;

/// The tests of this binary run one after the other: each starts servers whose timing another
/// would disturb on a two-core machine.
pub static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A prediction the fake holds.
#[derive(Clone)]
struct Prediction {
    id: String,
    input: Value,
    webhook: Option<String>,
    created_at: DateTime<Utc>,
    canceled: bool,
}

/// The fake's predictions: each runs for `run_time` after its creation, then succeeds with
/// one image on the fake's output host.
struct Predictions {
    /// Every prediction, oldest first (one of another client's among them).
    all: Mutex<Vec<Prediction>>,
    /// `POST /v1/predictions` calls.
    creates: AtomicUsize,
    /// `GET /v1/predictions` (list) calls.
    lists: AtomicUsize,
    run_time: Duration,
    /// Every `submit_delay_every`-th create (the 2nd, 4th, … for 2) answers after
    /// `submit_delay`; the others at once.
    submit_delay: Duration,
    submit_delay_every: usize,
    base: String,
}

impl Predictions {
    /// The prediction object (§A.5) as it stands at `now`.
    fn object(&self, p: &Prediction, now: DateTime<Utc>) -> Value {
        let ends = p.created_at + chrono::Duration::from_std(self.run_time).unwrap();
        let (status, output, completed_at, metrics) = if p.canceled {
            (
                "canceled",
                Value::Null,
                Some(now),
                json!({"predict_time": 0.1}),
            )
        } else if now >= ends {
            (
                "succeeded",
                json!([format!("{}/delivery/out.png", self.base)]),
                Some(ends),
                json!({"predict_time": self.run_time.as_secs_f64(), "total_time": self.run_time.as_secs_f64()}),
            )
        } else {
            ("processing", Value::Null, None, json!({}))
        };
        let get = format!("{}/v1/predictions/{}", self.base, p.id);
        let mut object = json!({
            "id": p.id,
            "model": "black-forest-labs/flux-schnell",
            "version": "hidden",
            "input": p.input,
            "output": output,
            "error": null,
            "logs": "",
            "status": status,
            "source": "api",
            "data_removed": false,
            "created_at": rfc3339(p.created_at),
            "started_at": rfc3339(p.created_at),
            "completed_at": completed_at.map(rfc3339),
            "urls": {
                "get": get,
                "cancel": format!("{get}/cancel"),
                "web": format!("https://replicate.com/p/{}", p.id)
            },
            "metrics": metrics
        });
        if let Some(webhook) = &p.webhook {
            object["webhook"] = json!(webhook);
            object["webhook_events_filter"] = json!(["start", "completed"]);
        }
        object
    }
}

/// `POST /v1/predictions`: a new prediction, answered `starting` (§A.3).
struct Create(Arc<Predictions>);

impl Respond for Create {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let n = self.0.creates.fetch_add(1, Ordering::SeqCst) + 1;
        let prediction = Prediction {
            id: format!("b{n:025}"),
            input: body["input"].clone(),
            webhook: body["webhook"].as_str().map(str::to_owned),
            created_at: Utc::now(),
            canceled: false,
        };
        self.0.all.lock().unwrap().push(prediction.clone());
        let mut object = self.0.object(&prediction, prediction.created_at);
        object["status"] = json!("starting");
        object["started_at"] = Value::Null;
        let answer = ResponseTemplate::new(201).set_body_json(object);
        if self.0.submit_delay_every > 0 && n.is_multiple_of(self.0.submit_delay_every) {
            answer.set_delay(self.0.submit_delay)
        } else {
            answer
        }
    }
}

/// `GET /v1/predictions/{id}` and `POST /v1/predictions/{id}/cancel`.
struct Read(Arc<Predictions>);

impl Respond for Read {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let id = request.url.path().split('/').nth(3).unwrap_or_default();
        let cancel = request.url.path().ends_with("/cancel");
        let mut all = self.0.all.lock().unwrap();
        let Some(prediction) = all.iter_mut().find(|p| p.id == id) else {
            return ResponseTemplate::new(404).set_body_json(
                json!({"detail": "The requested resource could not be found.", "status": 404}),
            );
        };
        if cancel {
            prediction.canceled = true;
        }
        ResponseTemplate::new(200).set_body_json(self.0.object(prediction, Utc::now()))
    }
}

/// `GET /v1/predictions?created_after=…` (fixture F5): the account's predictions newest first,
/// 100 a page, `next` the full URL of the next page (`?cursor=…`, the filter kept).
struct List(Arc<Predictions>);

impl Respond for List {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.0.lists.fetch_add(1, Ordering::SeqCst);
        let query = |key: &str| {
            request
                .url
                .query_pairs()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.into_owned())
        };
        let after = query("created_after").map(|text| {
            DateTime::parse_from_rfc3339(&text)
                .unwrap()
                .with_timezone(&Utc)
        });
        let offset: usize = query("cursor").map_or(0, |c| c.parse().unwrap());
        let now = Utc::now();
        let all = self.0.all.lock().unwrap();
        let listed: Vec<&Prediction> = all
            .iter()
            .rev()
            .filter(|p| after.is_none_or(|after| p.created_at >= after))
            .collect();
        let results: Vec<Value> = listed
            .iter()
            .skip(offset)
            .take(PAGE)
            .map(|p| self.0.object(p, now))
            .collect();
        let next = (offset + PAGE < listed.len()).then(|| {
            let mut next = request.url.clone();
            next.query_pairs_mut()
                .clear()
                .append_pair("cursor", &(offset + PAGE).to_string());
            if let Some(after) = query("created_after") {
                next.query_pairs_mut().append_pair("created_after", &after);
            }
            next.to_string()
        });
        ResponseTemplate::new(200).set_body_json(json!({
            "next": next, "previous": null, "results": results
        }))
    }
}

/// A fake of Replicate's prediction API and output host on loopback.
pub struct FakeReplicate {
    server: MockServer,
    predictions: Arc<Predictions>,
}

impl FakeReplicate {
    /// Predictions that run for `run_time`; every `every`-th create is answered after
    /// `submit_delay` (0: none is). One prediction of another client (no webhook) is listed
    /// from the start.
    pub async fn start(run_time: Duration, submit_delay: Duration, every: usize) -> Self {
        let server = MockServer::start().await;
        let predictions = Arc::new(Predictions {
            all: Mutex::new(vec![Prediction {
                id: "someoneelse000000000000000".into(),
                input: json!({"prompt": "another client's"}),
                webhook: None,
                created_at: Utc::now(),
                canceled: false,
            }]),
            creates: AtomicUsize::new(0),
            lists: AtomicUsize::new(0),
            run_time,
            submit_delay,
            submit_delay_every: every,
            base: server.uri(),
        });
        Mock::given(method("POST"))
            .and(path("/v1/predictions"))
            .respond_with(Create(Arc::clone(&predictions)))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/v1/predictions"))
            .respond_with(List(Arc::clone(&predictions)))
            .mount(&server)
            .await;
        Mock::given(path_regex(r"^/v1/predictions/[^/]+(/cancel)?$"))
            .respond_with(Read(Arc::clone(&predictions)))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/delivery/out.png"))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("content-type", "image/png")
                    .set_body_bytes(picture_offline::render_png("batch", Some(1), 64, 64).unwrap()),
            )
            .mount(&server)
            .await;
        Self {
            server,
            predictions,
        }
    }

    /// `POST /v1/predictions` calls so far: predictions created.
    pub fn creates(&self) -> usize {
        self.predictions.creates.load(Ordering::SeqCst)
    }

    /// List calls so far.
    pub fn lists(&self) -> usize {
        self.predictions.lists.load(Ordering::SeqCst)
    }

    /// Waits until `n` predictions were created.
    pub async fn wait_for_creates(&self, n: usize, within: Duration) {
        let deadline = Instant::now() + within;
        while self.creates() < n {
            assert!(
                Instant::now() < deadline,
                "only {} predictions created within {within:?}",
                self.creates()
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    fn uri(&self) -> String {
        self.server.uri()
    }
}

/// How servers are started: one database and data directory, the fake, extra variables.
pub struct Launch {
    database: String,
    data_dir: PathBuf,
    log_dir: PathBuf,
    replicate: String,
    env: Vec<(&'static str, String)>,
}

impl Launch {
    /// Servers on `database` with their data and logs under `dir`, calling `fake`.
    pub fn new(database: &str, dir: &Path, fake: &FakeReplicate) -> Self {
        let data_dir = dir.join("data");
        std::fs::create_dir_all(&data_dir).unwrap();
        Self {
            database: database.to_owned(),
            data_dir,
            log_dir: dir.to_owned(),
            replicate: fake.uri(),
            env: Vec::new(),
        }
    }

    /// One more variable.
    pub fn with(mut self, name: &'static str, value: &str) -> Self {
        self.env.push((name, value.to_owned()));
        self
    }

    /// Starts a server named `name` (its log: `<name>.log`) and waits until it is ready.
    pub async fn start(&self, name: &str) -> Server {
        let port = free_port();
        let log_path = self.log_dir.join(format!("{name}.log"));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_picture-server"));
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", &self.database)
            .env("DATA_DIR", &self.data_dir)
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .env("HTTP_WORKERS", "2")
            .env("APP_ENV", "staging")
            .env("CREDITS_ENFORCEMENT", "enforce")
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "warn")
            .env("JWT_SECRET", JWT_SECRET)
            .env("ADMIN_SERVICE_KEY", ADMIN_KEY)
            .env("REPLICATE_API_TOKEN", "r8_batches")
            .env("REPLICATE_API_BASE_URL", format!("{}/v1", self.replicate))
            .env("REPLICATE_WEBHOOK_SECRET", WEBHOOK_SECRET)
            // Webhooks are never delivered here: the prediction's echoed webhook names its
            // generation, and the workers' polls and the reconciler finish it.
            .env("WEBHOOK_BASE_URL", "https://picture.example")
            .env("OUTPUT_ALLOWED_HOSTS", "127.0.0.1")
            .env("OUTPUT_ALLOW_PRIVATE_ADDRESSES", "true")
            .env("GENERATION_POLL_INTERVAL_MS", "100")
            .env("PROVIDER_POLL_MIN_INTERVAL_MS", "100")
            .env("RECONCILER_INTERVAL_SECS", "1")
            .env("RECONCILER_MIN_AGE_SECS", "2")
            .env("GENERATION_PENDING_TIMEOUT_SECS", "41")
            .env("FINALIZE_LEASE_SECS", "3")
            .env("BATCH_CLAIM_LEASE_SECS", "10")
            .env("RATE_LIMIT_GENERATIONS_PER_MINUTE", "10000")
            .env("RATE_LIMIT_GENERATIONS_PER_DAY", "100000")
            .env("RATE_LIMIT_IP_PER_MINUTE", "0")
            .env("MAX_CONNECTIONS_PER_IP", "0")
            .env("SHUTDOWN_TIMEOUT_SECS", "5");
        for (name, value) in &self.env {
            command.env(name, value);
        }
        let child = command
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let server = Server {
            port,
            child,
            log: log_path,
        };
        let client = reqwest::Client::new();
        for _ in 0..400 {
            if let Ok(answer) = client.get(format!("{}/ready", server.base())).send().await
                && answer.status() == 200
            {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{name} did not become ready: {}", server.log_tail());
    }

    /// A token for `user`, signed with the servers' secret.
    pub fn token(&self, user: &str) -> String {
        let mut raw = RawSettings::default();
        raw.set("DATA_DIR", self.data_dir.display().to_string())
            .set("JWT_SECRET", JWT_SECRET);
        let settings = Settings::from_raw(raw).unwrap();
        picture_server::startup::local_tokens(&settings)
            .unwrap()
            .issue(
                &UserId::parse(user).unwrap(),
                None,
                Duration::from_secs(600),
            )
            .unwrap()
    }
}

/// The server as a child process; killed (SIGKILL) when dropped.
pub struct Server {
    port: u16,
    child: Child,
    log: PathBuf,
}

impl Server {
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// SIGKILL (`Child::kill` on Unix): no shutdown, nothing given back by the server.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Lines of its log containing `text`.
    pub fn log_lines(&self, text: &str) -> usize {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|line| line.contains(text))
            .count()
    }

    /// The last lines of its log, for a failure's message.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// The value of the counter `name` (without labels) in its `/metrics`, 0 when absent.
    pub async fn counter(&self, name: &str) -> f64 {
        let text = reqwest::get(format!("{}/metrics", self.base()))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .filter_map(|line| line.strip_prefix(name))
            .filter_map(|rest| rest.strip_prefix(' '))
            .map(|value| value.trim().parse::<f64>().unwrap())
            .sum()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The HTTP calls of the tests, on one server.
pub struct Api {
    client: reqwest::Client,
    base: String,
}

impl Api {
    pub fn on(server: &Server) -> Self {
        Self {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            base: server.base(),
        }
    }

    /// The first active model served by Replicate.
    pub async fn replicate_model(&self) -> Value {
        let models: Vec<Value> = self
            .client
            .get(format!("{}/api/v1/models", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        models
            .into_iter()
            .find(|m| m["provider"] == "replicate")
            .expect("a Replicate model")
    }

    /// Grants `amount` credits to `user`.
    pub async fn grant(&self, user: &str, amount: i64) {
        let granted = self
            .client
            .post(format!("{}/api/v1/admin/credits/grant", self.base))
            .header("X-Service-Key", ADMIN_KEY)
            .json(
                &json!({"userId": user, "amount": amount, "reason": "batch tests",
                          "idempotencyKey": format!("grant-{user}")}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(granted.status(), 201);
    }

    /// Creates a batch of `prompts` prompts with the mobile client's body (a float
    /// `guidanceScale`, `modelVersion` `""`, tags): its id.
    pub async fn create_batch(
        &self,
        token: &str,
        model: &Value,
        prompts: usize,
        name: &str,
    ) -> String {
        let prompts: Vec<Value> = (0..prompts)
            .map(|i| json!({"text": format!("{name} {i}"), "seed": i, "tags": ["batch"]}))
            .collect();
        let answer = self
            .client
            .post(format!("{}/api/v1/batch", self.base))
            .bearer_auth(token)
            .json(&json!({
                "prompts": prompts,
                "sharedSettings": {
                    "modelId": model["id"],
                    "modelVersion": "",
                    "width": model["defaultWidth"],
                    "height": model["defaultHeight"],
                    "steps": model["defaultSteps"],
                    "guidanceScale": 3.5
                },
                "batchName": name
            }))
            .send()
            .await
            .unwrap();
        let status = answer.status();
        let body: Value = answer.json().await.unwrap();
        assert_eq!(status, 201, "{body}");
        body["id"].as_str().unwrap().to_owned()
    }

    /// `GET /api/v1/batch/{id}/progress`.
    pub async fn progress(&self, token: &str, id: &str) -> Value {
        self.get(token, &format!("/api/v1/batch/{id}/progress"))
            .await
    }

    /// `GET /api/v1/batch/{id}`.
    pub async fn batch(&self, token: &str, id: &str) -> Value {
        self.get(token, &format!("/api/v1/batch/{id}")).await
    }

    async fn get(&self, token: &str, path: &str) -> Value {
        let answer = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "GET {path}");
        answer.json().await.unwrap()
    }

    /// Starts one generation of `prompt` and waits for its end: the answer's body.
    pub async fn generate(&self, token: &str, model: &Value, prompt: &str) -> Value {
        let answer = self
            .client
            .post(format!("{}/api/v1/generate", self.base))
            .bearer_auth(token)
            .json(&json!({"prompt": prompt, "modelId": model["id"], "waitForResult": true}))
            .send()
            .await
            .unwrap();
        let status = answer.status();
        let body: Value = answer.json().await.unwrap();
        assert_eq!(status, 201, "{body}");
        body
    }

    /// Polls the batch's progress until no item waits or runs any more (failing after
    /// `within`): the last progress.
    pub async fn wait_until_ended(
        &self,
        token: &str,
        id: &str,
        within: Duration,
        server: &Server,
    ) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let progress = self.progress(token, id).await;
            if progress["pendingCount"] == 0 && progress["processingCount"] == 0 {
                return progress;
            }
            assert!(
                Instant::now() < deadline,
                "the batch did not end within {within:?}: {progress}\n{}",
                server.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
