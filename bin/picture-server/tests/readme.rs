//! README.md's shell blocks, run as a newcomer runs them, in order, against a fresh server in a
//! temporary directory; what each prints is checked against what the README says it prints.
//!
//! The blocks are read from README.md when the test runs, so the README cannot drift:
//! - a ` ```sh ` block that is one `[VAR=value …] cargo run --release -p picture-server` starts
//!   the server with those variables (stopping the one running, as the README tells the reader);
//! - the block that is `cargo test --workspace` is not run (it is what runs this test);
//! - every other ` ```sh ` block runs in one shell (the reader's second shell: variables and
//!   functions carry over) and must be followed by a ` ```text ` block: what it prints on
//!   standard output, line by line, where `…` stands for any text within a line.
//!
//! Substituted, as it must be: the port (`localhost:3006` in the blocks and their output is the
//! test server's free port), the data directory (the shell and the server run in a temporary
//! directory, so `./data` is a fresh one), `cargo run … -p picture-server [-- ARGS]` (a shell
//! function running this test's build of the binary), and the server listens on 127.0.0.1 with
//! only `PATH` and `HOME` of the environment.
#![expect(
    clippy::unwrap_used,
    reason = "in a test, a failed unwrap is a failed assertion"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

/// The port the README's commands use.
const README_PORT: &str = "localhost:3006";
/// The longest a block may take (a generation waits for its result).
const BLOCK_TIMEOUT: Duration = Duration::from_secs(120);
/// What the shell prints after a block, with the block's exit status.
const END_MARKER: &str = "__README_BLOCK_DONE__";

/// A fenced code block of the README.
#[derive(Debug)]
struct Block {
    info: String,
    text: String,
    /// The README line the block starts on (1-based), for messages.
    line: usize,
}

fn blocks(readme: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<Block> = None;
    for (number, line) in readme.lines().enumerate() {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(info)) => {
                open = Some(Block {
                    info: info.trim().to_owned(),
                    text: String::new(),
                    line: number + 1,
                });
            }
            (Some(_), Some(_)) => blocks.extend(open.take()),
            (Some(block), None) => {
                block.text.push_str(line);
                block.text.push('\n');
            }
            (None, None) => {}
        }
    }
    blocks
}

/// The variables of a server-starting block, or `None` when the block is something else.
fn server_start(block: &str) -> Option<Vec<(String, String)>> {
    let mut commands = block
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'));
    let command = commands.next()?;
    if commands.next().is_some() {
        return None;
    }
    let (variables, rest) = command.split_once("cargo run --release -p picture-server")?;
    if !rest.trim().is_empty() {
        return None;
    }
    variables
        .split_whitespace()
        .map(|pair| {
            pair.split_once('=')
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
        })
        .collect()
}

