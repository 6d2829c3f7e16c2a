//! `esxforge iso`.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Subcommand;
use esxforge_isotool::esxi::Error as EsxiError;
use esxforge_isotool::esxi::bundle::safe_relative_path;
use esxforge_isotool::esxi::check::{self, Outcome};
use esxforge_isotool::esxi::media::{Media, MediaReport};
use esxforge_isotool::esxi::sidecar;
use esxforge_isotool::iso9660::name::display_name;
use esxforge_isotool::reader::{Entry, EntryKind, Image, Names};
use esxforge_isotool::remaster::{self, Options};
use serde::Serialize;

use crate::report::{self, Format, Global, Status};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Volume, boot catalog, ESXi version, BOOT.CFG modules and VIBs of an ISO.
    Inspect(InspectArgs),
    /// List the files of an ISO.
    Ls(LsArgs),
    /// Extract files from an ISO.
    Extract(ExtractArgs),
    /// Build a custom ESXi installer ISO from a source ISO.
    Build(BuildArgs),
    /// Verify boot records, BOOT.CFGs, modules and checksums of an ISO.
    Verify(VerifyArgs),
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Status> {
    match args.command {
        Command::Inspect(args) => inspect(args, global),
        Command::Ls(args) => ls(args, global),
        Command::Extract(args) => extract(args, global),
        Command::Build(args) => build(args, global),
        Command::Verify(args) => verify(args, global),
    }
}

fn open(path: &Path) -> anyhow::Result<Image<File>> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    Image::open(file).with_context(|| format!("{}: cannot read the ISO image", path.display()))
}

/// Which names to show: Rock Ridge or Joliet when the image has them, else the primary ones.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum NameChoice {
    Best,
    Primary,
    RockRidge,
    Joliet,
}

impl NameChoice {
    fn resolve(self, image: &Image<File>) -> anyhow::Result<Names> {
        let names = match self {
            NameChoice::Best => image.best_names(),
            NameChoice::Primary => Names::Primary,
            NameChoice::RockRidge => Names::RockRidge,
            NameChoice::Joliet => Names::Joliet,
        };
        if !image.has_names(names) {
            bail!("the image has no {names} names");
        }
        Ok(names)
    }
}

// ---- iso inspect

