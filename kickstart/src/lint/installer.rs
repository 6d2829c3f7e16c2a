//! What the ESXi installer itself reports: a replay of its scripted-install preparser
//! (`ScriptedInstallPreparser`: `singlePass`, `buildBranch`, `validate`, the `do…` actions and
//! `postValidate`) over parsed files, without the parts that need the target machine (disks,
//! NICs, running `%pre`).
//!
//! Where the installer stops at its first error, we go on and report every error it would stop on,
//! one run after another.

use std::collections::{HashMap, HashSet};

use super::codes::Code;
use super::grammar::{ArgSpec, CommandSpec, Detail, Grammar, Hanging, ValueRule};
use super::values::{self, KEYBOARDS};
use super::{Out, hint_for_word};
use crate::parse::{Command, Kickstart, LineErrorKind, TokenError};
use crate::version::EsxiVersion;

const MAX_COMMANDS: usize = 256;

/// A UTF-8 byte-order mark: Python decodes it as this character, which `shlex` keeps in a word.
const BOM: char = '\u{FEFF}';

/// Commands `upgrade` turns into "invalidated" ones (`chooseUpgrade`).
const INVALIDATED_BY_UPGRADE: [&str; 7] = [
    "install",
    "rootpw",
    "network",
    "keyboard",
    "vmserialnum",
    "clearpart",
    "part",
];

/// What the replay learned about the file set, for the checks that come after it.
#[derive(Default)]
pub struct Facts {
    /// Command ids seen (`vmaccepteula` for `accepteula` too), with their last line and file.
    pub seen: HashMap<&'static str, (usize, usize)>,
    pub paranoid: bool,
}

/// The replay's state across files (the installer keeps one for the whole include tree).
pub struct Replay<'g> {
    grammar: &'g Grammar,
    version: EsxiVersion,
    upgrade: bool,
    unknown: HashSet<String>,
    count: usize,
    pub facts: Facts,
}

/// An argument the grammar accepted: its name as written and its value.
type Branch = Vec<(String, Option<String>)>;

fn get<'b>(branch: &'b Branch, name: &str) -> Option<&'b Option<String>> {
    branch.iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

fn has(branch: &Branch, name: &str) -> bool {
    get(branch, name).is_some()
}

fn any(branch: &Branch, names: &[&str]) -> bool {
    names.iter().any(|n| has(branch, n))
}

fn value<'b>(branch: &'b Branch, name: &str) -> Option<&'b str> {
    get(branch, name).and_then(|v| v.as_deref())
}

