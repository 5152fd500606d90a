//! Bad input on the batch routes (a 400 `validation_failed` in the error shape, never a 5xx,
//! nothing queued) and ids that are not the caller's batches (404 `not_found` on every route,
//! nothing changed).

use picture_tests::{TestApp, on_both_databases};
use reqwest::Method;
use serde_json::{Value, json};

use super::{create, id_of, json_of, mobile_body, progress, wait_until_final};

on_both_databases!(
    bad_batch_bodies_are_400_validation_failed_and_queue_nothing,
    an_unknown_model_is_404_and_queues_nothing,
    another_users_batch_is_404_on_every_route_and_stays_unchanged,
    unknown_and_malformed_batch_ids_are_404,
);

/// `prompts` with `n` prompts.
fn prompts(n: usize) -> Value {
    Value::Array(
        (0..n)
            .map(|i| json!({"text": format!("prompt {i}")}))
            .collect(),
    )
}

async fn bad_batch_bodies_are_400_validation_failed_and_queue_nothing(app: TestApp) {
    let token = app.token("careless", None);
    let model = app.default_model_id().await;
    let shared = json!({"modelId": model, "modelVersion": "", "width": 512, "height": 512,
                        "steps": 4, "guidanceScale": 7.5});
    let with_shared = |change: &dyn Fn(&mut Value)| {
        let mut shared = shared.clone();
        change(&mut shared);
        json!({"prompts": prompts(2), "sharedSettings": shared})
    };
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "empty prompts",
            json!({"prompts": [], "sharedSettings": shared}),
            "at least 1",
        ),
        (
            "51 prompts",
            json!({"prompts": prompts(51), "sharedSettings": shared}),
            "no more than 50",
        ),
        ("no prompts", json!({"sharedSettings": shared}), "prompts"),
        (
            "missing sharedSettings",
            json!({"prompts": prompts(2)}),
            "sharedSettings",
        ),
        (
            "blank text",
            json!({"prompts": [{"text": "fine"}, {"text": "   "}], "sharedSettings": shared}),
            "prompts[1].text",
        ),
        (
            "missing text",
            json!({"prompts": [{"negativePrompt": "x"}], "sharedSettings": shared}),
            "prompts[0].text",
        ),
        (
            "width 100",
            with_shared(&|s| s["width"] = json!(100)),
            "width",
        ),
        (
            "guidanceScale \"x\"",
            with_shared(&|s| s["guidanceScale"] = json!("x")),
            "",
        ),
        ("steps 0", with_shared(&|s| s["steps"] = json!(0)), "steps"),
        (
            "no modelId",
            with_shared(&|s| {
                s.as_object_mut().unwrap().remove("modelId");
            }),
            "modelId",
        ),
        (
            "modelId not a UUID",
            with_shared(&|s| s["modelId"] = json!("flux")),
            "modelId",
        ),
        (
            "prompts not an array",
            json!({"prompts": "a cat", "sharedSettings": shared}),
            "",
        ),
        (
            "batchName too long",
            json!({"prompts": prompts(1), "sharedSettings": shared, "batchName": "n".repeat(201)}),
            "batchName",
        ),
        (
            "NUL in batchName",
            json!({"prompts": prompts(1), "sharedSettings": shared, "batchName": "a\u{0}b"}),
            "batchName",
        ),
        (
            "NUL in text",
            json!({"prompts": [{"text": "a\u{0}b"}], "sharedSettings": shared}),
            "prompts[0].text",
        ),
        ("not an object", json!([1, 2]), ""),
    ];
    for prefix in ["/api", "/api/v1"] {
        for (what, body, mentions) in &cases {
            let response = app
                .send_json(Method::POST, &format!("{prefix}/batch"), Some(&token), body)
                .await;
            let refused = json_of(response, 400).await;
            assert_eq!(refused["code"], "validation_failed", "{what}: {refused}");
            assert_eq!(refused["statusCode"], 400, "{what}");
            assert!(
                refused["message"].to_string().contains(mentions),
                "{what}: {refused}"
            );
        }
        let malformed = app
            .client
            .post(format!("{}{prefix}/batch", app.address))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body("{\"prompts\": [")
            .send()
            .await
            .unwrap();
        let refused = json_of(malformed, 400).await;
        assert_eq!(refused["code"], "validation_failed", "{refused}");
    }
    // Both blank text and a bad shared setting are reported at once.
    let both = app
        .send_json(
            Method::POST,
            "/api/batch",
            Some(&token),
            &json!({"prompts": [{"text": ""}],
                    "sharedSettings": {"modelId": model, "width": 100}}),
        )
        .await;
    let both = json_of(both, 400).await;
    assert_eq!(both["message"].as_array().unwrap().len(), 2, "{both}");
    let unauthenticated = app
        .send_json(
            Method::POST,
            "/api/batch",
            None,
            &mobile_body(&model, &["x"], "n"),
        )
        .await;
    assert_eq!(unauthenticated.status(), 401);
    assert_eq!(
        json_of(app.get("/api/batch", Some(&token)).await, 200).await,
        json!([])
    );
    let history = json_of(app.get("/api/v1/generate/history", Some(&token)).await, 200).await;
    assert_eq!(history["total"], 0, "{history}");
}

