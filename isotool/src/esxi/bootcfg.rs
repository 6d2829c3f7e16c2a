//! `BOOT.CFG`: the `key=value` file ESXi's bootloader (mboot, from `vmware/esx-boot`) reads.
//!
//! The parser reproduces the loader's rules (`bootlib/parse.c`, `mboot/config.c`) so that what we
//! report is what the loader will do, and the editor changes only the bytes of the value it edits:
//! comments, unknown keys, blank lines, line endings and spacing elsewhere survive byte for byte.
//!
//! Loader rules, in short:
//! - the file is split on `\n`; each line is trimmed and every whitespace run (`\r` included)
//!   becomes one space; an empty line or one starting with `#` is ignored;
//! - the key is everything before the first `=` and matches an option when it is a
//!   case-insensitive *prefix* of the option name, trying options in table order (`module=` is
//!   `modules`, `k=` is `kernel`); `kernel =` (space before `=`) matches nothing and is ignored;
//! - spaces after `=` are skipped; a later line for the same option wins;
//! - `modules=` is a list split on the substring `---`; each item is `path [options]`.

use std::fmt;
use std::ops::Range;

use super::Error;

/// The options mboot knows, in the loader's table order (the order decides prefix matches).
const MBOOT_OPTIONS: &[&str] = &[
    "kernel",
    "kernelopt",
    "modules",
    "title",
    "prefix",
    "nobootif",
    "timeout",
    "noquirks",
    "norts",
    "crypto",
    "runtimewd",
    "tftpblksize",
    "acpitables",
    "runtimewdtimeout",
    "skip",
    "errtimeout",
];

/// The options safeboot reads from the same file (`safeboot/config.c`).
const SAFEBOOT_OPTIONS: &[&str] = &["build", "updated", "bootstate", "quickboot"];

/// A BOOT.CFG held as its lines, each kept byte for byte until an edit touches its value.
#[derive(Clone, PartialEq, Eq)]
pub struct BootCfg {
    lines: Vec<Line>,
}

#[derive(Clone, PartialEq, Eq)]
struct Line {
    /// The line without its `\n` (a `\r` before it stays part of the text).
    text: String,
    /// Whether a `\n` followed the line in the file.
    newline: bool,
}

/// One item of a `---` list (`modules=` of BOOT.CFG, or mboot's command line in ISOLINUX.CFG).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleItem {
    /// The file, as written (`/net_ixgb.v00`, `imgdb.tgz`).
    pub path: String,
    /// What follows the path inside the item (options passed to the module), spaces merged.
    pub options: String,
}

/// One file the loader loads (see [`BootCfg::loads`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Load {
    /// As BOOT.CFG writes it (`/s.v00`, `imgdb.tgz`).
    pub listed: String,
    /// Where that is on the medium (`/s.v00`, `/EFI/BOOT/imgdb.tgz`).
    pub path: String,
    pub options: String,
}

impl ModuleItem {
    /// The file name without directories, lower-cased: what module names are compared by.
    pub fn basename(&self) -> String {
        basename(&self.path).to_ascii_lowercase()
    }
}