#[derive(clap::Args)]
struct InspectArgs {
    /// The ISO image.
    iso: PathBuf,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

#[derive(Serialize)]
struct InspectReport {
    file: String,
    size: u64,
    volume: VolumeReport,
    boot_catalog: Option<CatalogReport>,
    system_area: SystemAreaReport,
    /// `null` when the image is not an ESXi installer.
    esxi: Option<MediaReport>,
}

#[derive(Serialize)]
struct VolumeReport {
    volume_id: String,
    system_id: String,
    volume_set_id: String,
    publisher_id: String,
    preparer_id: String,
    application_id: String,
    created: Option<i64>,
    modified: Option<i64>,
    blocks: u32,
    joliet: bool,
    rock_ridge: bool,
}

#[derive(Serialize)]
struct CatalogReport {
    path: Option<String>,
    lba: u32,
    entries: Vec<BootEntryReport>,
}

#[derive(Serialize)]
struct BootEntryReport {
    platform: String,
    bootable: bool,
    emulation: String,
    load_segment: u16,
    sectors: u16,
    load_rba: u32,
    file: Option<String>,
    /// `null`: none; else whether it is correct.
    boot_info_table: Option<bool>,
}

#[derive(Serialize)]
struct SystemAreaReport {
    empty: bool,
    mbr_partitions: Vec<String>,
    gpt: bool,
}

fn inspect(args: InspectArgs, _global: &Global) -> anyhow::Result<Status> {
    let label = args.iso.display().to_string();
    let mut image = open(&args.iso)?;
    let pvd = image.primary().clone();
    let volume = VolumeReport {
        volume_id: pvd.ids.volume_id.clone(),
        system_id: pvd.ids.system_id.clone(),
        volume_set_id: pvd.ids.volume_set_id.clone(),
        publisher_id: pvd.ids.publisher_id.clone(),
        preparer_id: pvd.ids.preparer_id.clone(),
        application_id: pvd.ids.application_id.clone(),
        created: pvd.created.and_then(|d| d.to_unix()),
        modified: pvd.modified.and_then(|d| d.to_unix()),
        blocks: pvd.volume_space_size,
        joliet: image.joliet().is_some(),
        rock_ridge: image.rock_ridge().is_some(),
    };
    let boot_catalog = match image
        .boot_catalog()
        .with_context(|| format!("{label}: boot catalog"))?
    {
        None => None,
        Some(catalog) => {
            let lba = image.boot_catalog_lba().unwrap_or_default();
            let path = image.find_by_lba(lba)?.map(|e| e.path);
            let mut entries = Vec::new();
            for e in &catalog.entries {
                let file = image.boot_image_file(e)?;
                let table = match &file {
                    Some(f) => image.boot_info_table(f)?.map(|s| s.is_valid()),
                    None => None,
                };
                entries.push(BootEntryReport {
                    platform: e.platform.to_string(),
                    bootable: e.bootable,
                    emulation: e.emulation.to_string(),
                    load_segment: e.load_segment,
                    sectors: e.sector_count,
                    load_rba: e.load_rba,
                    file: file.map(|f| f.path),
                    boot_info_table: table,
                });
            }
            Some(CatalogReport { path, lba, entries })
        }
    };
    let area = image.system_area()?;
    let system_area = SystemAreaReport {
        empty: area.is_zero(),
        mbr_partitions: area
            .mbr_partitions()
            .iter()
            .map(|p| {
                format!(
                    "{}: type {:#04x}, start {}, {} sectors",
                    p.number, p.partition_type, p.start, p.sectors
                )
            })
            .collect(),
        gpt: area.has_gpt(),
    };
    let esxi = match Media::read(&label, &mut image) {
        Ok(media) => Some(media.report()?),
        Err(EsxiError::NotEsxi { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    let report = InspectReport {
        file: label,
        size: image.len(),
        volume,
        boot_catalog,
        system_area,
        esxi,
    };
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Format::Text => print_inspect(&report),
    }
    Ok(Status::Clean)
}

fn print_inspect(r: &InspectReport) {
    let v = &r.volume;
    println!("{}: {} bytes, {} blocks", r.file, r.size, v.blocks);
    println!("volume id       {}", v.volume_id);
    println!("application id  {}", v.application_id);
    println!("system id       {}", v.system_id);
    println!("publisher       {}", v.publisher_id);
    println!("preparer        {}", v.preparer_id);
    let names = match (v.rock_ridge, v.joliet) {
        (false, false) => "primary ISO 9660 only (no Rock Ridge, no Joliet), as VMware's media",
        (true, true) => "primary ISO 9660, Rock Ridge and Joliet",
        (true, false) => "primary ISO 9660 and Rock Ridge",
        (false, true) => "primary ISO 9660 and Joliet",
    };
    println!("names           {names}");
    match &r.boot_catalog {
        None => println!("boot            no El Torito boot record"),
        Some(c) => {
            println!(
                "boot catalog    {} (LBA {})",
                c.path.as_deref().unwrap_or("(not a file)"),
                c.lba
            );
            for (i, e) in c.entries.iter().enumerate() {
                let table = match e.boot_info_table {
                    Some(true) => ", boot-info-table ok",
                    Some(false) => ", boot-info-table WRONG",
                    None => "",
                };
                println!(
                    "  {}  {:<4} {} {}, {} sectors at LBA {} → {}{table}",
                    i + 1,
                    e.platform,
                    if e.bootable {
                        "bootable"
                    } else {
                        "not bootable"
                    },
                    e.emulation,
                    e.sectors,
                    e.load_rba,
                    e.file.as_deref().unwrap_or("(no file)")
                );
            }
        }
    }
    if !r.system_area.empty {
        println!(
            "system area     {}{}",
            r.system_area.mbr_partitions.join("; "),
            if r.system_area.gpt { " (GPT)" } else { "" }
        );
    }
    let Some(e) = &r.esxi else {
        println!("ESXi            not an ESXi installer image");
        return;
    };
    println!();
    println!("ESXi layout     {}", layout_text(e));
    match &e.version {
        Some(ver) => println!(
            "ESXi version    {ver} ({}, from {})",
            ver.build, e.version_from
        ),
        None => println!("ESXi version    unknown"),
    }
    println!(
        "kickstart       {}",
        e.kickstart
            .as_deref()
            .map_or("none".to_string(), |k| format!("ks={k}"))
    );
    for cfg in &e.boot_cfgs {
        println!("{}", cfg.path);
        println!(
            "  kernel        {}",
            cfg.kernel.as_deref().unwrap_or("(none)")
        );
        println!("  kernelopt     {}", cfg.kernelopt.as_deref().unwrap_or(""));
        if let Some(b) = &cfg.build {
            println!("  build         {b}");
        }
        println!(
            "  modules ({})   {}",
            cfg.modules.len(),
            cfg.modules.join(" ")
        );
        for p in &cfg.problems {
            println!("  problem       {p}");
        }
    }
    if e.boot_cfgs.len() == 2 {
        if e.boot_cfgs_differ.is_empty() {
            println!("BOOT.CFGs       the BIOS and UEFI configurations agree");
        } else {
            for d in &e.boot_cfgs_differ {
                println!("BOOT.CFGs       DIFFER: {d}");
            }
        }
    }
    for entry in &e.isolinux {
        println!(
            "isolinux        {}: {} {}",
            entry.label,
            entry.kernel.as_deref().unwrap_or(""),
            entry.append.as_deref().unwrap_or("")
        );
    }
    if let Some(img) = &e.imagedd {
        println!(
            "imagedd.bz2     {} bytes, imagedd.md5 records {}",
            img.size,
            img.recorded_md5.as_deref().unwrap_or("nothing")
        );
    }
    if let Some(p) = &e.image_profile {
        println!();
        println!(
            "image profile   {} (acceptance {}), {} VIBs",
            p.name,
            p.acceptance,
            p.vibs.len()
        );
        for vib in &p.vibs {
            let files: Vec<&str> = vib.payloads.iter().map(|(_, f)| f.as_str()).collect();
            println!("  {:<60} {}", vib.id, files.join(" "));
        }
    }
}

fn layout_text(e: &MediaReport) -> String {
    match serde_json::to_value(e.layout) {
        Ok(serde_json::Value::String(s)) if s == "legacy" => {
            "ESXi 4.x: imagedd.bz2, BIOS only".into()
        }
        _ => "ESXi 5.x-8.x: BOOT.CFG on both boot paths, IMGDB.TGZ".into(),
    }
}

// ---- iso ls

#[derive(clap::Args)]
struct LsArgs {
    /// The ISO image.
    iso: PathBuf,
    /// A directory or file on the image (default: the root).
    #[arg(default_value = "/")]
    path: String,
    /// List everything below PATH.
    #[arg(short, long)]
    recursive: bool,
    /// Which names to list.
    #[arg(long, value_enum, default_value = "best")]
    names: NameChoice,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

#[derive(Serialize)]
struct LsEntry {
    path: String,
    /// The primary identifier as recorded (`BOOT.CFG;1`).
    identifier: String,
    kind: &'static str,
    size: u64,
    lba: u32,
    extents: usize,
    hidden: bool,
}

fn ls(args: LsArgs, _global: &Global) -> anyhow::Result<Status> {
    let mut image = open(&args.iso)?;
    let names = args.names.resolve(&image)?;
    let entries = entries_below(&mut image, &args.iso, &args.path, names, args.recursive)?;
    let rows: Vec<LsEntry> = entries
        .iter()
        .map(|e| LsEntry {
            path: e.path.clone(),
            identifier: e.identifier.clone(),
            kind: match e.kind {
                EntryKind::File => "file",
                EntryKind::Directory => "dir",
                EntryKind::Symlink(_) => "symlink",
            },
            size: e.size,
            lba: e.lba(),
            extents: e.extents.len(),
            hidden: e.hidden,
        })
        .collect();
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&rows)?),
        Format::Text => {
            for r in &rows {
                let suffix = if r.kind == "dir" { "/" } else { "" };
                println!("{:>12}  {:>8}  {}{suffix}", r.size, r.lba, r.path);
            }
        }
    }
    Ok(Status::Clean)
}

/// The entry at `path` (a file: itself; a directory: its entries, or everything below it).
fn entries_below(
    image: &mut Image<File>,
    iso: &Path,
    path: &str,
    names: Names,
    recursive: bool,
) -> anyhow::Result<Vec<Entry>> {
    let Some(start) = image.lookup(path, names)? else {
        bail!(
            "{}: {path} is not on the image ({names} names)",
            iso.display()
        );
    };
    if !start.is_dir() {
        return Ok(vec![start]);
    }
    if !recursive {
        let mut entries = image.read_dir(&start)?;
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        return Ok(entries);
    }
    let prefix = if start.path == "/" {
        "/".to_string()
    } else {
        format!("{}/", start.path)
    };
    let mut out = Vec::new();
    for entry in image.walk(names)? {
        let entry = entry?;
        if entry.path.starts_with(&prefix) {
            out.push(entry);
        }
    }
    Ok(out)
}

// ---- iso extract

#[derive(clap::Args)]
struct ExtractArgs {
    /// The ISO image.
    iso: PathBuf,
    /// A directory or file on the image (default: everything).
    #[arg(default_value = "/")]
    path: String,
    /// The folder to extract into (created if missing).
    #[arg(short, long)]
    out: PathBuf,
    /// Which names to extract by.
    #[arg(long, value_enum, default_value = "best")]
    names: NameChoice,
}

fn extract(args: ExtractArgs, global: &Global) -> anyhow::Result<Status> {
    let mut image = open(&args.iso)?;
    let names = args.names.resolve(&image)?;
    let entries = entries_below(&mut image, &args.iso, &args.path, names, true)?;
    let base = match image.lookup(&args.path, names)? {
        Some(e) if e.is_dir() => e.path,
        Some(e) => e
            .path
            .rsplit_once('/')
            .map_or("/".to_string(), |(p, _)| p.to_string()),
        None => "/".to_string(),
    };
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let total: u64 = entries.iter().filter(|e| e.is_file()).map(|e| e.size).sum();
    let bar = report::progress(global, total, "extracting");
    let mut skipped = Vec::new();
    for entry in &entries {
        let relative = entry.path.strip_prefix(&base).unwrap_or(&entry.path);
        let Some(parts) = safe_relative_path(relative.trim_start_matches('/')) else {
            bail!(
                "{}: {:?} would land outside {}; refusing it",
                args.iso.display(),
                entry.path,
                args.out.display()
            );
        };
        let target = safe_join(&args.out, &parts)?;
        match &entry.kind {
            EntryKind::Directory => {
                std::fs::create_dir_all(&target)
                    .with_context(|| format!("cannot create {}", target.display()))?;
            }
            EntryKind::Symlink(to) => skipped.push(format!("{} → {to}", entry.path)),
            EntryKind::File => {
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent)
                        .with_context(|| format!("cannot create {}", parent.display()))?;
                }
                let mut out = File::create(&target)
                    .with_context(|| format!("cannot write {}", target.display()))?;
                image.copy_file(entry, &mut out)?;
                out.flush()?;
                bar.inc(entry.size);
            }
        }
    }
    bar.finish_and_clear();
    if !global.quiet {
        for s in skipped {
            eprintln!("skipped symbolic link {s} (links are not extracted)");
        }
    }
    Ok(Status::Clean)
}

