//! Picture's load harness. `bench/run` builds the release server and this harness and runs it:
//! a fresh PostgreSQL database is seeded (a 1,000-image and a 100,000-image gallery among other
//! users' images), the server is started against it and against a fake of Replicate, and each
//! scenario is driven over loopback at each concurrency, after a warm-up, several times; the
//! medians and the targets go to a markdown file.

mod bare;
mod database;
mod direct;
mod durable;
mod fake_provider;
mod load;
mod loopback;
mod memory;
mod pinning;
mod report;
mod scenarios;
mod server;
mod sse;

use std::path::PathBuf;

use clap::Parser;

/// Options; the defaults are the documented benchmark.
#[derive(Debug, Parser)]
#[command(name = "picture-bench", about = "Load harness for picture-server")]
struct Options {
    /// The release server binary.
    #[arg(long, default_value = "target/release/picture-server")]
    server: PathBuf,
    /// A PostgreSQL URL with the right to create databases (the harness creates and drops its own).
    #[arg(
        long,
        env = "BENCH_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    database_url: String,
    /// Seconds measured per run.
    #[arg(long, default_value_t = 30)]
    duration: u64,
    /// Seconds of warm-up before the runs of each scenario.
    #[arg(long, default_value_t = 5)]
    warmup: u64,
    /// Runs per scenario (the median is reported).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Concurrencies, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "16,64")]
    connections: Vec<usize>,
    /// Concurrent sync generations whose provider waits 5 s.
    #[arg(long, default_value_t = 1000)]
    waiters: usize,
    /// Sequential sync generations measured for the overhead figure.
    #[arg(long, default_value_t = 200)]
    sync_requests: usize,
    /// Run only the scenarios whose name contains one of these (all when none is given).
    #[arg(long)]
    only: Vec<String>,
    /// Where the markdown report is written.
    #[arg(long, default_value = "bench/results/latest.md")]
    out: PathBuf,
    /// The server's `RUST_LOG` (`info` logs one line per request, as in production).
    #[arg(long, default_value = "info")]
    log_filter: String,
    /// `BATCH_WORKERS` of each instance in the batch queue scenarios.
    #[arg(long, default_value_t = 4)]
    batch_workers: u32,
    /// Event streams held open in the live progress scenario.
    #[arg(long, default_value_t = 10_000)]
    streams: usize,
    /// Streams per user there (each user's streams all receive the user's events).
    #[arg(long, default_value_t = 5)]
    streams_per_user: usize,
    /// Credit grants timed from the request to the event on each of the user's streams.
    #[arg(long, default_value_t = 2_000)]
    grants: usize,
    /// Do not place the server and PostgreSQL on their own cores.
    #[arg(long)]
    no_pin: bool,
    /// Internal: the direct repository calls or the bare handler (started by the harness itself).
    #[command(subcommand)]
    command: Option<Internal>,
}

/// Subcommands the harness starts itself.
#[derive(Debug, clap::Subcommand)]
enum Internal {
    /// The direct repository calls, printing one JSON line per run.
    Direct(direct::DirectArgs),
    /// The bare actix-web handler, printing its port.
    Bare(bare::BareArgs),
}

fn main() -> anyhow::Result<()> {
    let options = Options::parse();
    match &options.command {
        // Placed on the server's cores by the harness, like a one-worker server.
        Some(Internal::Direct(args)) => {
            return tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?
                .block_on(direct::main(args));
        }
        Some(Internal::Bare(args)) => {
            return actix_web::rt::System::new().block_on(bare::main(args));
        }
        None => {}
    }
    let placement = if options.no_pin {
        None
    } else {
        pinning::Placement::split()
    };
    if let Some(placement) = &placement {
        placement.pin_self()?;
        placement.pin_postgres()?;
    }
    let outcome = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async {
            tokio::select! {
                outcome = scenarios::run(&options, placement.clone()) => outcome,
                _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!(
                    "interrupted (the database picture_bench_{} may be left behind)",
                    std::process::id()
                )),
            }
        });
    if let Some(placement) = &placement {
        placement.release_postgres()?;
    }
    let report = outcome?;
    let markdown = report.markdown();
    if let Some(parent) = options.out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&options.out, &markdown)?;
    println!("\n{markdown}\nwritten to {}", options.out.display());
    if report.checks.iter().any(|c| !c.holds) {
        println!("some targets were missed (see the table)");
    }
    Ok(())
}