impl BootCfg {
    /// Parses `bytes` (named `file` in errors). Only non-UTF-8 text is refused: the loader itself
    /// accepts any line, so every other oddity is kept and reported by [`BootCfg::check`].
    pub fn parse(file: &str, bytes: &[u8]) -> Result<BootCfg, Error> {
        let text = std::str::from_utf8(bytes).map_err(|e| Error::Format {
            file: file.to_string(),
            what: format!(
                "not UTF-8 text (byte {}); a BOOT.CFG is plain ASCII",
                e.valid_up_to()
            ),
        })?;
        let mut lines = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            match rest.split_once('\n') {
                Some((line, tail)) => {
                    lines.push(Line {
                        text: line.to_string(),
                        newline: true,
                    });
                    rest = tail;
                }
                None => {
                    lines.push(Line {
                        text: rest.to_string(),
                        newline: false,
                    });
                    rest = "";
                }
            }
        }
        Ok(BootCfg { lines })
    }

    /// The file's bytes: the input unchanged except for the values edited.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_string().into_bytes()
    }

    /// The value the loader uses for `option` (`kernel`, `kernelopt`, `modules`, `prefix`,
    /// `title`, `build`, …), spaces merged as the loader does; `None` when no line sets it.
    pub fn get(&self, option: &str) -> Option<String> {
        let (index, range) = self.effective(option)?;
        let line = self.lines.get(index)?;
        Some(merge_spaces(line.text.get(range)?))
    }

    /// The `modules=` list as the loader splits it.
    pub fn modules(&self) -> Vec<ModuleItem> {
        self.get("modules")
            .map(|value| {
                list_items(&value)
                    .into_iter()
                    .filter_map(|r| value.get(r).map(parse_item))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// What the loader loads from this BOOT.CFG, found at `cfg_path` on the medium: the kernel
    /// first, then every module, each resolved against `prefix=` or the BOOT.CFG's folder.
    pub fn loads(&self, cfg_path: &str) -> Vec<Load> {
        let dir = match cfg_path.rsplit_once('/') {
            Some(("", _)) | None => "/",
            Some((d, _)) => d,
        };
        let prefix = self.get("prefix");
        let load = |item: ModuleItem| Load {
            path: resolve_path(dir, prefix.as_deref(), &item.path),
            listed: item.path,
            options: item.options,
        };
        self.get("kernel")
            .map(|k| load(parse_item(&k)))
            .into_iter()
            .chain(self.modules().into_iter().map(load))
            .collect()
    }

    /// The kernel options (`kernelopt=`), as tokens.
    pub fn kernelopt(&self) -> KernelOpts {
        KernelOpts::new(&self.get("kernelopt").unwrap_or_default())
    }

    /// Sets `option` to `value`: rewrites the value of the line the loader uses, or appends
    /// `option=value` when no line sets it. Nothing else in the file changes.
    pub fn set(&mut self, option: &str, value: &str) -> Result<(), Error> {
        if value.contains(['\n', '\0']) {
            return Err(Error::Edit {
                what: format!("BOOT.CFG {option}= value contains a line break or a NUL"),
            });
        }
        if table_of(option).is_none() {
            return Err(Error::Edit {
                what: format!("`{option}` is not an option the ESXi bootloader reads"),
            });
        }
        match self.effective(option) {
            Some((index, range)) => {
                if let Some(line) = self.lines.get_mut(index) {
                    line.text.replace_range(range, value);
                }
            }
            None => {
                if let Some(last) = self.lines.last_mut() {
                    last.newline = true;
                }
                self.lines.push(Line {
                    text: format!("{option}={value}"),
                    newline: true,
                });
            }
        }
        Ok(())
    }

    /// Sets kernel option `key` to `value` (`None`: a bare flag such as `cdromBoot`) in
    /// `kernelopt=`, replacing an existing `key=…` rather than adding a second one.
    pub fn set_kernel_option(&mut self, key: &str, value: Option<&str>) -> Result<(), Error> {
        // Edit the raw text, not the loader's space-merged view, so other spacing survives.
        let raw = self
            .effective("kernelopt")
            .and_then(|(i, r)| self.lines.get(i)?.text.get(r).map(str::to_string))
            .unwrap_or_default();
        let mut opts = KernelOpts::new(&raw);
        opts.set(key, value)?;
        self.set("kernelopt", opts.as_str())
    }

    /// Inserts `path` into `modules=` just before the item whose file is `imgdb.tgz` (the image
    /// database must stay after every payload it describes). Errors when there is no such item.
    pub fn insert_module_before_imgdb(&mut self, path: &str) -> Result<(), Error> {
        check_module_path(path)?;
        let (index, range) = self.effective("modules").ok_or_else(|| Error::Edit {
            what: "BOOT.CFG has no modules= line to add a module to".to_string(),
        })?;
        let Some(line) = self.lines.get_mut(index) else {
            return Ok(());
        };
        let value = line.text.get(range.clone()).unwrap_or_default().to_string();
        let anchor = list_items(&value)
            .into_iter()
            .find(|r| {
                value
                    .get(r.clone())
                    .is_some_and(|item| parse_item(item).basename() == "imgdb.tgz")
            })
            .ok_or_else(|| Error::Edit {
                what: "BOOT.CFG modules= has no imgdb.tgz item to insert before".to_string(),
            })?;
        let at = range.start + anchor.start;
        line.text.insert_str(at, &format!("{path} --- "));
        Ok(())
    }

    /// Removes every `modules=` item whose file name (without directories) equals `basename`,
    /// case-insensitively. Returns how many were removed.
    pub fn remove_module(&mut self, basename: &str) -> usize {
        let Some((index, range)) = self.effective("modules") else {
            return 0;
        };
        let Some(line) = self.lines.get_mut(index) else {
            return 0;
        };
        let value = line.text.get(range.clone()).unwrap_or_default().to_string();
        let items = list_items(&value);
        let wanted = basename.to_ascii_lowercase();
        let keep: Vec<bool> = items
            .iter()
            .map(|r| {
                value
                    .get(r.clone())
                    .is_none_or(|s| parse_item(s).basename() != wanted)
            })
            .collect();
        let removed = keep.iter().filter(|k| !**k).count();
        if removed == 0 {
            return 0;
        }
        // Rebuild from the original text: what precedes the first item, each kept item with
        // the separator that preceded it in the file, and what follows the last item.
        let (Some(first), Some(last)) = (items.first(), items.last()) else {
            return 0;
        };
        let mut new_value = value.get(..first.start).unwrap_or_default().to_string();
        let mut first_kept = true;
        for (i, item) in items.iter().enumerate() {
            if !keep.get(i).copied().unwrap_or(true) {
                continue;
            }
            if !first_kept {
                let sep_start = i
                    .checked_sub(1)
                    .and_then(|p| items.get(p))
                    .map_or(item.start, |p| p.end);
                new_value.push_str(value.get(sep_start..item.start).unwrap_or(" --- "));
            }
            new_value.push_str(value.get(item.clone()).unwrap_or_default());
            first_kept = false;
        }
        new_value.push_str(value.get(last.end..).unwrap_or_default());
        line.text.replace_range(range, &new_value);
        removed
    }

    /// Problems the loader would trip over: a line it ignores because of a space before `=`, a
    /// missing `kernel=`, a non-numeric integer option. Each is `line N: what`.
    pub fn check(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for (n, line) in self.lines.iter().enumerate() {
            let merged = merge_spaces(visible(&line.text));
            if merged.is_empty() || merged.starts_with('#') {
                continue;
            }
            let Some((key, value)) = merged.split_once('=') else {
                continue;
            };
            if key.ends_with(' ') {
                let k = key.trim_end_matches(' ');
                if resolve(MBOOT_OPTIONS, k).is_some() || resolve(SAFEBOOT_OPTIONS, k).is_some() {
                    problems.push(format!(
                        "line {}: `{k} =` has a space before `=`, so the loader ignores the line; write `{k}=`",
                        n + 1
                    ));
                }
            }
            let value = value.trim_start_matches(' ');
            let option = resolve(MBOOT_OPTIONS, key).or_else(|| resolve(SAFEBOOT_OPTIONS, key));
            if let Some(option) = option
                && is_integer_option(option)
                && !value.is_empty()
                && !is_number(value)
            {
                problems.push(format!(
                    "line {}: {option}={value} is not a number; the loader stops with a syntax error",
                    n + 1
                ));
            }
        }
        if self.get("kernel").is_none() {
            problems.push(
                "no kernel= line; the loader stops (\"kernel=<FILEPATH> must be set\")".to_string(),
            );
        }
        problems
    }

    /// The line index and the byte range of the value (in that line's text) of the line the
    /// loader takes for `option`: the last line whose key resolves to it.
    fn effective(&self, option: &str) -> Option<(usize, Range<usize>)> {
        let table = table_of(option)?;
        self.lines.iter().enumerate().rev().find_map(|(i, line)| {
            let (key, range) = split_line(&line.text)?;
            (resolve(table, &key) == Some(option)).then_some((i, range))
        })
    }
}

impl fmt::Display for BootCfg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in &self.lines {
            f.write_str(&line.text)?;
            if line.newline {
                f.write_str("\n")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for BootCfg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("BootCfg").field(&self.to_string()).finish()
    }
}

/// The kernel command line (`kernelopt=` of BOOT.CFG, or the first item's options in an mboot
/// `APPEND` line): whitespace-separated `key=value` tokens and bare flags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelOpts {
    text: String,
}

impl KernelOpts {
    pub fn new(text: &str) -> KernelOpts {
        KernelOpts {
            text: text.to_string(),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The value of `key=` (the last one, as the kernel sees it), or `Some("")` for a bare flag.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.tokens()
            .filter_map(|(_, token)| match token.split_once('=') {
                Some((k, v)) if k == key => Some(v),
                None if token == key => Some(""),
                _ => None,
            })
            .last()
    }

    /// Sets `key=value` (or the bare flag `key`), replacing the first token with that key in
    /// place and dropping later duplicates, or appending when the key is absent. Keys compare
    /// exactly: the installer's own options (`ks=`, `runweasel`) are case-sensitive words.
    pub fn set(&mut self, key: &str, value: Option<&str>) -> Result<(), Error> {
        if key.is_empty() || key.contains(|c: char| is_space(c) || c == '=' || c == '\0') {
            return Err(Error::Edit {
                what: format!("kernel option name {key:?} is empty or contains `=` or a space"),
            });
        }
        if let Some(v) = value
            && (v.contains(is_space) || v.contains('\0') || v.contains("---"))
        {
            return Err(Error::Edit {
                what: format!(
                    "kernel option {key}={v:?}: values cannot contain spaces or `---` (the boot loader splits on them)"
                ),
            });
        }
        let new_token = match value {
            Some(v) => format!("{key}={v}"),
            None => key.to_string(),
        };
        let matching: Vec<Range<usize>> = self
            .tokens()
            .filter(|(_, t)| t.split_once('=').map_or(*t, |(k, _)| k) == key)
            .map(|(r, _)| r)
            .collect();
        let Some(first) = matching.first().cloned() else {
            if !self.text.is_empty() && !self.text.ends_with(is_space) {
                self.text.push(' ');
            }
            self.text.push_str(&new_token);
            return Ok(());
        };
        // Later duplicates go first (from the end), with the whitespace before each.
        for r in matching.iter().skip(1).rev() {
            let start = self
                .text
                .get(..r.start)
                .unwrap_or_default()
                .trim_end_matches(is_space)
                .len();
            self.text.replace_range(start..r.end, "");
        }
        self.text.replace_range(first, &new_token);
        Ok(())
    }

    /// Tokens with their byte ranges.
    fn tokens(&self) -> impl Iterator<Item = (Range<usize>, &str)> {
        let text = self.text.as_str();
        text.split(is_space)
            .filter(|t| !t.is_empty())
            .map(move |t| {
                let start = t.as_ptr() as usize - text.as_ptr() as usize;
                (start..start + t.len(), t)
            })
    }
}

/// Where a module path resolves on the medium, as mboot's `make_path` does: absolute paths as
/// they are, relative ones under `prefix` (or, when `prefix` is unset or empty, under the
/// directory of the BOOT.CFG that names them, `cfg_dir`).
pub fn resolve_path(cfg_dir: &str, prefix: Option<&str>, path: &str) -> String {
    if path.starts_with('/') {
        return path.to_string();
    }
    let base = match prefix {
        Some(p) if !p.is_empty() => p,
        _ => cfg_dir,
    };
    if base.ends_with('/') {
        format!("{base}{path}")
    } else {
        format!("{base}/{path}")
    }
}

/// A module path must survive the loader's list syntax: no whitespace (it ends the path) and no
/// `---` (it ends the item).
pub(crate) fn check_module_path(path: &str) -> Result<(), Error> {
    if path.is_empty() || path.contains(is_space) || path.contains(['\0']) || path.contains("---") {
        return Err(Error::Edit {
            what: format!(
                "module path {path:?} cannot go into a boot module list (empty, or contains whitespace or `---`)"
            ),
        });
    }
    Ok(())
}

/// The byte ranges of the items of a `---` list, trimmed, in `value` (mboot's
/// `find_next_listitem`: split on every `---`, skip empty items).
pub(crate) fn list_items(value: &str) -> Vec<Range<usize>> {
    let mut items = Vec::new();
    let mut offset = 0;
    for piece in value.split("---") {
        let lead = piece.len() - piece.trim_start_matches(is_space).len();
        let trimmed = piece.trim_matches(is_space);
        if !trimmed.is_empty() {
            let start = offset + lead;
            items.push(start..start + trimmed.len());
        }
        offset += piece.len() + 3;
    }
    items
}

/// One list item: the path ends at the first whitespace; the rest are its options.
pub(crate) fn parse_item(item: &str) -> ModuleItem {
    let item = item.trim_matches(is_space);
    match item.split_once(is_space) {
        Some((path, options)) => ModuleItem {
            path: path.to_string(),
            options: merge_spaces(options),
        },
        None => ModuleItem {
            path: item.to_string(),
            options: String::new(),
        },
    }
}

/// The last component of a `/`-separated path.
pub(crate) fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The line's key (spaces merged, as the loader compares it) and the byte range of its raw value
/// (after `=` and any whitespace, up to trailing whitespace). `None` for comments, blank lines
/// and lines without `=`.
fn split_line(text: &str) -> Option<(String, Range<usize>)> {
    let text = visible(text);
    let merged = merge_spaces(text);
    if merged.is_empty() || merged.starts_with('#') {
        return None;
    }
    let (key, _) = merged.split_once('=')?;
    let eq = text.find('=')?;
    let after = text.get(eq + 1..)?;
    let start = eq + 1 + (after.len() - after.trim_start_matches(is_space).len());
    let end = text.trim_end_matches(is_space).len().max(start);
    Some((key.to_string(), start..end))
}

/// The option a line key selects in `table`: the first option the key is a case-insensitive
/// prefix of (an empty key selects the first option, as in the loader).
fn resolve(table: &'static [&'static str], key: &str) -> Option<&'static str> {
    table.iter().copied().find(|option| {
        option
            .get(..key.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(key))
    })
}

