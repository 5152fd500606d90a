//! The SQLite and PostgreSQL migration trees (`migrations/sqlite`, `migrations/postgres`) must
//! build the same schema: both are applied (SQLite in a temporary file, PostgreSQL in a fresh
//! database; skipped with a reason when PostgreSQL is absent, failed when `CI=true`) and their
//! tables, columns (name, nullability, type) and indexes (name, table, columns, unique, partial;
//! primary keys and `UNIQUE` constraints by table and columns, as their index names differ) are
//! compared. The only differences allowed are the column types listed in [`SAME_TYPE`].
#![expect(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is a failed assertion"
)]

use std::collections::{BTreeMap, BTreeSet};

use diesel::sql_types::{BigInt, Bool, Integer, Text};
use diesel::{Connection, QueryableByName, SqliteConnection};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use picture_persistence::{Database, DatabaseUrl};
use picture_test_support::PgTestDb;

/// The documented type differences: (PostgreSQL's name, SQLite's declared type) of one type.
/// SQLite has no `DOUBLE PRECISION` or `BYTEA`; `REAL` and `BLOB` store the same values.
const SAME_TYPE: [(&str, &str); 2] = [("DOUBLE PRECISION", "REAL"), ("BYTEA", "BLOB")];

/// diesel's record of applied migrations.
const DIESEL_TABLE: &str = "__diesel_schema_migrations";

/// The documented full-text search difference (migration `2026-11-30-000010_explore_search`):
/// PostgreSQL keeps the prompt index as a column and its GIN index, SQLite as an FTS5 table
/// (whose shadow tables are named after it). Left out of the comparison.
const SEARCH_ONLY_IN_POSTGRES: [&str; 2] = ["images.search_vector", "images_search_idx"];
/// See [`SEARCH_ONLY_IN_POSTGRES`]: SQLite's FTS5 table and its shadow tables.
const SEARCH_TABLE_IN_SQLITE: &str = "images_fts";

/// A column: its type (PostgreSQL's spelling) and whether it refuses NULL.
#[derive(Debug, PartialEq, Eq)]
struct Column {
    data_type: String,
    not_null: bool,
}

/// An index as both databases can describe it.
#[derive(Debug, PartialEq, Eq)]
struct Index {
    table: String,
    columns: Vec<String>,
    unique: bool,
    partial: bool,
}

/// What the migrations built.
#[derive(Debug, Default)]
struct Schema {
    /// `table.column` → column.
    columns: BTreeMap<String, Column>,
    /// Indexes created by name (`CREATE INDEX`), by name.
    indexes: BTreeMap<String, Index>,
    /// Primary keys and `UNIQUE` constraints: `table(columns) kind`, as their index names are
    /// each database's own.
    constraints: BTreeSet<String>,
}

/// Writes the type as PostgreSQL spells it (upper case), SQLite's documented synonyms mapped.
fn normalised_type(raw: &str) -> String {
    let upper = raw.trim().to_uppercase();
    SAME_TYPE
        .iter()
        .find(|(_, sqlite)| *sqlite == upper)
        .map_or(upper, |(postgres, _)| (*postgres).to_owned())
}

#[derive(QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Bool)]
    not_null: bool,
}

#[derive(QueryableByName)]
struct IndexRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    index_name: String,
    /// `c` for `CREATE INDEX`, `pk` for a primary key, `u` for a `UNIQUE` constraint.
    #[diesel(sql_type = Text)]
    origin: String,
    #[diesel(sql_type = Bool)]
    is_unique: bool,
    #[diesel(sql_type = Bool)]
    partial: bool,
    #[diesel(sql_type = BigInt)]
    position: i64,
    #[diesel(sql_type = Text)]
    column_name: String,
}

#[derive(QueryableByName)]
struct PrimaryKeyRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Integer)]
    position: i32,
}