impl<'g> Replay<'g> {
    /// `upgrade` anywhere in the file set switches the installer to upgrade mode before the
    /// other commands are read (pass 3 comes before pass 4).
    pub fn new(version: EsxiVersion, files: &[&Kickstart]) -> Replay<'g> {
        let grammar = Grammar::get(version);
        let upgrade = version.has_upgrade()
            && files
                .iter()
                .any(|ks| ks.commands.iter().any(|c| c.name == "upgrade"));
        Replay {
            grammar,
            version,
            upgrade,
            unknown: HashSet::new(),
            count: 0,
            facts: Facts::default(),
        }
    }

    /// Replay one file; `file` is its index in the include order.
    pub fn file(&mut self, file: usize, ks: &Kickstart, out: &mut Out) {
        for e in &ks.errors {
            let code = match e.kind {
                LineErrorKind::NotUtf8 => Code::Encoding,
                LineErrorKind::Token(TokenError::NoClosingQuotation) => Code::Quote,
                LineErrorKind::Token(TokenError::NoEscapedCharacter) => Code::Escape,
            };
            let hint = match code {
                Code::Quote => Some("close the quote on the same line; a value cannot span lines"),
                Code::Escape => Some("end the file with a newline, or remove the trailing `\\`"),
                _ => Some("save the file as UTF-8 (better: plain ASCII)"),
            };
            out.add(Some(e.line), code, e.kind.to_string()).hint = hint.map(str::to_owned);
        }
        // Commands and section headers, in file order.
        let mut items: Vec<(&Command, Option<&str>)> =
            ks.commands.iter().map(|c| (c, None)).collect();
        for s in &ks.sections {
            if !s.header.name.is_empty() {
                items.push((&s.header, Some(s.body.as_str())));
            }
        }
        items.sort_by_key(|(c, _)| c.line);
        for (cmd, body) in items {
            self.command(file, cmd, body, out);
        }
    }

    fn command(&mut self, file: usize, cmd: &Command, body: Option<&str>, out: &mut Out) {
        let line = Some(cmd.line);
        if !cmd.raw.is_ascii() {
            out.add(
                line,
                Code::NonAscii,
                "the command line contains a non-ASCII character",
            )
            .hint = non_ascii_hint(&cmd.raw);
        }
        let Some(spec) = self.grammar.command(&cmd.name) else {
            if self.unknown.insert(cmd.name.clone()) {
                let f = out.add(
                    line,
                    Code::UnknownCommand,
                    format!("unknown command \"{}\" (the line is ignored)", cmd.name),
                );
                f.hint = hint_for_word(&cmd.name, self.grammar.names());
            }
            return;
        };
        self.count += 1;
        if self.count == MAX_COMMANDS + 1 {
            out.add(
                line,
                Code::TooManyCommands,
                format!("more than {MAX_COMMANDS} commands were included in the kickstart file(s)"),
            );
        }
        match spec.detail {
            Detail::Deprecated => {
                let f = out.add(
                    line,
                    Code::Deprecated,
                    format!(
                        "command \"{}\" is deprecated for ESXi {} and is ignored",
                        cmd.name, self.version
                    ),
                );
                if cmd.name == "autopart" {
                    f.hint =
                        Some("use `install --firstdisk --overwritevmfs` (5.0 and later)".into());
                }
                return;
            }
            Detail::Unused => {
                out.add(
                    line,
                    Code::Unused,
                    format!("command \"{}\" is currently unused", cmd.name),
                );
                return;
            }
            Detail::Optional | Detail::Required => {}
        }
        if self.upgrade && INVALIDATED_BY_UPGRADE.contains(&cmd.name.as_str()) {
            out.add(
                line,
                Code::Invalidated,
                format!(
                    "command \"{}\" is invalidated by `upgrade` (it has no effect)",
                    cmd.name
                ),
            );
        }
        let mut words: Vec<&str> = cmd.words.iter().map(|w| w.text.as_str()).collect();
        if let Some(text) = body {
            words.push(text);
        }
        let branch = self.build_branch(spec, cmd, &words, out);
        self.validate_args(spec, &branch, line, out);

        if cmd.name == "paranoid" {
            self.facts.paranoid = true;
        }
        if !spec.multiple {
            if let Some((prev, prev_file)) = self.facts.seen.get(spec.id) {
                let place = if *prev_file == file {
                    format!("line {prev}")
                } else {
                    format!("line {prev} of another file")
                };
                if spec.duplicate_error {
                    out.add(
                        line,
                        Code::DuplicateInstall,
                        format!(
                            "command \"{}\" was already specified ({place}); there can be only one",
                            spec.id
                        ),
                    );
                } else {
                    let f = out.add(line, Code::DuplicateCommand, format!("command \"{}\" was already specified ({place}); the installer uses this later one", spec.id));
                    if spec.id == "network" {
                        f.hint = Some("ESXi configures one management interface at install time: keep one `network` line and set up other NICs in %firstboot".into());
                    }
                }
            }
        }
        self.facts.seen.insert(spec.id, (cmd.line, file));
        self.action(spec, cmd, &branch, out);
        if let (Some(text), "%pre") = (body, spec.id) {
            let python = value(&branch, "--interpreter") == Some("python");
            if let Some(end) = pre_end_fails(cmd.line, text, python) {
                let why = if python {
                    "Python cannot compile a script with a `%end` line"
                } else {
                    "busybox runs this `%end` as the script's last command, which is not found (exit 127)"
                };
                out.add(
                    Some(end),
                    Code::PreFails,
                    format!(
                        "this %pre cannot succeed: {why}, and the installer stops when %pre fails"
                    ),
                )
                .hint = Some("remove `%end`: ESXi sections run to the next `%` section".into());
            }
        }
    }

    fn build_branch(
        &self,
        spec: &CommandSpec,
        cmd: &Command,
        words: &[&str],
        out: &mut Out,
    ) -> Branch {
        let line = Some(cmd.line);
        let id = spec.id;
        let mut tuples: Vec<(String, Option<String>, ValueRule, Option<&ArgSpec>)> = Vec::new();
        let mut extra: Vec<(usize, &str)> = Vec::new();
        for (index, word) in words.iter().enumerate() {
            let (key, val) = match word.split_once('=') {
                Some((k, v)) => (k, Some(v.to_owned())),
                None => (*word, None),
            };
            match spec.arg(key) {
                Some(a) => tuples.push((key.to_owned(), val, a.value, Some(a))),
                None => extra.push((index, word)),
            }
        }
        if !spec.hanging.is_empty() {
            extra.retain(|(_, word)| {
                let deprecated = spec
                    .hanging
                    .iter()
                    .any(|h| matches!(h, Hanging::DeprecatedWord(w) if w == word));
                if deprecated {
                    out.add(
                        line,
                        Code::Deprecated,
                        format!("{word} is deprecated for the {id} command and is ignored"),
                    );
                }
                !deprecated
            });
            for h in &spec.hanging {
                let Hanging::Value {
                    name,
                    front,
                    required,
                    rule,
                } = *h
                else {
                    continue;
                };
                let popped = if front {
                    (!extra.is_empty()).then(|| extra.remove(0))
                } else {
                    extra.pop()
                };
                match popped {
                    Some((index, word)) => {
                        let expected = if front {
                            0
                        } else {
                            words.len().saturating_sub(1)
                        };
                        if index != expected && name != "script" {
                            out.add(line, Code::ArgPosition, format!(
                                "expected the {name} argument of \"{id}\" at the {} of the argument list; using \"{}\" found at position {index} instead",
                                if front { "front" } else { "end" },
                                shown(id, name, word),
                            ));
                        }
                        tuples.push((name.to_owned(), Some(word.to_owned()), rule, None));
                    }
                    None if required => {
                        out.add(
                            line,
                            Code::ArgRequired,
                            format!("{name} not specified for {id} command"),
                        );
                    }
                    None => {}
                }
            }
        }
        for (_, word) in &extra {
            let msg = format!("unknown argument \"{word}\" to command \"{id}\" (ignored)");
            let code = if id == "installorupgrade" && *word == "--ignoressd" {
                Code::UnknownArgError
            } else {
                Code::UnknownArg
            };
            let f = out.add(line, code, msg);
            f.hint = hint_for_word(word, spec.args.iter().map(|a| a.name))
                .or_else(|| space_value_hint(spec, words, word));
        }

        let mut branch: Branch = Vec::new();
        for (key, val, rule, arg) in tuples {
            let val = val.or_else(|| arg.and_then(|a| a.none_value).map(str::to_owned));
            let takes_value = !matches!(rule, ValueRule::None);
            let empty = val.as_deref().is_none_or(str::is_empty);
            if empty && takes_value {
                if key == "script" && id == "%firstboot" {
                    out.add(
                        line,
                        Code::FirstbootEmpty,
                        "%firstboot has no script: the installer fails when it reads this section",
                    );
                } else if key == "script" {
                    out.add(line, Code::SectionEmpty, format!("argument \"script\" to command \"{id}\" is missing a value: the section has no script"));
                } else {
                    out.add(
                        line,
                        Code::ArgMissingValue,
                        format!(
                            "argument \"{key}\" to command \"{id}\" is missing a value (ignored)"
                        ),
                    )
                    .hint = Some(format!("write `{key}=VALUE`"));
                }
                continue;
            }
            if !empty && !takes_value {
                out.add(
                    line,
                    Code::ArgNoValue,
                    format!(
                        "argument \"{key}\" to command \"{id}\" does not take a value (ignored)"
                    ),
                )
                .hint = Some(format!("write just `{key}`"));
                continue;
            }
            let val_str = val.as_deref().unwrap_or_default();
            match rule {
                ValueRule::None => {}
                ValueRule::Match {
                    test,
                    error,
                    expected,
                } => {
                    if !test(val_str) {
                        let code = match (key.as_str(), error) {
                            ("--interpreter", _) => Code::Interpreter,
                            ("--esx", _) => Code::Serialnum,
                            (_, true) => Code::ArgValue,
                            (_, false) => Code::ArgValueWarn,
                        };
                        let msg = if error {
                            format!(
                                "argument \"{key}\" to command \"{id}\": \"{}\" is not {expected}",
                                shown(id, &key, val_str)
                            )
                        } else {
                            format!(
                                "argument \"{key}\" to command \"{id}\": \"{val_str}\" is not {expected} (ignored)"
                            )
                        };
                        out.add(line, code, msg);
                        continue;
                    }
                }
                ValueRule::Validate(check) => {
                    if let Err(e) = check(val_str) {
                        let code = if id == "network" {
                            Code::NetworkValue
                        } else {
                            Code::ArgValue
                        };
                        out.add(line, code, format!("\"{key}={val_str}\" {e}"));
                    }
                }
            }
            let alias = arg.and_then(|a| a.alias);
            if has(&branch, &key) || alias.is_some_and(|a| has(&branch, a)) {
                let shown_key = match alias {
                    Some(a) => format!("({key} or {a})"),
                    None => format!("\"{key}\""),
                };
                let code = if arg.is_some_and(|a| a.duplicate_error) {
                    Code::ArgDuplicateError
                } else {
                    Code::ArgDuplicate
                };
                out.add(line, code, format!("duplicate argument {shown_key} specified for command \"{id}\" (the first is kept)"));
            } else {
                branch.push((key, val));
            }
        }
        branch
    }

    fn validate_args(
        &self,
        spec: &CommandSpec,
        branch: &Branch,
        line: Option<usize>,
        out: &mut Out,
    ) {
        let mut conflicts: Vec<(&str, &str)> = Vec::new();
        let mut args: Vec<&ArgSpec> = spec.args.iter().collect();
        args.sort_by_key(|a| a.name);
        for a in args {
            let present = has(branch, a.name);
            if !present {
                continue;
            }
            if a.deprecated {
                out.add(
                    line,
                    Code::Deprecated,
                    format!(
                        "{} is deprecated for \"{}\" and is ignored",
                        a.name, spec.id
                    ),
                );
            }
            for other in a.invalids {
                if has(branch, other) {
                    let pair = if a.name < *other {
                        (a.name, *other)
                    } else {
                        (*other, a.name)
                    };
                    if !conflicts.contains(&pair) {
                        conflicts.push(pair);
                    }
                }
            }
        }
        for (a, b) in conflicts {
            out.add(
                line,
                Code::ArgConflict,
                format!(
                    "{} \"{a}\" is invalid when used with argument \"{b}\"",
                    spec.id
                ),
            );
        }
    }

    /// The `do…` actions that need no hardware.
    fn action(&self, spec: &CommandSpec, cmd: &Command, branch: &Branch, out: &mut Out) {
        let line = Some(cmd.line);
        match spec.id {
            "network" => network(branch, line, out),
            "rootpw" => {
                let Some(password) = value(branch, "password") else {
                    return;
                };
                if has(branch, "--iscrypted") {
                    if !values::crypted_password(password) {
                        out.add(line, Code::RootpwCrypt, "crypted password is not valid")
                            .hint = Some("use a `$6$` SHA-512 hash with a salt of at most 16 characters and no `rounds=` (e.g. `openssl passwd -6 -salt SALT`), or `$1$` MD5".into());
                    }
                } else if let Err(e) = values::clear_password(password, self.version) {
                    out.add(
                        line,
                        Code::RootpwWeak,
                        format!("the clear-text root password is rejected: {e}"),
                    );
                }
            }
            "clearpart"
                if !any(
                    branch,
                    &["--ignoredrives", "--drives", "--alldrives", "--firstdisk"],
                ) =>
            {
                out.add(line, Code::ClearpartNoSelector, "clearpart requires one of the following arguments: --alldrives, --firstdisk, --ignoredrives=, --drives=");
            }
            "part" if !any(branch, &["--ondisk", "--ondrive", "--onfirstdisk"]) => {
                out.add(
                    line,
                    Code::PartNoDisk,
                    "\"--ondisk\", \"--ondrive\", or \"--onfirstdisk\" required, but not found",
                );
            }
            "install"
                if self.version.has_install_command()
                    && !any(branch, &["--drive", "--disk", "--firstdisk"]) =>
            {
                out.add(
                    line,
                    Code::InstallNoDisk,
                    "install requires --disk or --firstdisk",
                )
                .hint = Some("for example `install --firstdisk --overwritevmfs`".into());
            }
            "upgrade" | "installorupgrade"
                if !any(
                    branch,
                    &["--drive", "--disk", "--firstdisk", "--diskBootedFrom"],
                ) =>
            {
                out.add(
                    line,
                    Code::InstallNoDisk,
                    format!("{} requires --drive, --disk, or --firstdisk", spec.id),
                );
            }
            "keyboard" => {
                if let Some(layout) = value(branch, "keyboardtype") {
                    if !values::keyboard(layout) {
                        let f = out.add(line, Code::KeyboardUnknown, format!("invalid keyboard type \"{layout}\" was specified; the default is used"));
                        f.hint = KEYBOARDS
                            .iter()
                            .find(|k| k.eq_ignore_ascii_case(layout))
                            .copied()
                            .or_else(|| values::keyboard_for_code(layout))
                            .map(|k| format!("did you mean '{k}'? (quote names with spaces)"));
                    }
                }
            }
            "vmserialnum"
                if !cmd
                    .words
                    .iter()
                    .any(|w| w.text.split('=').next() == Some("--esx")) =>
            {
                out.add(
                    line,
                    Code::ArgRequired,
                    "argument \"--esx\" required but not found",
                );
            }
            "%pre" | "%post" | "%firstboot" if !cmd.has("--interpreter") => {
                out.add(
                    line,
                    Code::NoInterpreter,
                    "interpreter not defined; defaulting to busybox",
                )
                .hint = Some(format!("write `{} --interpreter=busybox`", spec.id));
            }
            _ => {}
        }
    }

    /// `postValidate` and the final grammar check, once every file is read. `complete` is false
    /// when an included file could not be read (it may hold what looks missing).
    pub fn finish(&self, complete: bool, out: &mut Out) {
        let seen = |id: &str| self.facts.seen.contains_key(id);
        let installs: Vec<&str> = ["install", "upgrade", "installorupgrade"]
            .into_iter()
            .filter(|c| seen(c))
            .collect();
        if installs.len() > 1 {
            let line = installs
                .iter()
                .filter_map(|c| self.facts.seen.get(c).map(|(l, _)| *l))
                .max();
            out.add(line, Code::InstallConflict, format!("more than one of 'install', 'upgrade', or 'installorupgrade' was specified ({}); there can be only one", installs.join(", ")));
        }
        if self.version.has_install_command() && !seen("install") {
            let mut needing: Vec<(usize, &str)> = self
                .facts
                .seen
                .iter()
                .filter(|(id, _)| self.grammar.command(id).is_some_and(|c| c.requires_install))
                .map(|(id, (line, _))| (*line, *id))
                .collect();
            needing.sort();
            for (line, id) in needing {
                out.add(
                    Some(line),
                    Code::RequiresInstall,
                    format!("command \"{id}\" requires command \"install\""),
                );
            }
        }
        if !complete {
            return;
        }
        if !seen("vmaccepteula") {
            out.add(None, Code::NoAcceptEula, "vmaccepteula command was not specified: you must accept the VMware End User License Agreement in the script")
                .hint = Some("add a line `vmaccepteula` at the top".into());
        }
        if !seen("rootpw") && !self.upgrade {
            out.add(
                None,
                Code::NoRootpw,
                "command \"rootpw\" required but not found",
            )
            .hint = Some("add `rootpw --iscrypted '$6$…'` (hash with `openssl passwd -6`)".into());
        }
        if !seen("network") && !self.upgrade {
            out.add(
                None,
                Code::NoNetwork,
                "network command not specified; defaulting to DHCP",
            );
        }
    }
}