fn table_of(option: &str) -> Option<&'static [&'static str]> {
    if MBOOT_OPTIONS.contains(&option) {
        Some(MBOOT_OPTIONS)
    } else if SAFEBOOT_OPTIONS.contains(&option) {
        Some(SAFEBOOT_OPTIONS)
    } else {
        None
    }
}

fn is_integer_option(option: &str) -> bool {
    matches!(
        option,
        "nobootif"
            | "timeout"
            | "noquirks"
            | "norts"
            | "runtimewd"
            | "tftpblksize"
            | "runtimewdtimeout"
            | "skip"
            | "errtimeout"
            | "updated"
            | "bootstate"
            | "quickboot"
    )
}

/// The loader's `is_number`: an optional sign, then decimal digits.
fn is_number(value: &str) -> bool {
    let digits = value.strip_prefix(['-', '+']).unwrap_or(value);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// C's `isspace` in the C locale, which the loader uses: space, `\t`, `\n`, `\v`, `\f`, `\r`
/// (Rust's `char::is_whitespace` also takes Unicode spaces, `split_ascii_whitespace` leaves out
/// `\v`; either would read some files differently from the loader).
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

/// Trim, and turn every whitespace run into one space (`str_merge_spaces`).
fn merge_spaces(text: &str) -> String {
    text.split(is_space)
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// What the loader sees of a line: C strings end at the first NUL.
fn visible(text: &str) -> &str {
    text.split('\0').next().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const STOCK8: &str = "bootstate=0\ntitle=Loading ESXi installer\ntimeout=5\nprefix=\nkernel=/b.b00\nkernelopt=runweasel cdromBoot\nmodules=/jumpstrt.gz --- /useropts.gz --- /k.b00 --- /s.v00 --- /gc.v00 --- /imgdb.tgz --- /basemisc.tgz --- /imgpayld.tgz\nbuild=8.0.3-0.35.24280767\nupdated=0\n";

    fn cfg(s: &str) -> BootCfg {
        BootCfg::parse("BOOT.CFG", s.as_bytes()).unwrap()
    }

    #[test]
    fn round_trips_byte_for_byte() {
        for s in [
            STOCK8,
            "# comment\r\nkernel=/b.b00\r\n\r\n  weird line without equals\nfoo = bar",
            "",
            "\n\n",
        ] {
            assert_eq!(cfg(s).to_string(), s);
        }
    }

    #[test]
    fn reads_values_like_the_loader() {
        let c = cfg(STOCK8);
        assert_eq!(c.get("kernel").as_deref(), Some("/b.b00"));
        assert_eq!(c.get("prefix").as_deref(), Some(""));
        assert_eq!(c.get("build").as_deref(), Some("8.0.3-0.35.24280767"));
        let mods = c.modules();
        assert_eq!(mods.len(), 8);
        assert_eq!(mods[5].basename(), "imgdb.tgz");
        assert_eq!(c.kernelopt().get("runweasel"), Some(""));
    }

    #[test]
    fn key_is_a_case_insensitive_prefix_and_the_last_line_wins() {
        let c = cfg("Module=/a.v00 --- /b.v00\nKERNEL=/x\nk=/y\n");
        assert_eq!(c.get("modules").as_deref(), Some("/a.v00 --- /b.v00"));
        assert_eq!(c.get("kernel").as_deref(), Some("/y"));
    }

    #[test]
    fn space_before_equals_is_ignored_and_reported() {
        let c = cfg("kernel = /b.b00\n");
        assert_eq!(c.get("kernel"), None);
        let problems = c.check();
        assert!(
            problems.iter().any(|p| p.contains("space before `=`")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.contains("no kernel=")),
            "{problems:?}"
        );
    }

    #[test]
    fn comment_only_at_line_start() {
        let c = cfg("  # kernel=/no\nkernelopt=a#b\nkernel=/b.b00\n");
        assert_eq!(c.get("kernelopt").as_deref(), Some("a#b"));
        assert_eq!(c.get("kernel").as_deref(), Some("/b.b00"));
        assert!(c.check().is_empty());
    }

    #[test]
    fn integer_options_must_be_numeric() {
        let c = cfg("kernel=/b\ntimeout=five\n");
        assert!(c.check().iter().any(|p| p.contains("timeout=five")));
    }

    #[test]
    fn insert_before_imgdb_keeps_everything_else() {
        let mut c = cfg(STOCK8);
        c.insert_module_before_imgdb("/net_ixgb.v00").unwrap();
        let expected = STOCK8.replace(
            "/gc.v00 --- /imgdb.tgz",
            "/gc.v00 --- /net_ixgb.v00 --- /imgdb.tgz",
        );
        assert_eq!(c.to_string(), expected);
    }

    #[test]
    fn insert_finds_imgdb_without_leading_slash() {
        let mut c = cfg("kernel=/b.b00\nmodules=/s.v00   ---   imgdb.tgz --- imgpayld.tgz\r\n");
        c.insert_module_before_imgdb("/x.v00").unwrap();
        assert_eq!(
            c.to_string(),
            "kernel=/b.b00\nmodules=/s.v00   ---   /x.v00 --- imgdb.tgz --- imgpayld.tgz\r\n"
        );
    }

    #[test]
    fn insert_without_imgdb_is_an_error() {
        let mut c = cfg("kernel=/b.b00\nmodules=/s.v00\n");
        assert!(c.insert_module_before_imgdb("/x.v00").is_err());
        assert!(c.insert_module_before_imgdb("/x y").is_err());
    }

    #[test]
    fn remove_module_anywhere() {
        let mut c = cfg("modules=/a.v00 --- /b.v00 --- /c.v00\n");
        assert_eq!(c.remove_module("B.V00"), 1);
        assert_eq!(c.to_string(), "modules=/a.v00 --- /c.v00\n");
        assert_eq!(c.remove_module("a.v00"), 1);
        assert_eq!(c.to_string(), "modules=/c.v00\n");
        assert_eq!(c.remove_module("c.v00"), 1);
        assert_eq!(c.to_string(), "modules=\n");
        let mut c = cfg("modules=/a.v00 --- /b.v00 --- /b.v00 --- /c.v00\n");
        assert_eq!(c.remove_module("b.v00"), 2);
        assert_eq!(c.get("modules").as_deref(), Some("/a.v00 --- /c.v00"));
    }

    #[test]
    fn kernelopt_set_is_idempotent_and_in_place() {
        let mut c = cfg(STOCK8);
        c.set_kernel_option("ks", Some("cdrom:/KS.CFG")).unwrap();
        c.set_kernel_option("ks", Some("cdrom:/KS.CFG")).unwrap();
        assert_eq!(
            c.get("kernelopt").as_deref(),
            Some("runweasel cdromBoot ks=cdrom:/KS.CFG")
        );
        let mut c = cfg("kernelopt=ks=usb:/KS.CFG  runweasel ks=x\nkernel=/b\n");
        c.set_kernel_option("ks", Some("cdrom:/KS.CFG")).unwrap();
        assert_eq!(
            c.to_string(),
            "kernelopt=ks=cdrom:/KS.CFG  runweasel\nkernel=/b\n"
        );
        assert!(c.set_kernel_option("a b", None).is_err());
        assert!(c.set_kernel_option("k", Some("a b")).is_err());
    }

    #[test]
    fn set_appends_missing_option() {
        let mut c = cfg("kernel=/b.b00");
        c.set("kernelopt", "runweasel").unwrap();
        assert_eq!(c.to_string(), "kernel=/b.b00\nkernelopt=runweasel\n");
        assert!(c.set("nosuch", "1").is_err());
        assert!(c.set("title", "a\nb").is_err());
    }

    #[test]
    fn loads_resolve_against_prefix_or_the_cfg_folder() {
        let c = cfg("kernel=b.b00\nmodules=/s.v00 --- k.b00 opt=1\n");
        let loads = c.loads("/EFI/BOOT/BOOT.CFG");
        let paths: Vec<&str> = loads.iter().map(|l| l.path.as_str()).collect();
        assert_eq!(paths, ["/EFI/BOOT/b.b00", "/s.v00", "/EFI/BOOT/k.b00"]);
        assert_eq!(loads[2].options, "opt=1");
        let c = cfg("prefix=/esx\nkernel=b.b00\n");
        assert_eq!(c.loads("/BOOT.CFG")[0].path, "/esx/b.b00");
    }

    #[test]
    fn paths_resolve_like_make_path() {
        assert_eq!(resolve_path("/EFI/BOOT", Some(""), "/b.b00"), "/b.b00");
        assert_eq!(resolve_path("/EFI/BOOT", None, "b.b00"), "/EFI/BOOT/b.b00");
        assert_eq!(resolve_path("/", Some("/esxi"), "b.b00"), "/esxi/b.b00");
        assert_eq!(resolve_path("/", Some(""), "b.b00"), "/b.b00");
    }

    #[test]
    fn nul_ends_a_line_and_only_c_spaces_separate() {
        // The loader reads C strings: nothing after a NUL exists for it.
        let mut c = cfg("kernelopt=runweasel\0 hidden=1\nkernel=/b\n");
        assert_eq!(c.get("kernelopt").as_deref(), Some("runweasel"));
        c.set_kernel_option("ks", Some("cdrom:/KS.CFG")).unwrap();
        assert_eq!(c.kernelopt().get("ks"), Some("cdrom:/KS.CFG"));
        assert_eq!(
            c.to_string(),
            "kernelopt=runweasel ks=cdrom:/KS.CFG\0 hidden=1\nkernel=/b\n"
        );
        // \v separates (C isspace), a no-break space does not.
        let c = cfg("kernelopt=a\x0bb c\u{a0}d\n");
        assert_eq!(c.kernelopt().get("b"), Some(""));
        assert_eq!(c.kernelopt().get("c\u{a0}d"), Some(""));
        let mut c = cfg("kernelopt=a\rb\n");
        c.set_kernel_option("ks", Some("x")).unwrap();
        assert_eq!(c.get("kernelopt").as_deref(), Some("a b ks=x"));
    }

    #[test]
    fn non_utf8_is_a_clear_error() {
        let err = BootCfg::parse("/BOOT.CFG", b"kernel=\xff").unwrap_err();
        assert!(err.to_string().contains("/BOOT.CFG"), "{err}");
    }

    /// BOOT.CFGs as they are found on real media and in the wild, each quoted from a public source
    /// (short excerpts: the module lists are cut where nothing new happens). Every edit must change
    /// only what it is about.
    mod real_shapes {
        use super::*;

        /// ESXi 5.0 installer media as copied to a USB stick, with `ks=usb` added to the first
        /// module (a public ESXi 5 USB-install post, found with `find_string "modules=/b.b00"`):
        /// `tboot.b00` is the kernel, `b.b00` a module with options, names with `-`, the
        /// installer payload `weaselin.i00`, and a space before every line end.
        const ESXI50: &str = "bootstate=0 \ntitle=Loading ESXi installer \nkernel=/tboot.b00 \nkernelopt=runweasel \nmodules=/b.b00 ks=usb --- /useropts.gz --- /k.b00 --- /a.b00 --- /ata-pata.v00 --- /s.v00 --- /weaselin.i00 --- /net-e100.v01 --- /uhci-usb.v00 --- /tools.t00 --- /imgdb.tgz --- /imgpayld.tgz \nbuild= \nupdated=0\n";

        #[test]
        fn esxi50_tboot_module_options_and_trailing_spaces() {
            let mut c = cfg(ESXI50);
            assert_eq!(c.get("kernel").as_deref(), Some("/tboot.b00"));
            assert_eq!(c.get("build").as_deref(), Some(""));
            let mods = c.modules();
            assert_eq!(
                (mods[0].path.as_str(), mods[0].options.as_str()),
                ("/b.b00", "ks=usb")
            );
            assert_eq!(mods[6].basename(), "weaselin.i00");
            assert_eq!(mods.last().unwrap().basename(), "imgpayld.tgz");
            c.insert_module_before_imgdb("/net_test.v00").unwrap();
            c.set_kernel_option("ks", Some("cdrom:/KS.CFG")).unwrap();
            let expected = ESXI50
                .replace("--- /imgdb.tgz", "--- /net_test.v00 --- /imgdb.tgz")
                .replace(
                    "kernelopt=runweasel \n",
                    "kernelopt=runweasel ks=cdrom:/KS.CFG \n",
                );
            assert_eq!(c.to_string(), expected);
            assert_eq!(c.remove_module("net-e100.v01"), 1);
            assert!(c.to_string().contains("/weaselin.i00 --- /uhci-usb.v00"));
            assert!(c.check().is_empty(), "{:?}", c.check());
        }

        /// ESXi 6.5 extracted for PXE as VMware's PXE instructions say: slashes removed, names in
        /// upper case, and here the key too (`MODULES=`; a public RackN/digitalrebar-style
        /// `esxi 6.5 PXE image` guide, found with `find_string "title=Loading ESXi installer"`).
        const ESXI65_PXE: &str = "bootstate=0\ntitle=Loading ESXi installer\ntimeout=5\nkernel=TBOOT.B00\nkernelopt=runweasel\nMODULES=B.B00 --- K.B00 --- CHARDEVS.B00 --- A.B00 --- USER.B00 --- UC_INTEL.B00 --- SB.V00 --- S.V00 --- ATA_LIBA.V00 --- NET_CDC_.V00 --- TOOLS.T00 --- IMGDB.TGZ --- IMGPAYLD.TGZ\nbuild=\nupdated=0\n";

        #[test]
        fn esxi65_pxe_upper_case_key_and_names_without_slashes() {
            let mut c = cfg(ESXI65_PXE);
            let loads = c.loads("/BOOT.CFG");
            assert_eq!(loads[0].path, "/TBOOT.B00");
            assert_eq!(loads[1].path, "/B.B00");
            c.insert_module_before_imgdb("net_test.v00").unwrap();
            assert_eq!(
                c.to_string(),
                ESXI65_PXE.replace("--- IMGDB.TGZ", "--- net_test.v00 --- IMGDB.TGZ")
            );
            assert_eq!(
                c.remove_module("net_cdc_.v00"),
                1,
                "names compare without case"
            );
        }

        /// ESXi 7.0 GA (`datianshi/pxeboot` test fixture `pkg/util`): a relative kernel under
        /// `prefix=images` while the modules stay absolute.
        const ESXI70: &str = "bootstate=0\ntitle=Loading ESXi installer\ntimeout=5\nprefix=images\nkernel=b.b00\nkernelopt=runweasel\nmodules=/jumpstrt.gz --- /useropts.gz --- /features.gz --- /k.b00 --- /uc_intel.b00 --- /uc_amd.b00 --- /uc_hygon.b00 --- /procfs.b00 --- /vmx.v00 --- /vim.v00 --- /tpm.v00 --- /sb.v00 --- /s.v00 --- /i40en.v00 --- /lsi_msgp.v02 --- /elx_esx_.v00 --- /weaselin.v00 --- /lsuv2_oe.v02 --- /vsanmgmt.v00 --- /tools.t00 --- /xorg.v00 --- /imgdb.tgz --- /imgpayld.tgz\nbuild=7.0.0-1.0.15843807\nupdated=0\n";

        #[test]
        fn esxi70_prefix_applies_to_relative_paths_only() {
            let c = cfg(ESXI70);
            let loads = c.loads("/BOOT.CFG");
            assert_eq!(loads[0].path, "images/b.b00");
            assert_eq!(loads[1].path, "/jumpstrt.gz");
            assert_eq!(c.get("build").as_deref(), Some("7.0.0-1.0.15843807"));
        }

        /// ESXi 7.0U3 with serial-console options (a public Ventoy/Azure lab script, found with
        /// `find_string "kernelopt=runweasel"`), and 8.0U3 with `kernelopt=ks=usb:/KS.CFG` and the
        /// 8.x tail after `imgdb.tgz` (a public VCF lab reinstall script).
        const ESXI703: &str = "bootstate=0\ntitle=Loading ESXi installer\ntimeout=5\nprefix=\nkernel=/b.b00\nkernelopt=runweasel cdromBoot tty1Port=com1 tty2Port=com1\nmodules=/jumpstrt.gz --- /useropts.gz --- /features.gz --- /k.b00 --- /s.v00 --- /nmlx5cor.v00 --- /gc.v00 --- /imgdb.tgz --- /basemisc.tgz --- /resvibs.tgz --- /imgpayld.tgz\nbuild=7.0.3-0.55.20328353\nupdated=0\n";
        const ESXI803: &str = "bootstate=0\ntitle=Loading ESXi installer\ntimeout=5\nprefix=\nkernel=/b.b00\nkernelopt=ks=usb:/KS.CFG\nmodules=/jumpstrt.gz --- /useropts.gz --- /features.gz --- /k.b00 --- /uc_intel.b00 --- /sb.v00 --- /s.v00 --- /bcm_mpi3.v00 --- /esxio_co.v00 --- /infravis.v00 --- /tools.t00 --- /xorg.v00 --- /gc.v00 --- /imgdb.tgz --- /basemisc.tgz --- /resvibs.tgz --- /esxiodpt.tgz --- /imgpayld.tgz\nbuild=8.0.3-0.35.24280767\nupdated=0\n";

        #[test]
        fn esxi7_and_8_kernel_options_replace_in_place() {
            let mut c = cfg(ESXI703);
            c.set_kernel_option("ks", Some("cdrom:/KS.CFG")).unwrap();
            assert_eq!(
                c.get("kernelopt").as_deref(),
                Some("runweasel cdromBoot tty1Port=com1 tty2Port=com1 ks=cdrom:/KS.CFG")
            );
            let mut c = cfg(ESXI803);
            c.set_kernel_option("ks", Some("cdrom:/KS.CFG")).unwrap();
            c.insert_module_before_imgdb("/net_test.v00").unwrap();
            assert_eq!(
                c.to_string(),
                ESXI803
                    .replace("kernelopt=ks=usb:/KS.CFG", "kernelopt=ks=cdrom:/KS.CFG")
                    .replace(
                        "/gc.v00 --- /imgdb.tgz",
                        "/gc.v00 --- /net_test.v00 --- /imgdb.tgz"
                    )
            );
        }

        #[test]
        fn crlf_indentation_comments_and_tight_separators_survive() {
            // Edited on Windows (CRLF), indented by a PowerShell here-string (a public 6.7 ISO
            // script), a commented-out kernelopt (a public PXE guide), `---` without spaces.
            let text = "bootstate=0\r\n        title=Loading custom ESXi installer\r\n        kernel=/b.b00\r\n#kernelopt=runweasel\r\n        kernelopt=netdevice=vmnic0 bootproto=dhcp ks=cdrom:/KS/ESX01KS.CFG\r\n        modules=/k.b00---/s.v00 ---/imgdb.tgz--- /imgpayld.tgz\r\nupdaTEd=0\r\n";
            let mut c = cfg(text);
            assert_eq!(
                c.kernelopt().get("ks"),
                Some("cdrom:/KS/ESX01KS.CFG"),
                "the comment is not the value"
            );
            assert_eq!(c.get("updated").as_deref(), Some("0"));
            let names: Vec<String> = c.modules().iter().map(ModuleItem::basename).collect();
            assert_eq!(names, ["k.b00", "s.v00", "imgdb.tgz", "imgpayld.tgz"]);
            c.insert_module_before_imgdb("/net_test.v00").unwrap();
            c.set_kernel_option("ks", Some("cdrom:/KS.CFG")).unwrap();
            assert_eq!(
                c.to_string(),
                text.replace("---/imgdb.tgz", "---/net_test.v00 --- /imgdb.tgz")
                    .replace("ks=cdrom:/KS/ESX01KS.CFG", "ks=cdrom:/KS.CFG")
            );
            assert!(c.check().is_empty(), "{:?}", c.check());
        }
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn parse_never_panics_and_round_trips(s in "[ -~\\t\\r\\n]{0,200}") {
                let c = cfg(&s);
                prop_assert_eq!(c.to_string(), s);
                let _ = c.modules();
                let _ = c.check();
            }

            #[test]
            fn edits_touch_only_their_line(
                head in "(#[ -~]{0,20}\n|foo=[a-z]{0,5}\n){0,4}",
                mods in proptest::collection::vec("/[a-z]{1,8}\\.v0[0-9]", 0..5),
                tail in "(#[ -~]{0,20}\n|bar=[a-z]{0,5}\n){0,4}",
            ) {
                let text = format!("{head}modules={} --- /imgdb.tgz\n{tail}", mods.join(" --- "));
                let mut c = cfg(&text);
                c.insert_module_before_imgdb("/new.v00").unwrap();
                let out = c.to_string();
                prop_assert!(out.starts_with(&head));
                prop_assert!(out.ends_with(&tail));
                let names: Vec<String> = c.modules().iter().map(|m| m.basename()).collect();
                prop_assert_eq!(names.len(), mods.len() + 2);
                prop_assert_eq!(&names[names.len() - 2], "new.v00");
                prop_assert_eq!(c.remove_module("new.v00"), 1);
                prop_assert_eq!(c.modules().len(), mods.len() + 1);
            }
        }
    }
}