/// `root` joined with `parts`, refusing a component that already exists as a symbolic link (a
/// link planted in the target folder must not carry a write outside it).
fn safe_join(root: &Path, parts: &[&str]) -> anyhow::Result<PathBuf> {
    let mut path = root.to_path_buf();
    for part in parts {
        path.push(part);
        if let Ok(meta) = std::fs::symlink_metadata(&path)
            && meta.file_type().is_symlink()
        {
            bail!(
                "{} is a symbolic link; refusing to write through it",
                path.display()
            );
        }
    }
    Ok(path)
}

// ---- iso build

#[derive(clap::Args)]
struct BuildArgs {
    /// The source ISO (never modified).
    #[arg(long)]
    from: PathBuf,
    /// The ISO to write (with OUT.sha256 and OUT.md5 beside it).
    #[arg(short, long)]
    out: PathBuf,
    /// A VIB to inject (replaces a VIB of the same name on the image). Repeatable.
    #[arg(long = "add-vib", value_name = "FILE")]
    vibs: Vec<PathBuf>,
    /// An offline bundle whose VIBs to inject. Repeatable.
    #[arg(long = "add-bundle", value_name = "ZIP")]
    bundles: Vec<PathBuf>,
    /// A kickstart to embed as /KS.CFG and boot with ks=cdrom:/KS.CFG (linted first for the
    /// image's ESXi release: errors refuse the build).
    #[arg(long)]
    ks: Option<PathBuf>,
    /// Embed the kickstart even if the linter finds errors.
    #[arg(long, requires = "ks")]
    no_ks_lint: bool,
    /// A kernel option to set in both BOOT.CFGs (`key=value`, or a bare `flag`). Repeatable.
    #[arg(long = "kernelopt", value_name = "K=V")]
    kernel_options: Vec<String>,
    /// The new volume id (at most 32 upper-case letters, digits, `_-.`).
    #[arg(long)]
    volume_id: Option<String>,
    /// ESXi 4.x only: a replacement system image (bzip2'd or raw); imagedd.md5 is regenerated.
    #[arg(long)]
    imagedd: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

fn build(args: BuildArgs, global: &Global) -> anyhow::Result<Status> {
    let kernel_options = args
        .kernel_options
        .iter()
        .map(|o| match o.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (o.clone(), None),
        })
        .collect();
    let options = Options {
        vibs: args.vibs,
        bundles: args.bundles,
        kickstart: args.ks,
        kernel_options,
        volume_id: args.volume_id,
        imagedd: args.imagedd,
        timestamp: None,
        skip_kickstart_lint: args.no_ks_lint,
    };
    let bar = report::progress(global, 0, "writing");
    let result = remaster::build(&args.from, &args.out, &options, &mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    });
    bar.finish_and_clear();
    let report = result.with_context(|| {
        format!(
            "cannot build {} from {}",
            args.out.display(),
            args.from.display()
        )
    })?;
    // Warnings reach stderr even with --quiet (as cargo -q still shows compiler warnings);
    // the summary is information, which --quiet silences. JSON is the output asked for.
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Format::Text if global.quiet => {}
        Format::Text => {
            for c in &report.changes {
                eprintln!("{c}");
            }
            if report.changes.is_empty() {
                eprintln!("no changes: a faithful copy");
            }
            eprintln!(
                "wrote {} ({} bytes), verified",
                report.output.display(),
                report.digests.len
            );
            eprintln!("sha256 {}", report.digests.sha256);
            eprintln!("md5    {}", report.digests.md5);
            for s in &report.sidecars {
                eprintln!("wrote {}", s.display());
            }
        }
    }
    Ok(Status::Clean)
}

