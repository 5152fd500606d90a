//! Where the embedded defaults keep their files, and which database holds the rows.

use std::path::PathBuf;

use picture_persistence::DatabaseUrl;
use picture_vars::{InvalidSetting, Source};

picture_vars::declare! {
    /// Where the embedded defaults keep their files: the SQLite database, local images, the
    /// local JWT secret (default `./data`).
    DATA_DIR,
    /// `sqlite://PATH` or `postgres://…` (default: `picture.db` in [`DATA_DIR`]).
    DATABASE_URL,
}

/// Storage locations.
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    /// [`DATA_DIR`].
    pub data_dir: PathBuf,
    /// [`DATABASE_URL`].
    pub url: DatabaseUrl,
}

impl DatabaseSettings {
    /// Reads the group's variables.
    pub(super) fn from_source(source: &Source) -> Result<Self, InvalidSetting> {
        let data_dir = PathBuf::from(source.text_or(DATA_DIR, "./data"));
        let url = match source.text(DATABASE_URL) {
            Some(url) => DatabaseUrl::parse(&url)
                .map_err(|e| InvalidSetting::new(DATABASE_URL, e.to_string()))?,
            None => DatabaseUrl::sqlite_file(data_dir.join("picture.db")),
        };
        Ok(Self { data_dir, url })
    }
}
