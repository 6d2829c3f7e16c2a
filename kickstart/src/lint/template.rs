//! Unrendered templates (Jinja, Go templates, Cheetah as Cobbler uses it, ERB): linting one as a
//! kickstart would only produce noise, so it gets one clear finding instead.

use crate::parse::Kickstart;

/// Where the first template marker is and what kind it is.
pub struct Marker {
    pub line: usize,
    pub kind: &'static str,
}

/// The first template marker in the file, if any.
pub fn find(text: &str, ks: &Kickstart) -> Option<Marker> {
    let by_line = text.lines().enumerate().find_map(|(i, line)| {
        let kind = line_marker(line)?;
        Some(Marker { line: i + 1, kind })
    });
    // `$variable` is shell syntax in script bodies; only a whole value of a command is a marker.
    let by_value = ks
        .commands
        .iter()
        .filter(|c| VALUE_COMMANDS.contains(&c.name.as_str()))
        .find_map(|c| {
            let variable = c.words.iter().any(|w| {
                let value = w.text.split_once('=').map_or(w.text.as_str(), |(_, v)| v);
                is_variable(value)
            });
            variable.then_some(Marker {
                line: c.line,
                kind: "a `$variable` value",
            })
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

fn line_marker(line: &str) -> Option<&'static str> {
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
    let name = rest
        .strip_prefix('{')
        .and_then(|r| r.strip_suffix('}'))
        .unwrap_or(rest);
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
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
    fn shell_and_hashes_are_not_templates() {
        assert!(marker("rootpw --iscrypted $1$mF86/UHC$WvcIcX2t6crBz2onWxyac.\n").is_none());
        assert!(
            marker("%firstboot\necho $HOSTNAME ${HOSTNAME%%.*} ${#x}\nawk '{print $1}'\n")
                .is_none()
        );
        assert!(marker("# if you want\n").is_none());
    }
}
