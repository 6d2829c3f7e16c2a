//! The kickstart linter: the ESXi installer's own verdict first, then stricter checks.
//!
//! A lint reads a file (and the files it `%include`s, when they can be found next to it), replays
//! what the installer's preparser does with each command for the chosen ESXi version, and adds our
//! checks for what the installer accepts but that breaks installs or hosts silently. Every finding
//! has a file, a line, a [`Severity`] and a stable [`Code`]:
//! - **errors** (`E-…`) are exactly what makes the installer stop — a file without errors installs
//!   (as far as can be known without the target's disks and NICs);
//! - **warnings** (`W-…`) are the installer's own warnings, errors when the file says `paranoid`;
//! - our checks (`S-…`) are warnings or notes, never errors.
//!
//! ```
//! use esxforge_kickstart::lint::{Code, LintOptions, lint_text};
//!
//! let ks = "vmaccepteula\nrootpw --iscrypted $1$mF86/UHC$WvcIcX2t6crBz2onWxyac.\ninstall --firstdisk --overwritevmfs\nnetwork --bootproto=dhcp --ip=10.0.0.5\n";
//! let report = lint_text("ks.cfg", ks.as_bytes(), &LintOptions::default());
//! assert_eq!(report.errors(), 1);
//! assert_eq!(report.findings[0].code, Code::NetworkDhcpStatic);
//! assert_eq!(report.findings[0].line, Some(4));
//! ```

pub mod codes;
mod grammar;
mod installer;
mod strict;
mod template;
pub mod values;

use std::path::{Path, PathBuf};

use serde::Serialize;

pub use codes::{Code, Origin, Severity};

use crate::parse::{Kickstart, SectionKind};
use crate::version::EsxiVersion;

/// What to lint against.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LintOptions {
    /// The installer to read the file as (default: the newest, [`EsxiVersion::NEWEST`]).
    pub version: EsxiVersion,
    /// The host boots with UEFI Secure Boot: `%firstboot` is skipped, unsigned VIBs break boot.
    pub secure_boot: bool,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The file as it was named to the linter (an included file by its path).
    pub file: String,
    /// 1-based line; `None` for findings about the file as a whole (a missing command).
    pub line: Option<usize>,
    pub severity: Severity,
    pub code: Code,
    /// Whether the installer reports it or it is one of our stricter checks.
    pub origin: Origin,
    pub message: String,
    /// What to do about it, when there is something specific to say.
    pub hint: Option<String>,
}

/// The findings of one lint, sorted by file (main file first, then includes) and line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub findings: Vec<Finding>,
}

impl Report {
    fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    pub fn errors(&self) -> usize {
        self.count(Severity::Error)
    }

    pub fn warnings(&self) -> usize {
        self.count(Severity::Warning)
    }

    pub fn notes(&self) -> usize {
        self.count(Severity::Note)
    }

    /// Whether the lint fails: any error, or with `strict` any warning.
    pub fn fails(&self, strict: bool) -> bool {
        self.errors() > 0 || (strict && self.warnings() > 0)
    }
}

/// The file to lint could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{}: cannot read the kickstart", path.display())]
pub struct LintError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// Where findings of one file go.
pub(crate) struct Out<'a> {
    file: &'a str,
    findings: &'a mut Vec<(usize, Finding)>,
    index: usize,
}

impl Out<'_> {
    /// Record a finding at its code's default severity; returns it to add a hint.
    pub(crate) fn add(
        &mut self,
        line: Option<usize>,
        code: Code,
        message: impl Into<String>,
    ) -> &mut Finding {
        self.findings.push((
            self.index,
            Finding {
                file: self.file.to_owned(),
                line,
                severity: code.severity(),
                code,
                origin: code.origin(),
                message: message.into(),
                hint: None,
            },
        ));
        let last = self.findings.len() - 1;
        &mut self.findings[last].1
    }
}

/// Lint a kickstart file on disk, following `%include`s that exist beside it.
pub fn lint_path(path: &Path, opts: &LintOptions) -> Result<Report, LintError> {
    let bytes = std::fs::read(path).map_err(|source| LintError {
        path: path.to_owned(),
        source,
    })?;
    let dir = path.parent().map(Path::to_owned).unwrap_or_default();
    Ok(lint(path.display().to_string(), bytes, Some(dir), opts))
}

/// Lint kickstart bytes named `name`; `%include`s are not looked for on disk.
pub fn lint_text(name: &str, bytes: &[u8], opts: &LintOptions) -> Report {
    lint(name.to_owned(), bytes.to_vec(), None, opts)
}

/// Most files one lint follows through `%include` (the installer stops at 256 commands anyway).
const MAX_FILES: usize = 64;

