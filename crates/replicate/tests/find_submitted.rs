//! `find_submitted` against a wiremock fake of Replicate's prediction list
//! (shared/reference/replicate-api.md §A.2 and fixture F5): the prediction whose echoed
//! `webhook` names the generation is found across pages, and nothing else is.
#![expect(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is a failed assertion"
)]

use std::time::Duration;

use chrono::{DateTime, Utc};
use picture_domain::GenerationId;
use picture_domain::ports::{ImageProvider, ImageSource, ProviderError, ProviderState};
use picture_replicate::{ReplicateConfig, ReplicateProvider};
use secrecy::SecretString;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "r8_test_token";
const SINCE: &str = "2024-05-01T12:00:00Z";
const CREATED_AFTER: &str = "2024-05-01T12:00:00.000000Z";

fn provider(server: &MockServer) -> ReplicateProvider {
    let mut config = ReplicateConfig::new(SecretString::from(TOKEN));
    config.base_url = format!("{}/v1", server.uri());
    config.get_timeout = Duration::from_millis(500);
    ReplicateProvider::new(config).unwrap()
}

fn since() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(SINCE)
        .unwrap()
        .with_timezone(&Utc)
}

fn webhook(generation: &str) -> String {
    format!("https://picture.example/api/v1/generate/webhook?generation={generation}")
}

/// A listed prediction like F5's, with our webhook echoed when given.
fn listed(id: &str, status: &str, webhook: Option<&str>, created_at: &str) -> Value {
    let mut prediction = json!({
        "id": id,
        "status": status,
        "created_at": created_at,
        "data_removed": false,
        "error": null,
        "input": {"prompt": "a corgi"},
        "model": "black-forest-labs/flux-schnell",
        "source": "api",
        "urls": {
            "get": format!("https://api.replicate.com/v1/predictions/{id}"),
            "cancel": format!("https://api.replicate.com/v1/predictions/{id}/cancel")
        },
        "version": "hidden"
    });
    if let Some(webhook) = webhook {
        prediction["webhook"] = json!(webhook);
        prediction["webhook_events_filter"] = json!(["completed"]);
    }
    prediction
}

fn page(next: Option<String>, results: Vec<Value>) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "next": next, "previous": null, "results": results
    }))
}

