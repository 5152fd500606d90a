//! The user's segment in object keys, safe for any token subject.

use std::borrow::Cow;
use std::fmt::Write as _;

use sha2::{Digest, Sha256};

use crate::ids::UserId;

/// Longest subject kept as it is in a key, in bytes.
pub const MAX_PLAIN_SEGMENT_LEN: usize = 64;

/// The first character of every hashed segment. No plain segment contains it.
pub const HASHED_SEGMENT_PREFIX: char = '~';

/// The segment that stands for `user` in `users/{segment}/images/…`.
///
/// - A **plain** subject is kept as it is (the keys Picture always wrote): 1 to
///   [`MAX_PLAIN_SEGMENT_LEN`] bytes of `A`–`Z`, `a`–`z`, `0`–`9`, `_` and `-`, plus `.` anywhere
///   but first or last (so never `.`, `..` or a hidden name).
/// - **Any other** subject (`auth0|abc:def`, `ユーザー名`, `..`, a 255-character id…) becomes
///   `~` followed by the 64 lowercase hexadecimal digits of the SHA-256 of its UTF-8 bytes.
///
/// Every segment is therefore 1 to 65 bytes of `[A-Za-z0-9._~-]`, which every store accepts
/// and no URL needs to escape; two subjects never share a segment (plain segments differ by
/// their text, hashed ones by SHA-256, and a plain one never contains `~`).
pub fn user_segment(user: &UserId) -> Cow<'_, str> {
    let subject = user.as_str();
    if is_plain(subject) {
        return Cow::Borrowed(subject);
    }
    let digest = Sha256::digest(subject.as_bytes());
    let mut segment = String::with_capacity(1 + 2 * digest.len());
    segment.push(HASHED_SEGMENT_PREFIX);
    for byte in digest {
        // Writing to a String cannot fail.
        let _ = write!(segment, "{byte:02x}");
    }
    Cow::Owned(segment)
}

/// Whether `subject` is kept as it is (see [`user_segment`]).
fn is_plain(subject: &str) -> bool {
    let bytes = subject.as_bytes();
    let allowed = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.');
    (1..=MAX_PLAIN_SEGMENT_LEN).contains(&bytes.len())
        && bytes.iter().all(allowed)
        && bytes.first() != Some(&b'.')
        && bytes.last() != Some(&b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(subject: &str) -> String {
        user_segment(&UserId::parse(subject).unwrap()).into_owned()
    }

    #[test]
    fn plain_subjects_keep_their_segment() {
        for subject in [
            "alice",
            "user-1",
            "Xk3v9QbT1mN0pLr7sYw2ZcA5dE8fGh4J",
            "a.b_c-d",
            "a..b",
            "6f0c2b8e-3a1d-4c5e-9f7a-0b1c2d3e4f50",
            &"x".repeat(MAX_PLAIN_SEGMENT_LEN),
        ] {
            assert_eq!(segment(subject), subject);
        }
    }

    #[test]
    fn other_subjects_are_hashed_behind_the_prefix() {
        let long = "x".repeat(MAX_PLAIN_SEGMENT_LEN + 1);
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
            ".hidden",
            "trailing.",
            "~tilde",
            "a/b",
            "bidi\u{202e}",
            long.as_str(),
        ] {
            let hashed = segment(subject);
            assert_eq!(hashed.len(), 65, "{subject:?}");
            assert!(hashed.starts_with('~'), "{subject:?}");
            assert!(
                hashed[1..]
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
                "{subject:?}: {hashed}"
            );
        }
        // SHA-256("auth0|abc:def"), as `printf '%s' 'auth0|abc:def' | sha256sum` prints it.
        assert_eq!(
            segment("auth0|abc:def"),
            "~8329dc51c510468a6dc8b47763cdd3d950621ce330f4c6877ad14eaf491103de"
        );
    }

    #[test]
    fn distinct_subjects_get_distinct_segments() {
        let subjects = [
            "a", "A", "a.b", "a|b", "a:b", "..", ".", "~a", "ä", "a\\b", "a/b",
        ];
        let segments: std::collections::HashSet<String> =
            subjects.iter().map(|s| segment(s)).collect();
        assert_eq!(segments.len(), subjects.len());
    }
}

#[cfg(test)]
mod image_key_tests {
    use crate::ids::{ImageId, UserId};
    use crate::ports::ObjectKey;

    #[test]
    fn image_keys_of_plain_users_are_the_keys_picture_always_wrote() {
        let image = ImageId::new_random();
        for subject in ["alice", "user-1", "Xk3v9QbT1mN0pLr7sYw2ZcA5dE8fGh4J"] {
            let key = ObjectKey::for_image(&UserId::parse(subject).unwrap(), image, "png");
            assert_eq!(key.as_str(), format!("users/{subject}/images/{image}.png"));
        }
        let odd = ObjectKey::for_image(&UserId::parse("auth0|abc:def").unwrap(), image, "webp");
        assert_eq!(
            odd.as_str(),
            format!(
                "users/~8329dc51c510468a6dc8b47763cdd3d950621ce330f4c6877ad14eaf491103de/images/{image}.webp"
            )
        );
    }
}
