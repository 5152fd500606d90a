//! The mobile client's batch calls on the offline renderer (the default without a provider):
//! create on both prefixes, poll the progress until done, read, list, retry, cancel, delete.

use picture_tests::{TestApp, on_both_databases};
use reqwest::Method;
use serde_json::{Value, json};

use super::{
    assert_batch_shape, create, detail, gallery, id_of, json_of, mobile_body, progress,
    wait_until_final,
};

on_both_databases!(
    the_mobile_clients_exact_body_is_a_201_with_every_field_it_reads_on_both_prefixes,
    a_ten_prompt_batch_completes_with_ten_images_in_order,
    retry_and_cancel_of_a_finished_batch_change_nothing,
    deleting_a_batch_keeps_its_images_in_the_gallery,
    batches_are_listed_newest_first_and_paged,
);

async fn the_mobile_clients_exact_body_is_a_201_with_every_field_it_reads_on_both_prefixes(
    app: TestApp,
) {
    let token = app.token("mobile-user", None);
    let model = app.default_model_id().await;
    // As QuickGenerateBar sends it: a seed per prompt, the model's version or "" (or null from
    // an older build), the aspect ratio's size, a float guidance scale, and the batch modal's
    // tags and negative prompt.
    for (prefix, version) in [("/api", json!("")), ("/api/v1", Value::Null)] {
        let body = json!({
            "prompts": [
                {"text": "a lighthouse at dusk", "seed": 481_516},
                {"text": "a fox in the snow", "negativePrompt": "blurry, low quality",
                 "seed": 481_517, "tags": ["animals", "winter"]},
                {"text": "a teapot"},
            ],
            "sharedSettings": {"modelId": model, "modelVersion": version, "width": 768,
                               "height": 1024, "steps": 4, "guidanceScale": 7.5},
            "batchName": "Quick: a lighthouse at dusk... (3x)",
        });
        let batch = create(&app, &token, prefix, &body).await;
        assert_batch_shape(&batch);
        assert_eq!(batch["userId"], "mobile-user");
        assert_eq!(batch["name"], "Quick: a lighthouse at dusk... (3x)");
        assert_eq!(batch["totalCount"], 3);
        assert_eq!(batch["modelId"], model.as_str());
        assert_eq!(batch["modelVersion"], Value::Null, "\"\" and null: none");
        assert_eq!(
            (&batch["width"], &batch["height"], &batch["steps"]),
            (&json!(768), &json!(1024), &json!(4))
        );
        assert_eq!(batch["guidanceScale"], 7.5);
        let prompts: Vec<&str> = batch["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item["prompt"].as_str().unwrap())
            .collect();
        assert_eq!(
            prompts,
            ["a lighthouse at dusk", "a fox in the snow", "a teapot"]
        );
        for item in batch["items"].as_array().unwrap() {
            assert_eq!(item["retryCount"], 0);
        }
        // The store's loadBatch reads the same shape on the same prefix.
        let read = json_of(
            app.get(&format!("{prefix}/batch/{}", id_of(&batch)), Some(&token))
                .await,
            200,
        )
        .await;
        assert_batch_shape(&read);
        assert_eq!(read["id"], batch["id"]);
        let listed = json_of(app.get(&format!("{prefix}/batch"), Some(&token)).await, 200).await;
        assert!(
            listed
                .as_array()
                .unwrap()
                .iter()
                .any(|b| b["id"] == batch["id"]),
            "{listed}"
        );
        for listed in listed.as_array().unwrap() {
            assert_batch_shape(listed);
        }
        let progress = json_of(
            app.get(
                &format!("{prefix}/batch/{}/progress", id_of(&batch)),
                Some(&token),
            )
            .await,
            200,
        )
        .await;
        assert_eq!(progress["totalCount"], 3);
    }
}

async fn a_ten_prompt_batch_completes_with_ten_images_in_order(app: TestApp) {
    let token = app.token("ten-user", None);
    let model = app.default_model_id().await;
    let prompts: Vec<String> = (0..10).map(|i| format!("batch picture {i}")).collect();
    let texts: Vec<&str> = prompts.iter().map(String::as_str).collect();
    let batch = create(
        &app,
        &token,
        "/api",
        &mobile_body(&model, &texts, "ten at once"),
    )
    .await;
    assert_batch_shape(&batch);
    let id = id_of(&batch);
    let done = wait_until_final(&app, &token, &id).await;
    assert_eq!(
        done,
        json!({"totalCount": 10, "completedCount": 10, "failedCount": 0, "processingCount": 0,
               "pendingCount": 0, "cancelledCount": 0, "status": "completed"})
    );
    let batch = detail(&app, &token, &id).await;
    assert_batch_shape(&batch);
    assert_eq!(batch["status"], "completed");
    assert!(batch["completedAt"].is_string(), "{batch}");
    let items = batch["items"].as_array().unwrap();
    assert_eq!(items.len(), 10);
    for (i, item) in items.iter().enumerate() {
        assert_eq!(item["index"], i);
        assert_eq!(item["prompt"], prompts[i].as_str());
        assert_eq!(item["status"], "completed", "{item}");
        assert!(
            item["imageUrl"].as_str().unwrap().contains("/files/"),
            "{item}"
        );
        // Each item is a generation of its own, readable as one.
        let status = app.status(&token, item["id"].as_str().unwrap()).await;
        assert_eq!(status["status"], "completed", "{status}");
    }
    let images = gallery(&app, &token).await;
    assert_eq!(images.len(), 10);
    let mut generations: Vec<&str> = images
        .iter()
        .map(|image| image["generationId"].as_str().unwrap())
        .collect();
    let mut item_ids: Vec<&str> = items
        .iter()
        .map(|item| item["id"].as_str().unwrap())
        .collect();
    generations.sort_unstable();
    item_ids.sort_unstable();
    assert_eq!(generations, item_ids);
    // The image URL the item names serves the image.
    let url = items[0]["imageUrl"].as_str().unwrap();
    let (_, key) = url.split_once("/files/").unwrap();
    let served = app.get(&format!("/files/{key}"), None).await;
    assert_eq!(served.status(), 200, "{url}");
}

async fn retry_and_cancel_of_a_finished_batch_change_nothing(app: TestApp) {
    let token = app.token("done-user", None);
    let model = app.default_model_id().await;
    let batch = create(
        &app,
        &token,
        "/api",
        &mobile_body(&model, &["one", "two"], "finished"),
    )
    .await;
    let id = id_of(&batch);
    assert_eq!(
        wait_until_final(&app, &token, &id).await["status"],
        "completed"
    );
    let retried = app
        .send(
            Method::POST,
            &format!("/api/batch/{id}/retry"),
            Some(&token),
        )
        .await;
    assert_eq!(json_of(retried, 201).await, json!({"affected": 0}));
    let cancelled = app
        .send(
            Method::POST,
            &format!("/api/batch/{id}/cancel"),
            Some(&token),
        )
        .await;
    assert_eq!(cancelled.status(), 204);
    let after = progress(&app, &token, &id).await;
    assert_eq!(after["status"], "completed", "{after}");
    assert_eq!(after["completedCount"], 2);
    assert_eq!(gallery(&app, &token).await.len(), 2);
}

async fn deleting_a_batch_keeps_its_images_in_the_gallery(app: TestApp) {
    let token = app.token("deleting-user", None);
    let model = app.default_model_id().await;
    let batch = create(
        &app,
        &token,
        "/api/v1",
        &mobile_body(&model, &["kept a", "kept b", "kept c"], "to delete"),
    )
    .await;
    let id = id_of(&batch);
    wait_until_final(&app, &token, &id).await;
    let deleted = app
        .send(Method::DELETE, &format!("/api/batch/{id}"), Some(&token))
        .await;
    assert_eq!(deleted.status(), 204);
    for path in [
        format!("/api/batch/{id}"),
        format!("/api/batch/{id}/progress"),
    ] {
        let gone = json_of(app.get(&path, Some(&token)).await, 404).await;
        assert_eq!(gone["code"], "not_found", "{gone}");
        assert_eq!(gone["message"], format!("Batch with id {id} not found"));
    }
    let again = app
        .send(Method::DELETE, &format!("/api/batch/{id}"), Some(&token))
        .await;
    assert_eq!(again.status(), 404);
    let listed = json_of(app.get("/api/batch", Some(&token)).await, 200).await;
    assert_eq!(listed, json!([]));
    let images = gallery(&app, &token).await;
    assert_eq!(images.len(), 3, "paid for, they stay");
    for item in batch["items"].as_array().unwrap() {
        let status = app.status(&token, item["id"].as_str().unwrap()).await;
        assert_eq!(status["status"], "completed", "{status}");
    }
}

async fn batches_are_listed_newest_first_and_paged(app: TestApp) {
    let token = app.token("listing-user", None);
    let model = app.default_model_id().await;
    let mut ids = Vec::new();
    for name in ["first", "second", "third"] {
        let batch = create(&app, &token, "/api", &mobile_body(&model, &[name], name)).await;
        ids.push(id_of(&batch));
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let names = |page: &Value| -> Vec<String> {
        page.as_array()
            .unwrap()
            .iter()
            .map(|b| b["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let all = json_of(app.get("/api/batch", Some(&token)).await, 200).await;
    assert_eq!(names(&all), ["third", "second", "first"]);
    let first = json_of(
        app.get("/api/batch?page=1&limit=2", Some(&token)).await,
        200,
    )
    .await;
    assert_eq!(names(&first), ["third", "second"]);
    let second = json_of(
        app.get("/api/batch?page=2&limit=2", Some(&token)).await,
        200,
    )
    .await;
    assert_eq!(names(&second), ["first"]);
    assert_eq!(second[0]["id"], ids[0].as_str());
    let past = json_of(
        app.get("/api/batch?page=3&limit=2", Some(&token)).await,
        200,
    )
    .await;
    assert_eq!(past, json!([]));
    for query in ["limit=101", "limit=0", "page=0", "page=abc", "limit=-1"] {
        let refused = json_of(
            app.get(&format!("/api/batch?{query}"), Some(&token)).await,
            400,
        )
        .await;
        assert_eq!(refused["code"], "validation_failed", "{query}: {refused}");
    }
    // Another user's list is theirs alone.
    let other = app.token("someone-else", None);
    assert_eq!(
        json_of(app.get("/api/batch", Some(&other)).await, 200).await,
        json!([])
    );
    assert_eq!(app.get("/api/batch", None).await.status(), 401);
}
