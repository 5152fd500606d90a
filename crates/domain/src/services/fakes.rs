//! Test doubles shared by the services' tests: an object store in memory, a renderer of fixed
//! placeholders.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::Utc;

use crate::ports::{ObjectKey, ObjectPage, ObjectStore, StoreError, StoredObject};

/// Objects in a map.
#[derive(Default)]
pub(crate) struct MemoryStore {
    /// Objects by key: bytes and `Cache-Control`.
    pub(crate) objects: Mutex<HashMap<String, (Vec<u8>, Option<String>)>>,
    /// Every put fails.
    pub(crate) fail_puts: bool,
}

#[async_trait]
impl ObjectStore for MemoryStore {
    async fn put(&self, key: &ObjectKey, bytes: Vec<u8>, _: &str) -> Result<(), StoreError> {
        if self.fail_puts {
            return Err(StoreError::Unavailable("full".into()));
        }
        self.objects
            .lock()
            .unwrap()
            .insert(key.as_str().to_owned(), (bytes, None));
        Ok(())
    }

    async fn put_with_cache_control(
        &self,
        key: &ObjectKey,
        bytes: Vec<u8>,
        content_type: &str,
        cache_control: &str,
    ) -> Result<(), StoreError> {
        self.put(key, bytes, content_type).await?;
        if let Some(object) = self.objects.lock().unwrap().get_mut(key.as_str()) {
            object.1 = Some(cache_control.to_owned());
        }
        Ok(())
    }

    async fn get(&self, key: &ObjectKey) -> Result<Option<StoredObject>, StoreError> {
        Ok(self
            .objects
            .lock()
            .unwrap()
            .get(key.as_str())
            .map(|(bytes, cache_control)| StoredObject {
                bytes: bytes.clone(),
                cache_control: cache_control.clone(),
            }))
    }

    async fn delete(&self, key: &ObjectKey) -> Result<(), StoreError> {
        self.objects.lock().unwrap().remove(key.as_str());
        Ok(())
    }

    async fn list(
        &self,
        prefix: &str,
        start_after: Option<ObjectKey>,
        limit: u32,
    ) -> Result<ObjectPage, StoreError> {
        let mut keys: Vec<String> = self
            .objects
            .lock()
            .unwrap()
            .keys()
            .filter(|k| k.starts_with(prefix))
            .filter(|k| {
                start_after
                    .as_ref()
                    .is_none_or(|after| k.as_str() > after.as_str())
            })
            .cloned()
            .collect();
        keys.sort();
        let more = keys.len() > limit as usize;
        keys.truncate(limit as usize);
        let next = more.then(|| ObjectKey::from_stored(keys[keys.len() - 1].clone()));
        Ok(ObjectPage {
            objects: keys
                .into_iter()
                .map(|key| crate::ports::ListedObject {
                    key: ObjectKey::from_stored(key),
                    last_modified: Utc::now(),
                })
                .collect(),
            next,
        })
    }

    fn public_url(&self, key: &ObjectKey) -> String {
        format!("http://files/{}", key.as_str())
    }
}

/// The blurhash [`placeholder_renderer`] gives every image.
pub(crate) const PLACEHOLDER: &str = "LEHV6nWB2yk8pyo0adR*.7kCMdnj";

/// A renderer whose blurhash of anything is [`PLACEHOLDER`] (it renders no variants).
pub(crate) fn placeholder_renderer() -> std::sync::Arc<dyn crate::ports::ImageRenderer> {
    let mut renderer = crate::ports::MockImageRenderer::new();
    renderer
        .expect_blurhash()
        .returning(|_| Ok(PLACEHOLDER.to_owned()));
    std::sync::Arc::new(renderer)
}
