//! Two instances of the real binary on one PostgreSQL database under a burst of generations:
//! every webhook delivered to both instances and once more, cancels racing finalisation, and
//! one instance killed with SIGKILL mid-burst and started again. When every generation has
//! ended, the books must balance: stored objects = image rows, per user the ledger's entries
//! add up to the balance (never negative), nothing stays held, and every completed paid
//! generation was captured exactly once while no other one was.
#![expect(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is a failed assertion"
)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::sql_types::{BigInt, Text};
use diesel::{QueryableByName, sql_query};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use picture_domain::UserId;
use picture_replicate::WebhookVerifier;
use picture_server::Settings;
use picture_server::settings::RawSettings;
use picture_test_support::PgTestDb;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const JWT_SECRET: &str = "chaos-test-secret-of-at-least-32-bytes!";
const USERS: usize = 20;
const PER_USER: usize = 15;
/// Each user can pay for this many generations after the free ones.
const GRANT: i64 = 30;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn prediction(id: &str, status: &str, output: Value) -> Value {
    json!({"id": id, "model": "black-forest-labs/flux-schnell", "version": "hidden",
           "status": status, "output": output, "error": null, "logs": "",
           "metrics": {"predict_time": 0.5}})
}

/// A prediction the fake created: its id, our webhook query and the user in its prompt.
#[derive(Clone)]
struct Created {
    prediction: String,
    query: String,
    user: String,
}

/// Replicate's create call: a new prediction id each time, recorded for the webhook driver.
struct Creates {
    next: AtomicUsize,
    created: Arc<Mutex<Vec<Created>>>,
}

impl Respond for Creates {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let webhook = body["webhook"].as_str().unwrap_or_default();
        let query = webhook.find('?').map_or("", |at| &webhook[at..]).to_owned();
        let prompt = body["input"]["prompt"].as_str().unwrap_or_default();
        let user = prompt.trim_start_matches("chaos ").to_owned();
        let id = format!("p-{n}");
        self.created.lock().unwrap().push(Created {
            prediction: id.clone(),
            query,
            user,
        });
        ResponseTemplate::new(201).set_body_json(prediction(&id, "starting", Value::Null))
    }
}

/// Replicate's read and cancel calls: a read says succeeded, a cancel says canceled.
struct Reads {
    output: String,
}

impl Respond for Reads {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let segments: Vec<&str> = request.url.path().split('/').collect();
        let id = segments.get(3).copied().unwrap_or_default();
        if request.url.path().ends_with("/cancel") {
            ResponseTemplate::new(200).set_body_json(prediction(id, "canceled", Value::Null))
        } else {
            ResponseTemplate::new(200).set_body_json(prediction(
                id,
                "succeeded",
                json!([self.output]),
            ))
        }
    }
}

/// One instance of the server as a child process.
struct Instance {
    port: u16,
    child: Child,
}

impl Instance {
    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Cluster {
    database: String,
    data_dir: PathBuf,
    replicate: String,
    log_dir: PathBuf,
}

impl Cluster {
    fn environment(&self, command: &mut Command, port: u16) {
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", &self.database)
            .env("DATA_DIR", &self.data_dir)
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .env("HTTP_WORKERS", "2")
            .env("APP_ENV", "staging")
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "warn")
            .env("JWT_SECRET", JWT_SECRET)
            .env("ADMIN_SERVICE_KEY", "chaos-admin")
            .env("REPLICATE_API_TOKEN", "r8_chaos")
            .env("REPLICATE_API_BASE_URL", format!("{}/v1", self.replicate))
            .env("REPLICATE_WEBHOOK_SECRET", SECRET)
            .env("WEBHOOK_BASE_URL", "https://picture.example")
            .env("OUTPUT_ALLOWED_HOSTS", "127.0.0.1")
            .env("OUTPUT_ALLOW_PRIVATE_ADDRESSES", "true")
            .env("GENERATION_POLL_INTERVAL_MS", "100")
            .env("RECONCILER_INTERVAL_SECS", "1")
            .env("RECONCILER_MIN_AGE_SECS", "2")
            .env("GENERATION_PENDING_TIMEOUT_SECS", "41")
            .env("FINALIZE_LEASE_SECS", "3")
            .env("ORPHAN_SWEEP_INTERVAL_SECS", "1")
            .env("ORPHAN_SWEEP_GRACE_SECS", "6")
            .env("RATE_LIMIT_GENERATIONS_PER_MINUTE", "10000")
            .env("RATE_LIMIT_GENERATIONS_PER_DAY", "100000")
            .env("RATE_LIMIT_IP_PER_MINUTE", "0")
            // Every client of the burst comes from 127.0.0.1.
            .env("MAX_CONNECTIONS_PER_IP", "0")
            .env("SHUTDOWN_TIMEOUT_SECS", "5");
    }