/// The `%end` line that makes a `%pre` body (starting on the line after `header_line`) fail:
/// busybox runs `%end` as a command that is not found, so as the last command it sets the
/// script's exit status; Python rejects the whole script for it.
pub(crate) fn pre_end_fails(header_line: usize, body: &str, python: bool) -> Option<usize> {
    let mut lines = (header_line + 1..).zip(body.lines());
    if python {
        lines.find(|(_, l)| l.trim() == "%end").map(|(n, _)| n)
    } else {
        lines
            .filter(|(_, l)| {
                let t = l.trim();
                !t.is_empty() && !t.starts_with('#')
            })
            .last()
            .filter(|(_, l)| l.trim() == "%end")
            .map(|(n, _)| n)
    }
}

/// Show a value unless it is a password.
fn shown<'a>(id: &str, name: &str, value: &'a str) -> &'a str {
    if id == "rootpw" && name == "password" {
        "…"
    } else {
        value
    }
}

fn non_ascii_hint(raw: &str) -> Option<String> {
    let c = raw.chars().find(|c| !c.is_ascii())?;
    if c == BOM {
        return Some("U+FEFF is a UTF-8 byte-order mark (PowerShell's `Out-File -Encoding utf8` writes one): the installer reads it as part of the first word; save the file without it".into());
    }
    Some(format!(
        "U+{:04X} `{c}`; kickstart command lines should be plain ASCII",
        c as u32
    ))
}

