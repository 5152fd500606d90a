//! The figures of one harness run and their markdown form.

use std::fmt::Write as _;

use crate::load::Outcome;
use crate::memory::mib;

/// One scenario at one concurrency: the medians of its runs.
pub struct Row {
    /// What was measured.
    pub scenario: String,
    /// Connections (or concurrent callers).
    pub connections: usize,
    /// Median successful answers per second.
    pub rate: f64,
    /// Median p50 latency, ms.
    pub p50: f64,
    /// Median p99 latency, ms.
    pub p99: f64,
    /// Errors over all runs.
    pub errors: u64,
    /// Highest RSS of the server seen during the runs, bytes (0 for calls without a server).
    pub peak_rss: u64,
    /// The first error, if any.
    pub first_error: Option<String>,
}

/// The middle of `values` (the default, zero, when there are none).
pub fn median<T: PartialOrd + Copy + Default>(mut values: Vec<T>) -> T {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    values.get(values.len() / 2).copied().unwrap_or_default()
}

/// The figures of one measured run.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RunFigures {
    /// Successful answers per second.
    pub rate: f64,
    /// p50 latency, ms.
    pub p50: f64,
    /// p99 latency, ms.
    pub p99: f64,
    /// Failures.
    pub errors: u64,
    /// The first failure.
    pub first_error: Option<String>,
}

impl From<Outcome> for RunFigures {
    fn from(outcome: Outcome) -> Self {
        Self {
            rate: outcome.rate(),
            p50: outcome.millis(0.5),
            p99: outcome.millis(0.99),
            errors: outcome.errors,
            first_error: outcome.first_error,
        }
    }
}

impl Row {
    /// The medians of `runs`.
    pub fn from_runs(
        scenario: &str,
        connections: usize,
        runs: Vec<Outcome>,
        peak_rss: u64,
    ) -> Self {
        Self::from_figures(
            scenario,
            connections,
            runs.into_iter().map(RunFigures::from).collect(),
            peak_rss,
        )
    }

    /// The medians of runs already reduced to figures.
    pub fn from_figures(
        scenario: &str,
        connections: usize,
        runs: Vec<RunFigures>,
        peak_rss: u64,
    ) -> Self {
        Self {
            scenario: scenario.to_owned(),
            connections,
            rate: median(runs.iter().map(|r| r.rate).collect()),
            p50: median(runs.iter().map(|r| r.p50).collect()),
            p99: median(runs.iter().map(|r| r.p99).collect()),
            errors: runs.iter().map(|r| r.errors).sum(),
            peak_rss,
            first_error: runs.into_iter().find_map(|r| r.first_error),
        }
    }
}

/// A target of the issue and whether this run met it.
pub struct Check {
    /// The target, in words.
    pub target: String,
    /// What was measured.
    pub measured: String,
    /// Met.
    pub holds: bool,
}

/// Everything one run produced.
#[derive(Default)]
pub struct Report {
    /// Machine and settings, one line each.
    pub machine: Vec<String>,
    /// Throughput scenarios.
    pub rows: Vec<Row>,
    /// Single figures (start-up, memory, sync overhead), as (name, value).
    pub figures: Vec<(String, String)>,
    /// Targets.
    pub checks: Vec<Check>,
}

impl Report {
    /// The row of `scenario` at `connections`.
    pub fn row(&self, scenario: &str, connections: usize) -> Option<&Row> {
        self.rows
            .iter()
            .find(|r| r.scenario == scenario && r.connections == connections)
    }

    /// Adds a single figure.
    pub fn figure(&mut self, name: &str, value: String) {
        println!("{name}: {value}");
        self.figures.push((name.to_owned(), value));
    }

    /// Adds a target check.
    pub fn check(&mut self, target: &str, measured: String, holds: bool) {
        println!(
            "target {} — {target}: {measured}",
            if holds { "met" } else { "MISSED" }
        );
        self.checks.push(Check {
            target: target.to_owned(),
            measured,
            holds,
        });
    }

    /// The report as markdown.
    pub fn markdown(&self) -> String {
        let mut out = String::from("### Machine and settings\n\n");
        for line in &self.machine {
            let _ = writeln!(out, "- {line}");
        }
        out.push_str(
            "\n### Throughput and latency (medians of the runs)\n\n\
             | scenario | conns | req/s | p50 ms | p99 ms | errors | peak RSS MiB |\n\
             |---|---:|---:|---:|---:|---:|---:|\n",
        );
        for row in &self.rows {
            let rss = if row.peak_rss == 0 {
                "–".to_owned()
            } else {
                format!("{:.1}", mib(row.peak_rss))
            };
            let _ = writeln!(
                out,
                "| {} | {} | {:.0} | {:.2} | {:.2} | {} | {} |",
                row.scenario, row.connections, row.rate, row.p50, row.p99, row.errors, rss
            );
        }
        out.push_str("\n### Single figures\n\n| figure | value |\n|---|---|\n");
        for (name, value) in &self.figures {
            let _ = writeln!(out, "| {name} | {value} |");
        }
        out.push_str("\n### Targets\n\n| target | measured | met |\n|---|---|---|\n");
        for check in &self.checks {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                check.target,
                check.measured,
                if check.holds { "yes" } else { "**no**" }
            );
        }
        let errors: Vec<_> = self
            .rows
            .iter()
            .filter_map(|r| r.first_error.as_ref().map(|e| (r, e)))
            .collect();
        if !errors.is_empty() {
            out.push_str("\n### First error of each scenario with errors\n\n");
            for (row, error) in errors {
                let _ = writeln!(
                    out,
                    "- {} ({} conns): {error}",
                    row.scenario, row.connections
                );
            }
        }
        out
    }
}
