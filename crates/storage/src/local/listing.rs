//! Listing the local store: a walk of the directory tree in the byte order of the keys, that
//! descends only into directories that can hold keys of the page, so a page costs about the
//! directories on its path rather than the whole tree.

use std::io;
use std::path::Path;

use chrono::{DateTime, Utc};
use picture_domain::ports::{ListedObject, ObjectKey, ObjectPage};

use crate::key::checked_segments;

/// What one listing looks for and what it found so far.
struct Walk<'a> {
    prefix: &'a str,
    start_after: Option<&'a str>,
    /// The page size; the walk collects one more to know whether the page is truncated.
    limit: usize,
    found: Vec<ListedObject>,
}

impl Walk<'_> {
    fn full(&self) -> bool {
        self.found.len() > self.limit
    }

    /// Whether the directory whose keys all start with `dir_key` (ending in `/`) may hold a key
    /// of the page.
    fn may_hold(&self, dir_key: &str) -> bool {
        let under_prefix = dir_key.starts_with(self.prefix) || self.prefix.starts_with(dir_key);
        let after_start = match self.start_after {
            None => true,
            Some(start) => start < dir_key || start.starts_with(dir_key),
        };
        under_prefix && after_start
    }

    fn wants(&self, key: &str) -> bool {
        key.starts_with(self.prefix) && self.start_after.is_none_or(|start| key > start)
    }
}

/// One page of the files under `root` whose keys start with `prefix` and sort after
/// `start_after`: at most `limit` (at least 1). Files whose names start with `.` (the temporary
/// files of writes in progress, see [`write_durably`](super::write_durably)), symbolic links,
/// and files whose key the store would refuse are not objects and are left out.
pub(super) fn list(
    root: &Path,
    prefix: &str,
    start_after: Option<&str>,
    limit: usize,
) -> io::Result<ObjectPage> {
    let mut walk = Walk {
        prefix,
        start_after,
        limit: limit.max(1),
        found: Vec::new(),
    };
    visit(root, "", &mut walk)?;
    let truncated = walk.full();
    walk.found.truncate(walk.limit);
    let next = match (truncated, walk.found.last()) {
        (true, Some(last)) => Some(last.key.clone()),
        _ => None,
    };
    Ok(ObjectPage {
        objects: walk.found,
        next,
    })
}

/// An entry of a directory with the key (files) or key prefix (directories, ending in `/`)
/// it stands for: sorting by it sorts the keys below in byte order.
struct Entry {
    key: String,
    name: String,
    is_dir: bool,
}

fn entries(dir: &Path, key_prefix: &str) -> io::Result<Vec<Entry>> {
    let reader = match std::fs::read_dir(dir) {
        Ok(reader) => reader,
        // Deleted while the walk went by, or no object stored yet.
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut entries = Vec::new();
    for entry in reader {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        let file_type = entry.file_type()?;
        let (key, is_dir) = if file_type.is_dir() {
            (format!("{key_prefix}{name}/"), true)
        } else if file_type.is_file() {
            (format!("{key_prefix}{name}"), false)
        } else {
            continue;
        };
        entries.push(Entry { key, name, is_dir });
    }
    entries.sort_unstable_by(|a, b| a.key.cmp(&b.key));
    Ok(entries)
}

fn visit(dir: &Path, key_prefix: &str, walk: &mut Walk<'_>) -> io::Result<()> {
    for entry in entries(dir, key_prefix)? {
        if walk.full() {
            return Ok(());
        }
        let path = dir.join(&entry.name);
        if entry.is_dir {
            if walk.may_hold(&entry.key) {
                visit(&path, &entry.key, walk)?;
            }
            continue;
        }
        let key = ObjectKey::from_stored(entry.key);
        if !walk.wants(key.as_str()) || checked_segments(&key).is_err() {
            continue;
        }
        let modified = match std::fs::symlink_metadata(&path).and_then(|m| m.modified()) {
            Ok(modified) => modified,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        walk.found.push(ListedObject {
            key,
            last_modified: DateTime::<Utc>::from(modified),
        });
    }
    Ok(())
}
