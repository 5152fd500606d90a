//! The `picture-server` binary: parse the command line, load the settings, start logging, run.

use std::process::ExitCode;

use clap::Parser;
use picture_server::Settings;
use picture_server::cli::{self, Cli, Command};

/// jemalloc instead of glibc's malloc, which took about a sixth of the server's CPU on the
/// gallery under load (see bench/README.md).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let args = Cli::parse();
    let settings = match Settings::load(args.config.as_deref()) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(2);
        }
    };
    let _logs = match picture_server::telemetry::init(&settings.log) {
        Ok(guard) => guard,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(2);
        }
    };
    match cli::run(args.command.unwrap_or(Command::Serve), settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
