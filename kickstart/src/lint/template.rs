//! Unrendered templates (Jinja, Go templates, Cheetah as Cobbler uses it, ERB) and unfilled
//! placeholders (`@@IP@@`, `##ROOTPW##`, `%DRIVEID%`, `<PASSWORD>`, `${root_password}`, which
//! deployment scripts replace with `sed` or PowerShell before they serve the file): linting one
//! as a kickstart would only produce noise, so it gets one clear finding instead.

use crate::parse::Kickstart;

/// Where the first template marker is and what kind it is.
pub struct Marker {
    pub line: usize,
    pub kind: &'static str,
}

impl Marker {
    /// What to do before linting again.
    pub fn hint(&self) -> &'static str {
        if self.kind.ends_with("placeholder") {
            "fill in the placeholders (as the script that serves this file does), then lint the result"
        } else {
            "render it first (for example `esxforge ks render`), then lint the result"
        }
    }
}

/// The first template marker in the file, if any.
pub fn find(text: &str, ks: &Kickstart) -> Option<Marker> {
    let by_line = text.lines().enumerate().find_map(|(i, line)| {
        let kind = line_marker(line)?;
        Some(Marker { line: i + 1, kind })
    });
    // `$variable`, `%X%` and `<X>` mean other things in script bodies; only the values of the
    // commands templates fill in are markers. `##X##` is cut off as a comment by the tokenizer,
    // so it is looked for in the line as written.
    let by_value = ks
        .commands
        .iter()
        .filter(|c| VALUE_COMMANDS.contains(&c.name.as_str()))
        .find_map(|c| {
            let kind = c
                .words
                .iter()
                .find_map(|w| {
                    let value = w.text.split_once('=').map_or(w.text.as_str(), |(_, v)| v);
                    value_marker(value)
                })
                .or_else(|| hash_placeholder(&c.raw).then_some("a `##NAME##` placeholder"))?;
            Some(Marker { line: c.line, kind })
        });
    match (by_line, by_value) {
        (Some(a), Some(b)) => Some(if b.line < a.line { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// Commands whose values templates fill in; other lines may be script text cut off a section.
const VALUE_COMMANDS: [&str; 13] = [
    "rootpw",
    "network",
    "install",
    "installorupgrade",
    "upgrade",
    "part",
    "partition",
    "clearpart",
    "keyboard",
    "serialnum",
    "vmserialnum",
    "%include",
    "include",
];

/// What kind of marker a command's value is, if it is one.
fn value_marker(value: &str) -> Option<&'static str> {
    if is_variable(value) {
        Some("a `$variable` value")
    } else if enclosed(value, "%", "%", |c| c.is_ascii_uppercase()) {
        Some("a `%NAME%` placeholder")
    } else if value.starts_with('<') && enclosed(value, "<", ">", |c| c.is_ascii_alphabetic()) {
        Some("a `<NAME>` placeholder")
    } else {
        None
    }
}

/// Whether `text` holds `open` NAME `close`, NAME starting with a character `first` accepts and
/// going on with letters, digits, `_` or `-`.
fn enclosed(text: &str, open: &str, close: &str, first: fn(char) -> bool) -> bool {
    let mut rest = text;
    while let Some(at) = rest.find(open) {
        rest = rest.get(at + open.len()..).unwrap_or_default();
        let name_len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(rest.len());
        let name = rest.get(..name_len).unwrap_or_default();
        if name.starts_with(first) && rest.get(name_len..).is_some_and(|r| r.starts_with(close)) {
            return true;
        }
    }
    false
}

/// `##NAME##` starting a word of the line as written (`rootpw ##ROOTPW##`, `--ip=##IP##`).
fn hash_placeholder(raw: &str) -> bool {
    raw.match_indices("##").any(|(at, _)| {
        let before = raw.get(..at).and_then(|b| b.chars().last());
        before.is_none_or(|c| c.is_whitespace() || matches!(c, '=' | '"' | '\'' | ','))
            && enclosed(raw.get(at..).unwrap_or_default(), "##", "##", |c| {
                c.is_ascii_alphabetic()
            })
    })
}

fn line_marker(line: &str) -> Option<&'static str> {
    if enclosed(line, "@@", "@@", |c| c.is_ascii_alphabetic()) {
        return Some("a `@@NAME@@` placeholder");
    }
    if let Some(open) = line.find("{{") {
        if line.get(open..).is_some_and(|rest| rest.contains("}}"))
            && !preceded_by_dollar(line, open)
        {
            return Some("`{{ }}`");
        }
    }
    if let Some(open) = line.find("{%") {
        if !preceded_by_dollar(line, open) && line.contains("%}") {
            return Some("`{% %}`");
        }
    }
    if let Some(open) = line.find("{#") {
        if line.get(open..).is_some_and(|rest| rest.contains("#}")) {
            return Some("a Jinja comment `{# #}`");
        }
    }
    // Terraform's templatefile() directives: `%{ if … }`, `%{ for … }`, `%{ endif }`.
    if line.match_indices("%{").any(|(at, _)| {
        let rest = line
            .get(at + 2..)
            .unwrap_or_default()
            .trim_start_matches([' ', '~']);
        ["if ", "for ", "else", "endif", "endfor"]
            .iter()
            .any(|k| rest.starts_with(k))
    }) {
        return Some("a Terraform `%{ }` directive");
    }
    if line.contains("<%") && line.contains("%>") {
        return Some("ERB `<% %>`");
    }
    if line.contains("$SNIPPET(") || line.contains("$SNIPPET (") {
        return Some("Cheetah `$SNIPPET`");
    }
    let t = line.trim_start();
    const CHEETAH: [&str; 8] = [
        "#if $", "#else if", "#end if", "#for $", "#end for", "#set $", "#raw", "#end raw",
    ];
    CHEETAH
        .iter()
        .any(|d| t.starts_with(d))
        .then_some("a Cheetah `#` directive")
}

fn preceded_by_dollar(line: &str, at: usize) -> bool {
    at > 0 && line.as_bytes().get(at - 1) == Some(&b'$')
}

/// `$name` or `${name}` and nothing else.
fn is_variable(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('$') else {
        return false;
    };
    // `${clear.device}`: a dotted name is a template's (a shell variable has no dots).
    let (name, dots) = match rest.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
        Some(braced) => (braced, true),
        None => (rest, false),
    };
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (dots && c == '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marker(text: &str) -> Option<(usize, &'static str)> {
        find(text, &Kickstart::parse(text)).map(|m| (m.line, m.kind))
    }

    #[test]
    fn finds_templates() {
        assert_eq!(
            marker("vmaccepteula\nrootpw {{ pw }}\n").map(|m| m.0),
            Some(2)
        );
        assert_eq!(marker("{% if x %}\n").map(|m| m.0), Some(1));
        assert_eq!(
            marker("$SNIPPET('network_config_esxi')\n").map(|m| m.0),
            Some(1)
        );
        assert_eq!(
            marker("rootpw --iscrypted $default_password_crypted\n").map(|m| m.0),
            Some(1)
        );
        assert_eq!(marker("network --ip=$ip\n").map(|m| m.0), Some(1));
        assert_eq!(marker("#if $x\n").map(|m| m.0), Some(1));
    }

    #[test]
    fn finds_placeholders_that_scripts_fill_in() {
        let kind = |text: &str| marker(text).map(|m| m.1);
        assert_eq!(
            kind("vmaccepteula\nrootpw ##ROOTPW##\n"),
            Some("a `##NAME##` placeholder")
        );
        assert_eq!(
            kind("network --bootproto=static --ip=@@IP@@\n"),
            Some("a `@@NAME@@` placeholder")
        );
        assert_eq!(
            kind("install --drive=naa.%DRIVEID% --overwritevmfs\n"),
            Some("a `%NAME%` placeholder")
        );
        assert_eq!(kind("rootpw <PASSWORD>\n"), Some("a `<NAME>` placeholder"));
        assert_eq!(
            kind("network --bootproto=dhcp %{ if vlan != 0 }--vlanid=${vlan}%{ endif }\n"),
            Some("a Terraform `%{ }` directive")
        );
        assert_eq!(
            kind("{# rendered per host #}\nvmaccepteula\n"),
            Some("a Jinja comment `{# #}`")
        );
        assert_eq!(
            kind("clearpart ${clear.device}\n"),
            Some("a `$variable` value")
        );
    }

    #[test]
    fn comments_passwords_and_scripts_are_not_placeholders() {
        for text in [
            "rootpw --iscrypted $1$mF86/UHC$WvcIcX2t6crBz2onWxyac.\n",
            "rootpw Pa%ss%word1\n",
            "rootpw 'a<b>c9!D'\n",
            "reboot ## done ##\n",
            "#### Network ####\nnetwork --bootproto=dhcp\n",
            "%firstboot --interpreter=busybox\nawk -F'##' '{print $1}'\necho %PATH%\n",
            "%firstboot --interpreter=busybox\necho ${#list} %{x}\n",
        ] {
            assert!(marker(text).is_none(), "{text:?}");
        }
    }

    #[test]
    fn shell_and_hashes_are_not_templates() {
        assert!(marker("rootpw --iscrypted $1$mF86/UHC$WvcIcX2t6crBz2onWxyac.\n").is_none());
        assert!(
            marker("%firstboot\necho $HOSTNAME ${HOSTNAME%%.*} ${#x}\nawk '{print $1}'\n")
                .is_none()
        );
        assert!(marker("# if you want\n").is_none());
    }
}
