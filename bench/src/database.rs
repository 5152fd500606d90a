//! The benchmark's own PostgreSQL database: created fresh, seeded in bulk with SQL, dropped
//! at the end.

use anyhow::Context;
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

/// The user whose gallery holds 1,000 images.
pub const SMALL_USER: &str = "bench-gallery-1k";
/// The user whose gallery holds 100,000 images.
pub const LARGE_USER: &str = "bench-gallery-100k";
/// Other users' images seeded around theirs.
const NEIGHBOUR_IMAGES: i64 = 50_000;

#[derive(QueryableByName)]
struct TextValue {
    #[diesel(sql_type = Text)]
    value: String,
}

#[derive(QueryableByName)]
struct Position {
    #[diesel(sql_type = BigInt)]
    created_at: i64,
    #[diesel(sql_type = Text)]
    id: String,
}

/// A database created for one harness run.
pub struct BenchDatabase {
    admin_url: String,
    name: String,
    /// Its URL, for the server and the direct calls.
    pub url: String,
}

fn database_url(admin_url: &str, name: &str) -> String {
    match admin_url.rsplit_once('/') {
        Some((server, _)) if server.contains("://") && !server.ends_with('/') => {
            format!("{server}/{name}")
        }
        _ => format!("{}/{name}", admin_url.trim_end_matches('/')),
    }
}

async fn execute(conn: &mut AsyncPgConnection, sql: &str) -> anyhow::Result<usize> {
    diesel::sql_query(sql)
        .execute(conn)
        .await
        .with_context(|| format!("running {}", sql.lines().next().unwrap_or(sql)))
}

impl BenchDatabase {
    /// Creates `picture_bench_<pid>` on the server of `admin_url` (dropping a leftover one).
    pub async fn create(admin_url: &str) -> anyhow::Result<Self> {
        let name = format!("picture_bench_{}", std::process::id());
        let mut admin = AsyncPgConnection::establish(admin_url)
            .await
            .with_context(|| format!("connecting to PostgreSQL at {admin_url}"))?;
        execute(&mut admin, &format!("DROP DATABASE IF EXISTS {name}")).await?;
        execute(&mut admin, &format!("CREATE DATABASE {name}")).await?;
        Ok(Self {
            url: database_url(admin_url, &name),
            admin_url: admin_url.to_owned(),
            name,
        })
    }

    /// Drops it.
    pub async fn drop_database(self) -> anyhow::Result<()> {
        let mut admin = AsyncPgConnection::establish(&self.admin_url).await?;
        execute(
            &mut admin,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        )
        .await?;
        Ok(())
    }

    async fn connect(&self) -> anyhow::Result<AsyncPgConnection> {
        Ok(AsyncPgConnection::establish(&self.url).await?)
    }

    /// Seeds the two galleries and the neighbours' images (interleaved in time), then
    /// `VACUUM ANALYZE`, as a database that has lived a while would be. Needs the migrations.
    pub async fn seed(&self) -> anyhow::Result<()> {
        let mut conn = self.connect().await?;
        let base = chrono::Utc::now().timestamp_millis() - 200 * 24 * 3_600_000;
        for (user, count, spacing) in [
            (SMALL_USER, 1_000, 17_280_000),
            (LARGE_USER, 100_000, 172_800),
        ] {
            execute(
                &mut conn,
                &images_insert(&format!("'{user}'"), count, base, spacing),
            )
            .await?;
        }
        execute(
            &mut conn,
            &images_insert(
                "'bench-neighbour-' || (g % 50)",
                NEIGHBOUR_IMAGES,
                base,
                345_600,
            ),
        )
        .await?;
        // A generation for every image, as in a database that has lived a while (an empty
        // generations table makes PostgreSQL plan the generation statements as scans). The
        // images are not updated to point at them: that would double the images table's pages.
        execute(&mut conn, &explore_images_insert(base)).await?;
        execute(&mut conn, GENERATIONS_FOR_IMAGES).await?;
        execute(&mut conn, EXPLORE_LIKES).await?;
        execute(&mut conn, "VACUUM ANALYZE").await?;
        Ok(())
    }

