//! What the backfill finds: 1,000 images stored without a blurhash, each a real 32×32 PNG in
//! the local store except 5 whose object is missing and 2 whose object is not an image, and
//! one board whose stored thumbnail has none.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use uuid::Uuid;

use crate::database::Connection;

/// Images inserted.
pub const IMAGES: usize = 1_000;
/// Of which: no object in the store.
pub const MISSING: usize = 5;
/// Of which: an object of bytes that are no image.
pub const GARBAGE: usize = 2;
/// Images the backfill can hash.
pub const GOOD_IMAGES: usize = IMAGES - MISSING - GARBAGE;
/// Rows per `INSERT`.
const ROWS_PER_INSERT: usize = 100;

/// The rows written.
pub struct Fixture {
    /// Ids of the images the backfill cannot hash.
    pub bad: BTreeSet<String>,
    /// The blurhash each good image's PNG has, by image id ([`reference_blurhash`]).
    pub expected: BTreeMap<String, String>,
    /// The board's id.
    pub board: String,
    /// The blurhash of the board's thumbnail.
    pub board_expected: String,
}

/// Writes the images' rows (in one transaction) and objects under `files`, and the board.
pub async fn prepare(connection: &mut Connection, files: &Path) -> Fixture {
    let now = 1_764_500_000_000_i64;
    let mut bad = BTreeSet::new();
    let mut expected = BTreeMap::new();
    let mut values = Vec::with_capacity(IMAGES);
    for n in 0..IMAGES {
        let id = Uuid::new_v4().to_string();
        let key = format!("users/u{}/images/{id}.png", n % 10);
        if n < MISSING {
            bad.insert(id.clone());
        } else if n < MISSING + GARBAGE {
            write(files, &key, b"these bytes are no image at all".to_vec());
            bad.insert(id.clone());
        } else {
            let seed = i64::try_from(n).unwrap();
            let png = picture_offline::render_png(&format!("image {n}"), Some(seed), 32, 32);
            let png = png.unwrap();
            expected.insert(id.clone(), reference_blurhash(&png));
            write(files, &key, png);
        }
        values.push(format!(
            "('{id}', 'u{}', 'backfill image {n}', '{key}', '{id}.png', 'png', 32, 32, {now}, {now})",
            n % 10
        ));
    }
    let mut sql = String::from("BEGIN;");
    for chunk in values.chunks(ROWS_PER_INSERT) {
        sql.push_str(
            "INSERT INTO images (id, user_id, prompt, storage_path, filename, format, width, \
             height, created_at, updated_at) VALUES ",
        );
        sql.push_str(&chunk.join(", "));
        sql.push(';');
    }
    sql.push_str("COMMIT;");
    connection.execute(&sql).await;

    let board = Uuid::new_v4().to_string();
    let key = format!("users/u0/boards/{board}/thumbnail.png");
    let png = picture_offline::render_png("board thumbnail", Some(7), 32, 32).unwrap();
    let board_expected = reference_blurhash(&png);
    write(files, &key, png);
    connection
        .execute(&format!(
            "INSERT INTO boards (id, user_id, name, thumbnail_url, thumbnail_key, created_at, \
             updated_at) VALUES ('{board}', 'u0', 'backfill board', \
             'http://localhost/files/{key}', '{key}', {now}, {now})"
        ))
        .await;
    Fixture {
        bad,
        expected,
        board,
        board_expected,
    }
}

/// The 4×3 blurhash of an 8-bit RGB PNG of at most 32×32 pixels, computed here as the renderer
/// is documented to (no resize at that size, every pixel opaque): what the backfill must store
/// for that image, and for no other.
fn reference_blurhash(png: &[u8]) -> String {
    let mut reader = png::Decoder::new(std::io::Cursor::new(png))
        .read_info()
        .unwrap();
    let mut rgb = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut rgb).unwrap();
    assert_eq!(
        (frame.color_type, frame.bit_depth),
        (png::ColorType::Rgb, png::BitDepth::Eight)
    );
    let rgba: Vec<u8> = rgb[..frame.buffer_size()]
        .chunks_exact(3)
        .flat_map(|p| [p[0], p[1], p[2], u8::MAX])
        .collect();
    blurhash::encode(4, 3, frame.width, frame.height, &rgba).unwrap()
}

/// Stores `bytes` as the local store's object `key` under `files`.
fn write(files: &Path, key: &str, bytes: Vec<u8>) {
    let path = files.join(key);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}
