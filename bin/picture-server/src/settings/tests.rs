use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use picture_domain::Enforcement;

use super::*;

fn load(vars: &[(&str, &str)]) -> Result<Settings, SettingsError> {
    let env = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned()));
    Settings::from_raw(RawSettings::load(None, env)?)
}

#[test]
fn defaults_serve_the_embedded_setup() {
    let s = load(&[("PATH", "/usr/bin"), ("HOME", "/root")]).unwrap();
    assert_eq!((s.http.host.as_str(), s.http.port), ("0.0.0.0", 3006));
    assert_eq!(s.environment, AppEnvironment::Development);
    assert_eq!(s.database.data_dir, PathBuf::from("./data"));
    assert_eq!(
        s.database.url.sqlite_path(),
        Some(PathBuf::from("./data/picture.db"))
    );
    assert_eq!(s.http.public_base_url, "http://localhost:3006");
    assert!(matches!(s.auth.mode, AuthMode::Local { secret: None }));
    assert_eq!(s.auth.audience, "manacore");
    assert_eq!(s.credits.freemium.enforcement(), Enforcement::Off);
    assert_eq!(s.credits.freemium.free_generations(), 3);
    assert_eq!(s.credits.freemium.credits_per_generation().get(), 10);
    assert_eq!(s.log.format, LogFormat::Pretty);
    assert_eq!(s.credits.app_id, "picture-app");
    assert_eq!(s.http.cors_origins.len(), DEFAULT_CORS_ORIGINS.len());
    assert!(s.replicate().is_none());
    assert_eq!(
        s.generation.idempotency_key_ttl,
        Duration::from_secs(86_400)
    );
}

#[test]
fn the_original_variable_names_work_unchanged() {
    let s = load(&[
        ("PORT", "4000"),
        ("NODE_ENV", "staging"),
        ("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/picture"),
        ("REPLICATE_API_TOKEN", "r8_secret"),
        ("MANA_CORE_AUTH_URL", "https://auth.example.com/"),
        ("MANA_CORE_SERVICE_KEY", "svc"),
        ("APP_ID", "picture-web"),
        ("CORS_ORIGINS", "https://a.example, https://b.example ,"),
    ])
    .unwrap();
    assert_eq!(s.http.port, 4000);
    assert_eq!(s.environment, AppEnvironment::Staging);
    assert_eq!(s.credits.freemium.enforcement(), Enforcement::Enforce);
    assert_eq!(s.log.format, LogFormat::Json);
    assert!(s.replicate().is_some());
    assert_eq!(s.credits.app_id, "picture-web");
    assert_eq!(
        s.http.cors_origins,
        ["https://a.example", "https://b.example"]
    );
    match s.auth.mode {
        AuthMode::Jwks { auth_url, issuers } => {
            assert_eq!(auth_url, "https://auth.example.com");
            assert_eq!(issuers, ["https://auth.example.com"]);
        }
        AuthMode::Local { .. } => panic!("expected JWKS mode"),
    }
}

#[test]
fn app_env_wins_over_node_env_and_enforcement_can_be_overridden() {
    let s = load(&[
        ("APP_ENV", "production"),
        ("NODE_ENV", "development"),
        ("CREDITS_ENFORCEMENT", "off"),
        ("FREE_GENERATIONS", "5"),
        ("CREDITS_PER_GENERATION", "7"),
    ])
    .unwrap();
    assert_eq!(s.environment, AppEnvironment::Production);
    assert_eq!(s.credits.freemium.enforcement(), Enforcement::Off);
    assert_eq!(s.credits.freemium.free_generations(), 5);
    assert_eq!(s.credits.freemium.credits_per_generation().get(), 7);
}

