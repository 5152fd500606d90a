//! The backfill against an in-memory store and a repository keeping the contract's rules.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::*;
use crate::ports::MockImageRenderer;
use crate::ports::RenderError;
use crate::services::fakes::MemoryStore;

/// Rows by id: (key, blurhash), images and boards apart; counts every write.
#[derive(Default)]
struct Rows {
    images: Mutex<BTreeMap<ImageId, (ObjectKey, Option<String>)>>,
    boards: Mutex<BTreeMap<BoardId, (ObjectKey, Option<String>)>>,
    writes: Mutex<Vec<String>>,
}

fn missing<Id: Copy + Ord>(
    rows: &BTreeMap<Id, (ObjectKey, Option<String>)>,
    after: Option<Id>,
    limit: u32,
) -> Vec<(Id, ObjectKey)> {
    rows.iter()
        .filter(|(id, (_, hash))| hash.is_none() && after.is_none_or(|a| **id > a))
        .take(limit as usize)
        .map(|(id, (key, _))| (*id, key.clone()))
        .collect()
}

#[async_trait]
impl PlaceholderRepository for Rows {
    async fn count_missing(&self) -> Result<u64, RepositoryError> {
        let images = missing(&self.images.lock().unwrap(), None, u32::MAX).len();
        let boards = missing(&self.boards.lock().unwrap(), None, u32::MAX).len();
        Ok((images + boards) as u64)
    }

    async fn images_missing(
        &self,
        after: Option<ImageId>,
        limit: u32,
    ) -> Result<Vec<(ImageId, ObjectKey)>, RepositoryError> {
        Ok(missing(&self.images.lock().unwrap(), after, limit))
    }

    async fn boards_missing(
        &self,
        after: Option<BoardId>,
        limit: u32,
    ) -> Result<Vec<(BoardId, ObjectKey)>, RepositoryError> {
        Ok(missing(&self.boards.lock().unwrap(), after, limit))
    }

    async fn set_image_blurhash(&self, id: ImageId, hash: &str) -> Result<bool, RepositoryError> {
        let mut images = self.images.lock().unwrap();
        let Some(row) = images.get_mut(&id).filter(|row| row.1.is_none()) else {
            return Ok(false);
        };
        row.1 = Some(hash.to_owned());
        self.writes.lock().unwrap().push(id.to_string());
        Ok(true)
    }

    async fn set_board_blurhash(
        &self,
        id: BoardId,
        key: &ObjectKey,
        hash: &str,
    ) -> Result<bool, RepositoryError> {
        let mut boards = self.boards.lock().unwrap();
        let Some(row) = boards
            .get_mut(&id)
            .filter(|row| row.1.is_none() && row.0 == *key)
        else {
            return Ok(false);
        };
        row.1 = Some(hash.to_owned());
        self.writes.lock().unwrap().push(id.to_string());
        Ok(true)
    }
}

/// A renderer whose hash is the source's text; sources starting with `bad` are no images.
fn renderer() -> MockImageRenderer {
    let mut renderer = MockImageRenderer::new();
    renderer.expect_blurhash().returning(|bytes| {
        if bytes.starts_with(b"bad") {
            Err(RenderError::NotAnImage)
        } else {
            Ok(String::from_utf8(bytes).unwrap())
        }
    });
    renderer
}

#[tokio::test]
async fn every_row_without_a_hash_is_hashed_once_and_a_second_run_finds_nothing() {
    let rows = Arc::new(Rows::default());
    let store = Arc::new(MemoryStore::default());
    for n in 0..7 {
        let key = ObjectKey::from_stored(format!("users/u/images/{n}.png"));
        let id = ImageId::new_random();
        let hashed = (n == 0).then(|| "old".to_owned());
        rows.images
            .lock()
            .unwrap()
            .insert(id, (key.clone(), hashed));
        let bytes = if n == 1 {
            b"bad".to_vec()
        } else {
            format!("img{n}").into_bytes()
        };
        if n != 2 {
            store.put(&key, bytes, "image/png").await.unwrap();
        }
    }
    let board_key = ObjectKey::from_stored("boards/b/thumbnail-1.png");
    store
        .put(&board_key, b"thumb".to_vec(), "image/png")
        .await
        .unwrap();
    rows.boards
        .lock()
        .unwrap()
        .insert(BoardId::new_random(), (board_key, None));
    let backfill = PlaceholderBackfill::new(rows.clone(), store, Arc::new(renderer()), 2);
    assert_eq!(backfill.remaining().await.unwrap(), 7);

    let mut seen = Vec::new();
    let first = backfill.run(|p| seen.push(p.handled())).await.unwrap();
    assert_eq!(
        first,
        BackfillProgress {
            hashed: 5,
            failed: 2,
            already_done: 0
        }
    );
    assert_eq!(seen, (1..=7).collect::<Vec<_>>());
    assert_eq!(rows.writes.lock().unwrap().len(), 5);
    assert_eq!(
        backfill.remaining().await.unwrap(),
        2,
        "the broken two are left"
    );
    let images = rows.images.lock().unwrap().clone();
    assert!(
        images
            .values()
            .any(|(_, hash)| hash.as_deref() == Some("old"))
    );
    assert!(
        images
            .values()
            .any(|(_, hash)| hash.as_deref() == Some("img3"))
    );

    let second = backfill.run(|_| {}).await.unwrap();
    assert_eq!(second.hashed, 0);
    assert_eq!(second.failed, 2);
    assert_eq!(rows.writes.lock().unwrap().len(), 5, "nothing hashed twice");
}
