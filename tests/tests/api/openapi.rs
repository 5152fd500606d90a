//! The OpenAPI document and its docs page: every route the server registers is in the
//! document, and the page works without internet access.

use std::collections::BTreeSet;

use picture_tests::{Db, TestApp};
use serde_json::Value;

/// The routes registered in the server's source: `(method, path)` with `{name}` parameters.
/// The source is read with its whitespace removed, so formatting does not matter.
fn registered_routes() -> BTreeSet<(String, String)> {
    let api = include_str!("../../../bin/picture-server/src/routes.rs");
    let startup = include_str!("../../../bin/picture-server/src/startup.rs");
    let mut routes = BTreeSet::new();
    for (source, prefix) in [(api, "/api/v1"), (startup, "")] {
        let compact: String = source.chars().filter(|c| !c.is_whitespace()).collect();
        for (marker, resource) in [(".route(\"", false), ("web::resource(\"", true)] {
            for (start, _) in compact.match_indices(marker) {
                let rest = &compact[start + marker.len()..];
                let Some((path, after)) = rest.split_once('"') else {
                    continue;
                };
                let after = if resource {
                    after.split_once(".route(").map_or("", |(_, r)| r)
                } else {
                    after
                };
                let Some(method) =
                    ["get", "post", "put", "patch", "delete"]
                        .into_iter()
                        .find(|m| {
                            after.starts_with(&format!(",web::{m}()"))
                                || after.starts_with(&format!("web::{m}()"))
                        })
                else {
                    continue;
                };
                let path = path.replace(":.*}", "}");
                routes.insert((method.to_owned(), format!("{prefix}{path}")));
            }
        }
    }
    routes
}

#[tokio::test]
async fn every_registered_route_is_in_the_openapi_document() {
    let app = TestApp::spawn(Db::Sqlite).await.unwrap();
    let response = app.get("/api/docs/openapi.json", None).await;
    assert_eq!(response.status(), 200);
    let spec: Value = response.json().await.unwrap();
    assert!(
        spec["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        spec["openapi"]
    );
    let routes = registered_routes();
    assert!(routes.len() > 30, "the source was read: {routes:?}");
    let missing: Vec<_> = routes
        .iter()
        .filter(|(method, path)| spec["paths"][path][method].is_null())
        .collect();
    assert!(
        missing.is_empty(),
        "routes missing from the document: {missing:?}"
    );
    assert_eq!(
        spec["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    for schema in [
        "ErrorDto",
        "GenerateBody",
        "GenerateResponseDto",
        "ImageDto",
        "ModelDto",
    ] {
        assert!(
            spec["components"]["schemas"][schema].is_object(),
            "{schema}"
        );
    }
}

#[tokio::test]
async fn the_docs_page_is_served_from_the_binary() {
    let app = TestApp::spawn(Db::Sqlite).await.unwrap();
    let page = app.get("/api/docs/", None).await;
    assert_eq!(page.status(), 200);
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert!(policy.contains("connect-src 'self'"), "{policy}");
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(
        !html.contains("src=\"http"),
        "no script from the internet: {html}"
    );
    let bundle = app.get("/api/docs/swagger-ui-bundle.js", None).await;
    assert_eq!(bundle.status(), 200);
    assert!(bundle.bytes().await.unwrap().len() > 100_000);
    let init = app.get("/api/docs/swagger-initializer.js", None).await;
    assert_eq!(init.status(), 200);
    assert!(
        init.text()
            .await
            .unwrap()
            .contains("/api/docs/openapi.json")
    );
}
