//! A fake of Replicate's prediction API on loopback (create, read, cancel, and the list
//! `find_submitted` reads, shaped as fixture F5 of `replicate-api.md`) with its output host.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::output_host::mount_output_png;

/// Predictions per page of Replicate's list (§A.2).
const PAGE: usize = 100;

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
        mount_output_png(&server, "batch").await;
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

    /// Its base URL.
    pub fn uri(&self) -> String {
        self.server.uri()
    }
}
