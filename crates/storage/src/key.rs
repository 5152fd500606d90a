//! Checks that an object key is safe as a relative path and a URL path.

use picture_domain::ports::{ObjectKey, StoreError};

/// Longest key accepted, in bytes (S3's limit).
pub(crate) const MAX_KEY_LEN: usize = 1024;

/// Longest segment accepted, in bytes (the usual file-name limit).
pub(crate) const MAX_SEGMENT_LEN: usize = 255;

/// The key's `/`-separated segments, each non-empty, not `.` or `..`, at most
/// [`MAX_SEGMENT_LEN`] bytes, and made of characters that need no escaping in a path; the key at
/// most [`MAX_KEY_LEN`] bytes. Every key `ObjectKey::for_image` builds passes, whatever the user.
pub(crate) fn checked_segments(key: &ObjectKey) -> Result<Vec<&str>, StoreError> {
    let segments: Vec<&str> = key.as_str().split('/').collect();
    let valid = key.as_str().len() <= MAX_KEY_LEN
        && segments.iter().all(|segment| {
            !segment.is_empty()
                && segment.len() <= MAX_SEGMENT_LEN
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

#[cfg(test)]
mod tests {
    use picture_domain::{ImageId, UserId};
    use proptest::prelude::*;

    use super::*;
    use crate::ImageFormat;

    #[test]
    fn overlong_segments_and_keys_are_refused() {
        let long_segment = format!("users/{}.png", "a".repeat(MAX_SEGMENT_LEN + 1));
        assert!(checked_segments(&ObjectKey::from_stored(long_segment)).is_err());
        let deep = format!("{}x.png", "ab/".repeat(400));
        assert!(checked_segments(&ObjectKey::from_stored(deep)).is_err());
        let longest = format!("users/{}.png", "a".repeat(MAX_SEGMENT_LEN - 4));
        assert!(checked_segments(&ObjectKey::from_stored(longest)).is_ok());
    }

    #[test]
    fn image_keys_of_unusual_subjects_are_accepted() {
        let long = "🙂".repeat(255);
        for subject in [
            "auth0|abc:def",
            "google-oauth2|1234",
            "ユーザー名",
            "🙂",
            "a%2Fb",
            "a\\b",
            "{x}",
            "..",
            ".",
            "a/../../b",
            "bidi\u{202e}x",
            long.as_str(),
        ] {
            let user = UserId::parse(subject).unwrap();
            for format in [ImageFormat::Png, ImageFormat::Jpeg, ImageFormat::Webp] {
                let key = ObjectKey::for_image(&user, ImageId::new_random(), format.extension());
                assert!(checked_segments(&key).is_ok(), "{subject:?}: {key:?}");
            }
        }
    }

    proptest! {
        #[test]
        fn image_keys_of_any_valid_user_id_are_accepted(subject in "\\PC{1,255}") {
            if let Ok(user) = UserId::parse(subject) {
                let key = ObjectKey::for_image(&user, ImageId::new_random(), "png");
                prop_assert!(checked_segments(&key).is_ok(), "{:?}", key);
            }
        }
    }
}
