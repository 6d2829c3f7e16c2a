//! `esxforge ks`.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use esxforge_kickstart::inventory::Options;
use esxforge_kickstart::render::{self, Renderer};
use esxforge_kickstart::version::EsxiVersion;

use crate::report::{self, Global, Status};

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
struct RenderArgs {
    /// The inventory file.
    #[arg(short, long)]
    inventory: PathBuf,
    /// Where to write `<host>.ks.cfg` files (created if missing).
    #[arg(short, long, default_value = "out")]
    out: PathBuf,
    /// Render only these hosts (repeatable); all hosts by default.
    #[arg(long = "host", value_name = "NAME")]
    hosts: Vec<String>,
    /// Treat every host as this ESXi version (4.1 to 8.x), checked as such.
    #[arg(long, value_name = "VER", value_parser = parse_esxi)]
    esxi: Option<EsxiVersion>,
    /// Templates replacing the built-in ones, by file name (ks.cfg.j2, firstboot.sh.j2, ...).
    #[arg(long, value_name = "DIR")]
    templates: Option<PathBuf>,
}

/// `--esxi` of every `ks` command: `4.1`, `6.7`, `7.0U3`, `8`, `8.x`.
fn parse_esxi(s: &str) -> Result<EsxiVersion, String> {
    s.parse()
        .map_err(|e| format!("unsupported ESXi version: {s:?} {e}"))
}

fn render(args: RenderArgs, global: &Global) -> anyhow::Result<Status> {
    let options = Options { esxi: args.esxi };
    let inventory = crate::inventory::load(&args.inventory, &options)?;
    let hosts = inventory.select(&args.hosts)?;
    let renderer = match &args.templates {
        Some(dir) => Renderer::with_templates(dir)?,
        None => Renderer::new(),
    };
    let bar = report::progress(global, hosts.len() as u64, "rendering");
    let written = render::write_all(&renderer, &inventory, &hosts, &args.out, &|| bar.inc(1))
        .with_context(|| format!("rendering into {}", args.out.display()))?;
    bar.finish_and_clear();
    if !global.quiet {
        eprintln!(
            "wrote {} kickstart{} to {}",
            written.len(),
            if written.len() == 1 { "" } else { "s" },
            args.out.display()
        );
    }
    Ok(Status::Clean)
}

// ---- ks lint

#[derive(clap::Args)]
struct LintArgs {
    /// Kickstart files to lint (their `%include`s are followed when they exist beside them).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<std::path::PathBuf>,
    /// ESXi version whose installer to lint against (4.1 to 8.x: 6.7, 7.0U3, 8, 8.x …).
    #[arg(long, value_name = "VER", default_value = "8", value_parser = parse_esxi)]
    esxi: EsxiVersion,
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
struct ServeArgs {
    /// The inventory file.
    #[arg(short, long)]
    inventory: PathBuf,
    /// Address and port to listen on, e.g. 0.0.0.0:8080 (port 0: any free port).
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:8080")]
    listen: String,
    /// Treat every host as this ESXi version (4.1 to 8.x), checked as such.
    #[arg(long, value_name = "VER", value_parser = parse_esxi)]
    esxi: Option<EsxiVersion>,
    /// Templates replacing the built-in ones, by file name.
    #[arg(long, value_name = "DIR")]
    templates: Option<PathBuf>,
}

fn serve(args: ServeArgs, global: &Global) -> anyhow::Result<Status> {
    use std::io::Write;

    use esxforge_kickstart::serve::{Kickstarts, Server};

    let inventory = crate::inventory::load(&args.inventory, &Options { esxi: args.esxi })?;
    let renderer = match &args.templates {
        Some(dir) => Renderer::with_templates(dir)?,
        None => Renderer::new(),
    };
    let kickstarts = Kickstarts::render(&renderer, &inventory)?;
    let count = kickstarts.len();
    let server = Server::bind(&args.listen, kickstarts)?;
    let addr = server
        .local_addr()
        .map_or_else(|| args.listen.clone(), |a| a.to_string());
    // On stdout, so that a script (or a test) can read the port it was given.
    println!("serving {count} kickstarts on http://{addr}/ks/{{host/NAME,mac/MAC,ip/IP,self}}");
    std::io::stdout().flush()?;
    let quiet = global.quiet;
    server.run(|s| {
        if quiet {
            return;
        }
        let peer = s
            .peer
            .map_or_else(|| "-".to_string(), |p| p.ip().to_string());
        match &s.host {
            Some(host) => eprintln!("{peer} {} {} {} -> {host}", s.method, s.url, s.status),
            None => eprintln!("{peer} {} {} {}", s.method, s.url, s.status),
        }
    });
    Ok(Status::Clean)
}
