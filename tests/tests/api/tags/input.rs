//! Bad input to the tag routes and the gallery's tag filter: a clear 4xx, never a 5xx.

use picture_tests::{TestApp, on_both_databases};
use reqwest::Method;
use serde_json::{Value, json};

use super::{create, ids, image, json_of};

on_both_databases!(bad_input_is_a_clear_4xx);

async fn bad_input_is_a_clear_4xx(app: TestApp) {
    let token = app.token("careless", None);
    let picture = image(&app, &token).await;
    let tag = create(
        &app,
        &token,
        "/api/v1",
        &json!({"name": "ok", "color": "#abcdef"}),
    )
    .await;
    let id = tag["id"].as_str().unwrap();
    let bad_bodies = [
        json!({"name": "x", "color": "red"}),
        json!({"name": "x", "color": "#12345"}),
        json!({"name": "x", "color": "#12345g"}),
        json!({"name": "x", "color": "3b82f6"}),
        json!({"name": "x", "color": 5}),
        json!({"name": ""}),
        json!({"name": "   "}),
        json!({"name": "a".repeat(51)}),
        json!({"name": 7}),
        json!({"color": "#ffffff"}),
        json!({"name": "x", "extra": true}),
    ];
    for body in &bad_bodies {
        let response = app
            .send_json(Method::POST, "/api/v1/tags", Some(&token), body)
            .await;
        assert_eq!(response.status(), 400, "{body}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["code"], "validation_failed", "{body}: {error}");
        assert!(error["message"].is_array(), "{body}: {error}");
    }
    let both = json_of(
        app.send_json(
            Method::POST,
            "/api/v1/tags",
            Some(&token),
            &json!({"name": "", "color": "blue"}),
        )
        .await,
        400,
    )
    .await;
    assert_eq!(both["message"].as_array().unwrap().len(), 2, "{both}");
    // 50 characters (after trimming) is the longest name; Unicode counts in characters.
    create(
        &app,
        &token,
        "/api/v1",
        &json!({"name": format!(" {} ", "a".repeat(50))}),
    )
    .await;
    create(&app, &token, "/api/v1", &json!({"name": "ü".repeat(50)})).await;
    for body in [
        json!({"name": ""}),
        json!({"color": "#fff"}),
        json!({"name": "b".repeat(51)}),
        json!({"nom": "x"}),
    ] {
        let response = app
            .send_json(
                Method::PATCH,
                &format!("/api/v1/tags/{id}"),
                Some(&token),
                &body,
            )
            .await;
        assert_eq!(response.status(), 400, "{body}");
    }
    // `color: null` removes the colour; the tag is otherwise unchanged by the refusals above.
    let cleared = json_of(
        app.send_json(
            Method::PATCH,
            &format!("/api/v1/tags/{id}"),
            Some(&token),
            &json!({"color": null}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        (&cleared["name"], &cleared["color"]),
        (&json!("ok"), &Value::Null)
    );
    // Malformed ids in paths are a 404, never a 500.
    let uuid = uuid::Uuid::new_v4();
    let malformed = [
        app.send_json(
            Method::PATCH,
            "/api/v1/tags/not-a-uuid",
            Some(&token),
            &json!({"name": "x"}),
        )
        .await,
        app.send(Method::DELETE, "/api/v1/tags/1%27%20OR%201=1", Some(&token))
            .await,
        app.get("/api/v1/tags/image/nope", Some(&token)).await,
        app.send(
            Method::POST,
            &format!("/api/v1/tags/image/nope/{id}"),
            Some(&token),
        )
        .await,
        app.send(
            Method::POST,
            &format!("/api/v1/tags/image/{picture}/nope"),
            Some(&token),
        )
        .await,
        app.send(
            Method::DELETE,
            &format!("/api/v1/tags/image/{picture}/{uuid}x"),
            Some(&token),
        )
        .await,
        // Well formed but unknown.
        app.send(
            Method::POST,
            &format!("/api/v1/tags/image/{uuid}/{id}"),
            Some(&token),
        )
        .await,
        app.send(
            Method::POST,
            &format!("/api/v1/tags/image/{picture}/{uuid}"),
            Some(&token),
        )
        .await,
    ];
    for (i, response) in malformed.into_iter().enumerate() {
        let body = json_of(response, 404).await;
        assert_eq!(body["code"], "not_found", "case {i}: {body}");
    }
    let unknown_tag = json_of(
        app.send(
            Method::POST,
            &format!("/api/v1/tags/image/{picture}/{uuid}"),
            Some(&token),
        )
        .await,
        404,
    )
    .await;
    assert_eq!(
        unknown_tag["message"],
        format!("Tag with id {uuid} not found")
    );
    // A malformed or excessive tag filter is a 400.
    for query in [
        "tagIds=nope".to_owned(),
        format!("tagIds={id},x"),
        format!("tagIds={}", vec![id; 21].join(",")),
    ] {
        let response = app
            .get(&format!("/api/v1/images?{query}"), Some(&token))
            .await;
        assert_eq!(
            json_of(response, 400).await["code"],
            "validation_failed",
            "{query}"
        );
    }
    // Blank entries are skipped: an empty filter is no filter.
    let all = json_of(app.get("/api/v1/images?tagIds=,", Some(&token)).await, 200).await;
    assert_eq!(ids(&all), [picture.as_str()]);
    // Without a token: 401.
    for path in ["/api/v1/tags", "/api/tags"] {
        assert_eq!(app.get(path, None).await.status(), 401);
    }
    let names_now = json_of(app.get("/api/v1/tags", Some(&token)).await, 200).await;
    assert_eq!(names_now.as_array().unwrap().len(), 3);
}
