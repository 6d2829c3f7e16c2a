//! What every command shares: global flags, the output format, the exit status, error printing
//! and progress bars (shown only on a terminal, never in CI or with `--quiet`).

use std::io::IsTerminal;
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressStyle};

#[derive(clap::Args, Debug)]
pub struct Global {
    /// No progress bars or informational messages.
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

/// How a command prints its report: text for people, JSON that scripts can rely on.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    #[default]
    Text,
    Json,
}

/// The outcome of a command that ran to the end (errors of input or usage are `Err`, exit 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Nothing to report: exit 0.
    Clean,
    /// Lint errors, preflight errors, a failed host: exit 1.
    Findings,
}

impl Status {
    pub fn exit_code(self) -> ExitCode {
        match self {
            Status::Clean => ExitCode::SUCCESS,
            Status::Findings => ExitCode::from(1),
        }
    }

    /// `Findings` when `failed` is true.
    pub fn findings_if(failed: bool) -> Status {
        if failed {
            Status::Findings
        } else {
            Status::Clean
        }
    }
}

/// One line per cause, outermost first: `esxforge: error: …` then `  caused by: …`.
pub fn print_error(err: &anyhow::Error) {
    eprintln!("esxforge: error: {err}");
    for cause in err.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
}

/// A progress bar of `len` steps, or a hidden one when stderr is not a terminal or `--quiet`.
pub fn progress(global: &Global, len: u64, what: &str) -> ProgressBar {
    if global.quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} {elapsed_precise}")
            .expect("static template")
            .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}
