//! The installer's value checks, rewritten from its sources (`networking/utils.py`, `users.py`,
//! `regexlocator.py`) without a regex engine: each is a few character tests, so nothing is
//! compiled per file.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::version::EsxiVersion;

/// Python's `int()` on a string: surrounding whitespace, a sign, digits with single `_` between.
pub fn py_int(s: &str) -> Option<i64> {
    let s = s.trim();
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, s.get(1..)?),
        Some(b'+') => (false, s.get(1..)?),
        _ => (false, s),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return None;
    }
    let mut value: i64 = 0;
    for c in digits.chars() {
        if c == '_' {
            continue;
        }
        let d = c.to_digit(10)?;
        value = value.checked_mul(10)?.checked_add(i64::from(d))?;
    }
    Some(if negative { -value } else { value })
}

fn octets(s: &str) -> Result<Vec<i64>, String> {
    s.split('.')
        .map(|o| py_int(o).ok_or_else(|| "IP string had non-numeric characters".to_owned()))
        .collect()
}

/// `sanityCheckIPString`: a unicast address that is not loopback, multicast, unspecified or
/// broadcast.
pub fn ip(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("IP string can not be empty.".into());
    }
    if s.contains(':') {
        let addr: Ipv6Addr = s
            .parse()
            .map_err(|_| format!("IP address '{s}' is invalid."))?;
        if addr.is_loopback() {
            return Err("IP address cannot be in the loopback network.".into());
        }
        if addr.is_multicast() {
            return Err("IP address cannot be in the multicast network.".into());
        }
        if addr.is_unspecified() {
            return Err("IP address cannot be all zeros (unspecified) network.".into());
        }
        if s.contains('.') {
            return Err("IP address cannot be a mapped IPv4 in IPv6 address.".into());
        }
        if addr.segments()[0] & 0xffc0 == 0xfe80 {
            return Err("IP address cannot be a scope local IPv6 address.".into());
        }
        return Ok(());
    }
    let addr: Ipv4Addr = s
        .parse()
        .map_err(|_| format!("IP address '{s}' is invalid."))?;
    let o = addr.octets();
    if addr == Ipv4Addr::LOCALHOST {
        return Err("IP address cannot be in the loopback network.".into());
    }
    if o[0] == 224 {
        return Err("IP address cannot be in the multicast network.".into());
    }
    if addr.is_unspecified() {
        return Err("IP address cannot be all zeros (unspecified) network.".into());
    }
    if addr.is_broadcast() {
        return Err("IP address cannot be the broadcast network.".into());
    }
    if o[0] < 1 {
        return Err("IP string contains an invalid first octet.".into());
    }
    Ok(())
}

/// `sanityCheckMultipleIPsString`: every comma-separated entry is an IP.
pub fn ips(s: &str) -> Result<(), String> {
    s.split(',').try_for_each(ip)
}

/// `sanityCheckNetmaskString`: a contiguous dotted-quad mask, or a non-negative prefix length.
pub fn netmask(s: &str) -> Result<(), String> {
    if s.contains('.') {
        let o = octets(s)?;
        if o.len() != 4 {
            return Err(format!("Netmask ({s}) did not contain four octets."));
        }
        if o.first() == Some(&0) {
            return Err("First octet was empty.".into());
        }
        let mut found_zero = false;
        for octet in &o {
            for x in (0..8).rev() {
                let bit = (octet >> x) & 1;
                if bit == 0 {
                    found_zero = true;
                }
                if bit == 1 && found_zero {
                    return Err(format!("Netmask ({s}) is invalid."));
                }
            }
        }
        return Ok(());
    }
    match py_int(s) {
        None => Err(format!("invalid literal for int() with base 10: '{s}'")),
        Some(v) if v < 0 => Err(format!("Netmask must be a positive value ({v})")),
        Some(_) => Ok(()),
    }
}