#[test]
fn an_invalid_value_names_its_variable() {
    let cases = [
        (
            "PORT",
            "http",
            "invalid setting PORT: expected a port number (0-65535), got \"http\"",
        ),
        ("APP_ENV", "prod", "invalid setting APP_ENV"),
        ("DATABASE_URL", "mysql://x", "invalid setting DATABASE_URL"),
        (
            "CREDITS_ENFORCEMENT",
            "sometimes",
            "invalid setting CREDITS_ENFORCEMENT",
        ),
        (
            "CREDITS_PER_GENERATION",
            "-1",
            "invalid setting CREDITS_PER_GENERATION",
        ),
        (
            "FREE_GENERATIONS",
            "three",
            "invalid setting FREE_GENERATIONS",
        ),
        ("LOG_FORMAT", "xml", "invalid setting LOG_FORMAT"),
        (
            "PUBLIC_BASE_URL",
            "example.com",
            "invalid setting PUBLIC_BASE_URL",
        ),
        (
            "MANA_CORE_AUTH_URL",
            "auth",
            "invalid setting MANA_CORE_AUTH_URL",
        ),
        ("HTTP_WORKERS", "0", "invalid setting HTTP_WORKERS"),
        (
            "IDEMPOTENCY_KEY_TTL_SECS",
            "0",
            "invalid setting IDEMPOTENCY_KEY_TTL_SECS: must be at least 1 second",
        ),
    ];
    for (variable, value, expected) in cases {
        let error = load(&[(variable, value)]).unwrap_err().to_string();
        assert!(error.starts_with(expected), "{variable}: {error}");
        assert!(!error.contains('\n'));
    }
}

#[test]
fn a_short_secret_is_refused_without_printing_it() {
    let error = load(&[("JWT_SECRET", "tooshort-hunter2")])
        .unwrap_err()
        .to_string();
    assert!(error.contains("JWT_SECRET"));
    assert!(!error.contains("hunter2"));
}

#[test]
fn empty_values_mean_the_default() {
    let s = load(&[("PORT", ""), ("DATABASE_URL", " ")]).unwrap();
    assert_eq!(s.http.port, 3006);
}

#[test]
fn secrets_never_appear_in_debug_output() {
    let s = load(&[
        ("JWT_SECRET", "0123456789abcdef0123456789abcdef-hunter2"),
        ("REPLICATE_API_TOKEN", "r8_hunter2"),
        ("MANA_CORE_SERVICE_KEY", "svc-hunter2"),
        ("DATABASE_URL", "postgres://u:hunter2@h/db"),
    ])
    .unwrap();
    assert!(!format!("{s:?}").contains("hunter2"));
}

#[test]
fn the_environment_overrides_the_file_and_unknown_file_keys_are_refused() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(
        file,
        "port = 5000\nhost = \"127.0.0.1\"\nfree_generations = 1"
    )
    .unwrap();
    let env = [("PORT".to_owned(), "6000".to_owned())].into_iter();
    let s = Settings::from_raw(RawSettings::load(Some(file.path()), env).unwrap()).unwrap();
    assert_eq!(s.http.port, 6000);
    assert_eq!(s.http.host, "127.0.0.1");
    assert_eq!(s.credits.freemium.free_generations(), 1);

    let mut bad = tempfile::NamedTempFile::new().unwrap();
    writeln!(bad, "prot = 5000").unwrap();
    let error = RawSettings::load(Some(bad.path()), std::iter::empty())
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("prot"), "{error}");
}

#[test]
fn the_remote_credits_service_needs_a_service_key_and_falls_back_to_the_auth_url() {
    let local = load(&[("MANA_CORE_AUTH_URL", "https://auth.example.com")]).unwrap();
    assert!(local.credits.service.is_none(), "no key: the local ledger");
    let from_auth = load(&[
        ("MANA_CORE_AUTH_URL", "https://auth.example.com/"),
        ("MANA_CORE_SERVICE_KEY", "svc"),
    ])
    .unwrap();
    let config = from_auth.credits.service.unwrap();
    assert_eq!(config.base_url, "https://auth.example.com");
    assert_eq!(config.app_id, "picture-app");
    let own = load(&[
        ("MANA_CORE_AUTH_URL", "https://auth.example.com"),
        ("MANA_CREDITS_URL", "https://credits.example.com"),
        ("MANA_CORE_SERVICE_KEY", "svc"),
    ])
    .unwrap();
    assert_eq!(
        own.credits.service.unwrap().base_url,
        "https://credits.example.com"
    );
    let keyless = load(&[("MANA_CREDITS_URL", "https://credits.example.com")]);
    assert!(matches!(
        keyless,
        Err(SettingsError::Invalid { variable, .. }) if variable == "MANA_CORE_SERVICE_KEY"
    ));
    assert!(
        load(&[
            ("MANA_CREDITS_URL", "ftp://x"),
            ("MANA_CORE_SERVICE_KEY", "k")
        ])
        .is_err()
    );
}