async fn an_unknown_model_is_404_and_queues_nothing(app: TestApp) {
    let token = app.token("careless", None);
    let unknown = uuid::Uuid::new_v4().to_string();
    let response = app
        .send_json(
            Method::POST,
            "/api/batch",
            Some(&token),
            &mobile_body(&unknown, &["a", "b"], "nowhere"),
        )
        .await;
    let refused = json_of(response, 404).await;
    assert_eq!(refused["code"], "not_found", "{refused}");
    assert_eq!(
        json_of(app.get("/api/batch", Some(&token)).await, 200).await,
        json!([])
    );
}

async fn another_users_batch_is_404_on_every_route_and_stays_unchanged(app: TestApp) {
    let alice = app.token("alice", None);
    let bob = app.token("bob", None);
    let model = app.default_model_id().await;
    let batch = create(
        &app,
        &alice,
        "/api",
        &mobile_body(&model, &["mine", "also mine"], "alice's"),
    )
    .await;
    let id = id_of(&batch);
    let before = wait_until_final(&app, &alice, &id).await;
    for prefix in ["/api", "/api/v1"] {
        for (method, path) in [
            (Method::GET, format!("{prefix}/batch/{id}")),
            (Method::GET, format!("{prefix}/batch/{id}/progress")),
            (Method::POST, format!("{prefix}/batch/{id}/retry")),
            (Method::POST, format!("{prefix}/batch/{id}/cancel")),
            (Method::DELETE, format!("{prefix}/batch/{id}")),
        ] {
            let refused = json_of(app.send(method.clone(), &path, Some(&bob)).await, 404).await;
            assert_eq!(refused["code"], "not_found", "{method} {path}: {refused}");
            assert_eq!(refused["message"], format!("Batch with id {id} not found"));
        }
    }
    assert_eq!(
        json_of(app.get("/api/batch", Some(&bob)).await, 200).await,
        json!([])
    );
    assert_eq!(progress(&app, &alice, &id).await, before);
    let mine = json_of(app.get("/api/batch", Some(&alice)).await, 200).await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
}

async fn unknown_and_malformed_batch_ids_are_404(app: TestApp) {
    let token = app.token("lost", None);
    let unknown = uuid::Uuid::new_v4().to_string();
    for id in [unknown.as_str(), "not-a-uuid", "42", "%20"] {
        for (method, path) in [
            (Method::GET, format!("/api/batch/{id}")),
            (Method::GET, format!("/api/v1/batch/{id}/progress")),
            (Method::POST, format!("/api/batch/{id}/retry")),
            (Method::POST, format!("/api/v1/batch/{id}/cancel")),
            (Method::DELETE, format!("/api/batch/{id}")),
        ] {
            let refused = json_of(app.send(method.clone(), &path, Some(&token)).await, 404).await;
            assert_eq!(refused["code"], "not_found", "{method} {path}: {refused}");
            assert_eq!(refused["statusCode"], 404);
        }
    }
    for path in [
        format!("/api/batch/{unknown}"),
        format!("/api/batch/{unknown}/progress"),
    ] {
        assert_eq!(app.get(&path, None).await.status(), 401, "{path}");
    }
}
