//! Our checks on top of the installer (`S-` codes): what the installer accepts but breaks an
//! install or a host silently. They are warnings or notes, never errors.

use super::codes::{Code, Severity};
use super::installer::pre_end_fails;
use super::{LintOptions, Out};
use crate::parse::{Kickstart, Section, SectionKind, TERMINATORS, shlex};

/// Kickstart-only commands: seen as the first word of a script line they are almost surely a
/// command that landed below a section header by mistake.
const KS_ONLY: [&str; 14] = [
    "vmaccepteula",
    "accepteula",
    "rootpw",
    "network",
    "installorupgrade",
    "clearpart",
    "keyboard",
    "serialnum",
    "vmserialnum",
    "paranoid",
    "dryrun",
    "autopart",
    "partitionembed",
    "partition",
];

const DASHES: [char; 7] = [
    '\u{2010}', '\u{2011}', '\u{2012}', '\u{2013}', '\u{2014}', '\u{2212}', '\u{FE63}',
];
const SMART_QUOTES: [char; 8] = [
    '\u{2018}', '\u{2019}', '\u{201A}', '\u{201B}', '\u{201C}', '\u{201D}', '\u{201E}', '\u{201F}',
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum LineKind {
    Other,
    Command,
    Body(SectionKind),
}

pub fn check(text: &str, ks: &Kickstart, opts: &LintOptions, out: &mut Out) {
    if let Some(first) = ks.crlf_lines.first() {
        out.add(
            Some(*first),
            Code::Crlf,
            format!(
                "{} line(s) end with CRLF (Windows line endings)",
                ks.crlf_lines.len()
            ),
        )
        .hint = Some(
            "convert to LF (`dos2unix`); installers before 7.x may keep `\\r` in scripts".into(),
        );
    }
    let mut kinds = vec![LineKind::Other; ks.line_count + 1];
    for c in &ks.commands {
        if let Some(k) = kinds.get_mut(c.line) {
            *k = LineKind::Command;
        }
    }
    for s in &ks.sections {
        if let Some(k) = kinds.get_mut(s.header.line) {
            *k = LineKind::Command;
        }
        for n in s.body_lines.clone() {
            if let Some(k) = kinds.get_mut(n) {
                *k = LineKind::Body(s.kind);
            }
        }
    }
    let lines: Vec<&str> = text.split('\n').collect();
    for (i, line) in lines.iter().enumerate() {
        let number = i + 1;
        if line.is_ascii() {
            continue;
        }
        characters(
            number,
            line,
            kinds.get(number).copied().unwrap_or(LineKind::Other),
            out,
        );
    }

    for c in &ks.commands {
        // A `#` glued to the command name or to a bare `--flag` ends a word that was complete
        // anyway (`reboot#now`, `--overwritevmfs#wipe`, a byte-order mark before a comment);
        // one inside a value silently shortens it (`rootpw pa#ss`).
        let cuts_value = c
            .words
            .last()
            .is_some_and(|w| !w.text.starts_with("--") || w.text.contains('='));
        if c.comment_cuts_word && cuts_value {
            let (what, cut) = match c.name.as_str() {
                "rootpw" => ("the password".to_owned(), String::new()),
                _ => {
                    let cut = c.words.last().map(|w| w.text.clone()).unwrap_or_default();
                    (format!("`{cut}`"), cut)
                }
            };
            let f = out.add(Some(c.line), Code::HashCuts, format!("an unquoted `#` starts a comment in the middle of a word: the installer reads only {what}"));
            f.hint = Some(if cut.is_empty() {
                "quote the value: '...#...'".into()
            } else {
                format!("quote the whole value: '{cut}#…'")
            });
        }
        match c.name.as_str() {
            "rootpw" if !c.has("--iscrypted") && c.positionals().next().is_some() => {
                out.add(
                    Some(c.line),
                    Code::RootpwClear,
                    "the root password is in clear text",
                )
                .hint =
                    Some("use `rootpw --iscrypted` with a `$6$` hash (`openssl passwd -6`)".into());
            }
            "network" => {
                if let Some(ns) = c.value("--nameserver") {
                    let n = ns.split(',').count();
                    if n > 2 {
                        out.add(Some(c.line), Code::Nameservers, format!("{n} nameservers given: the installer uses the first two and silently drops the rest"))
                            .hint = Some("keep two on the `network` line and add the others in %firstboot: `esxcli network ip dns server add --server=IP`".into());
                    }
                }
            }
            "install" | "installorupgrade"
                if opts.version.has_install_command() && c.has("--preservevmfs") =>
            {
                for other in ["--overwritevmfs", "--novmfsondisk"] {
                    if c.has(other) {
                        out.add(Some(c.line), Code::VmfsExclusive, format!("--preservevmfs with {other}: declared exclusive, but the installer does not check it and --preservevmfs wins"))
                            .hint = Some(format!("keep only the one you mean: --preservevmfs or {other}"));
                    }
                }
            }
            "install" | "autopart" if !opts.version.has_install_command() => {
                let usb = ["--firstdisk", "--disk", "--drive"]
                    .iter()
                    .filter_map(|f| c.value(f))
                    .any(|v| v.to_ascii_lowercase().contains("usb"));
                if usb {
                    out.add(
                        Some(c.line),
                        Code::UsbInstall4x,
                        "a scripted install to USB/SD media is not supported on ESXi 4.x",
                    )
                    .hint = Some("install to a local or SAN disk, or use ESXi 5.0 or later".into());
                }
            }
            _ => {}
        }
    }

    for s in &ks.sections {
        section(s, &lines, opts, out);
    }
    if let Some(line) = ks.dropped_last_line {
        out.add(
            Some(line),
            Code::LastLineDropped,
            "the installer never reads this last line: it is taken as the end of the section above",
        )
        .hint = Some("add a line after it, or move it up".into());
    }
    let ssh = ks.sections.iter().flat_map(Section::lines).find(|(_, l)| {
        let l = l.trim_start();
        !l.starts_with('#') && SSH.iter().any(|s| l.contains(s))
    });
    if let Some((line, _)) = ssh {
        out.add(
            Some(line),
            Code::Ssh,
            "SSH or the ESXi Shell is enabled on the installed host",
        );
    }
}

const SSH: [&str; 6] = [
    "hostsvc/enable_ssh",
    "hostsvc/start_ssh",
    "hostsvc/enable_remote_tsm",
    "hostsvc/enable_local_tsm",
    "hostsvc/enable_esx_shell",
    "--ruleset-id=sshServer",
];

fn characters(number: usize, line: &str, kind: LineKind, out: &mut Out) {
    let mut other = None;
    let mut dash = false;
    let mut quote = false;
    for (at, c) in line.char_indices() {
        if DASHES.contains(&c) && !dash {
            dash = true;
            let word: String = line
                .get(at..)
                .unwrap_or_default()
                .chars()
                .skip_while(|c| DASHES.contains(c))
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
            let f = out.add(Some(number), Code::Dash, format!("a typographic dash (U+{:04X}) where the shell and the installer expect an ASCII `-`", c as u32));
            f.hint = Some(if word.is_empty() {
                "type `-` instead".into()
            } else {
                format!("did you mean `--{word}`?")
            });
        } else if SMART_QUOTES.contains(&c) && !quote {
            quote = true;
            out.add(
                Some(number),
                Code::SmartQuote,
                format!("a typographic quote (U+{:04X}) quotes nothing", c as u32),
            )
            .hint = Some("use a plain ' or \"".into());
        } else if !c.is_ascii()
            && c != '\u{FFFD}'
            && !DASHES.contains(&c)
            && !SMART_QUOTES.contains(&c)
            && other.is_none()
        {
            other = Some(c);
        }
    }
    // On command lines the installer's own W-NON-ASCII already says it.
    if let (Some(c), false) = (other, kind == LineKind::Command) {
        let place = match kind {
            LineKind::Body(k) => format!("the {} script", k.keyword()),
            _ => "a comment".to_owned(),
        };
        out.add(
            Some(number),
            Code::NonAsciiText,
            format!("non-ASCII character U+{:04X} `{c}` in {place}", c as u32),
        )
        .hint = Some("keep kickstarts plain ASCII".into());
    }
}

fn section(s: &Section, lines: &[&str], opts: &LintOptions, out: &mut Out) {
    let kind = s.kind;
    let python = s.interpreter() == Some("python");
    if let Some(end) = s.ended_by {
        let raw = lines
            .get(end.saturating_sub(1))
            .copied()
            .unwrap_or_default();
        let first = shlex::split(raw)
            .ok()
            .and_then(|t| t.words.into_iter().next())
            .map(|w| w.text);
        let exact = first.as_deref().is_some_and(|f| TERMINATORS.contains(&f));
        if !exact {
            let prefix = TERMINATORS
                .iter()
                .find(|t| raw.starts_with(*t))
                .copied()
                .unwrap_or_default();
            out.add(Some(end), Code::SectionCut, format!("this line starts with `{prefix}`, so the installer ends the {} section here and reads the line as a command", kind.keyword()))
                .hint = Some("indent the line (a leading space keeps it in the script)".into());
        }
    }
    if kind == SectionKind::Firstboot && opts.version.has_secure_boot() {
        let f = out.add(
            Some(s.header.line),
            Code::FirstbootSecureBoot,
            "%firstboot does not run when UEFI Secure Boot is enabled (it is skipped silently)",
        );
        if opts.secure_boot {
            f.severity = Severity::Warning;
            f.message = "%firstboot will not run: this host boots with UEFI Secure Boot, which skips it silently".into();
        }
        f.hint = Some("move what must run into %post, or configure the host after install (esxforge host apply)".into());
    }
    let failing_end = (kind == SectionKind::Pre)
        .then(|| pre_end_fails(s.header.line, &s.body, python))
        .flatten();
    let mut reboot_at: Option<usize> = None;
    let mut after_reboot_reported = false;
    let mut hostd_reported = false;
    for (n, line) in s.lines() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let mut words = t.split_whitespace();
        let first = words.next().unwrap_or_default();
        if t == "%end" {
            // Where it makes a %pre fail, the installer's verdict (E-PRE-FAILS) already says so.
            if Some(n) == failing_end {
                continue;
            }
            out.add(
                Some(n),
                Code::SectionEnd,
                "`%end` is not an ESXi kickstart keyword: it becomes a line of the script",
            )
            .hint = Some("remove it: ESXi sections run to the next `%` section".into());
            continue;
        }
        let ks_command = KS_ONLY.contains(&first)
            || (matches!(first, "install" | "upgrade")
                && t.contains("--firstdisk")
                    | t.contains("--disk=")
                    | t.contains("--overwritevmfs"))
            || (first == "part" && t.contains("--ondisk"))
            || (python && first == "reboot");
        if ks_command && line.starts_with(first) {
            out.add(
                Some(n),
                Code::CommandInSection,
                format!(
                    "`{first}` is a kickstart command, but here it is a line of the {} script",
                    kind.keyword()
                ),
            )
            .hint = Some("move kickstart commands above the first section".into());
        }
        if let Some(r) = reboot_at {
            if !after_reboot_reported
                && !python
                && !matches!(
                    first,
                    "fi" | "done" | "esac" | "}" | ";;" | "else" | "elif" | "exit"
                )
            {
                after_reboot_reported = true;
                out.add(
                    Some(n),
                    Code::AfterReboot,
                    format!("this runs after the reboot on line {r}, so it never runs"),
                )
                .hint = Some("make the reboot the last command of the section".into());
            }
        } else if !python && is_reboot(line) {
            reboot_at = Some(n);
        }
        if kind == SectionKind::Firstboot {
            if let Some(adapter) = vmhba(t) {
                out.add(Some(n), Code::Vmhba, format!("`{adapter}` is hard-coded: adapter numbers differ between hosts and releases"))
                    .hint = Some("discover it at run time, e.g. `esxcli iscsi adapter list | awk '/iscsi_vmk/{print $1}'`".into());
            }
        }
        if t.contains("esxcli software set") && t.contains("--enabled") {
            out.add(
                Some(n),
                Code::EsxcliTypo,
                "`esxcli software set --enabled` does not exist",
            )
            .hint = Some("did you mean `esxcli iscsi software set --enabled=true`?".into());
        }
        if matches!(kind, SectionKind::Pre | SectionKind::Post) && !hostd_reported {
            if let Some(tool) = hostd_tool(t) {
                hostd_reported = true;
                out.add(
                    Some(n),
                    Code::HostdInInstaller,
                    format!(
                        "`{tool}` in {}: hostd is not running in the installer, so this fails",
                        kind.keyword()
                    ),
                )
                .hint = Some("use `localcli` here, or move it to %firstboot".into());
            }
        }
        if opts.secure_boot
            && (t.contains("--no-sig-check")
                || t.to_ascii_lowercase().contains("communitysupported"))
        {
            out.add(Some(n), Code::UnsignedSecureBoot, "unsigned or CommunitySupported software on a Secure Boot host: it fails the Secure Boot check and the host may not boot")
                .hint = Some("install only signed VIBs at PartnerSupported level or above".into());
        }
    }
}