    async fn start(&self, port: u16, name: &str) -> Instance {
        let mut command = Command::new(env!("CARGO_BIN_EXE_picture-server"));
        self.environment(&mut command, port);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_dir.join(format!("{name}.log")))
            .unwrap();
        let child = command
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let instance = Instance { port, child };
        let client = reqwest::Client::new();
        for _ in 0..200 {
            if let Ok(answer) = client
                .get(format!("{}/ready", instance.base()))
                .send()
                .await
                && answer.status() == 200
            {
                return instance;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("instance {name} did not become ready");
    }
}

fn tokens(data_dir: &Path) -> HashMap<String, String> {
    let mut raw = RawSettings::default();
    raw.set("DATA_DIR", data_dir.display().to_string())
        .set("JWT_SECRET", JWT_SECRET);
    let settings = Settings::from_raw(raw).unwrap();
    let issuer = picture_server::startup::local_tokens(&settings).unwrap();
    (0..USERS)
        .map(|u| {
            let user = format!("chaos-{u}");
            let token = issuer
                .issue(
                    &UserId::parse(&user).unwrap(),
                    None,
                    Duration::from_secs(600),
                )
                .unwrap();
            (user, token)
        })
        .collect()
}

/// Sends a signed Replicate webhook with delivery id `delivery` to `base`; the status or 0.
async fn deliver(
    client: &reqwest::Client,
    base: &str,
    created: &Created,
    delivery: &str,
    output: &str,
) -> u16 {
    let body = prediction(&created.prediction, "succeeded", json!([output])).to_string();
    let timestamp = chrono::Utc::now().timestamp();
    let signature =
        WebhookVerifier::new(SECRET)
            .unwrap()
            .sign(delivery, timestamp, body.as_bytes());
    client
        .post(format!("{base}/api/v1/generate/webhook{}", created.query))
        .header("content-type", "application/json")
        .header("webhook-id", delivery)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await
        .map_or(0, |r| r.status().as_u16())
}

#[derive(QueryableByName, Debug)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Key {
    #[diesel(sql_type = Text)]
    storage_path: String,
}

#[derive(QueryableByName, Debug)]
struct Books {
    #[diesel(sql_type = Text)]
    user_id: String,
    #[diesel(sql_type = BigInt)]
    balance: i64,
    #[diesel(sql_type = BigInt)]
    held: i64,
    #[diesel(sql_type = BigInt)]
    total_spent: i64,
    #[diesel(sql_type = BigInt)]
    entries_balance: i64,
    #[diesel(sql_type = BigInt)]
    captured: i64,
    #[diesel(sql_type = BigInt)]
    free_used: i64,
    #[diesel(sql_type = BigInt)]
    free_completed: i64,
}

async fn count(conn: &mut AsyncPgConnection, sql: &str) -> i64 {
    sql_query(sql).get_result::<Count>(conn).await.unwrap().n
}

