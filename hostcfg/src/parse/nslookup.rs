//! `nslookup NAME` and `nslookup ADDRESS` as the ESXi shell's busybox prints them.
//!
//! Two layouts exist. Busybox before 1.28 (and later builds without the internal resolver)
//! resolves through libc and prints each answer as `Address N: <ip> [<reverse name>]`:
//!
//! ```text
//! Server:    10.0.0.2
//! Address 1: 10.0.0.2 dns1.lab.example
//!
//! Name:      esx01.lab.example
//! Address 1: 10.0.0.11 esx01.lab.example
//! ```
//!
//! A name that does not resolve prints only the server block, and
//! `nslookup: can't resolve 'esx01.lab.example'` on stderr (exit 1); an address without a
//! PTR record prints `Address 1: 10.0.0.11` with no name. The newer resolver (busybox 1.28+,
//! and BIND's nslookup) prints `Name:\t…` / `Address: <ip>` for a name, `<arpa>\tname = <host>`
//! for an address, and `** server can't find …: NXDOMAIN` for no answer. Both start with a
//! server block (`Server:` and its address lines, up to a blank line), which is not an answer.

/// What one lookup answered: the addresses (forward) and names (reverse) it printed. Both are
/// empty when nothing resolved, which is an answer, not an error.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answer {
    pub addresses: Vec<String>,
    pub names: Vec<String>,
}

/// Reads one nslookup output (stdout; stderr only ever says that nothing resolved).
pub fn parse(output: &str) -> Answer {
    let mut answer = Answer::default();
    let mut in_server = false;
    for line in output.lines().map(str::trim) {
        if line.is_empty() {
            in_server = false;
            continue;
        }
        if line.starts_with("Server:") {
            in_server = true;
            continue;
        }
        if line.starts_with("Name:") || line.starts_with("Non-authoritative") {
            in_server = false;
            continue;
        }
        if in_server {
            continue;
        }
        if let Some((_, host)) = line
            .split_once(" name = ")
            .or_else(|| line.split_once("\tname = "))
        {
            push_name(&mut answer.names, host);
        } else if let Some(rest) = line.strip_prefix("Address") {
            // `Address 1: ip [name]` (old) or `Address: ip` / `Address:\tip` (new).
            let Some((_, value)) = rest.split_once(':') else {
                continue;
            };
            let mut words = value.split_whitespace();
            if let Some(ip) = words.next().filter(|w| looks_like_address(w)) {
                answer.addresses.push(ip.to_string());
                for name in words {
                    push_name(&mut answer.names, name);
                }
            }
        }
    }
    answer
}

fn push_name(names: &mut Vec<String>, name: &str) {
    let name = name.trim();
    if !name.is_empty() && !names.iter().any(|n| n == name) {
        names.push(name.to_string());
    }
}

/// An IPv4 or IPv6 address (not a `host#53` server or stray word).
fn looks_like_address(word: &str) -> bool {
    word.parse::<std::net::IpAddr>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_busybox_forward_reverse_and_failures() {
        let forward = "Server:    10.0.0.2\nAddress 1: 10.0.0.2 dns1.lab.example\n\nName:      esx01.lab.example\nAddress 1: 10.0.0.11 esx01.lab.example\nAddress 2: fd00::11\n";
        let a = parse(forward);
        assert_eq!(a.addresses, ["10.0.0.11", "fd00::11"]);
        assert_eq!(a.names, ["esx01.lab.example"], "not the server's name");
        let reverse = "Server:    10.0.0.2\nAddress 1: 10.0.0.2\n\nName:      10.0.0.11\nAddress 1: 10.0.0.11 esx01.lab.example\n";
        assert_eq!(parse(reverse).names, ["esx01.lab.example"]);
        // No PTR record: the address alone.
        let none = "Server:    10.0.0.2\nAddress 1: 10.0.0.2\n\nName:      10.0.0.12\nAddress 1: 10.0.0.12\n";
        assert!(parse(none).names.is_empty());
        // Can't resolve: only the server block on stdout.
        assert_eq!(
            parse("Server:    10.0.0.2\nAddress 1: 10.0.0.2\n\n"),
            Answer::default()
        );
    }

    #[test]
    fn new_busybox_and_bind_layouts() {
        let forward = "Server:\t\t10.0.0.2\nAddress:\t10.0.0.2:53\n\nName:\tesx01.lab.example\nAddress: 10.0.0.11\n\n";
        assert_eq!(parse(forward).addresses, ["10.0.0.11"]);
        let bind = "Server:\t\t10.0.0.2\nAddress:\t10.0.0.2#53\n\nNon-authoritative answer:\nName:\tesx01.lab.example\nAddress: 10.0.0.11\n";
        assert_eq!(parse(bind).addresses, ["10.0.0.11"]);
        let reverse = "Server:\t\t10.0.0.2\nAddress:\t10.0.0.2:53\n\n11.0.0.10.in-addr.arpa\tname = esx01.lab.example.\n11.0.0.10.in-addr.arpa\tname = esx01-mgmt.lab.example.\n";
        assert_eq!(
            parse(reverse).names,
            ["esx01.lab.example.", "esx01-mgmt.lab.example."]
        );
        let nx = "Server:\t\t10.0.0.2\nAddress:\t10.0.0.2:53\n\n** server can't find esx09.lab.example: NXDOMAIN\n\n";
        assert_eq!(parse(nx), Answer::default());
    }

    #[test]
    fn garbage_is_no_answer() {
        assert_eq!(parse(""), Answer::default());
        assert_eq!(
            parse("Address 1: not-an-ip\nAddress\n:::\n"),
            Answer::default()
        );
    }
}