/// `sanityCheckHostname` (RFC 1034 labels; a leading digit is allowed).
pub fn hostname(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("Hostname must be at least one character.".into());
    }
    if s.chars().count() > 255 {
        return Err("Hostname must be less than 256 characters.".into());
    }
    for label in s.trim_end_matches('.').split('.') {
        let chars: Vec<char> = label.chars().collect();
        let (Some(first), Some(last)) = (chars.first(), chars.last()) else {
            return Err("Hostname labels must not be empty.".into());
        };
        if chars.len() > 63 {
            return Err("Hostname labels must be less than 64 characters.".into());
        }
        if !first.is_ascii_alphanumeric() {
            return Err("Hostname labels must begin with a letter.".into());
        }
        if !last.is_ascii_alphanumeric() {
            return Err(format!(
                "Hostname labels must end with either a letter or digit, not a '{last}'."
            ));
        }
        let inner = chars
            .get(1..chars.len().saturating_sub(1))
            .unwrap_or_default();
        if inner
            .iter()
            .any(|c| !c.is_ascii_alphanumeric() && *c != '-')
        {
            return Err("Hostname labels must only contain letters, digits, and hyphens.".into());
        }
    }
    Ok(())
}

/// `sanityCheckVlanID`: 0 to 4095.
pub fn vlan(s: &str) -> Result<(), String> {
    match py_int(s) {
        Some(v) if (0..=4095).contains(&v) => Ok(()),
        _ => Err("Vlan ID must be a number from 0 to 4095.".into()),
    }
}

/// `validateSize`: a number greater than zero (`part --size`, deprecated but still checked).
pub fn size(s: &str) -> Result<(), String> {
    match py_int(s) {
        None => Err("is not a number.".into()),
        Some(v) if v <= 0 => Err("must be a value greater than zero.".into()),
        Some(_) => Ok(()),
    }
}

fn ipv4_number(s: &str) -> Option<u32> {
    s.parse::<Ipv4Addr>().ok().map(u32::from)
}

/// `sanityCheckIPSettings` for IPv4: neither address is its network's network or broadcast
/// address, and both are on the same network. The installer raises a fatal error on these.
pub fn ip_settings(ip: &str, mask: &str, gateway: &str) -> Result<(), String> {
    let (Some(ip), Some(mask), Some(gw)) =
        (ipv4_number(ip), ipv4_number(mask), ipv4_number(gateway))
    else {
        return Ok(());
    };
    for (addr, what) in [(ip, "IP"), (gw, "Gateway")] {
        if mask == u32::MAX {
            continue;
        }
        if addr & mask == addr {
            return Err(format!(
                "{what} address corresponds to the network address."
            ));
        }
        if addr & !mask == !mask {
            return Err(format!(
                "{what} address corresponds to the broadcast address."
            ));
        }
    }
    if ip & mask != gw & mask {
        return Err("IP and Gateway are not on the same network.".into());
    }
    Ok(())
}

fn crypt_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '.' || c == '/'
}

/// `doRootpw --iscrypted`: MD5 `$1$` (22–31 of `[a-zA-Z0-9./$]`), SHA-512 `$6$` (salt ≤ 16, hash
/// 86, so no `rounds=`), or any 13-character string not starting with `$1$`/`$6$` (DES).
pub fn crypted_password(pw: &str) -> bool {
    if let Some(rest) = pw.strip_prefix("$1$") {
        let n = rest.chars().count();
        if (22..=31).contains(&n) && rest.chars().all(|c| crypt_char(c) || c == '$') {
            return true;
        }
    }
    if let Some((salt, hash)) = pw.strip_prefix("$6$").and_then(|r| r.split_once('$')) {
        if salt.len() <= 16
            && salt.chars().all(crypt_char)
            && hash.len() == 86
            && hash.chars().all(crypt_char)
        {
            return true;
        }
    }
    !pw.starts_with("$1$") && !pw.starts_with("$6$") && pw.chars().count() == 13
}

