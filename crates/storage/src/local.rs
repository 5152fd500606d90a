//! The local filesystem store (embedded default).

use std::io;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use picture_domain::ports::{
    MAX_LIST_PAGE, ObjectKey, ObjectPage, ObjectStore, StoreError, StoredObject,
};

use crate::key::checked_segments;

mod listing;

/// Objects as files under a root directory, served by the server at `/files/{key}`.
#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
    public_base_url: String,
}

fn unavailable(error: io::Error) -> StoreError {
    StoreError::Unavailable(format!("local storage: {error}"))
}

/// Writes `bytes` to a temporary file beside `path`, syncs it and renames it into place, so a
/// reader sees the whole file or none, and the file is on disk before the row that points at it
/// commits. The local store's write, public so the load harness can time it alone.
///
/// # Errors
/// Any I/O error on the way; a temporary file may then be left beside `path`.
pub fn write_durably(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let directory = path
        .parent()
        .ok_or_else(|| io::Error::other("object key has no directory"))?;
    std::fs::create_dir_all(directory)?;
    let temporary = directory.join(format!(
        ".{}.{}.tmp",
        path.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default(),
        std::process::id()
    ));
    let mut file = std::fs::File::create(&temporary)?;
    io::Write::write_all(&mut file, bytes)?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)
}

/// Whether reading a file failed because there is no object there (rather than because the
/// disk failed).
fn is_absent(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::NotFound
            | io::ErrorKind::IsADirectory
            | io::ErrorKind::NotADirectory
            | io::ErrorKind::InvalidFilename
    )
}

/// The hidden file beside the object at `path` that keeps its `Cache-Control`.
fn sidecar(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_string_lossy();
    Some(path.with_file_name(format!(".{name}.cache-control")))
}

impl LocalStore {
    /// A store writing under `root`, whose URLs start with `{public_base_url}/files/`.
    pub fn new(root: impl Into<PathBuf>, public_base_url: &str) -> Self {
        Self {
            root: root.into(),
            public_base_url: public_base_url.trim_end_matches('/').to_owned(),
        }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The `Cache-Control` the object under `key` was stored with by
    /// [`put_with_cache_control`](ObjectStore::put_with_cache_control), if any (kept in a hidden
    /// file beside the object, which listings skip).
    pub async fn cache_control_of(&self, key: &ObjectKey) -> Option<String> {
        let path = sidecar(&self.path_of(key).ok()?)?;
        let text = tokio::fs::read_to_string(path).await.ok()?;
        Some(text.trim().to_owned()).filter(|t| !t.is_empty())
    }

    /// The file of `key`, if the key is safe.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] for a key with empty, `.`/`..` or unusual segments.
    pub fn path_of(&self, key: &ObjectKey) -> Result<PathBuf, StoreError> {
        let mut path = self.root.clone();
        for segment in checked_segments(key)? {
            path.push(segment);
        }
        Ok(path)
    }
}

#[async_trait]
impl ObjectStore for LocalStore {
    async fn put(
        &self,
        key: &ObjectKey,
        bytes: Vec<u8>,
        _content_type: &str,
    ) -> Result<(), StoreError> {
        let path = self.path_of(key)?;
        // One blocking task for the whole write instead of one per file operation: each hop to
        // the blocking pool and back is a thread wake-up on the request's path.
        tokio::task::spawn_blocking(move || write_durably(&path, &bytes))
            .await
            .map_err(|e| StoreError::Unavailable(format!("local storage: {e}")))?
            .map_err(unavailable)
    }

    async fn put_with_cache_control(
        &self,
        key: &ObjectKey,
        bytes: Vec<u8>,
        content_type: &str,
        cache_control: &str,
    ) -> Result<(), StoreError> {
        let path = self.path_of(key)?;
        let header = sidecar(&path)
            .ok_or_else(|| StoreError::Unavailable("local storage: key has no file name".into()))?;
        let cache_control = cache_control.to_owned();
        // The header first: a reader never sees the object without it.
        tokio::task::spawn_blocking(move || write_durably(&header, cache_control.as_bytes()))
            .await
            .map_err(|e| StoreError::Unavailable(format!("local storage: {e}")))?
            .map_err(unavailable)?;
        self.put(key, bytes, content_type).await
    }

    async fn get(&self, key: &ObjectKey) -> Result<Option<StoredObject>, StoreError> {
        let Ok(path) = self.path_of(key) else {
            return Ok(None);
        };
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(Some(StoredObject {
                bytes,
                cache_control: self.cache_control_of(key).await,
            })),
            // No such file, a folder, a file used as a folder, a name too long: no object.
            Err(error) if is_absent(&error) => Ok(None),
            Err(error) => Err(unavailable(error)),
        }
    }