struct Source {
    name: String,
    dir: Option<PathBuf>,
    canonical: Option<PathBuf>,
    parent: Option<usize>,
    text: String,
    ks: Kickstart,
}

fn source(
    name: String,
    bytes: Vec<u8>,
    dir: Option<PathBuf>,
    canonical: Option<PathBuf>,
    parent: Option<usize>,
) -> Source {
    let ks = Kickstart::parse_bytes(&bytes);
    let text = match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    };
    Source {
        name,
        dir,
        canonical,
        parent,
        text,
        ks,
    }
}

fn lint(name: String, bytes: Vec<u8>, dir: Option<PathBuf>, opts: &LintOptions) -> Report {
    let canonical = dir
        .as_ref()
        .and_then(|d| std::fs::canonicalize(d.join(Path::new(&name).file_name()?)).ok());
    let mut sources = vec![source(name, bytes, dir, canonical, None)];
    let mut findings: Vec<(usize, Finding)> = Vec::new();

    if let Some(m) = template::find(&sources[0].text, &sources[0].ks) {
        let mut out = Out {
            file: &sources[0].name,
            findings: &mut findings,
            index: 0,
        };
        out.add(
            Some(m.line),
            Code::Template,
            format!(
                "this is a template ({} on line {}), not a kickstart",
                m.kind, m.line
            ),
        )
        .hint = Some(m.hint().into());
        return finish(findings);
    }

    let complete = follow_includes(&mut sources, &mut findings);

    let files: Vec<&Kickstart> = sources.iter().map(|s| &s.ks).collect();
    let mut replay = installer::Replay::new(opts.version, &files);
    for (i, s) in sources.iter().enumerate() {
        let mut out = Out {
            file: &s.name,
            findings: &mut findings,
            index: i,
        };
        if i > 0 {
            if let Some(m) = template::find(&s.text, &s.ks) {
                out.add(
                    Some(m.line),
                    Code::Template,
                    format!(
                        "this included file is a template ({} on line {})",
                        m.kind, m.line
                    ),
                );
                continue;
            }
        }
        replay.file(i, &s.ks, &mut out);
        strict::check(&s.text, &s.ks, opts, &mut out);
    }
    let mut out = Out {
        file: &sources[0].name,
        findings: &mut findings,
        index: 0,
    };
    replay.finish(complete, &mut out);
    if complete {
        let any = |names: &[&str]| replay.facts.seen.keys().any(|k| names.contains(k));
        // On 4.x `install` names the media (`install cdrom`); only `autopart` picks the disk.
        let installs = if !opts.version.has_install_command() {
            any(&["autopart"])
        } else {
            any(&["install", "upgrade", "installorupgrade"])
        };
        if !installs {
            out.add(
                None,
                Code::NoInstall,
                "no install command: nothing tells the installer which disk to use",
            )
            .hint = Some(
                if !opts.version.has_install_command() {
                    "add `autopart --firstdisk --overwritevmfs`"
                } else {
                    "add `install --firstdisk --overwritevmfs`"
                }
                .into(),
            );
        }
    }
    if replay.facts.paranoid {
        for (_, f) in &mut findings {
            if f.code.from_installer() && f.severity == Severity::Warning {
                f.severity = Severity::Error;
                f.message.push_str(" (an error under `paranoid`)");
            }
        }
    }
    finish(findings)
}

fn finish(mut findings: Vec<(usize, Finding)>) -> Report {
    findings.sort_by_key(|(file, f)| (*file, f.line.unwrap_or(0)));
    Report {
        findings: findings.into_iter().map(|(_, f)| f).collect(),
    }
}

