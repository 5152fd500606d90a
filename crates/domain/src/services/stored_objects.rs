//! Deleting a stored image together with the variants rendered from it.

use crate::error::ErrorChain;
use crate::ports::{MAX_LIST_PAGE, ObjectKey, ObjectStore, StoreError};
use crate::variant::variants_prefix;

/// Deletes the object `key`, then every variant stored next to it (page by page). The original
/// goes first: a variant is only ever rendered from an original that still exists.
///
/// # Errors
/// The first [`StoreError`]; what was deleted before it stays deleted (deleting is idempotent,
/// so calling again finishes the job).
pub async fn delete_with_variants(
    store: &dyn ObjectStore,
    key: &ObjectKey,
) -> Result<(), StoreError> {
    store.delete(key).await?;
    let prefix = variants_prefix(key);
    let mut after = None;
    loop {
        let page = store.list(&prefix, after, MAX_LIST_PAGE).await?;
        for object in &page.objects {
            store.delete(&object.key).await?;
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(()),
        }
    }
}

/// [`delete_with_variants`], logging a failure as a warning (`what` names the object in the
/// log): for callers whose own work is done and who must not fail for the store.
pub async fn delete_logged(store: &dyn ObjectStore, key: &ObjectKey, what: &str) {
    if let Err(error) = delete_with_variants(store, key).await {
        tracing::warn!(key = key.as_str(), error = %ErrorChain(&error), "{what} not deleted");
    }
}