    /// Seeds [`BOARD_ITEMS`] items on a new board of [`SMALL_USER`] — 400 of their newest images
    /// and 100 texts, stacked in that order — and returns the ids of the board and of its
    /// topmost image item.
    pub async fn seed_board(&self) -> anyhow::Result<(String, String)> {
        let mut conn = self.connect().await?;
        let board = uuid::Uuid::new_v4().to_string();
        let now = chrono::Utc::now().timestamp_millis();
        execute(
            &mut conn,
            &format!(
                "INSERT INTO boards (id, user_id, name, canvas_width, canvas_height, \
                 background_color, is_public, created_at, updated_at) \
                 VALUES ('{board}', '{SMALL_USER}', 'bench board', 4000, 3000, '#ffffff', FALSE, {now}, {now})"
            ),
        )
        .await?;
        execute(&mut conn, &board_items_insert(&board, now)).await?;
        execute(&mut conn, "ANALYZE boards, board_items").await?;
        let row: TextValue = diesel::sql_query(
            "SELECT id AS value FROM board_items WHERE board_id = $1 AND item_type = 'image' \
             ORDER BY z_index DESC LIMIT 1",
        )
        .bind::<Text, _>(&board)
        .get_result(&mut conn)
        .await?;
        Ok((board, row.value))
    }

    /// The id of `user`'s newest image.
    pub async fn newest_image(&self, user: &str) -> anyhow::Result<String> {
        let mut conn = self.connect().await?;
        let row: TextValue = diesel::sql_query(
            "SELECT id AS value FROM images WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1",
        )
        .bind::<Text, _>(user)
        .get_result(&mut conn)
        .await?;
        Ok(row.value)
    }

    /// The gallery cursor after `user`'s image at `offset` (newest first), as the server
    /// would hand it out.
    pub async fn cursor_at(&self, user: &str, offset: i64) -> anyhow::Result<String> {
        let mut conn = self.connect().await?;
        let row: Position = diesel::sql_query(
            "SELECT created_at, id FROM images WHERE user_id = $1 AND archived_at IS NULL \
             ORDER BY created_at DESC, id DESC OFFSET $2 LIMIT 1",
        )
        .bind::<Text, _>(user)
        .bind::<BigInt, _>(offset)
        .get_result(&mut conn)
        .await?;
        Ok(format!("{}_{}", row.created_at, row.id))
    }

    /// The explore cursor (recent order) after the public image at `offset`, newest first.
    pub async fn explore_cursor_at(&self, offset: i64) -> anyhow::Result<String> {
        let mut conn = self.connect().await?;
        let row: Position = diesel::sql_query(
            "SELECT created_at, id FROM images WHERE is_public AND archived_at IS NULL \
             ORDER BY created_at DESC, id DESC OFFSET $1 LIMIT 1",
        )
        .bind::<BigInt, _>(offset)
        .get_result(&mut conn)
        .await?;
        Ok(format!("{}_{}", row.created_at, row.id))
    }

    /// Median time, over `rounds`, of one durable commit: a one-row `INSERT` in its own
    /// transaction, into a scratch table dropped afterwards.
    pub async fn commit_time(&self, rounds: usize) -> anyhow::Result<std::time::Duration> {
        let mut conn = self.connect().await?;
        execute(&mut conn, "CREATE TABLE commit_probe (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())").await?;
        let mut times = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            let started = std::time::Instant::now();
            execute(&mut conn, "INSERT INTO commit_probe DEFAULT VALUES").await?;
            times.push(started.elapsed());
        }
        execute(&mut conn, "DROP TABLE commit_probe").await?;
        Ok(crate::report::median(times))
    }

    /// `SELECT version()`.
    pub async fn server_version(&self) -> anyhow::Result<String> {
        let mut conn = self.connect().await?;
        let row: TextValue = diesel::sql_query("SELECT version() AS value")
            .get_result(&mut conn)
            .await?;
        Ok(row.value)
    }
}

/// One completed, paid generation per seeded image (same id, same owner, same time).
const GENERATIONS_FOR_IMAGES: &str = "INSERT INTO image_generations (id, user_id, prompt, \
     negative_prompt, model, style, width, height, status, billing, replicate_prediction_id, \
     generation_time_seconds, credits_used, ledger, created_at, updated_at, completed_at) \
     SELECT id, user_id, prompt, negative_prompt, model, style, width, height, 'completed', \
     'paid', 'seeded-' || id, 2, 10, 'local', created_at, created_at, created_at FROM images";

/// Public images of 100 explore users seeded for the explore feed.
pub const EXPLORE_IMAGES: i64 = 100_000;