/// `--flag value` written with a space: the value lands as a stray word.
fn space_value_hint(spec: &CommandSpec, words: &[&str], word: &str) -> Option<String> {
    let at = words.iter().position(|w| *w == word)?;
    let prev = words.get(at.checked_sub(1)?)?;
    let arg = spec.arg(prev)?;
    (!matches!(arg.value, ValueRule::None)).then(|| {
        format!("write `{prev}={word}`: the installer does not read a value after a space")
    })
}

fn network(branch: &Branch, line: Option<usize>, out: &mut Out) {
    let bootproto = value(branch, "--bootproto");
    if bootproto.is_none() {
        out.add(
            line,
            Code::NetworkNoBootproto,
            "no bootproto set; defaulting to DHCP",
        );
    }
    let dhcp = bootproto.is_none_or(|b| b == "dhcp");
    if dhcp {
        for k in ["--ip", "--netmask", "--gateway"] {
            if has(branch, k) {
                let f = out.add(
                    line,
                    Code::NetworkDhcpStatic,
                    format!("bootproto was set to DHCP but \"{k}=\" was set"),
                );
                if bootproto.is_none() {
                    f.hint = Some("add `--bootproto=static` (check for a typographic dash in front of `bootproto`)".into());
                }
            }
        }
        for k in ["--hostname", "--nameserver"] {
            if has(branch, k) {
                out.add(
                    line,
                    Code::NetworkDhcpIgnored,
                    format!(
                        "bootproto was set to DHCP but \"{k}=\" was set; it is ignored with DHCP"
                    ),
                );
            }
        }
        return;
    }
    let Some(ip) = value(branch, "--ip") else {
        out.add(
            line,
            Code::NetworkNoIp,
            "bootproto was set to static but \"--ip=\" was not set",
        );
        return;
    };
    for (k, what) in [
        (
            "--hostname",
            "the hostname will be set automatically (localhost)",
        ),
        ("--nameserver", "no nameserver is used"),
        (
            "--netmask",
            "the netmask is computed from the address class",
        ),
        ("--gateway", "the gateway is computed"),
    ] {
        if !has(branch, k) {
            out.add(
                line,
                Code::NetworkStaticDefaults,
                format!("bootproto was set to static but \"{k}=\" was not set; {what}"),
            );
        }
    }
    if let (Some(mask), Some(gw)) = (value(branch, "--netmask"), value(branch, "--gateway")) {
        if let Err(e) = values::ip_settings(ip.trim(), mask.trim(), gw.trim()) {
            out.add(line, Code::NetworkSettings, e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pre_fails_on_its_last_end_or_any_end_in_python() {
        // The body starts on the line after the header (line 10 here).
        assert_eq!(
            pre_end_fails(10, "echo hi\n%end\n\n# done\n", false),
            Some(12)
        );
        assert_eq!(pre_end_fails(10, "  %end\n", false), Some(11));
        // Not the last command: the script's status is the later command's.
        assert_eq!(pre_end_fails(10, "%end\necho hi\n", false), None);
        assert_eq!(pre_end_fails(10, "echo %end\n", false), None);
        assert_eq!(
            pre_end_fails(10, "import os\n%end\nprint(1)\n", true),
            Some(12)
        );
        assert_eq!(pre_end_fails(10, "print('%end')\n", true), None);
    }
}