/// `sanityCheckPassword(pwqcheck=True)`: 7 to 40 printable ASCII characters; from 6.7 the host's
/// passwdqc policy (`min=disabled,disabled,disabled,7,7`) also wants three character classes,
/// where a capital first letter and a digit at the end do not count.
pub fn clear_password(pw: &str, version: EsxiVersion) -> Result<(), String> {
    let n = pw.chars().count();
    if n < 7 {
        return Err("Password must be at least 7 characters long.".into());
    }
    if n > 40 {
        return Err("Password must be less than 41 characters long.".into());
    }
    if !pw.chars().all(|c| c == ' ' || c.is_ascii_graphic()) {
        return Err("Password may only contain ASCII characters.".into());
    }
    if !version.has_password_classes() {
        return Ok(());
    }
    let bytes = pw.as_bytes();
    let mut classes = [0usize; 4];
    for (i, b) in bytes.iter().enumerate() {
        let first = i == 0;
        let last = i + 1 == bytes.len();
        let class = if b.is_ascii_lowercase() {
            0
        } else if b.is_ascii_uppercase() {
            if first {
                continue;
            }
            1
        } else if b.is_ascii_digit() {
            if last {
                continue;
            }
            2
        } else {
            3
        };
        if let Some(c) = classes.get_mut(class) {
            *c += 1;
        }
    }
    if classes.iter().filter(|c| **c > 0).count() < 3 {
        return Err("Password is too weak: use at least three of lower case, upper case, digits and other characters (a capital first letter and a digit at the end do not count).".into());
    }
    Ok(())
}

/// `RegexLocator.serialnum`: five groups of five word characters, joined by dashes.
pub fn serial_number(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .all(|g| g.chars().count() == 5 && g.chars().all(|c| c.is_alphanumeric() || c == '_'))
}

/// `RegexLocator.mountpoint`: a name without `/`, or an absolute path without empty components.
pub fn mountpoint(s: &str) -> bool {
    if s.is_empty() {
        return false;
    }
    if !s.contains('/') || s == "/" {
        return true;
    }
    match s.strip_prefix('/') {
        Some(rest) => rest
            .strip_suffix('/')
            .unwrap_or(rest)
            .split('/')
            .all(|c| !c.is_empty()),
        None => false,
    }
}

/// The layouts `keyboard` accepts (VMware's list for 5.x–8.x). The installer warns about any
/// other and uses its default; the inventory check refuses it (see [`keyboard`]).
pub const KEYBOARDS: [&str; 29] = [
    "Belgian",
    "Brazilian",
    "Croatian",
    "Czechoslovakian",
    "Danish",
    "Default",
    "Estonian",
    "Finnish",
    "French",
    "German",
    "Greek",
    "Icelandic",
    "Italian",
    "Japanese",
    "Latin American",
    "Norwegian",
    "Polish",
    "Portuguese",
    "Russian",
    "Slovenian",
    "Spanish",
    "Swedish",
    "Swiss French",
    "Swiss German",
    "Turkish",
    "Ukrainian",
    "United Kingdom",
    "US Default",
    "US Dvorak",
];

/// The ESXi layout for an Anaconda (RHEL kickstart) keymap code such as `us` or `de`, which
/// kickstarts copied from Linux carry and ESXi does not know.
pub fn keyboard_for_code(code: &str) -> Option<&'static str> {
    const CODES: [(&str, &str); 20] = [
        ("us", "US Default"),
        ("uk", "United Kingdom"),
        ("gb", "United Kingdom"),
        ("de", "German"),
        ("de-latin1", "German"),
        ("fr", "French"),
        ("fr-latin1", "French"),
        ("es", "Spanish"),
        ("it", "Italian"),
        ("jp", "Japanese"),
        ("jp106", "Japanese"),
        ("se", "Swedish"),
        ("sv-latin1", "Swedish"),
        ("fi", "Finnish"),
        ("no", "Norwegian"),
        ("dk", "Danish"),
        ("be", "Belgian"),
        ("ru", "Russian"),
        ("pl", "Polish"),
        ("dvorak", "US Dvorak"),
    ];
    let code = code.to_ascii_lowercase();
    CODES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, layout)| *layout)
}

