//! `esxforge inventory`, and the one way every other command loads an inventory.

use std::fmt;
use std::path::{Path, PathBuf};

use clap::Subcommand;
use esxforge_kickstart::inventory::{Inventory, LoadError, Options, Problem, Severity};
use serde::Serialize;

use crate::report::{Format, Global, Status};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate an inventory and print every problem.
    Check(CheckArgs),
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Status> {
    match args.command {
        Command::Check(args) => check(args, global),
    }
}

/// Load an inventory a command needs whole (`ks render`, `ks serve`, `host …`, `preflight …`):
/// when it has errors, each is printed on stderr as `inventory check` prints it, and the command
/// fails with exit 2.
pub fn load(path: &Path, options: &Options) -> anyhow::Result<Inventory> {
    match Inventory::load_with(path, options) {
        Ok(inventory) => Ok(inventory),
        Err(LoadError::Invalid { path, problems }) => {
            for p in problems.iter().filter(|p| p.severity == Severity::Error) {
                eprintln!("{}", Located(&path, p));
            }
            let file = path.display();
            anyhow::bail!(
                "{file}: the inventory has errors (listed above; `esxforge inventory check {file}` shows warnings too)"
            )
        }
        Err(e) => Err(e.into()),
    }
}

/// A problem with its place: `file:line: path: message` (`file: …` when it has no line).
struct Located<'a>(&'a Path, &'a Problem);

impl fmt::Display for Located<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Located(file, problem) = self;
        match problem.line {
            Some(line) => write!(f, "{}:{line}: {problem}", file.display()),
            None => write!(f, "{}: {problem}", file.display()),
        }
    }
}

// ---- inventory check

#[derive(clap::Args)]
struct CheckArgs {
    /// The inventory file.
    inventory: PathBuf,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// The JSON report of `inventory check`.
#[derive(Serialize)]
struct CheckReport<'a> {
    file: &'a std::path::Path,
    hosts: usize,
    errors: usize,
    warnings: usize,
    problems: &'a [Problem],
}

fn check(args: CheckArgs, global: &Global) -> anyhow::Result<Status> {
    let report = Inventory::check(&args.inventory)?;
    let errors = report.errors().count();
    let out = CheckReport {
        file: &args.inventory,
        hosts: report.inventory.hosts.len(),
        errors,
        warnings: report.problems.len() - errors,
        problems: &report.problems,
    };
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&out)?),
        Format::Text => {
            for p in &report.problems {
                println!("{}", Located(&args.inventory, p));
            }
            let file = args.inventory.display();
            if !global.quiet {
                let plural =
                    |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
                eprintln!(
                    "{file}: {}, {}, {}",
                    plural(out.hosts, "host"),
                    plural(out.errors, "error"),
                    plural(out.warnings, "warning"),
                );
            }
        }
    }
    Ok(Status::findings_if(
        report
            .problems
            .iter()
            .any(|p| p.severity == Severity::Error),
    ))
}
