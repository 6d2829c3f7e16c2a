//! `esxforge inventory`.

use std::path::PathBuf;

use clap::Subcommand;
use esxforge_kickstart::inventory::{Inventory, Problem, Severity};
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
            let file = args.inventory.display();
            for p in &report.problems {
                match p.line {
                    Some(line) => println!("{file}:{line}: {p}"),
                    None => println!("{file}: {p}"),
                }
            }
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