impl Schema {
    /// Builds the schema from the catalogue's rows, leaving out diesel's own bookkeeping table
    /// (created by diesel, not by the migration trees).
    fn from_rows(columns: Vec<ColumnRow>, indexes: Vec<IndexRow>) -> Self {
        let ours =
            |table: &str| table != DIESEL_TABLE && !table.starts_with(SEARCH_TABLE_IN_SQLITE);
        let mut schema = Self::default();
        for row in columns.into_iter().filter(|row| {
            ours(&row.table_name)
                && !SEARCH_ONLY_IN_POSTGRES
                    .contains(&format!("{}.{}", row.table_name, row.column_name).as_str())
        }) {
            schema.columns.insert(
                format!("{}.{}", row.table_name, row.column_name),
                Column {
                    data_type: normalised_type(&row.data_type),
                    not_null: row.not_null,
                },
            );
        }
        let mut grouped: BTreeMap<(String, String), Vec<IndexRow>> = BTreeMap::new();
        for row in indexes.into_iter().filter(|row| {
            ours(&row.table_name) && !SEARCH_ONLY_IN_POSTGRES.contains(&row.index_name.as_str())
        }) {
            grouped
                .entry((row.table_name.clone(), row.index_name.clone()))
                .or_default()
                .push(row);
        }
        for ((table, name), mut rows) in grouped {
            rows.sort_by_key(|row| row.position);
            let columns: Vec<String> = rows.iter().map(|row| row.column_name.clone()).collect();
            let first = &rows[0];
            match first.origin.as_str() {
                "c" => {
                    schema.indexes.insert(
                        name,
                        Index {
                            table,
                            columns,
                            unique: first.is_unique,
                            partial: first.partial,
                        },
                    );
                }
                kind => {
                    schema
                        .constraints
                        .insert(format!("{table}({}) {kind}", columns.join(", ")));
                }
            }
        }
        schema
    }

    /// Every difference between `self` (SQLite) and `postgres`, one line each.
    fn differences(&self, postgres: &Self) -> Vec<String> {
        let mut found = Vec::new();
        compare("column", &self.columns, &postgres.columns, &mut found);
        compare("index", &self.indexes, &postgres.indexes, &mut found);
        for only in self.constraints.difference(&postgres.constraints) {
            found.push(format!("constraint {only}: only in SQLite"));
        }
        for only in postgres.constraints.difference(&self.constraints) {
            found.push(format!("constraint {only}: only in PostgreSQL"));
        }
        found
    }
}

fn compare<T: PartialEq + std::fmt::Debug>(
    what: &str,
    sqlite: &BTreeMap<String, T>,
    postgres: &BTreeMap<String, T>,
    found: &mut Vec<String>,
) {
    for (name, in_sqlite) in sqlite {
        match postgres.get(name) {
            None => found.push(format!("{what} {name}: only in SQLite")),
            Some(in_postgres) if in_postgres != in_sqlite => found.push(format!(
                "{what} {name}: SQLite {in_sqlite:?}, PostgreSQL {in_postgres:?}"
            )),
            Some(_) => {}
        }
    }
    for name in postgres.keys().filter(|name| !sqlite.contains_key(*name)) {
        found.push(format!("{what} {name}: only in PostgreSQL"));
    }
}