#[test]
fn fail_open_and_the_admin_key_are_read() {
    let defaults = load(&[]).unwrap();
    assert!(!defaults.credits.fail_open);
    assert!(defaults.auth.admin_service_key.is_none());
    let set = load(&[
        ("CREDITS_FAIL_OPEN", "true"),
        ("ADMIN_SERVICE_KEY", "admin-secret-value"),
        ("MANA_CORE_SERVICE_KEY", "service-secret-value"),
        ("MANA_CORE_AUTH_URL", "https://auth.example.com"),
    ])
    .unwrap();
    assert!(set.credits.fail_open);
    let debug = format!("{set:?}");
    assert!(!debug.contains("admin-secret-value"), "{debug}");
    assert!(!debug.contains("service-secret-value"), "{debug}");
    assert!(load(&[("CREDITS_FAIL_OPEN", "sometimes")]).is_err());
}

#[test]
fn replicate_webhook_progress_is_read_and_checked() {
    let default = load(&[("REPLICATE_API_TOKEN", "r8_secret")]).unwrap();
    assert_eq!(
        default.replicate().unwrap().webhook_progress,
        ReplicateConfig::DEFAULT_WEBHOOK_PROGRESS
    );
    for (value, expected) in [("true", true), ("false", false)] {
        let s = load(&[
            ("REPLICATE_API_TOKEN", "r8_secret"),
            ("REPLICATE_WEBHOOK_PROGRESS", value),
        ])
        .unwrap();
        assert_eq!(s.replicate().unwrap().webhook_progress, expected);
    }
    let error = load(&[("REPLICATE_WEBHOOK_PROGRESS", "sometimes")])
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("invalid setting REPLICATE_WEBHOOK_PROGRESS"),
        "{error}"
    );
}

#[test]
fn the_orphan_sweep_defaults_and_a_grace_shorter_than_two_leases_is_refused() {
    let s = load(&[]).unwrap();
    assert_eq!(
        s.orphan_sweep,
        OrphanSweepTiming {
            interval: Duration::from_secs(300),
            grace: Duration::from_secs(600),
        }
    );
    let s = load(&[
        ("ORPHAN_SWEEP_INTERVAL_SECS", "1"),
        ("ORPHAN_SWEEP_GRACE_SECS", "30"),
    ])
    .unwrap();
    assert_eq!(s.orphan_sweep.interval, Duration::from_secs(1));
    assert_eq!(
        s.orphan_sweep.grace,
        s.generation.finalize_lease * MIN_ORPHAN_SWEEP_GRACE_LEASES
    );
    let s = load(&[
        ("FINALIZE_LEASE_SECS", "3"),
        ("ORPHAN_SWEEP_GRACE_SECS", "6"),
    ])
    .unwrap();
    assert_eq!(s.orphan_sweep.grace, Duration::from_secs(6));
    for (variable, value) in [
        ("ORPHAN_SWEEP_GRACE_SECS", "29"),
        ("ORPHAN_SWEEP_INTERVAL_SECS", "0"),
        ("ORPHAN_SWEEP_GRACE_SECS", "soon"),
    ] {
        match load(&[(variable, value)]) {
            Err(SettingsError::Invalid {
                variable: named, ..
            }) => assert_eq!(named, variable),
            other => panic!("{variable}={value}: {other:?}"),
        }
    }
}