/// Regular files under `dir`, recursively, leaving out unfinished writes (`.…tmp`).
fn stored_objects(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(stored_objects(&path));
        } else if !entry.file_name().to_string_lossy().starts_with('.') {
            found.push(path);
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_a_kill_and_racing_cancels_keep_the_books_and_the_bucket_exact() {
    let Some(pg) = PgTestDb::create().await else {
        return;
    };
    let replicate = MockServer::start().await;
    let output = Arc::new(format!("{}/delivery/out.png", replicate.uri()));
    let created = Arc::new(Mutex::new(Vec::new()));
    Mock::given(method("POST"))
        .and(path("/v1/predictions"))
        .respond_with(Creates {
            next: AtomicUsize::new(0),
            created: created.clone(),
        })
        .mount(&replicate)
        .await;
    Mock::given(path_regex(r"^/v1/predictions/p-\d+(/cancel)?$"))
        .respond_with(Reads {
            output: output.to_string(),
        })
        .mount(&replicate)
        .await;
    // A slow download keeps finalisations open while cancels arrive.
    Mock::given(method("GET"))
        .and(path("/delivery/out.png"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_bytes(picture_offline::render_png("chaos", Some(1), 256, 256).unwrap())
                .set_delay(Duration::from_millis(300)),
        )
        .mount(&replicate)
        .await;

    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    std::fs::create_dir_all(&data_dir).unwrap();
    let cluster = Arc::new(Cluster {
        database: pg.url().to_owned(),
        data_dir: data_dir.clone(),
        replicate: replicate.uri(),
        log_dir: dir.path().to_owned(),
    });
    let (port_a, port_b) = (free_port(), free_port());
    let a = cluster.start(port_a, "a").await;
    let b = cluster.start(port_b, "b").await;
    let bases = [a.base(), b.base()];
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let model = client
        .get(format!("{}/api/v1/models", bases[0]))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let tokens = Arc::new(tokens(&data_dir));
    for user in tokens.keys() {
        let granted = client
            .post(format!("{}/api/v1/admin/credits/grant", bases[1]))
            .header("X-Service-Key", "chaos-admin")
            .json(&json!({"userId": user, "amount": GRANT, "reason": "chaos",
                          "idempotencyKey": format!("grant-{user}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(granted.status(), 201);
    }

    // The burst: every user's generations at once, alternating between the instances.
    let mut burst = Vec::new();
    for (u, (user, token)) in tokens.iter().enumerate() {
        for j in 0..PER_USER {
            let (client, token, model) = (client.clone(), token.clone(), model.clone());
            let base = bases[(u + j) % 2].clone();
            let prompt = format!("chaos {user}");
            burst.push(tokio::spawn(async move {
                client
                    .post(format!("{base}/api/v1/generate"))
                    .bearer_auth(token)
                    .json(&json!({"prompt": prompt, "modelId": model, "waitForResult": false}))
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0)
            }));
        }
    }

    // The webhook driver: each new prediction's success goes to both instances with one
    // delivery id and once more with another; every third one is cancelled meanwhile.
    let driver = {
        let (client, created, tokens, bases, output) = (
            client.clone(),
            created.clone(),
            tokens.clone(),
            bases.clone(),
            output.clone(),
        );
        tokio::spawn(async move {
            let mut seen = 0;
            let mut sent = Vec::new();
            for _ in 0..200 {
                let fresh: Vec<Created> = created.lock().unwrap()[seen..].to_vec();
                seen += fresh.len();
                for (k, prediction) in fresh.into_iter().enumerate() {
                    let (client, tokens, bases, output) = (
                        client.clone(),
                        tokens.clone(),
                        bases.clone(),
                        output.clone(),
                    );
                    let cancel = (seen + k) % 3 == 0;
                    sent.push(tokio::spawn(async move {
                        let delivery = format!("msg_{}", prediction.prediction);
                        let again = format!("{delivery}-again");
                        let generation = prediction.query.trim_start_matches("?generation=");
                        let token = tokens.get(&prediction.user).cloned().unwrap_or_default();
                        let cancelled = async {
                            if cancel {
                                tokio::time::sleep(Duration::from_millis(100)).await;
                                let _ = client
                                    .post(format!(
                                        "{}/api/v1/generate/{generation}/cancel",
                                        bases[1]
                                    ))
                                    .bearer_auth(&token)
                                    .send()
                                    .await;
                            }
                        };
                        tokio::join!(
                            deliver(&client, &bases[0], &prediction, &delivery, &output),
                            deliver(&client, &bases[1], &prediction, &delivery, &output),
                            deliver(&client, &bases[1], &prediction, &again, &output),
                            cancelled,
                        );
                    }));
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            for task in sent {
                let _ = task.await;
            }
        })
    };

    // Mid-burst, instance A dies without a chance to clean up, and comes back.
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let mut a = a;
    a.child.kill().unwrap();
    a.child.wait().unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let a = cluster.start(port_a, "a-restarted").await;

    let mut answers: HashMap<u16, usize> = HashMap::new();
    for request in burst {
        *answers.entry(request.await.unwrap()).or_default() += 1;
    }
    driver.await.unwrap();
    // A request lost with the killed instance may have been recorded before it died (its
    // reply is what was lost), so the rows, not the 201s, show what the burst started.
    assert!(
        answers.get(&201).copied().unwrap_or(0) > 0,
        "the burst started generations: {answers:?}"
    );
    assert!(
        answers.keys().all(|s| [0, 201, 402, 503].contains(s)),
        "only created, refused for credits, or lost with the killed instance: {answers:?}"
    );

    // Every generation ends: webhooks, the reconcilers and the pending timeout see to it.
    let mut conn = AsyncPgConnection::establish(pg.url()).await.unwrap();
    let mut open = -1;
    for _ in 0..240 {
        open = count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM image_generations WHERE status IN ('pending', 'processing')",
        )
        .await;
        if open == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(open, 0, "every generation ended within two minutes");
    let free_started = count(
        &mut conn,
        "SELECT COUNT(*) AS n FROM image_generations WHERE billing = 'free'",
    )
    .await;
    assert!(
        free_started >= (USERS * 3) as i64,
        "the burst started at least every user's free generations: {free_started} ({answers:?})"
    );
    // What a killed finaliser stored without its row is swept once it is older than the
    // grace (6 s); whatever a finaliser that lost a race stored it deletes itself.
    tokio::time::sleep(Duration::from_secs(9)).await;
    drop((a, b));

    let images = count(&mut conn, "SELECT COUNT(*) AS n FROM images").await;
    let keys: Vec<Key> = sql_query("SELECT storage_path FROM images")
        .load(&mut conn)
        .await
        .unwrap();
    let files = data_dir.join("files");
    let objects = stored_objects(&files);
    let orphans: Vec<&PathBuf> = objects
        .iter()
        .filter(|object| {
            !keys
                .iter()
                .any(|key| files.join(&key.storage_path) == **object)
        })
        .collect();
    assert_eq!(
        (objects.len() as i64, orphans.len()),
        (images, 0),
        "stored objects = image rows; the first orphans: {:?}",
        &orphans[..orphans.len().min(5)]
    );
    let completed = count(
        &mut conn,
        "SELECT COUNT(*) AS n FROM image_generations WHERE status = 'completed'",
    )
    .await;
    assert_eq!(images, completed, "one image per completed generation");
    let cancelled = count(
        &mut conn,
        "SELECT COUNT(*) AS n FROM image_generations WHERE status = 'cancelled'",
    )
    .await;
    assert!(cancelled > 0, "some cancels won their race");
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM images i JOIN image_generations g ON g.id = i.generation_id \
             WHERE g.status <> 'completed'"
        )
        .await,
        0,
        "no image of a generation that did not complete"
    );
    let captures = count(
        &mut conn,
        "SELECT COUNT(*) AS n FROM credit_entries WHERE kind = 'capture'",
    )
    .await;
    let paid_completed = count(
        &mut conn,
        "SELECT COUNT(*) AS n FROM image_generations WHERE status = 'completed' AND billing = 'paid'",
    )
    .await;
    assert_eq!(
        captures, paid_completed,
        "captures = completed paid generations"
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM credit_entries e JOIN image_generations g \
             ON g.id = e.generation_id WHERE e.kind = 'capture' AND g.status <> 'completed'"
        )
        .await,
        0,
        "nothing captured for a generation that did not complete"
    );

    let books: Vec<Books> = sql_query(
        "SELECT a.user_id, a.balance, a.held, a.total_spent, \
           COALESCE((SELECT SUM(CASE e.kind WHEN 'grant' THEN e.amount WHEN 'reserve' THEN -e.amount \
                     WHEN 'release' THEN e.amount ELSE 0 END) \
                     FROM credit_entries e WHERE e.user_id = a.user_id), 0)::BIGINT AS entries_balance, \
           COALESCE((SELECT SUM(e.amount) FROM credit_entries e \
                     WHERE e.user_id = a.user_id AND e.kind = 'capture'), 0)::BIGINT AS captured, \
           a.free_generations_used::BIGINT AS free_used, \
           (SELECT COUNT(*) FROM image_generations g WHERE g.user_id = a.user_id \
              AND g.billing = 'free' AND g.status = 'completed') AS free_completed \
         FROM credit_accounts a ORDER BY a.user_id",
    )
    .load(&mut conn)
    .await
    .unwrap();
    assert_eq!(books.len(), USERS, "{books:?}");
    for book in &books {
        assert!(book.user_id.starts_with("chaos-"), "{book:?}");
        assert!(book.balance >= 0, "{book:?}");
        assert_eq!(
            book.balance, book.entries_balance,
            "Σ ledger = balance: {book:?}"
        );
        assert_eq!(book.held, 0, "nothing stays held: {book:?}");
        assert_eq!(
            book.total_spent, book.captured,
            "spent = captured: {book:?}"
        );
        assert_eq!(book.balance + book.total_spent, GRANT, "{book:?}");
        assert_eq!(book.free_used, book.free_completed, "{book:?}");
        assert!(book.free_used <= 3, "{book:?}");
    }
}