/// SQLite's schema. A primary-key column counts as NOT NULL, as in PostgreSQL (SQLite lets a
/// non-`INTEGER` primary key hold NULL unless it says NOT NULL; the repositories never write one).
/// A lone `INTEGER PRIMARY KEY` is the rowid, a 64-bit integer (and the only column SQLite lets
/// be `AUTOINCREMENT`): it counts as `BIGINT`, PostgreSQL's `BIGSERIAL`.
fn sqlite_schema(path: &str) -> Schema {
    use diesel::RunQueryDsl;
    let mut conn = SqliteConnection::establish(path).unwrap();
    let columns = diesel::sql_query(
        "SELECT m.name AS table_name, p.name AS column_name,
                CASE WHEN upper(p.type) = 'INTEGER' AND p.pk = 1
                          AND (SELECT count(*) FROM pragma_table_info(m.name) k WHERE k.pk > 0) = 1
                     THEN 'BIGINT' ELSE p.type END AS data_type,
                (p.\"notnull\" OR p.pk > 0) AS not_null
         FROM sqlite_master m, pragma_table_info(m.name) p
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
    )
    .load::<ColumnRow>(&mut conn)
    .unwrap();
    let mut indexes = diesel::sql_query(
        "SELECT m.name AS table_name, il.name AS index_name, il.origin AS origin,
                il.\"unique\" AS is_unique, il.partial AS partial,
                ii.seqno AS position, ii.name AS column_name
         FROM sqlite_master m, pragma_index_list(m.name) il, pragma_index_info(il.name) ii
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
    )
    .load::<IndexRow>(&mut conn)
    .unwrap();
    // An `INTEGER PRIMARY KEY` is the rowid and has no index of its own: add it from the columns.
    let keys = diesel::sql_query(
        "SELECT m.name AS table_name, p.name AS column_name, p.pk AS position
         FROM sqlite_master m, pragma_table_info(m.name) p
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND p.pk > 0
           AND NOT EXISTS (SELECT 1 FROM pragma_index_list(m.name) il WHERE il.origin = 'pk')",
    )
    .load::<PrimaryKeyRow>(&mut conn)
    .unwrap();
    indexes.extend(keys.into_iter().map(|key| IndexRow {
        index_name: format!("{}_rowid", key.table_name),
        table_name: key.table_name,
        origin: "pk".to_owned(),
        is_unique: true,
        partial: false,
        position: i64::from(key.position),
        column_name: key.column_name,
    }));
    Schema::from_rows(columns, indexes)
}

/// PostgreSQL's schema (the `public` schema the migrations write to).
async fn postgres_schema(url: &str) -> Schema {
    use diesel_async::RunQueryDsl;
    let mut conn = AsyncPgConnection::establish(url).await.unwrap();
    let columns = diesel::sql_query(
        "SELECT table_name::text AS table_name, column_name::text AS column_name,
                data_type::text AS data_type, is_nullable = 'NO' AS not_null
         FROM information_schema.columns WHERE table_schema = 'public'",
    )
    .load::<ColumnRow>(&mut conn)
    .await
    .unwrap();
    let indexes = diesel::sql_query(
        "SELECT t.relname::text AS table_name, i.relname::text AS index_name,
                COALESCE((SELECT CASE c.contype WHEN 'p' THEN 'pk' ELSE 'u' END FROM pg_constraint c
                          WHERE c.conindid = ix.indexrelid AND c.contype IN ('p', 'u')), 'c') AS origin,
                ix.indisunique AS is_unique, ix.indpred IS NOT NULL AS partial,
                k.ord - 1 AS position, a.attname::text AS column_name
         FROM pg_index ix
         JOIN pg_class i ON i.oid = ix.indexrelid
         JOIN pg_class t ON t.oid = ix.indrelid
         JOIN pg_namespace n ON n.oid = t.relnamespace
         CROSS JOIN LATERAL unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
         WHERE n.nspname = 'public'",
    )
    .load::<IndexRow>(&mut conn)
    .await
    .unwrap();
    Schema::from_rows(columns, indexes)
}

#[tokio::test]
async fn sqlite_and_postgres_migrations_build_the_same_schema() {
    let Some(pg) = PgTestDb::create().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("drift.db");
    Database::migrate(&DatabaseUrl::sqlite_file(path.clone()))
        .await
        .unwrap();
    Database::migrate(&DatabaseUrl::parse(pg.url()).unwrap())
        .await
        .unwrap();

    let sqlite = sqlite_schema(path.to_str().unwrap());
    let postgres = postgres_schema(pg.url()).await;

    assert!(
        sqlite.columns.len() > 50 && sqlite.indexes.len() > 5,
        "the schema read from SQLite is implausibly small: {sqlite:#?}"
    );
    let differences = sqlite.differences(&postgres);
    assert!(
        differences.is_empty(),
        "the migration trees drifted apart (allowed type differences: {SAME_TYPE:?}):\n{}",
        differences.join("\n")
    );
}