/// Whether the installer knows the keyboard `layout`: one of [`KEYBOARDS`], or a keymap file
/// (`….map`).
pub fn keyboard(layout: &str) -> bool {
    KEYBOARDS.contains(&layout) || layout.contains(".map")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> EsxiVersion {
        s.parse().unwrap()
    }

    /// Each input with whether `check` accepts it.
    fn table(name: &str, check: fn(&str) -> Result<(), String>, cases: &[(&str, bool)]) {
        for (input, ok) in cases {
            assert_eq!(check(input).is_ok(), *ok, "{name}({input:?})");
        }
    }

    #[test]
    fn ip_checks() {
        table(
            "ip",
            ip,
            &[
                ("10.0.0.2", true),
                ("10.0.0.256", false),
                ("127.0.0.1", false),
                ("0.1.2.3", false),
                ("224.0.0.5", false),
                ("255.255.255.255", false),
                ("fe80::1", false),
                ("2001:db8::1", true),
            ],
        );
        table(
            "ips",
            ips,
            &[("10.0.0.1,10.0.0.2", true), ("10.0.0.1, 10.0.0.2", false)],
        );
    }

    #[test]
    fn netmask_checks() {
        table(
            "netmask",
            netmask,
            &[
                ("255.255.255.0", true),
                ("255.0.255.0", false),
                ("0.255.255.0", false),
                ("24", true),
                ("-1", false),
                ("abc", false),
            ],
        );
    }

    #[test]
    fn settings() {
        for (ip, gateway, ok) in [
            ("10.0.0.2", "10.0.0.1", true),
            ("10.0.1.2", "10.0.0.1", false),
            ("10.0.0.0", "10.0.0.1", false),
            ("10.0.0.255", "10.0.0.1", false),
        ] {
            assert_eq!(
                ip_settings(ip, "255.255.255.0", gateway).is_ok(),
                ok,
                "{ip} via {gateway}"
            );
        }
    }

    #[test]
    fn hostnames() {
        table(
            "hostname",
            hostname,
            &[
                ("esx01.lab.local", true),
                ("1esx", true),
                ("-esx", false),
                ("esx..lab", false),
                ("esx_01", false),
                ("esx.", true),
            ],
        );
    }

    #[test]
    fn crypts() {
        let sha = format!("$6$saltsalt${}", "a".repeat(86));
        assert!(crypted_password(&sha));
        assert!(!crypted_password(&format!(
            "$6$rounds=5000$salt${}",
            "a".repeat(86)
        )));
        assert!(!crypted_password(&format!(
            "$6${}${}",
            "s".repeat(17),
            "a".repeat(86)
        )));
        assert!(crypted_password("$1$mF86/UHC$WvcIcX2t6crBz2onWxyac."));
        assert!(crypted_password("abcdefghijklm"));
        assert!(!crypted_password("$5$abc$def"));
        assert!(!crypted_password("$y$j9T$abc"));
    }

    #[test]
    fn passwords() {
        assert!(clear_password("myp@ssw0rd", EsxiVersion::NEWEST).is_ok());
        assert!(clear_password("VMware1!", EsxiVersion::NEWEST).is_ok());
        assert!(clear_password("password", EsxiVersion::NEWEST).is_err());
        assert!(clear_password("password", v("5.5")).is_ok());
        // 6.0 and 6.5 installed `rootpw vagrant` (public Packer templates); 6.7 does not.
        assert!(clear_password("vagrant", v("6.5")).is_ok());
        assert!(clear_password("vagrant", v("6.7")).is_err());
        // Capital first and digit last do not count: only lower case remains.
        assert!(clear_password("Vmwareee1", EsxiVersion::NEWEST).is_err());
        assert!(clear_password("short1!", EsxiVersion::NEWEST).is_ok());
        assert!(clear_password("sh1!", EsxiVersion::NEWEST).is_err());
        assert!(clear_password("pässwört1!", EsxiVersion::NEWEST).is_err());
    }

    #[test]
    fn keyboards() {
        assert!(keyboard("US Default"));
        assert!(!keyboard("us"));
        assert_eq!(keyboard_for_code("us"), Some("US Default"));
        assert_eq!(keyboard_for_code("JP106"), Some("Japanese"));
        assert_eq!(keyboard_for_code("xx"), None);
    }

    #[test]
    fn serials_and_mountpoints() {
        assert!(serial_number("AAAAA-BBBBB-CCCCC-DDDDD-EEEEE"));
        assert!(!serial_number("AAAA-BBBB-CCCC-DDDD-EEEE"));
        assert!(mountpoint("datastore1"));
        assert!(mountpoint("/vmfs/volumes/ds/"));
        assert!(!mountpoint("a/b"));
        assert!(!mountpoint("/a//b"));
        assert_eq!(py_int(" +4_0 "), Some(40));
        assert_eq!(py_int("4__0"), None);
    }
}
