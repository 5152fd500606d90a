//! The HTTP layer under hostile clients, spoken to in raw bytes: bodies that stall, unsigned
//! webhooks, too many connections from one address, oversized bodies, heads actix-http cannot
//! parse (long URIs, too many or too large headers, garbage), and the docs redirect.

use std::net::SocketAddr;
use std::time::Duration;

use picture_replicate::WebhookVerifier;
use picture_server::settings::RawSettings;
use picture_tests::{Db, TestApp};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const WEBHOOK_SECRET: &str = "whsec_TEVBS0NIRUNLLXdlYmhvb2stc2VjcmV0LWJ5dGVz";

/// The longest any answer below may take; far above the timeouts the servers are given.
const PATIENCE: Duration = Duration::from_secs(20);

fn address(app: &TestApp) -> SocketAddr {
    app.address.trim_start_matches("http://").parse().unwrap()
}

/// A connection to `app` from the loopback address `from`.
async fn connect_from(app: &TestApp, from: [u8; 4]) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from((from, 0))).unwrap();
    socket.connect(address(app)).await.unwrap()
}

/// Everything the server sends until it closes the connection (or resets it), waiting at most
/// [`PATIENCE`]; `None` when it neither answered nor closed in that time.
async fn until_closed(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut received = Vec::new();
    let read = tokio::time::timeout(PATIENCE, async {
        let mut buffer = [0u8; 8192];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    read.ok().map(|()| received)
}

/// The status, the head and the JSON body of one raw answer.
fn parse(answer: &[u8]) -> (u16, String, Value) {
    let text = String::from_utf8_lossy(answer);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = serde_json::from_str(body).unwrap_or(Value::Null);
    (status, head.to_ascii_lowercase(), body)
}

/// A POST head declaring a 1000-byte body, followed by its first 10 bytes only.
fn stalled_post(path: &str, extra_headers: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Content-Length: 1000\r\n{extra_headers}\r\n{{\"prompt\":"
    )
    .into_bytes()
}

fn with_webhooks(raw: &mut RawSettings) {
    raw.set("REPLICATE_WEBHOOK_SECRET", WEBHOOK_SECRET);
    raw.set("REQUEST_BODY_TIMEOUT_SECS", "60");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_body_is_answered_408_in_the_json_shape_and_the_connection_closed() {
    let app = TestApp::spawn_with(Db::Sqlite, |raw| {
        raw.set("REQUEST_BODY_TIMEOUT_SECS", "1");
    })
    .await
    .unwrap();
    let token = app.token("staller", None);
    let mut stream = connect_from(&app, [127, 0, 0, 1]).await;
    let request = stalled_post(
        "/api/v1/generate",
        &format!("Authorization: Bearer {token}\r\n"),
    );
    stream.write_all(&request).await.unwrap();
    let answer = until_closed(&mut stream)
        .await
        .expect("the server answers and closes a stalled body within its timeout");
    let (status, head, body) = parse(&answer);
    assert_eq!(status, 408, "{head}");
    assert_eq!(body["code"], "request_timeout");
    assert_eq!(body["statusCode"], 408);
    assert!(head.contains("content-type: application/json"), "{head}");
    assert!(head.contains("connection: close"), "{head}");
    assert_eq!(app.get("/health", None).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_refuses_an_unsigned_request_before_reading_its_body() {
    let app = TestApp::spawn_with(Db::Sqlite, with_webhooks)
        .await
        .unwrap();
    let mut stream = connect_from(&app, [127, 0, 0, 1]).await;
    stream
        .write_all(&stalled_post("/api/v1/generate/webhook", ""))
        .await
        .unwrap();
    // The body timeout is 60 s: an answer before it means the body was never waited for.
    let answer = tokio::time::timeout(Duration::from_secs(30), until_closed(&mut stream))
        .await
        .ok()
        .flatten()
        .expect("an unsigned webhook is answered without waiting for its body");
    let (status, _, body) = parse(&answer);
    assert_eq!(status, 401);
    assert_eq!(body["code"], "unauthorized");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_webhook_is_413_in_the_json_shape() {
    let app = TestApp::spawn_with(Db::Sqlite, with_webhooks)
        .await
        .unwrap();
    let now = chrono::Utc::now().timestamp();
    let signature = WebhookVerifier::new(WEBHOOK_SECRET)
        .unwrap()
        .sign("msg_big", now, b"{}");
    let mut stream = connect_from(&app, [127, 0, 0, 1]).await;
    let head = format!(
        "POST /api/v1/generate/webhook HTTP/1.1\r\nHost: localhost\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nwebhook-id: msg_big\r\n\
         webhook-timestamp: {now}\r\nwebhook-signature: {signature}\r\n\r\n",
        11 * 1024 * 1024
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let answer = until_closed(&mut stream).await.expect("an answer");
    let (status, head, body) = parse(&answer);
    assert_eq!(status, 413, "{head}");
    assert!(head.contains("content-type: application/json"), "{head}");
    assert_eq!(body["code"], "payload_too_large");
    assert_eq!(body["statusCode"], 413);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_per_address_cap_are_closed_while_health_answers() {
    let app = TestApp::spawn_with(Db::Sqlite, |raw| {
        raw.set("MAX_CONNECTIONS_PER_IP", "4");
        raw.set("REQUEST_BODY_TIMEOUT_SECS", "60");
    })
    .await
    .unwrap();
    let token = app.token("hoarder", None);
    let request = stalled_post(
        "/api/v1/generate",
        &format!("Authorization: Bearer {token}\r\n"),
    );
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut stream = connect_from(&app, [127, 0, 0, 2]).await;
        stream.write_all(&request).await.unwrap();
        held.push(stream);
    }
    let mut refused = connect_from(&app, [127, 0, 0, 2]).await;
    // Written before the server shuts the socket, or refused by it: either way no answer.
    let _ = refused
        .write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await;
    let answer = until_closed(&mut refused)
        .await
        .expect("the connection past the cap is closed at once");
    assert!(
        answer.is_empty(),
        "no answer on a refused connection: {}",
        String::from_utf8_lossy(&answer)
    );

    let mut probe = connect_from(&app, [127, 0, 0, 1]).await;
    probe
        .write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (status, _, _) = parse(&until_closed(&mut probe).await.expect("health answers"));
    assert_eq!(status, 200, "another address is still served");

    drop(held);
    let mut again = None;
    for _ in 0..100 {
        let mut stream = connect_from(&app, [127, 0, 0, 2]).await;
        let _ = stream
            .write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .await;
        let (status, _, _) = parse(&until_closed(&mut stream).await.unwrap_or_default());
        if status == 200 {
            again = Some(status);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(again, Some(200), "closed connections give their slots back");
}

#[tokio::test]
async fn api_docs_without_the_slash_redirects_to_the_docs_page() {
    let app = TestApp::spawn(Db::Sqlite).await.unwrap();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client
        .get(format!("{}/api/docs", app.address))
        .send()
        .await
        .unwrap();
    assert!(
        [301, 308].contains(&response.status().as_u16()),
        "{}",
        response.status()
    );
    assert_eq!(response.headers()["location"], "/api/docs/");
    assert_eq!(app.get("/api/docs/", None).await.status(), 200);
}

/// One whole answer read from `stream` (the head and its `Content-Length` body), for
/// connections the server keeps open.
async fn one_answer(stream: &mut TcpStream) -> (u16, Value) {
    let mut received = Vec::new();
    let read = tokio::time::timeout(PATIENCE, async {
        let mut buffer = [0u8; 8192];
        loop {
            if let Some(answers) = answers(&received)
                && !answers.is_empty()
            {
                return answers[0].clone();
            }
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return (0, Value::Null),
                Ok(n) => received.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    // Timing out is a failed test: the server neither answered nor closed.
    read.unwrap()
}

/// The answers in `raw`, each `(status, JSON body)`; `None` when the last one is incomplete.
fn answers(raw: &[u8]) -> Option<Vec<(u16, Value)>> {
    let mut found = Vec::new();
    let mut rest = raw;
    while !rest.is_empty() {
        let end = rest.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
        let head = String::from_utf8_lossy(&rest[..end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length:"))
            .map_or(0, |value| value.trim().parse().unwrap());
        let body = rest.get(end..end + length)?;
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        found.push((status, serde_json::from_slice(body).unwrap_or(Value::Null)));
        rest = &rest[end + length..];
    }
    Some(found)
}

/// Sends `request` on a fresh connection and returns the one answer before the close.
async fn refused(app: &TestApp, request: &[u8]) -> (u16, String, Value) {
    let mut stream = connect_from(app, [127, 0, 0, 1]).await;
    // The server may stop reading before the request ends: a failed write is expected then.
    let _ = stream.write_all(request).await;
    // `None` (a failed test) when the server neither answers nor closes.
    let answer = until_closed(&mut stream).await.unwrap();
    parse(&answer)
}

fn assert_refused(answer: &(u16, String, Value), status: u16, code: &str) {
    let (got, head, body) = answer;
    assert_eq!(*got, status, "{head}");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["statusCode"], status, "{body}");
    assert!(body["message"].is_string(), "{body}");
    assert!(head.contains("content-type: application/json"), "{head}");
    assert!(head.contains("connection: close"), "{head}");
}

fn long_uri_request() -> String {
    format!(
        "GET /health?q={} HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "a".repeat(70 * 1024)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_uri_over_64_kib_is_414_in_the_json_shape_and_the_connection_closed() {
    let app = TestApp::spawn(Db::Sqlite).await.unwrap();
    let answer = refused(&app, long_uri_request().as_bytes()).await;
    assert_refused(&answer, 414, "uri_too_long");
    assert_eq!(app.get("/health", None).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_headers_are_431_in_the_json_shape() {
    let app = TestApp::spawn(Db::Sqlite).await.unwrap();
    let headers: String = (0..120).map(|i| format!("X-Filler-{i}: {i}\r\n")).collect();
    let request = format!("GET /health HTTP/1.1\r\nHost: localhost\r\n{headers}\r\n");
    let answer = refused(&app, request.as_bytes()).await;
    assert_refused(&answer, 431, "headers_too_large");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_head_over_128_kib_is_431_in_the_json_shape() {
    let app = TestApp::spawn(Db::Sqlite).await.unwrap();
    let request = format!(
        "GET /health HTTP/1.1\r\nHost: localhost\r\nX-Huge: {}\r\n\r\n",
        "b".repeat(130 * 1024)
    );
    let answer = refused(&app, request.as_bytes()).await;
    assert_refused(&answer, 431, "headers_too_large");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_garbage_request_line_is_400_in_the_json_shape() {
    let app = TestApp::spawn(Db::Sqlite).await.unwrap();
    let answer = refused(&app, b"\x16\x03\x01\x02\x00 hello\r\n\r\n").await;
    assert_refused(&answer, 400, "bad_request");
    let answer = refused(&app, b"GET / HTTX/1.1\r\nHost: localhost\r\n\r\n").await;
    assert_refused(&answer, 400, "bad_request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_uri_after_bodies_on_a_kept_alive_connection_is_answered_in_the_json_shape() {
    let app = TestApp::spawn(Db::Sqlite).await.unwrap();
    let token = app.token("keeper", None);
    let mut stream = connect_from(&app, [127, 0, 0, 1]).await;
    let sized = format!(
        "POST /api/v1/generate HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{{}}"
    );
    stream.write_all(sized.as_bytes()).await.unwrap();
    let (status, body) = one_answer(&mut stream).await;
    assert_eq!(
        (status, &body["code"]),
        (400, &Value::from("validation_failed"))
    );

    // The chunked request and the long URI arrive together: the guard must find where the
    // chunked body (with an extension and a trailer) ends to see the third head.
    let chunked = format!(
        "POST /api/v1/generate HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n\
         1;ext=1\r\n{{\r\n1\r\n}}\r\n0\r\nX-Trailer: t\r\n\r\n"
    );
    let mut pipelined = chunked.into_bytes();
    pipelined.extend_from_slice(long_uri_request().as_bytes());
    let _ = stream.write_all(&pipelined).await;
    let raw = until_closed(&mut stream)
        .await
        .expect("answers, then the close");
    let answers = answers(&raw).expect("whole answers");
    assert_eq!(answers.len(), 2, "{}", String::from_utf8_lossy(&raw));
    assert_eq!(answers[0].0, 400);
    assert_eq!(answers[0].1["code"], "validation_failed");
    assert_eq!(answers[1].0, 414);
    assert_eq!(answers[1].1["code"], "uri_too_long");
}
