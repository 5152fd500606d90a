//! Keyset positions in a gallery: where the next page starts, whatever the gallery's size.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::ids::ImageId;
use crate::image::Image;

/// The position just after one image in newest-first order (`created_at` desc, then `id` desc).
///
/// Its text form, `<milliseconds since the epoch>_<image id>`, is what clients pass back as
/// `cursor`; they should treat it as opaque.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GalleryCursor {
    /// The creation time of the last image already seen, to the millisecond (as stored).
    pub created_at: DateTime<Utc>,
    /// Its id, which orders images created in the same millisecond.
    pub id: ImageId,
}

impl GalleryCursor {
    /// The position after `image`.
    pub fn after(image: &Image) -> Self {
        Self {
            created_at: image.record.created_at,
            id: image.record.id,
        }
    }
}

/// A cursor that is not one this server hands out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cursor must be a value returned in X-Next-Cursor")]
pub struct InvalidCursor;

impl fmt::Display for GalleryCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}_{}", self.created_at.timestamp_millis(), self.id)
    }
}

impl FromStr for GalleryCursor {
    type Err = InvalidCursor;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let (millis, id) = raw.split_once('_').ok_or(InvalidCursor)?;
        let millis: i64 = millis.parse().map_err(|_| InvalidCursor)?;
        Ok(Self {
            created_at: DateTime::from_timestamp_millis(millis).ok_or(InvalidCursor)?,
            id: id.parse().map_err(|_| InvalidCursor)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_as_itself() {
        let cursor = GalleryCursor {
            created_at: DateTime::from_timestamp_millis(1_764_000_000_123).unwrap(),
            id: ImageId::new_random(),
        };
        assert_eq!(cursor.to_string().parse::<GalleryCursor>(), Ok(cursor));
    }

    #[test]
    fn anything_else_is_refused() {
        for raw in [
            "",
            "_",
            "123",
            "abc_00000000-0000-0000-0000-000000000000",
            "123_not-a-uuid",
            "99999999999999999999_00000000-0000-0000-0000-000000000000",
        ] {
            assert_eq!(raw.parse::<GalleryCursor>(), Err(InvalidCursor), "{raw}");
        }
    }
}
