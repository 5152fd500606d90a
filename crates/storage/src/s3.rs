//! The S3 store (production): any S3-compatible service through rust-s3, path-style.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use picture_domain::ports::{
    ListedObject, MAX_LIST_PAGE, ObjectKey, ObjectPage, ObjectStore, StoreError, StoredObject,
};
use s3::creds::Credentials;
use s3::{Bucket, Region};
use secrecy::{ExposeSecret, SecretString};

use crate::key::checked_segments;

mod stream;

pub use stream::ObjectStream;

/// `Cache-Control` of stored images: their keys never change content.
pub const IMAGE_CACHE_CONTROL: &str = "public, max-age=31536000, immutable";

/// Where and how to reach the S3 store.
#[derive(Clone)]
pub struct S3Config {
    /// `S3_ENDPOINT`, e.g. `http://127.0.0.1:9000`.
    pub endpoint: String,
    /// `S3_BUCKET`.
    pub bucket: String,
    /// `S3_REGION`.
    pub region: String,
    /// `S3_ACCESS_KEY`.
    pub access_key: SecretString,
    /// `S3_SECRET_KEY`.
    pub secret_key: SecretString,
    /// `STORAGE_PUBLIC_URL`: base of public object URLs; `{endpoint}/{bucket}` when unset.
    pub public_url: Option<String>,
    /// Longest one request may take.
    pub timeout: Duration,
}

impl fmt::Debug for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

/// Objects in an S3 bucket.
pub struct S3Store {
    bucket: Box<Bucket>,
    public_base_url: String,
}

fn unavailable(error: impl fmt::Display) -> StoreError {
    StoreError::Unavailable(format!("S3: {error}"))
}

impl S3Store {
    /// A store for `config`. No request is made: the bucket must exist (deployment creates it).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the client cannot be built.
    pub fn new(config: &S3Config) -> Result<Self, StoreError> {
        let endpoint = config.endpoint.trim_end_matches('/').to_owned();
        let region = Region::Custom {
            region: config.region.clone(),
            endpoint: endpoint.clone(),
        };
        let credentials = Credentials::new(
            Some(config.access_key.expose_secret()),
            Some(config.secret_key.expose_secret()),
            None,
            None,
            None,
        )
        .map_err(unavailable)?;
        let mut bucket = Bucket::new(&config.bucket, region, credentials)
            .map_err(unavailable)?
            .with_path_style();
        bucket.set_request_timeout(Some(config.timeout));
        let public_base_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("{endpoint}/{}", config.bucket))
            .trim_end_matches('/')
            .to_owned();
        Ok(Self {
            bucket,
            public_base_url,
        })
    }

    /// Reads an object back (used by tests and operators' checks).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when it cannot be read (including when it does not exist).
    pub async fn get(&self, key: &ObjectKey) -> Result<Vec<u8>, StoreError> {
        checked_segments(key)?;
        let response = self
            .bucket
            .get_object(key.as_str())
            .await
            .map_err(unavailable)?;
        Ok(response.bytes().to_vec())
    }

    /// The object under `key` as a stream of its bytes, for serving it as it arrives;
    /// `Ok(None)` when there is none (or the key is one this store refuses).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the bucket cannot be reached or answers an error.
    pub async fn get_stream(&self, key: &ObjectKey) -> Result<Option<ObjectStream>, StoreError> {
        if checked_segments(key).is_err() {
            return Ok(None);
        }
        match self.bucket.get_object_stream(key.as_str()).await {
            Ok(response) if response.status_code == 404 => Ok(None),
            Ok(response) if (200..300).contains(&response.status_code) => {
                Ok(Some(ObjectStream::new(response.bytes)))
            }
            Ok(response) => Err(unavailable(format!("HTTP {}", response.status_code))),
            Err(s3::error::S3Error::HttpFailWithBody(404, _)) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }
}

#[async_trait]
impl ObjectStore for S3Store {
    async fn put(
        &self,
        key: &ObjectKey,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> Result<(), StoreError> {
        self.put_with_cache_control(key, bytes, content_type, IMAGE_CACHE_CONTROL)
            .await
    }

    async fn put_with_cache_control(
        &self,
        key: &ObjectKey,
        bytes: Vec<u8>,
        content_type: &str,
        cache_control: &str,
    ) -> Result<(), StoreError> {
        checked_segments(key)?;
        self.bucket
            .put_object_builder(key.as_str(), &bytes)
            .with_content_type(content_type)
            .with_cache_control(cache_control)
            .map_err(unavailable)?
            .execute()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn get(&self, key: &ObjectKey) -> Result<Option<StoredObject>, StoreError> {
        if checked_segments(key).is_err() {
            return Ok(None);
        }
        match self.bucket.get_object(key.as_str()).await {
            Ok(response) => {
                let cache_control = response
                    .headers()
                    .into_iter()
                    .find(|(name, _)| name.eq_ignore_ascii_case("cache-control"))
                    .map(|(_, value)| value);
                Ok(Some(StoredObject {
                    bytes: response.bytes().to_vec(),
                    cache_control,
                }))
            }
            Err(s3::error::S3Error::HttpFailWithBody(404, _)) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn delete(&self, key: &ObjectKey) -> Result<(), StoreError> {
        checked_segments(key)?;
        match self.bucket.delete_object(key.as_str()).await {
            Ok(_) | Err(s3::error::S3Error::HttpFailWithBody(404, _)) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn list(
        &self,
        prefix: &str,
        start_after: Option<ObjectKey>,
        limit: u32,
    ) -> Result<ObjectPage, StoreError> {
        let limit = limit.clamp(1, MAX_LIST_PAGE) as usize;
        let (result, _) = self
            .bucket
            .list_page(
                prefix.to_owned(),
                None,
                None,
                start_after.map(|key| key.as_str().to_owned()),
                Some(limit),
            )
            .await
            .map_err(unavailable)?;
        let next = match (result.is_truncated, result.contents.last()) {
            (true, Some(last)) => Some(ObjectKey::from_stored(last.key.clone())),
            _ => None,
        };
        let mut objects = Vec::with_capacity(result.contents.len());
        for object in result.contents {
            let key = ObjectKey::from_stored(object.key);
            if checked_segments(&key).is_err() {
                continue;
            }
            let last_modified = DateTime::parse_from_rfc3339(&object.last_modified)
                .map_err(|e| {
                    unavailable(format!(
                        "unreadable LastModified {:?} of {:?}: {e}",
                        object.last_modified,
                        key.as_str()
                    ))
                })?
                .with_timezone(&Utc);
            objects.push(ListedObject { key, last_modified });
        }
        Ok(ObjectPage { objects, next })
    }

    fn public_url(&self, key: &ObjectKey) -> String {
        format!("{}/{}", self.public_base_url, key.as_str())
    }
}
