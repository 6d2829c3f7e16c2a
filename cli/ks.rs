//! `esxforge ks`.

use clap::Subcommand;

use crate::report::{Global, Status};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Render one kickstart per host of an inventory.
    Render(RenderArgs),
    /// Lint kickstart files as the ESXi installer reads them, plus stricter checks.
    Lint(LintArgs),
    /// Serve each host's kickstart over HTTP, by MAC, IP or name.
    Serve(ServeArgs),
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Status> {
    match args.command {
        Command::Render(args) => render(args, global),
        Command::Lint(args) => lint(args, global),
        Command::Serve(args) => serve(args, global),
    }
}

// ---- ks render

#[derive(clap::Args)]
struct RenderArgs {}

fn render(_args: RenderArgs, _global: &Global) -> anyhow::Result<Status> {
    anyhow::bail!("`esxforge ks render` is not implemented yet")
}

// ---- ks lint

#[derive(clap::Args)]
struct LintArgs {
    /// Kickstart files to lint (their `%include`s are followed when they exist beside them).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<std::path::PathBuf>,
    /// ESXi version whose installer to lint against: 4.x, 5.x, 6.x, 7.x or 8.x (e.g. 6.7, 7.0U3).
    #[arg(long, value_name = "VER", default_value = "8")]
    esxi: esxforge_kickstart::lint::EsxiVersion,
    /// The hosts boot with UEFI Secure Boot (%firstboot is skipped, unsigned VIBs break boot).
    #[arg(long)]
    secure_boot: bool,
    /// Fail (exit 1) on warnings too, not only on errors.
    #[arg(long)]
    strict: bool,
    #[arg(long, value_enum, default_value_t)]
    format: crate::report::Format,
}

/// The JSON document `ks lint --format json` prints (stable: fields are only ever added).
#[derive(serde::Serialize)]
struct LintJson<'a> {
    findings: Vec<&'a esxforge_kickstart::lint::Finding>,
    errors: usize,
    warnings: usize,
    notes: usize,
}

fn lint(args: LintArgs, _global: &Global) -> anyhow::Result<Status> {
    use esxforge_kickstart::lint::{LintOptions, lint_path};
    use std::io::Write;

    let opts = LintOptions {
        version: args.esxi,
        secure_boot: args.secure_boot,
    };
    // Read everything first: an unreadable file is an input error (exit 2), reported before
    // any findings.
    let reports = args
        .files
        .iter()
        .map(|path| lint_path(path, &opts))
        .collect::<Result<Vec<_>, _>>()?;
    let findings: Vec<_> = reports.iter().flat_map(|r| &r.findings).collect();
    let failed = reports.iter().any(|r| r.fails(args.strict));
    let count = |s| {
        reports
            .iter()
            .map(|r| r.findings.iter().filter(|f| f.severity == s).count())
            .sum()
    };
    let mut stdout = std::io::stdout().lock();
    match args.format {
        crate::report::Format::Json => {
            use esxforge_kickstart::lint::Severity;
            let doc = LintJson {
                errors: count(Severity::Error),
                warnings: count(Severity::Warning),
                notes: count(Severity::Note),
                findings,
            };
            serde_json::to_writer_pretty(&mut stdout, &doc)?;
            writeln!(stdout)?;
        }
        crate::report::Format::Text => {
            for f in findings {
                match f.line {
                    Some(line) => write!(stdout, "{}:{line}: ", f.file)?,
                    None => write!(stdout, "{}: ", f.file)?,
                }
                writeln!(stdout, "{}[{}]: {}", f.severity.as_str(), f.code, f.message)?;
                if let Some(hint) = &f.hint {
                    writeln!(stdout, "    hint: {hint}")?;
                }
            }
        }
    }
    Ok(Status::findings_if(failed))
}

// ---- ks serve

#[derive(clap::Args)]
struct ServeArgs {}

fn serve(_args: ServeArgs, _global: &Global) -> anyhow::Result<Status> {
    anyhow::bail!("`esxforge ks serve` is not implemented yet")
}