/// Whether `line` matches `pattern`, where `…` stands for any text.
fn matches(pattern: &str, line: &str) -> bool {
    let parts: Vec<&str> = pattern.split('…').collect();
    let [first, middle @ .., last] = parts.as_slice() else {
        return pattern == line;
    };
    let Some(mut rest) = line.strip_prefix(first) else {
        return false;
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether `GET /ready` answers 200.
fn ready(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let request = b"GET /ready HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    let mut answer = String::new();
    stream.write_all(request).is_ok()
        && stream.read_to_string(&mut answer).is_ok()
        && answer.starts_with("HTTP/1.1 200")
}

/// The server the README's blocks started, stopped (like Ctrl-C) when dropped.
struct Server(Child);

impl Server {
    fn start(dir: &Path, port: u16, variables: &[(String, String)]) -> Self {
        let log_path = dir.join(format!("server-{}.log", variables.len()));
        let log = std::fs::File::create(&log_path).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_picture-server"))
            .current_dir(dir)
            .env_clear()
            .envs(std::env::vars().filter(|(name, _)| name == "PATH" || name == "HOME"))
            .envs(variables.iter().map(|(n, v)| (n.as_str(), v.as_str())))
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let server = Self(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while !ready(port) {
            assert!(
                Instant::now() < deadline,
                "the server never became ready:\n{}",
                std::fs::read_to_string(&log_path).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let interrupted = Command::new("kill")
            .args(["-INT", &self.0.id().to_string()])
            .status()
            .is_ok_and(|status| status.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        while interrupted && Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The reader's second shell: one bash that runs block after block.
struct Shell {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
}

impl Shell {
    fn start(dir: &Path) -> Self {
        let mut child = Command::new("bash")
            .args(["--noprofile", "--norc"])
            .current_dir(dir)
            .env_clear()
            .envs(std::env::vars().filter(|(name, _)| name == "PATH" || name == "HOME"))
            .env("PICTURE_SERVER", env!("CARGO_BIN_EXE_picture-server"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(dir.join("shell-stderr.log")).unwrap())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let mut shell = Self {
            child,
            stdin,
            lines,
        };
        // `cargo run [--release] [-q] -p picture-server [-- ARGS]`: this test's build.
        shell.run(
            r#"cargo() {
                 case " $* " in *" run "*" -p picture-server "*) ;; *) echo "not run by the README test: cargo $*" >&2; return 2;; esac
                 while [ $# -gt 0 ] && [ "$1" != "--" ]; do shift; done
                 [ $# -gt 0 ] && shift
                 "$PICTURE_SERVER" "$@"
               }"#,
        );
        shell
    }

    /// Runs `script` and returns what it printed on standard output and its exit status.
    fn run(&mut self, script: &str) -> (Vec<String>, String) {
        writeln!(self.stdin, "{script}\necho; echo \"{END_MARKER} $?\"").unwrap();
        self.stdin.flush().unwrap();
        let mut printed = Vec::new();
        let deadline = Instant::now() + BLOCK_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .unwrap_or_else(|e| panic!("the block did not finish ({e}): {script}"));
            if let Some(status) = line.strip_prefix(END_MARKER) {
                // The `echo` before the marker ends a last line printed without a newline.
                if printed.last().is_some_and(String::is_empty) {
                    printed.pop();
                }
                return (printed, status.trim().to_owned());
            }
            printed.push(line);
        }
    }
}

impl Drop for Shell {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn readme_shell_blocks_print_what_the_readme_says() {
    let readme_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    let readme = std::fs::read_to_string(&readme_path).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let here = format!("localhost:{port}");
    let mut shell = Shell::start(dir.path());
    let mut server: Option<Server> = None;
    let mut checked = 0;

    let blocks = blocks(&readme);
    let mut iter = blocks.iter().peekable();
    while let Some(block) = iter.next() {
        if block.info != "sh" {
            continue;
        }
        if block.text.trim() == "cargo test --workspace" {
            continue;
        }
        if let Some(variables) = server_start(&block.text) {
            drop(server.take());
            server = Some(Server::start(dir.path(), port, &variables));
            continue;
        }
        let expected = match iter.peek() {
            Some(next) if next.info == "text" => &next.text,
            _ => panic!(
                "README.md line {}: a shell block must be followed by a ```text block of what it \
                 prints:\n{}",
                block.line, block.text
            ),
        };
        assert!(
            server.is_some(),
            "README.md line {}: no server started before this block",
            block.line
        );
        let (printed, status) = shell.run(&block.text.replace(README_PORT, &here));
        let expected: Vec<String> = expected
            .lines()
            .map(|line| line.replace(README_PORT, &here))
            .collect();
        let agree = printed.len() == expected.len()
            && expected.iter().zip(&printed).all(|(e, p)| matches(e, p));
        assert!(
            agree && status == "0",
            "README.md line {}: the block\n{}\nprinted (exit status {status}):\n{}\n\nbut the README \
             says:\n{}\n\nthe shell's standard error so far:\n{}",
            block.line,
            block.text,
            printed.join("\n"),
            expected.join("\n"),
            std::fs::read_to_string(dir.path().join("shell-stderr.log")).unwrap_or_default()
        );
        checked += 1;
    }
    assert!(
        checked >= 5,
        "only {checked} shell blocks were checked: has README.md lost its walkthrough?"
    );
}

#[test]
fn ellipsis_matches_any_text_within_a_line() {
    assert!(matches("abc", "abc"));
    assert!(!matches("abc", "abcd"));
    assert!(matches("a…d", "abcd"));
    assert!(matches("…\"x\":1…", "{\"x\":1,\"y\":2}"));
    assert!(matches("{…}", "{}"));
    assert!(!matches("a…c…e", "abcd"));
    assert!(matches("a…c…e", "abcde"));
    assert!(!matches("ab…ba", "aba"));
}