/// Read every `%include` that can be read; return whether the file set is complete (nothing
/// included that this machine cannot see).
fn follow_includes(sources: &mut Vec<Source>, findings: &mut Vec<(usize, Finding)>) -> bool {
    let mut complete = true;
    let mut i = 0;
    while i < sources.len() {
        let includes: Vec<(usize, String)> = sources[i]
            .ks
            .commands
            .iter()
            .filter(|c| c.name == "%include" || c.name == "include")
            .filter_map(|c| Some((c.line, c.words.last()?.text.clone())))
            .collect();
        for (line, target) in includes {
            let generated = sources
                .iter()
                .flat_map(|s| s.ks.sections_of(SectionKind::Pre))
                .find_map(|pre| {
                    let written = installer_path(&target);
                    pre.body
                        .contains(written.as_str())
                        .then_some(pre.header.line)
                });
            let mut out = Out {
                file: &sources[i].name,
                findings,
                index: i,
            };
            if target.contains("://") {
                complete = false;
                out.add(
                    Some(line),
                    Code::IncludeUnchecked,
                    format!("`{target}` is fetched at install time; it is not checked here"),
                );
                continue;
            }
            if let Some(pre) = generated {
                complete = false;
                out.add(Some(line), Code::IncludeUnchecked, format!("`{target}` is generated at install time by the %pre on line {pre}; it is not checked here"));
                continue;
            }
            let found = sources[i].dir.as_ref().and_then(|dir| {
                local_candidates(dir, &target)
                    .into_iter()
                    .find(|p| p.is_file())
            });
            let Some(path) = found else {
                complete = false;
                out.add(Some(line), Code::IncludeMissing, format!("`{target}` cannot be found here and no %pre writes it: the installer stops if it is missing at install time"))
                    .hint = Some("put the file next to this one to have it checked too".into());
                continue;
            };
            let canonical = std::fs::canonicalize(&path).ok();
            let mut ancestor = Some(i);
            while let Some(a) = ancestor {
                if canonical.is_some() && sources[a].canonical == canonical {
                    break;
                }
                ancestor = sources[a].parent;
            }
            if ancestor.is_some() {
                out.add(Some(line), Code::IncludeCycle, format!("`{target}` includes a file that is already being read: the installer reads it again and again until it passes 256 commands"));
                continue;
            }
            if sources.len() >= MAX_FILES {
                complete = false;
                out.add(
                    Some(line),
                    Code::IncludeMissing,
                    format!("`{target}` is not followed: more than {MAX_FILES} files are included"),
                );
                continue;
            }
            match std::fs::read(&path) {
                Ok(bytes) => {
                    let dir = path.parent().map(Path::to_owned);
                    sources.push(source(
                        path.display().to_string(),
                        bytes,
                        dir,
                        canonical,
                        Some(i),
                    ));
                }
                Err(e) => {
                    complete = false;
                    out.add(
                        Some(line),
                        Code::IncludeMissing,
                        format!("`{target}` ({}) cannot be read: {e}", path.display()),
                    );
                }
            }
        }
        i += 1;
    }
    complete
}

/// Where the installer looks for an included file: a relative name without `./` is taken from
/// the root of the installer's file system.
fn installer_path(target: &str) -> String {
    if target.starts_with(['/', '.']) {
        target.to_owned()
    } else {
        format!("/{target}")
    }
}

/// Where we look for it here: beside the including file (the installer's `./x`), or, for an
/// absolute installer path, by its relative path and then by its file name.
fn local_candidates(dir: &Path, target: &str) -> Vec<PathBuf> {
    let relative = target.trim_start_matches('/');
    let mut out = vec![dir.join(relative)];
    if let Some(name) = Path::new(relative).file_name() {
        out.push(dir.join(name));
    }
    out
}

/// "did you mean" for a mistyped command or argument: a typographic or single dash in front of a
/// known name, or a name one or two edits away.
pub(crate) fn hint_for_word<'a>(
    word: &str,
    known: impl Iterator<Item = &'a str>,
) -> Option<String> {
    let key = word.split_once('=').map_or(word, |(k, _)| k);
    let stripped = key.trim_start_matches(|c: char| {
        c == '-' || "\u{2010}\u{2011}\u{2012}\u{2013}\u{2014}\u{2212}\u{FE63}".contains(c)
    });
    let known: Vec<&str> = known.collect();
    if stripped.len() < key.len() {
        let fixed = format!("--{stripped}");
        if known.contains(&fixed.as_str()) && fixed != key {
            let rest = word.get(key.len()..).unwrap_or_default();
            return Some(format!("did you mean `{fixed}{rest}`?"));
        }
    }
    if key.len() < 4 {
        return None;
    }
    known
        .iter()
        .filter(|k| !k.is_empty())
        .map(|k| (edit_distance(key, k), *k))
        .filter(|(d, _)| *d > 0 && *d <= 2)
        .min()
        .map(|(_, k)| format!("did you mean `{k}`?"))
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != *cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.get(j).copied().unwrap_or(0) + 1;
            if let Some(c) = cur.get_mut(j + 1) {
                *c = sub.min(del).min(ins);
            }
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints() {
        let known = ["--bootproto", "--ip", "--device"];
        assert_eq!(
            hint_for_word("\u{2013}bootproto=static", known.into_iter()).as_deref(),
            Some("did you mean `--bootproto=static`?")
        );
        assert_eq!(
            hint_for_word("-bootproto=static", known.into_iter()).as_deref(),
            Some("did you mean `--bootproto=static`?")
        );
        assert_eq!(
            hint_for_word("--bootprot=dhcp", known.into_iter()).as_deref(),
            Some("did you mean `--bootproto`?")
        );
        assert_eq!(hint_for_word("--zzz", known.into_iter()), None);
    }
}