// ---- iso verify

#[derive(clap::Args)]
struct VerifyArgs {
    /// The ISO image (its .sha256 and .md5 beside it are checked when present).
    iso: PathBuf,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

#[derive(Serialize)]
struct VerifyReport {
    file: String,
    checks: Vec<check::Check>,
    sidecars: Vec<sidecar::SidecarCheck>,
    ok: bool,
}

fn verify(args: VerifyArgs, _global: &Global) -> anyhow::Result<Status> {
    let label = args.iso.display().to_string();
    let mut image = open(&args.iso)?;
    let media = Media::read(&label, &mut image)?;
    let checks = check::verify(&mut image, &media)?;
    let sidecars = sidecar::check_sidecars(&args.iso)?;
    let iso_name = args
        .iso
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ok =
        checks.iter().all(|c| c.outcome != Outcome::Fail) && sidecars.iter().all(|s| s.matches);
    let report = VerifyReport {
        file: label,
        checks,
        sidecars,
        ok,
    };
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Format::Text => {
            for c in &report.checks {
                let tag = match c.outcome {
                    Outcome::Pass => "ok  ",
                    Outcome::Warn => "warn",
                    Outcome::Fail => "FAIL",
                };
                println!("{tag}  {}: {}", c.what, c.detail);
            }
            for s in &report.sidecars {
                let tag = if s.matches { "ok  " } else { "FAIL" };
                let note = if display_name(&s.names) != iso_name {
                    format!(" (names {:?})", s.names)
                } else {
                    String::new()
                };
                println!(
                    "{tag}  {}: recorded {}, image {}{note}",
                    s.path, s.recorded, s.actual
                );
            }
            if report.sidecars.is_empty() {
                println!("note  no .sha256/.md5 beside the image");
            }
            println!(
                "{}",
                if report.ok {
                    "verified"
                } else {
                    "verification FAILED"
                }
            );
        }
    }
    Ok(Status::findings_if(!report.ok))
}
