//! `esxforge vib`.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Subcommand;
use esxforge_isotool::esxi::bundle::Bundle;
use esxforge_isotool::esxi::media::MediaVersion;
use esxforge_isotool::esxi::vib::{Descriptor, Outcome, PayloadCheck, Vib};
use serde::Serialize;

use crate::report::{Format, Global, Status};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Descriptor, payloads and checksum verification of a VIB or offline bundle.
    Inspect(InspectArgs),
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Status> {
    match args.command {
        Command::Inspect(args) => inspect(args, global),
    }
}

// ---- vib inspect

#[derive(clap::Args)]
struct InspectArgs {
    /// A `.vib` file or an offline bundle `.zip`.
    file: PathBuf,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// The JSON report: one entry per VIB (one for a `.vib`, one per listed VIB for a bundle).
#[derive(Serialize)]
struct Report {
    file: String,
    kind: &'static str,
    vibs: Vec<VibReport>,
    /// Every payload checksum recomputed and matching, every payload verifiable.
    ok: bool,
}

#[derive(Serialize)]
struct VibReport {
    /// The member of the bundle (absent for a `.vib`).
    #[serde(skip_serializing_if = "Option::is_none")]
    member: Option<String>,
    id: String,
    descriptor: Descriptor,
    signed: bool,
    payloads: Vec<PayloadReport>,
    /// `null` when ESXi 8 will load it, else why not.
    esxi8_refusal: Option<String>,
    ok: bool,
}

#[derive(Serialize)]
struct PayloadReport {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    size: u64,
    size_matches: Option<bool>,
    checksums: Vec<ChecksumReport>,
}

#[derive(Serialize)]
struct ChecksumReport {
    algorithm: String,
    verify_process: Option<String>,
    expected: String,
    #[serde(flatten)]
    outcome: Outcome,
}

fn inspect(args: InspectArgs, _global: &Global) -> anyhow::Result<Status> {
    let file = args.file.display().to_string();
    let mut magic = [0u8; 4];
    std::fs::File::open(&args.file)
        .and_then(|mut f| f.read(&mut magic))
        .with_context(|| format!("cannot read {file}"))?;
    let report = if magic == *b"PK\x03\x04" {
        inspect_bundle(&args.file)?
    } else {
        let mut vib = Vib::open(&args.file)?;
        let v = vib_report(&mut vib, None)?;
        Report {
            file,
            kind: "vib",
            ok: v.ok,
            vibs: vec![v],
        }
    };
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Format::Text => print_text(&report),
    }
    Ok(Status::findings_if(!report.ok))
}

fn inspect_bundle(path: &Path) -> anyhow::Result<Report> {
    let mut bundle = Bundle::open(path)?;
    let tmp = tempfile::tempdir().context("cannot create a temporary directory")?;
    let mut vibs = Vec::new();
    for i in 0..bundle.vibs().len() {
        let member = bundle.vibs().get(i).map(|v| v.path.clone());
        let mut extracted = bundle.extract_vib(i, tmp.path())?;
        vibs.push(vib_report(&mut extracted.vib, member)?);
    }
    Ok(Report {
        file: path.display().to_string(),
        kind: "bundle",
        ok: vibs.iter().all(|v| v.ok),
        vibs,
    })
}

fn vib_report<R: Read + std::io::Seek>(
    vib: &mut Vib<R>,
    member: Option<String>,
) -> anyhow::Result<VibReport> {
    let checks = vib.verify()?;
    let descriptor = vib.descriptor().clone();
    let ok = checks.iter().all(payload_ok);
    let esxi8_refusal = vib
        .check_target(&MediaVersion::release(8, 0, 0))
        .err()
        .map(|e| e.to_string());
    let payloads = checks
        .into_iter()
        .map(|c| PayloadReport {
            kind: descriptor
                .payloads
                .iter()
                .find(|p| p.name == c.name)
                .map(|p| p.kind.clone())
                .unwrap_or_default(),
            name: c.name,
            size: c.size,
            size_matches: c.size_matches,
            checksums: c
                .checksums
                .into_iter()
                .map(|(sum, outcome)| ChecksumReport {
                    algorithm: sum.algorithm,
                    verify_process: sum.verify_process,
                    expected: sum.hex,
                    outcome,
                })
                .collect(),
        })
        .collect();
    Ok(VibReport {
        member,
        id: descriptor.id(),
        signed: vib.is_signed(),
        descriptor,
        payloads,
        esxi8_refusal,
        ok,
    })
}

fn payload_ok(check: &PayloadCheck) -> bool {
    check.size_matches != Some(false)
        && check.checksums.iter().any(|(_, o)| *o == Outcome::Verified)
        && !check
            .checksums
            .iter()
            .any(|(_, o)| matches!(o, Outcome::Mismatch { .. }))
}

fn print_text(report: &Report) {
    println!("{} ({})", report.file, report.kind);
    for v in &report.vibs {
        let d = &v.descriptor;
        println!();
        if let Some(m) = &v.member {
            println!("{m}");
        }
        println!("  {}", v.id);
        println!(
            "  {} {} by {} ({}, acceptance {})",
            d.name, d.version, d.vendor, d.vib_type, d.acceptance
        );
        if !d.summary.is_empty() {
            println!("  {}", d.summary);
        }
        for p in &d.platforms {
            println!("  built for {} {}", p.product_line, p.version);
        }
        println!(
            "  signature: {}",
            if v.signed {
                "present (sig.pkcs7)"
            } else {
                "none (install needs --no-sig-check)"
            }
        );
        for p in &v.payloads {
            let size_note = match p.size_matches {
                Some(false) => "  SIZE DIFFERS FROM DESCRIPTOR",
                _ => "",
            };
            println!(
                "  payload {} ({}, {} bytes){size_note}",
                p.name, p.kind, p.size
            );
            for c in &p.checksums {
                let label = match &c.verify_process {
                    Some(process) => format!("{} ({process})", c.algorithm),
                    None => c.algorithm.clone(),
                };
                let result = match &c.outcome {
                    Outcome::Verified => "ok".to_string(),
                    Outcome::Mismatch { actual } => {
                        format!("MISMATCH: descriptor {} content {actual}", c.expected)
                    }
                    Outcome::Unsupported => "not checked (unknown algorithm)".to_string(),
                };
                println!("    {label:<20} {result}");
            }
        }
        match &v.esxi8_refusal {
            None => println!("  ESXi 8: loads (every payload has a sha-256 gunzip checksum)"),
            Some(why) => println!("  ESXi 8: refused: {why}"),
        }
        println!(
            "  checksums: {}",
            if v.ok { "all verified" } else { "FAILED" }
        );
    }
}