    async fn delete(&self, key: &ObjectKey) -> Result<(), StoreError> {
        let path = self.path_of(key)?;
        match tokio::fs::remove_file(&path).await {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(unavailable(e)),
            _ => {}
        }
        if let Some(header) = sidecar(&path) {
            match tokio::fs::remove_file(header).await {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(unavailable(e)),
                _ => {}
            }
        }
        Ok(())
    }

    async fn list(
        &self,
        prefix: &str,
        start_after: Option<ObjectKey>,
        limit: u32,
    ) -> Result<ObjectPage, StoreError> {
        let root = self.root.clone();
        let prefix = prefix.to_owned();
        let limit = limit.clamp(1, MAX_LIST_PAGE) as usize;
        tokio::task::spawn_blocking(move || {
            let start_after = start_after.as_ref().map(ObjectKey::as_str);
            listing::list(&root, &prefix, start_after, limit)
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("local storage: {e}")))?
        .map_err(unavailable)
    }

    fn public_url(&self, key: &ObjectKey) -> String {
        format!("{}/files/{}", self.public_base_url, key.as_str())
    }
}

#[cfg(test)]
mod tests {
    use picture_domain::{ImageId, UserId};

    use super::*;

    fn key() -> ObjectKey {
        ObjectKey::for_image(
            &UserId::parse("user-1").unwrap(),
            ImageId::new_random(),
            "png",
        )
    }

    #[tokio::test]
    async fn objects_are_written_read_back_and_deleted_idempotently() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path().join("files"), "http://localhost:3006/");
        let key = key();
        store
            .put(&key, b"first".to_vec(), "image/png")
            .await
            .unwrap();
        store
            .put(&key, b"second".to_vec(), "image/png")
            .await
            .unwrap();
        let path = store.path_of(&key).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        assert!(path.starts_with(dir.path().join("files/users/user-1/images")));
        assert_eq!(
            store.public_url(&key),
            format!("http://localhost:3006/files/{}", key.as_str())
        );
        store.delete(&key).await.unwrap();
        assert!(!path.exists());
        store.delete(&key).await.unwrap();
        // No temporary file is left behind.
        let leftovers = std::fs::read_dir(path.parent().unwrap()).unwrap().count();
        assert_eq!(leftovers, 0);
    }

    #[tokio::test]
    async fn a_cache_control_is_kept_beside_the_object_and_deleted_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path(), "http://localhost");
        let key = ObjectKey::from_stored("boards/b1/thumbnail-x.png");
        store
            .put_with_cache_control(&key, b"png".to_vec(), "image/png", "public, max-age=604800")
            .await
            .unwrap();
        assert_eq!(std::fs::read(store.path_of(&key).unwrap()).unwrap(), b"png");
        assert_eq!(
            store.cache_control_of(&key).await.as_deref(),
            Some("public, max-age=604800")
        );
        let listed = store.list("boards/", None, 10).await.unwrap();
        assert_eq!(listed.objects.len(), 1, "the header file is not an object");
        store.delete(&key).await.unwrap();
        assert_eq!(store.cache_control_of(&key).await, None);
        assert_eq!(
            std::fs::read_dir(dir.path().join("boards/b1"))
                .unwrap()
                .count(),
            0
        );
    }

    #[tokio::test]
    async fn objects_are_read_whole_and_anything_else_is_no_object() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path(), "http://localhost");
        let key = ObjectKey::from_stored("boards/b1/thumbnail-x.png");
        store
            .put_with_cache_control(&key, b"png".to_vec(), "image/png", "public, max-age=60")
            .await
            .unwrap();
        let read = store.get(&key).await.unwrap().unwrap();
        assert_eq!(read.bytes, b"png");
        assert_eq!(read.cache_control.as_deref(), Some("public, max-age=60"));
        for absent in [
            "boards/b1/other.png",
            "boards/b1",
            "boards/b1/thumbnail-x.png/child.png",
            "users/../../etc/passwd",
        ] {
            let key = ObjectKey::from_stored(absent);
            assert_eq!(store.get(&key).await.unwrap(), None, "{absent}");
        }
    }

    #[tokio::test]
    async fn unsafe_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path(), "http://localhost");
        for raw in [
            "users/../../etc/passwd",
            "/etc/passwd",
            "users//x.png",
            "users/a b.png",
            "users/./x",
        ] {
            let key = ObjectKey::from_stored(raw);
            assert!(
                store.put(&key, b"x".to_vec(), "image/png").await.is_err(),
                "{raw}"
            );
            assert!(store.path_of(&key).is_err(), "{raw}");
        }
    }
}
