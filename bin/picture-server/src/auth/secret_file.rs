//! The local signing secret of embedded mode: `JWT_SECRET` when configured, otherwise one
//! generated on first use and kept in `DATA_DIR/jwt-secret` (mode 0600), so tokens minted by
//! `picture-server token` stay valid across restarts.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use secrecy::SecretString;

/// File name of the generated secret inside the data directory.
pub const SECRET_FILE: &str = "jwt-secret";

/// The configured secret, or the one in `data_dir` (created when missing). Safe when several
/// processes start at once: the file is created atomically and all of them read the same one.
///
/// # Errors
/// When the data directory or the file cannot be created or read, or the file is too short.
pub fn load_or_create_secret(
    configured: Option<&SecretString>,
    data_dir: &Path,
) -> io::Result<SecretString> {
    if let Some(secret) = configured {
        return Ok(secret.clone());
    }
    fs::create_dir_all(data_dir)?;
    let path = data_dir.join(SECRET_FILE);
    if !path.exists() {
        create_atomically(&path)?;
    }
    let secret = fs::read_to_string(&path)?.trim().to_owned();
    if secret.len() < 32 {
        return Err(io::Error::other(format!(
            "{} holds fewer than 32 characters; delete it to generate a new secret",
            path.display()
        )));
    }
    Ok(SecretString::from(secret))
}

fn create_atomically(path: &Path) -> io::Result<()> {
    let mut bytes = [0u8; 40];
    getrandom::fill(&mut bytes).map_err(|e| io::Error::other(e.to_string()))?;
    let (secret, unique) = bytes.split_at(32);
    let temporary = PathBuf::from(format!("{}.{}.tmp", path.display(), hex::encode(unique)));
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&temporary)?;
    file.write_all(hex::encode(secret).as_bytes())?;
    file.sync_all()?;
    // A hard link never replaces an existing file: if another process won the race, its
    // secret stays and ours is discarded.
    let linked = fs::hard_link(&temporary, path);
    fs::remove_file(&temporary)?;
    match linked {
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn a_generated_secret_is_kept_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create_secret(None, dir.path()).unwrap();
        let second = load_or_create_secret(None, dir.path()).unwrap();
        assert_eq!(first.expose_secret(), second.expose_secret());
        assert_eq!(first.expose_secret().len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join(SECRET_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_configured_secret_wins_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let configured = SecretString::from("c".repeat(40));
        let secret = load_or_create_secret(Some(&configured), dir.path()).unwrap();
        assert_eq!(secret.expose_secret(), configured.expose_secret());
        assert!(!dir.path().join(SECRET_FILE).exists());
    }

    #[test]
    fn concurrent_first_starts_agree_on_one_secret() {
        let dir = tempfile::tempdir().unwrap();
        let secrets: Vec<String> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| load_or_create_secret(None, dir.path()).unwrap()))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap().expose_secret().to_owned())
                .collect()
        });
        assert!(secrets.windows(2).all(|w| w[0] == w[1]));
    }
}
