//! The orphan sweep: deleting stored images that no image row points at, so that no stored
//! object outlives the row that would point at it (a finaliser that lost to a cancel, a
//! finaliser that died between storing and committing, an image whose row was deleted while
//! deleting its object failed).
//!
//! Which objects it may touch: only keys with the generated-image layout
//! `users/{user}/images/{file}` ([`ObjectKey::is_image`]), listed under
//! [`IMAGE_KEY_PREFIX`]. Anything else in the store (other prefixes, other layouts under
//! `users/`, such as uploads or thumbnails) is left alone, whether or not a row points at it —
//! except the variants of a generated image (`{image key}.variants/…`), which go when no row
//! holds their image's key.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use crate::error::{ErrorChain, RepositoryError};
use crate::ports::{
    Clock, IMAGE_KEY_PREFIX, ImageRepository, ObjectKey, ObjectPage, ObjectStore, StoreError,
};
use crate::variant::original_of_variant;

#[cfg(test)]
mod tests;

/// How the sweep behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrphanSweepSettings {
    /// How long ago an object must have been written before it may be deleted. MUST be longer
    /// than the finalisation lease plus a margin (see [`OrphanSweeper::pass`]).
    pub grace: Duration,
    /// Objects per listing page (at most [`MAX_LIST_PAGE`](crate::ports::MAX_LIST_PAGE)); also
    /// the most keys one database query looks up.
    pub page_size: u32,
    /// Pages one pass looks at: a pass examines, and deletes, at most
    /// `page_size × pages_per_pass` objects.
    pub pages_per_pass: u32,
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Objects listed.
    pub examined: usize,
    /// Orphans deleted.
    pub deleted: usize,
    /// Orphans whose deletion failed (logged; retried in the next round).
    pub failed: usize,
    /// Whether this pass reached the end of the listing (the next one starts from the first key).
    pub finished_round: bool,
}

/// What a pass can fail with (the pass stops; the next one resumes where this one was).
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// Listing the store failed.
    #[error("listing the object store failed")]
    Store(#[from] StoreError),
    /// Looking the keys up failed.
    #[error("looking up image rows failed")]
    Repository(#[from] RepositoryError),
}

/// Deletes generated-image objects that no image row points at (and the variants of such
/// images), a bounded number of pages per
/// pass, each pass resuming where the previous one stopped.
pub struct OrphanSweeper {
    store: Arc<dyn ObjectStore>,
    images: Arc<dyn ImageRepository>,
    clock: Arc<dyn Clock>,
    settings: OrphanSweepSettings,
    resume_after: Option<ObjectKey>,
}

impl OrphanSweeper {
    /// A sweeper of `store` against the rows of `images`.
    pub fn new(
        store: Arc<dyn ObjectStore>,
        images: Arc<dyn ImageRepository>,
        clock: Arc<dyn Clock>,
        settings: OrphanSweepSettings,
    ) -> Self {
        Self {
            store,
            images,
            clock,
            settings,
            resume_after: None,
        }
    }

    /// Looks at up to `pages_per_pass` pages of the listing under [`IMAGE_KEY_PREFIX`], starting
    /// after the last key the previous pass handled, and deletes each orphan among them.
    ///
    /// An object is deleted only when all three hold: its key has the generated-image layout
    /// ([`ObjectKey::is_image`]) or is a variant of such a key
    /// ([`original_of_variant`]); it was last written more than `grace` ago; and no image row
    /// holds its key (a variant: its original's key) when this pass asks (one query per page).
    ///
    /// Invariant that makes this safe: a finaliser stores the object first and commits the row
    /// that points at it afterwards, within its finalisation lease, and a finaliser that starts
    /// again (another claimant after the lease ran out) writes the object again, making it
    /// young. `grace` is longer than the lease plus a margin, so an object whose row a live
    /// finaliser is about to commit is always younger than `grace` and kept. An object older
    /// than that without a row belongs to a finaliser that lost to a cancel or died, or to an
    /// image already deleted: no row will point at it any more.
    ///
    /// A failed deletion is logged and counted, and the pass goes on with the next object.
    ///
    /// # Errors
    /// [`SweepError`] when listing or the row lookup fails; the page is then looked at again by
    /// the next pass.
    pub async fn pass(&mut self) -> Result<SweepReport, SweepError> {
        let mut report = SweepReport::default();
        for _ in 0..self.settings.pages_per_pass.max(1) {
            let page = self
                .store
                .list(
                    IMAGE_KEY_PREFIX,
                    self.resume_after.clone(),
                    self.settings.page_size,
                )
                .await?;
            let next = page.next.clone();
            report.examined += page.objects.len();
            self.sweep_page(page, &mut report).await?;
            self.resume_after = next;
            if self.resume_after.is_none() {
                report.finished_round = true;
                break;
            }
        }
        Ok(report)
    }

    /// Deletes the orphans of one page.
    async fn sweep_page(
        &self,
        page: ObjectPage,
        report: &mut SweepReport,
    ) -> Result<(), SweepError> {
        let grace =
            chrono::Duration::from_std(self.settings.grace).unwrap_or(chrono::Duration::MAX);
        let Some(cutoff) = self.clock.now().checked_sub_signed(grace) else {
            return Ok(());
        };
        // Each old object with the image whose row keeps it: itself, or a variant's original.
        let candidates: Vec<(ObjectKey, ObjectKey)> = page
            .objects
            .into_iter()
            .filter(|object| object.last_modified < cutoff)
            .filter_map(|object| {
                let image = if object.key.is_image() {
                    object.key.clone()
                } else {
                    original_of_variant(&object.key).filter(ObjectKey::is_image)?
                };
                Some((object.key, image))
            })
            .collect();
        if candidates.is_empty() {
            return Ok(());
        }
        let mut images: Vec<ObjectKey> =
            candidates.iter().map(|(_, image)| image.clone()).collect();
        images.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        images.dedup();
        let with_rows: HashSet<ObjectKey> = self
            .images
            .keys_with_rows(&images)
            .await?
            .into_iter()
            .collect();
        let orphans = candidates
            .iter()
            .filter(|(_, image)| !with_rows.contains(image))
            .map(|(key, _)| key);
        for key in orphans {
            match self.store.delete(key).await {
                Ok(()) => {
                    report.deleted += 1;
                    metrics::counter!("picture_orphan_objects_deleted_total").increment(1);
                    tracing::info!(
                        key = key.as_str(),
                        "deleted a stored object no image row points at"
                    );
                }
                Err(error) => {
                    report.failed += 1;
                    tracing::warn!(key = key.as_str(), error = %ErrorChain(&error), "deleting an orphan object failed");
                }
            }
        }
        Ok(())
    }
}
