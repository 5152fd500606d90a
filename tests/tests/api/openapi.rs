//! The OpenAPI document and its docs page: every route the server declares is in the
//! document and every documented route is served, and the page works without internet access.

use std::collections::BTreeSet;
use std::path::Path;

use picture_tests::{Db, TestApp};
use reqwest::Method;
use serde_json::Value;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// The routes declared in the server's source: `(method, path)` of every actix route
/// attribute (`#[get("/images/{id}")]`, …) in `bin/picture-server/src`, with `{name:regex}`
/// parameters written `{name}`. Mounted under `/api/v1` or at the root.
fn declared_routes() -> BTreeSet<(String, String)> {
    fn visit(dir: &Path, routes: &mut BTreeSet<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                visit(&path, routes);
                continue;
            }
            let source = std::fs::read_to_string(&path).unwrap();
            for line in source.lines().map(str::trim) {
                for method in METHODS {
                    let Some(rest) = line.strip_prefix(&format!("#[{method}(\"")) else {
                        continue;
                    };
                    let Some((route, _)) = rest.split_once('"') else {
                        continue;
                    };
                    routes.insert((method.to_owned(), route.replace(":.*}", "}")));
                }
            }
        }
    }
    let mut routes = BTreeSet::new();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bin/picture-server/src");
    visit(&source, &mut routes);
    routes
}

/// The `(method, path)` pairs of the document.
fn documented_routes(spec: &Value) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in METHODS {
            if item[method].is_object() {
                routes.insert((method.to_owned(), path.clone()));
            }
        }
    }
    routes
}

#[tokio::test]
async fn every_registered_route_is_in_the_openapi_document() {
    let app = TestApp::spawn_with(Db::Sqlite, |raw| {
        raw.set("RATE_LIMIT_IP_PER_MINUTE", "0");
    })
    .await
    .unwrap();
    let response = app.get("/api/docs/openapi.json", None).await;
    assert_eq!(response.status(), 200);
    let spec: Value = response.json().await.unwrap();
    assert!(
        spec["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        spec["openapi"]
    );
    let documented = documented_routes(&spec);
    let declared = declared_routes();
    assert!(declared.len() > 30, "the source was read: {declared:?}");
    let missing: Vec<_> = declared
        .iter()
        .filter(|(method, path)| {
            !documented.contains(&(method.clone(), format!("/api/v1{path}")))
                && !documented.contains(&(method.clone(), path.clone()))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "routes missing from the document: {missing:?}"
    );
    // And every documented route is served: under its path and, for the API, under the
    // mobile client's `/api` too. Unknown routes answer `Cannot METHOD PATH`. (`/files/{key}`
    // answers that for an unknown key as well; its tests are in files.rs.)
    let id = uuid::Uuid::new_v4().to_string();
    for (method, path) in &documented {
        if path.starts_with("/files/") {
            continue;
        }
        let concrete = path.replace("{id}", &id);
        let mut paths = vec![concrete.clone()];
        if let Some(rest) = concrete.strip_prefix("/api/v1") {
            paths.push(format!("/api{rest}"));
        }
        for path in paths {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let response = app.send(method.clone(), &path, None).await;
            let status = response.status();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            let not_routed = status == 404 && body["message"] == format!("Cannot {method} {path}");
            assert!(!not_routed, "{method} {path} is documented but not served");
        }
    }
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