/// The first page: the list, filtered by `created_after`, with our token.
fn first_page() -> wiremock::MockBuilder {
    Mock::given(method("GET"))
        .and(path("/v1/predictions"))
        .and(query_param("created_after", CREATED_AFTER))
        .and(query_param_is_missing("cursor"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
}

#[tokio::test]
async fn the_prediction_on_the_first_page_is_found_with_its_state() {
    let server = MockServer::start().await;
    let generation = GenerationId::new_random();
    let mut ours = listed(
        "ours0000000000000000000000",
        "succeeded",
        Some(&webhook(&generation.to_string())),
        "2024-05-01T12:00:03.36078514Z",
    );
    ours["output"] = json!(["https://replicate.delivery/yhqm/abc/out-0.png"]);
    ours["metrics"] = json!({"predict_time": 1.5});
    first_page()
        .respond_with(page(
            None,
            vec![
                listed("nohook", "starting", None, "2024-05-01T12:00:09Z"),
                ours,
            ],
        ))
        .expect(1)
        .mount(&server)
        .await;
    let found = provider(&server)
        .find_submitted(generation, since())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.prediction_id.as_str(), "ours0000000000000000000000");
    assert_eq!(
        found.state,
        ProviderState::Succeeded {
            outputs: vec![ImageSource::Url(
                "https://replicate.delivery/yhqm/abc/out-0.png".into()
            )],
            predict_time: Some(Duration::from_secs_f64(1.5)),
        }
    );
}

#[tokio::test]
async fn the_next_page_is_followed_through_its_cursor() {
    let server = MockServer::start().await;
    let generation = GenerationId::new_random();
    let others: Vec<Value> = (0..100)
        .map(|n| {
            listed(
                &format!("other{n}"),
                "succeeded",
                Some(&webhook(&GenerationId::new_random().to_string())),
                "2024-05-01T12:05:00.101Z",
            )
        })
        .collect();
    first_page()
        .respond_with(page(
            Some(format!("{}/v1/predictions?cursor=cD0yMDI0", server.uri())),
            others,
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/predictions"))
        .and(query_param("cursor", "cD0yMDI0"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(page(
            None,
            vec![listed(
                "ours",
                "processing",
                Some(&webhook(&generation.to_string())),
                "2024-05-01T12:00:01.17042Z",
            )],
        ))
        .expect(1)
        .mount(&server)
        .await;
    let found = provider(&server)
        .find_submitted(generation, since())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.prediction_id.as_str(), "ours");
    assert_eq!(found.state, ProviderState::Processing { progress: None });
}

#[tokio::test]
async fn predictions_of_other_generations_or_without_webhook_are_not_matched() {
    let server = MockServer::start().await;
    let generation = GenerationId::new_random();
    let id = generation.to_string();
    first_page()
        .respond_with(page(
            None,
            vec![
                listed(
                    "other",
                    "starting",
                    Some(&webhook(&GenerationId::new_random().to_string())),
                    "2024-05-01T12:00:05Z",
                ),
                listed(
                    "prefixed",
                    "starting",
                    Some(&webhook(&format!("{id}0"))),
                    "2024-05-01T12:00:04Z",
                ),
                listed(
                    "truncated",
                    "starting",
                    Some(&webhook(&id[..id.len() - 1])),
                    "2024-05-01T12:00:03Z",
                ),
                listed(
                    "elsewhere",
                    "starting",
                    Some(&format!("https://picture.example/hook?gen={id}")),
                    "2024-05-01T12:00:02Z",
                ),
                listed("nohook", "starting", None, "2024-05-01T12:00:01Z"),
            ],
        ))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(
        provider(&server).find_submitted(generation, since()).await,
        Ok(None)
    );
}

#[tokio::test]
async fn an_empty_list_finds_nothing() {
    let server = MockServer::start().await;
    first_page()
        .respond_with(page(None, vec![]))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(
        provider(&server)
            .find_submitted(GenerationId::new_random(), since())
            .await,
        Ok(None)
    );
}

#[tokio::test]
async fn a_next_page_on_another_host_is_not_followed() {
    let server = MockServer::start().await;
    let foreign = MockServer::start().await;
    let generation = GenerationId::new_random();
    Mock::given(method("GET"))
        .respond_with(page(
            None,
            vec![listed(
                "ours",
                "starting",
                Some(&webhook(&generation.to_string())),
                "2024-05-01T12:00:01Z",
            )],
        ))
        .expect(0)
        .mount(&foreign)
        .await;
    first_page()
        .respond_with(page(
            Some(format!("{}/v1/predictions?cursor=abc", foreign.uri())),
            vec![listed("other", "starting", None, "2024-05-01T12:00:02Z")],
        ))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(
        provider(&server).find_submitted(generation, since()).await,
        Ok(None)
    );
    foreign.verify().await;
}

#[tokio::test]
async fn paging_stops_once_a_page_ends_before_since() {
    let server = MockServer::start().await;
    let generation = GenerationId::new_random();
    first_page()
        .respond_with(page(
            Some(format!("{}/v1/predictions?cursor=older", server.uri())),
            vec![
                listed("new", "starting", None, "2024-05-01T12:00:01Z"),
                listed("old", "succeeded", None, "2024-05-01T11:59:59.999Z"),
            ],
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(query_param("cursor", "older"))
        .respond_with(page(
            None,
            vec![listed(
                "ours",
                "starting",
                Some(&webhook(&generation.to_string())),
                "2024-05-01T11:00:00Z",
            )],
        ))
        .expect(0)
        .mount(&server)
        .await;
    assert_eq!(
        provider(&server).find_submitted(generation, since()).await,
        Ok(None)
    );
}

#[tokio::test]
async fn paging_stops_at_the_page_limit() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/predictions"))
        .respond_with(page(
            Some(format!("{}/v1/predictions?cursor=again", server.uri())),
            vec![listed("other", "starting", None, "2024-05-01T12:00:01Z")],
        ))
        .expect(u64::try_from(ReplicateProvider::MAX_LISTED_PAGES).unwrap())
        .mount(&server)
        .await;
    assert_eq!(
        provider(&server)
            .find_submitted(GenerationId::new_random(), since())
            .await,
        Ok(None)
    );
}

async fn listing_error(response: ResponseTemplate) -> ProviderError {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/predictions"))
        .respond_with(response)
        .expect(1)
        .mount(&server)
        .await;
    let error = provider(&server)
        .find_submitted(GenerationId::new_random(), since())
        .await
        .unwrap_err();
    server.verify().await;
    error
}

#[tokio::test]
async fn a_refused_or_malformed_listing_maps_like_a_read() {
    assert_eq!(
        listing_error(ResponseTemplate::new(401).set_body_json(json!({
            "title": "Unauthenticated",
            "detail": "You did not pass a valid authentication token",
            "status": 401
        })))
        .await,
        ProviderError::Unauthorized
    );
    assert!(matches!(
        listing_error(
            ResponseTemplate::new(500).set_body_json(json!({"detail": "Internal server error"}))
        )
        .await,
        ProviderError::Unavailable(_)
    ));
    assert_eq!(
        listing_error(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "7")
                .set_body_json(json!({"detail": "Request was throttled."}))
        )
        .await,
        ProviderError::RateLimited {
            retry_after: Some(Duration::from_secs(7))
        }
    );
    assert!(matches!(
        listing_error(ResponseTemplate::new(200).set_body_string("<html>oops</html>")).await,
        ProviderError::Unavailable(_)
    ));
    assert!(matches!(
        listing_error(ResponseTemplate::new(200).set_body_json(json!({"next": null}))).await,
        ProviderError::Unavailable(_)
    ));
    assert_eq!(
        listing_error(page(None, vec![]).set_delay(Duration::from_secs(3))).await,
        ProviderError::Timeout
    );
}
