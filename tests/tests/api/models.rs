use picture_tests::{Db, TestApp, on_both_databases};
use serde_json::Value;

on_both_databases!(
    the_embedded_catalogue_has_the_offline_preview_as_default,
    a_model_is_found_by_id_with_the_full_shape,
    unknown_and_malformed_model_ids_are_404_not_500,
);

const MODEL_FIELDS: [&str; 26] = [
    "id",
    "name",
    "displayName",
    "description",
    "replicateId",
    "version",
    "defaultWidth",
    "defaultHeight",
    "defaultSteps",
    "defaultGuidanceScale",
    "minWidth",
    "minHeight",
    "maxWidth",
    "maxHeight",
    "maxSteps",
    "supportsNegativePrompt",
    "supportsImg2Img",
    "supportsSeed",
    "isActive",
    "isDefault",
    "sortOrder",
    "costPerGeneration",
    "estimatedTimeSeconds",
    "createdAt",
    "updatedAt",
    "provider",
];

async fn models(app: &TestApp) -> Vec<Value> {
    let response = app.get("/api/v1/models", None).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn the_embedded_catalogue_has_the_offline_preview_as_default(app: TestApp) {
    let list = models(&app).await;
    let names: Vec<_> = list.iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "offline-preview",
            "flux-schnell",
            "seedream-3",
            "nano-banana"
        ]
    );
    assert_eq!(list[0]["isDefault"], true);
    assert!(list[0]["displayName"].as_str().unwrap().contains("not AI"));
    assert!(list[1..].iter().all(|m| m["isDefault"] == false));
    // Without a provider every model is rendered offline, and says so.
    assert!(list.iter().all(|m| m["provider"] == "offline"), "{list:?}");
    // The mobile client's prefix serves the same list.
    let mobile: Vec<Value> = app.get("/api/models", None).await.json().await.unwrap();
    assert_eq!(mobile, list);
}

async fn a_model_is_found_by_id_with_the_full_shape(app: TestApp) {
    let flux = models(&app)
        .await
        .into_iter()
        .find(|m| m["name"] == "flux-schnell")
        .unwrap();
    let id = flux["id"].as_str().unwrap();
    let response = app.get(&format!("/api/v1/models/{id}"), None).await;
    assert_eq!(response.status(), 200);
    let model: Value = response.json().await.unwrap();
    assert_eq!(model, flux);
    let mut keys: Vec<_> = model.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    let mut expected: Vec<_> = MODEL_FIELDS.iter().map(|k| (*k).to_owned()).collect();
    expected.sort();
    assert_eq!(keys, expected);
    assert_eq!(model["replicateId"], "black-forest-labs/flux-schnell");
    assert_eq!(model["defaultSteps"], 4);
    assert_eq!(model["defaultGuidanceScale"], 0.0);
    assert_eq!(model["maxWidth"], 1440);
    assert_eq!(model["costPerGeneration"], 0.003);
}

async fn unknown_and_malformed_model_ids_are_404_not_500(app: TestApp) {
    for id in [
        "00000000-0000-0000-0000-000000000000",
        "not-a-uuid",
        "1' OR '1'='1",
        "%00",
    ] {
        let response = app.get(&format!("/api/v1/models/{id}"), None).await;
        assert_eq!(response.status(), 404, "{id}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "not_found");
        assert_eq!(body["statusCode"], 404);
    }
}

#[tokio::test]
async fn a_configured_provider_makes_flux_schnell_the_default() {
    let app = TestApp::spawn_with(Db::Sqlite, |raw| {
        raw.set("REPLICATE_API_TOKEN", "r8_test");
    })
    .await
    .unwrap();
    let list = models(&app).await;
    assert_eq!(list[0]["name"], "flux-schnell");
    assert_eq!(list[0]["isDefault"], true);
    let providers: Vec<_> = list
        .iter()
        .map(|m| (m["name"].as_str().unwrap(), m["provider"].as_str().unwrap()))
        .collect();
    assert_eq!(
        providers,
        [
            ("flux-schnell", "replicate"),
            ("offline-preview", "offline"),
            ("seedream-3", "replicate"),
            ("nano-banana", "replicate")
        ]
    );
    assert_eq!(list.iter().filter(|m| m["isDefault"] == true).count(), 1);
}