fn is_reboot(line: &str) -> bool {
    if line.starts_with(char::is_whitespace) || line.trim_end().ends_with('&') {
        return false;
    }
    let mut words = line.split_whitespace();
    let first = words.next().unwrap_or_default();
    matches!(
        first,
        "reboot" | "/bin/reboot" | "/sbin/reboot" | "poweroff" | "halt"
    ) || (first == "esxcli" && line.contains("system shutdown reboot"))
}

fn vmhba(line: &str) -> Option<&str> {
    let mut from = 0;
    while let Some(pos) = line.get(from..).and_then(|r| r.find("vmhba")) {
        let start = from + pos;
        let digits_end = line
            .get(start + 5..)?
            .find(|c: char| !c.is_ascii_digit())
            .map_or(line.len(), |e| start + 5 + e);
        let has_digits = digits_end > start + 5;
        let before = line.get(..start).and_then(|b| b.chars().last());
        let after = line.get(digits_end..).and_then(|a| a.chars().next());
        if has_digits && before != Some('.') && after != Some(':') {
            return line.get(start..digits_end);
        }
        from = start + 5;
    }
    None
}

fn hostd_tool(line: &str) -> Option<&'static str> {
    for tool in ["vim-cmd", "esxcli"] {
        let mut from = 0;
        while let Some(pos) = line.get(from..).and_then(|r| r.find(tool)) {
            let start = from + pos;
            let before = line.get(..start).and_then(|b| b.chars().last());
            let after = line
                .get(start + tool.len()..)
                .and_then(|a| a.chars().next());
            let boundary_before =
                before.is_none_or(|c| !c.is_ascii_alphanumeric() && c != '-' && c != '_');
            let boundary_after = after.is_none_or(|c| c.is_whitespace() || c == '"' || c == '\'');
            if boundary_before && boundary_after {
                return Some(tool);
            }
            from = start + tool.len();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vmhba_names() {
        assert_eq!(
            vmhba("esxcli iscsi networkportal add --adapter=vmhba33 --nic=vmk1"),
            Some("vmhba33")
        );
        assert_eq!(vmhba("install --disk=mpx.vmhba1:C0:T0:L0"), None);
        assert_eq!(
            vmhba("for a in $(esxcli iscsi adapter list | grep -o 'vmhba[0-9]*')"),
            None
        );
    }

    #[test]
    fn hostd_tools() {
        assert_eq!(hostd_tool("vim-cmd hostsvc/enable_ssh"), Some("vim-cmd"));
        assert_eq!(hostd_tool("/bin/esxcli network ip set"), Some("esxcli"));
        assert_eq!(hostd_tool("localcli network vswitch standard list"), None);
        assert_eq!(hostd_tool("echo my-esxcli-wrapper"), None);
    }

    #[test]
    fn reboots() {
        assert!(is_reboot("reboot"));
        assert!(is_reboot("esxcli system shutdown reboot -d 10 -r done"));
        assert!(!is_reboot("  reboot"));
        assert!(!is_reboot("sleep 30 && reboot &"));
    }
}