/// [`EXPLORE_IMAGES`] public images of 100 users over the same 200 days, one statement, with
/// prompts of 5 × 7 × 4 word combinations (so a two-word search matches one in 35).
fn explore_images_insert(base: i64) -> String {
    format!(
        "INSERT INTO images (id, user_id, prompt, negative_prompt, model, style, public_url, \
         storage_path, filename, format, width, height, file_size, is_public, is_favorite, \
         download_count, created_at, updated_at) \
         SELECT gen_random_uuid()::text, 'bench-explore-' || (g % 100), \
         'a ' || (ARRAY['watercolour','oil','ink','pixel','neon'])[1 + g % 5] || ' ' || \
         (ARRAY['fox','owl','whale','tiger','lighthouse','castle','robot'])[1 + g % 7] || \
         ' at ' || (ARRAY['dusk','dawn','night','noon'])[1 + g % 4] || ', explore image ' || g, \
         NULL, 'black-forest-labs/flux-schnell', NULL, \
         'http://127.0.0.1/files/users/explore/' || g || '.png', \
         'users/explore/' || g || '.png', g || '.png', 'png', 1024, 1024, 1048576, \
         TRUE, FALSE, 0, {base}::bigint + g::bigint * 172800, {base}::bigint + g::bigint * 172800 \
         FROM generate_series(1, {EXPLORE_IMAGES}) AS g"
    )
}

/// 50,000 likes by 100 users on random explore images (each image at most once), spread over
/// the last 30 days, for the like counts and the popular and trending orders.
const EXPLORE_LIKES: &str = "INSERT INTO image_likes (id, image_id, user_id, created_at) \
     SELECT gen_random_uuid()::text, id, 'bench-liker-' || (n % 100), \
     (extract(epoch FROM now()) * 1000)::bigint - (n % 30) * 86400000 \
     FROM (SELECT id, row_number() OVER () AS n FROM \
           (SELECT id FROM images WHERE user_id LIKE 'bench-explore-%' ORDER BY random() LIMIT 50000) AS picked) AS numbered";

/// Items seeded on the benchmark's board: the most a board may hold.
pub const BOARD_ITEMS: i64 = 500;

/// [`BOARD_ITEMS`] items on `board`: the first 400 show [`SMALL_USER`]'s newest images, the
/// rest are texts with properties, laid out on a grid, z-indexes 0 to 499.
fn board_items_insert(board: &str, now: i64) -> String {
    format!(
        "INSERT INTO board_items (id, board_id, image_id, item_type, position_x, position_y, \
         scale_x, scale_y, rotation, z_index, opacity, text_content, font_size, color, \
         properties, created_at) \
         SELECT gen_random_uuid()::text, '{board}', CASE WHEN n <= 400 THEN id END, \
         CASE WHEN n <= 400 THEN 'image' ELSE 'text' END, (n % 40) * 100, (n / 40) * 100, \
         1, 1, 0, n - 1, 1, CASE WHEN n > 400 THEN 'note ' || n END, \
         CASE WHEN n > 400 THEN 24 END, CASE WHEN n > 400 THEN '#000000' END, \
         CASE WHEN n > 400 THEN '{{\"fontFamily\":\"Arial\",\"textAlign\":\"left\"}}' END, {now} \
         FROM (SELECT id, row_number() OVER (ORDER BY created_at DESC, id DESC) AS n \
               FROM images WHERE user_id = '{SMALL_USER}' ORDER BY created_at DESC, id DESC \
               LIMIT {BOARD_ITEMS}) AS newest"
    )
}

/// `count` images of `owner` (an SQL expression of `g`), `spacing` ms apart from `base`.
fn images_insert(owner: &str, count: i64, base: i64, spacing: i64) -> String {
    format!(
        "INSERT INTO images (id, user_id, prompt, negative_prompt, model, style, public_url, \
         storage_path, filename, format, width, height, file_size, is_public, is_favorite, \
         download_count, created_at, updated_at) \
         SELECT gen_random_uuid()::text, {owner}, \
         'a watercolour fox in a snowy forest, seeded image ' || g, 'blurry, low quality', \
         'black-forest-labs/flux-schnell', 'watercolor', \
         'http://127.0.0.1/files/users/seeded/' || g || '.png', \
         'users/seeded/' || g || '.png', g || '.png', 'png', 1024, 1024, 1048576, \
         g % 10 = 0, g % 7 = 0, g % 5, {base}::bigint + g::bigint * {spacing}, {base}::bigint + g::bigint * {spacing} \
         FROM generate_series(1, {count}) AS g"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_name_replaces_the_admin_urls() {
        assert_eq!(
            database_url("postgres://postgres@127.0.0.1:5432/postgres", "b"),
            "postgres://postgres@127.0.0.1:5432/b"
        );
        assert_eq!(
            database_url("postgres://postgres@127.0.0.1:5432", "b"),
            "postgres://postgres@127.0.0.1:5432/b"
        );
    }
}
