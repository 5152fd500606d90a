//! The S3-compatible test server that `.ci/run` starts, as the `PICTURE_TEST_S3_*` variables
//! name it.

use crate::skip::skip_or_fail;

/// Where the S3 test server is and how to sign in.
#[derive(Debug, Clone)]
pub struct S3TestServer {
    /// `PICTURE_TEST_S3_ENDPOINT`.
    pub endpoint: String,
    /// `PICTURE_TEST_S3_BUCKET` (default `picture-test`).
    pub bucket: String,
    /// `PICTURE_TEST_S3_ACCESS_KEY`.
    pub access_key: String,
    /// `PICTURE_TEST_S3_SECRET_KEY`.
    pub secret_key: String,
}

/// The S3 test server, or `None` after reporting the skip — which fails the test with
/// `CI=true` — when the variables are not set.
pub fn s3_test_server() -> Option<S3TestServer> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let (Some(endpoint), Some(access_key), Some(secret_key)) = (
        var("PICTURE_TEST_S3_ENDPOINT"),
        var("PICTURE_TEST_S3_ACCESS_KEY"),
        var("PICTURE_TEST_S3_SECRET_KEY"),
    ) else {
        skip_or_fail(
            "S3",
            "no S3 test server configured (PICTURE_TEST_S3_ENDPOINT, …); `bash .ci/run` starts one",
        );
        return None;
    };
    Some(S3TestServer {
        endpoint,
        bucket: var("PICTURE_TEST_S3_BUCKET").unwrap_or_else(|| "picture-test".into()),
        access_key,
        secret_key,
    })
}
