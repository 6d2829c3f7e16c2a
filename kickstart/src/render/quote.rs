//! Quoting for the two languages a kickstart holds: installer command lines (read by Python's
//! `shlex.split(line, comments=True)`) and busybox shell in the script sections.

use std::borrow::Cow;

/// Characters that need no quoting in either language.
fn plain(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@%+=:,./_-".contains(&b))
}

/// A kickstart command-line value: as is when it is plain, else in double quotes (inside
/// which shlex honours only `\"` and `\\`). Unquoted, a `#` would start a comment and a
/// space would split the value.
pub fn ksq(s: &str) -> Cow<'_, str> {
    if plain(s) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    Cow::Owned(out)
}

/// A word for busybox `sh`: as is when it is plain, else in single quotes, with each `'`
/// written as `'\''`.
pub fn shq(s: &str) -> Cow<'_, str> {
    if plain(s) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(format!("'{}'", s.replace('\'', r"'\''")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kickstart_values() {
        assert_eq!(ksq("vmnic0"), "vmnic0");
        assert_eq!(ksq("10.0.0.2,10.0.0.3"), "10.0.0.2,10.0.0.3");
        assert_eq!(ksq("US Default"), "\"US Default\"");
        assert_eq!(ksq("pa#ss"), "\"pa#ss\"");
        assert_eq!(ksq(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(ksq(""), "\"\"");
    }

    #[test]
    fn shell_words() {
        assert_eq!(shq("vSwitch1"), "vSwitch1");
        assert_eq!(shq("VM Network"), "'VM Network'");
        assert_eq!(shq("it's"), r"'it'\''s'");
        assert_eq!(shq("$(reboot)"), "'$(reboot)'");
    }
}
