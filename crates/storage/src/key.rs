//! Checks that an object key is safe as a relative path and a URL path.

use picture_domain::ports::{ObjectKey, StoreError};

/// The key's `/`-separated segments, each non-empty, not `.` or `..`, and made of characters
/// that need no escaping in a path.
pub(crate) fn checked_segments(key: &ObjectKey) -> Result<Vec<&str>, StoreError> {
    let segments: Vec<&str> = key.as_str().split('/').collect();
    let valid = segments.iter().all(|segment| {
        !segment.is_empty()
            && *segment != "."
            && *segment != ".."
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
    });
    if valid {
        Ok(segments)
    } else {
        Err(StoreError::Unavailable(format!(
            "refusing unsafe object key {:?}",
            key.as_str()
        )))
    }
}