#[test]
fn crash_recovery_is_bounded_in_seconds_and_never_fails_a_live_submit() {
    let s = load(&[]).unwrap();
    assert_eq!(s.generation.pending_timeout, Duration::from_secs(60));
    assert_eq!(s.generation.finalize_lease, Duration::from_secs(15));
    let s = load(&[
        ("GENERATION_PENDING_TIMEOUT_SECS", "41"),
        ("FINALIZE_LEASE_SECS", "3"),
    ])
    .unwrap();
    assert_eq!(s.generation.pending_timeout, Duration::from_secs(41));
    assert_eq!(s.generation.finalize_lease, Duration::from_secs(3));
    // Replicate may take 30 s for a create plus 10 s of `Prefer: wait`.
    let refused = load(&[("GENERATION_PENDING_TIMEOUT_SECS", "40")]).unwrap_err();
    assert!(
        matches!(&refused, SettingsError::Invalid { variable: "GENERATION_PENDING_TIMEOUT_SECS", reason } if reason.contains("40 s")),
        "{refused}"
    );
    let refused = load(&[("FINALIZE_LEASE_SECS", "2")]).unwrap_err();
    assert!(
        matches!(
            refused,
            SettingsError::Invalid {
                variable: "FINALIZE_LEASE_SECS",
                ..
            }
        ),
        "{refused}"
    );
}

/// The variable names in the first column of README.md's configuration table.
fn readme_variables() -> Vec<String> {
    let readme = include_str!("../../../../README.md");
    let table = readme
        .split("\n## Configuration")
        .nth(1)
        .and_then(|section| section.split("\n## ").next())
        .unwrap_or_default();
    table
        .lines()
        .filter_map(|line| line.strip_prefix("| "))
        .filter_map(|row| row.split(" | ").next())
        .flat_map(|cell| cell.split('`').skip(1).step_by(2))
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_variable_in_the_readme_is_known() {
    let names = readme_variables();
    assert!(names.len() >= 50, "the table was not found: {names:?}");
    for name in names {
        assert!(
            is_known(&name),
            "{name} is in README.md but no group declares it"
        );
    }
}

#[test]
fn the_known_variables_are_declared_once_each() {
    let mut names: Vec<&str> = variables().map(Var::name).collect();
    let count = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), count, "a variable is declared twice");
}

#[test]
fn a_test_that_sets_an_unknown_variable_is_refused() {
    let mut raw = RawSettings::default();
    raw.set("PROT", "5000");
    let error = Settings::from_raw(raw).unwrap_err().to_string();
    assert!(error.contains("PROT"), "{error}");
}

#[test]
fn set_and_unset_override_what_was_loaded() {
    let env = [("PORT".to_owned(), "6000".to_owned())].into_iter();
    let mut raw = RawSettings::load(None, env).unwrap();
    raw.set("HOST", "127.0.0.1").unset("PORT");
    let s = Settings::from_raw(raw).unwrap();
    assert_eq!((s.http.host.as_str(), s.http.port), ("127.0.0.1", 3006));
}

#[test]
fn openai_models_are_read_and_may_not_take_a_seeded_models_name() {
    let s = load(&[
        ("OPENAI_IMAGES_BASE_URL", "http://localai:8080"),
        ("OPENAI_IMAGES_MODELS", "gpt-image-1, dall-e-3"),
        ("OPENAI_IMAGES_API_KEY", "sk-secret-key"),
    ])
    .unwrap();
    let openai = s.openai.as_ref().unwrap();
    assert_eq!(openai.models, ["gpt-image-1", "dall-e-3"]);
    assert!(!format!("{s:?}").contains("sk-secret-key"));
    let taken = load(&[
        ("OPENAI_IMAGES_BASE_URL", "http://localai:8080"),
        ("OPENAI_IMAGES_MODELS", "flux-schnell"),
    ])
    .unwrap_err()
    .to_string();
    assert!(taken.contains("OPENAI_IMAGES_MODELS"), "{taken}");
    assert!(taken.contains("seeded model"), "{taken}");
}
