//! The explore feed's vocabulary: how it is sorted, where a page starts, and what a search asks.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::gallery_cursor::{GalleryCursor, InvalidCursor};
use crate::ids::ImageId;

/// How the explore feed is ordered. Ties are broken by recency (`created_at` desc, then `id`
/// desc), so every order is total and pages never overlap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExploreSort {
    /// Newest first.
    #[default]
    Recent,
    /// Most liked first (all likes).
    Popular,
    /// Most liked within the trending window first, then newest.
    Trending,
}

/// How long a like counts for [`ExploreSort::Trending`].
pub const TRENDING_WINDOW: chrono::TimeDelta = chrono::TimeDelta::days(7);

/// A `sortBy` other than `recent`, `popular` or `trending`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("sortBy must be one of the following values: recent, popular, trending")]
pub struct UnknownSort;

impl FromStr for ExploreSort {
    type Err = UnknownSort;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        match raw {
            "recent" => Ok(Self::Recent),
            "popular" => Ok(Self::Popular),
            "trending" => Ok(Self::Trending),
            _ => Err(UnknownSort),
        }
    }
}

/// The position just after one image of the explore feed: its score (likes, or likes in the
/// trending window; none for [`ExploreSort::Recent`]) and its place in newest-first order.
///
/// Text form: the [`GalleryCursor`] form for `recent`, `<score>_` before it otherwise. Clients
/// should treat it as opaque and pass it back with the same `sortBy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExploreCursor {
    /// The score of the last image seen, for the scored orders.
    pub score: Option<u64>,
    /// Its creation time and id.
    pub position: GalleryCursor,
}

impl ExploreCursor {
    /// Reads `raw` as a cursor of the order `sort`.
    ///
    /// # Errors
    /// [`InvalidCursor`] when `raw` is not a cursor this server hands out for `sort`.
    pub fn parse(raw: &str, sort: ExploreSort) -> Result<Self, InvalidCursor> {
        if sort == ExploreSort::Recent {
            return Ok(Self {
                score: None,
                position: raw.parse()?,
            });
        }
        let (score, rest) = raw.split_once('_').ok_or(InvalidCursor)?;
        let score: u64 = score.parse().map_err(|_| InvalidCursor)?;
        if i64::try_from(score).is_err() {
            return Err(InvalidCursor);
        }
        Ok(Self {
            score: Some(score),
            position: rest.parse()?,
        })
    }

    /// The position after an image created at `created_at` with id `id` and score `score`.
    pub fn after(score: Option<u64>, created_at: DateTime<Utc>, id: ImageId) -> Self {
        Self {
            score,
            position: GalleryCursor { created_at, id },
        }
    }
}

impl fmt::Display for ExploreCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.score {
            Some(score) => write!(f, "{score}_{}", self.position),
            None => write!(f, "{}", self.position),
        }
    }
}

/// The longest search term accepted, in characters.
pub const MAX_SEARCH_CHARS: usize = 200;

/// A search term longer than [`MAX_SEARCH_CHARS`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("searchTerm must be shorter than or equal to 200 characters")]
pub struct SearchTooLong;

/// The words of a search: runs of letters and digits (any script), lower-cased. Everything
/// else (quotes, `*`, `-`, operators' punctuation) separates words, so no word can carry a
/// search engine's syntax; `OR` or `NEAR` are only words. Each word matches prompt words it
/// begins (prefix match); all words must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchTerms {
    words: Vec<String>,
}

impl SearchTerms {
    /// The words of `raw`; `Ok(None)` when it is empty or only whitespace (no search: the whole
    /// feed). A term of punctuation only has no words: it matches nothing.
    ///
    /// # Errors
    /// [`SearchTooLong`] when `raw` has more than [`MAX_SEARCH_CHARS`] characters.
    pub fn parse(raw: &str) -> Result<Option<Self>, SearchTooLong> {
        if raw.chars().count() > MAX_SEARCH_CHARS {
            return Err(SearchTooLong);
        }
        if raw.trim().is_empty() {
            return Ok(None);
        }
        let words = raw
            .split(|c: char| !c.is_alphanumeric())
            .filter(|word| !word.is_empty())
            .map(str::to_lowercase)
            .collect();
        Ok(Some(Self { words }))
    }

    /// The words, lower-cased, each made of letters and digits only; maybe none.
    pub fn words(&self) -> &[String] {
        &self.words
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_are_the_three_names() {
        assert_eq!("recent".parse(), Ok(ExploreSort::Recent));
        assert_eq!("popular".parse(), Ok(ExploreSort::Popular));
        assert_eq!("trending".parse(), Ok(ExploreSort::Trending));
        for raw in ["", "Recent", "likes", "recent "] {
            assert_eq!(raw.parse::<ExploreSort>(), Err(UnknownSort), "{raw}");
        }
    }

    #[test]
    fn cursors_read_back_for_their_own_order_only() {
        let at = DateTime::from_timestamp_millis(1_764_000_000_123).unwrap();
        let id = ImageId::new_random();
        let recent = ExploreCursor::after(None, at, id);
        let popular = ExploreCursor::after(Some(7), at, id);
        assert_eq!(
            ExploreCursor::parse(&recent.to_string(), ExploreSort::Recent),
            Ok(recent)
        );
        assert_eq!(
            ExploreCursor::parse(&popular.to_string(), ExploreSort::Popular),
            Ok(popular)
        );
        assert_eq!(
            ExploreCursor::parse(&popular.to_string(), ExploreSort::Recent),
            Err(InvalidCursor)
        );
        assert!(ExploreCursor::parse(&recent.to_string(), ExploreSort::Trending).is_err());
        let huge = format!("{}_{}", u64::MAX, recent);
        assert_eq!(
            ExploreCursor::parse(&huge, ExploreSort::Popular),
            Err(InvalidCursor)
        );
    }

    #[test]
    fn words_are_letters_and_digits_lower_cased() {
        let terms = SearchTerms::parse("  Sci-Fi \"CAT\"* NEAR(dog) 'x' OR -y 日本語 café  ")
            .unwrap()
            .unwrap();
        assert_eq!(
            terms.words(),
            [
                "sci",
                "fi",
                "cat",
                "near",
                "dog",
                "x",
                "or",
                "y",
                "日本語",
                "café"
            ]
        );
    }

    #[test]
    fn blank_is_no_search_and_punctuation_is_no_words() {
        assert_eq!(SearchTerms::parse(""), Ok(None));
        assert_eq!(SearchTerms::parse(" \t\n"), Ok(None));
        assert_eq!(
            SearchTerms::parse("\"*'-()").unwrap().unwrap().words(),
            [] as [String; 0]
        );
    }

    #[test]
    fn the_length_is_counted_in_characters() {
        assert!(SearchTerms::parse(&"é".repeat(MAX_SEARCH_CHARS)).is_ok());
        assert_eq!(
            SearchTerms::parse(&"a".repeat(MAX_SEARCH_CHARS + 1)),
            Err(SearchTooLong)
        );
    }
}
