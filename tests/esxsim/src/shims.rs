//! The small ESXi shell commands around esxcli: `vmware -v`, `chkconfig`, the
//! `/etc/init.d/ntpd` script (how NTP is switched on before 7.0 U1), and busybox `nslookup`.

use crate::faults;
use crate::state::NslookupStyle;
use crate::store::Store;
use crate::{Error, Reply, host_ops};

/// `vmware -v` / `vmware -l`.
pub fn vmware(args: &[String], store: &Store) -> Result<Reply, Error> {
    let st = store.read()?;
    let v = &st.host.version;
    Ok(match args.first().map(String::as_str) {
        Some("-v") | Some("--version") => Reply::ok(format!(
            "{} {} build-{}\n",
            st.host.product, v.version, v.build
        )),
        Some("-l") => {
            let (major, minor, _) = v.triplet();
            let update = if v.update.is_empty() || v.update == "0" {
                "GA".to_string()
            } else {
                format!("Update {}", v.update)
            };
            Reply::ok(format!("{} {major}.{minor} {update}\n", st.host.product))
        }
        _ => Reply::error("usage: vmware [-v | -l]"),
    })
}

/// `chkconfig <service> [on|off]` and `chkconfig --list [<service>]`.
pub fn chkconfig(args: &[String], store: &Store) -> Result<Reply, Error> {
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["--list"] | ["--list", _] => {
            let st = store.read()?;
            let wanted = words.get(1);
            let mut out = String::new();
            for s in st
                .services
                .iter()
                .filter(|s| wanted.is_none_or(|w| *w == s.key))
            {
                let state = if s.policy == "on" { "on" } else { "off" };
                out.push_str(&format!("{:<24}{state}\n", s.key));
            }
            Ok(Reply::ok(out))
        }
        [service] => {
            let st = store.read()?;
            let on = st
                .services
                .iter()
                .any(|s| s.key == *service && s.policy == "on");
            Ok(Reply {
                code: if on { 0 } else { 1 },
                ..Reply::default()
            })
        }
        [service, value @ ("on" | "off")] => {
            let line = format!("chkconfig {service} {value}");
            store.update(|st| {
                faults::logged(st, &line, |st| {
                    if st.service_mut(service).is_none() {
                        return Reply::error(format!("chkconfig: unknown service {service}"));
                    }
                    host_ops::set_service(st, service, None, Some(value));
                    if *service == "ntpd" {
                        st.ntp.enabled = *value == "on"
                            && st.services.iter().any(|s| s.key == "ntpd" && s.running);
                    }
                    Reply::default()
                })
            })
        }
        _ => Ok(Reply::error("usage: chkconfig [--list] <service> [on|off]")),
    }
}

/// `/etc/init.d/ntpd start|stop|restart|status`.
pub fn ntpd(args: &[String], store: &Store) -> Result<Reply, Error> {
    let action = args.first().map(String::as_str).unwrap_or_default();
    match action {
        "status" => {
            let st = store.read()?;
            let running = st.services.iter().any(|s| s.key == "ntpd" && s.running);
            Ok(if running {
                Reply::ok("ntpd is running\n")
            } else {
                Reply {
                    stdout: "ntpd is not running\n".into(),
                    code: 3,
                    ..Reply::default()
                }
            })
        }
        "start" | "stop" | "restart" => {
            let line = format!("/etc/init.d/ntpd {action}");
            store.update(|st| {
                faults::logged(st, &line, |st| {
                    let run = action != "stop";
                    if run && st.ntp.servers.is_empty() {
                        return Reply::error("ntpd: no servers in /etc/ntp.conf; not starting");
                    }
                    host_ops::set_service(st, "ntpd", Some(run), None);
                    st.ntp.enabled = run;
                    Reply::ok(if run {
                        "Starting ntpd\n"
                    } else {
                        "Stopping ntpd\n"
                    })
                })
            })
        }
        _ => Ok(Reply::error(
            "usage: /etc/init.d/ntpd {start|stop|restart|status}",
        )),
    }
}

/// `nslookup HOST [SERVER]`: the host's records ([`crate::state::Dns`]) in the layout of its
/// busybox. A name asks for its addresses, an address for its names (PTR).
pub fn nslookup(args: &[String], store: &Store) -> Result<Reply, Error> {
    let st = store.read()?;
    let Some(query) = args.first() else {
        return Ok(Reply::error("Usage: nslookup HOST [DNS_SERVER]"));
    };
    let line = format!("nslookup {}", args.join(" "));
    if let Some(reply) = faults::before(&line, None, &st, store)? {
        return Ok(reply);
    }
    let server = args
        .get(1)
        .or_else(|| st.dns.servers.first())
        .cloned()
        .unwrap_or_else(|| "127.0.0.1".to_string());
    let address: Option<std::net::IpAddr> = query.parse().ok();
    let reverse = |ip: &str| st.dns.reverse.get(ip).cloned().unwrap_or_default();
    Ok(match st.dns.nslookup {
        NslookupStyle::Libc => {
            let mut out = format!("Server:    {server}\nAddress 1: {server}\n\n");
            let addresses = match address {
                Some(ip) => vec![ip.to_string()],
                None => st.dns.forward.get(query).cloned().unwrap_or_default(),
            };
            if addresses.is_empty() {
                return Ok(Reply {
                    stdout: out,
                    stderr: format!("nslookup: can't resolve '{query}'\n"),
                    code: 1,
                });
            }
            out.push_str(&format!("{:<10} {query}\n", "Name:"));
            for (n, ip) in addresses.iter().enumerate() {
                // libc's reverse lookup gives one name per address.
                match reverse(ip).first() {
                    Some(name) => out.push_str(&format!("Address {}: {ip} {name}\n", n + 1)),
                    None => out.push_str(&format!("Address {}: {ip}\n", n + 1)),
                }
            }
            Reply::ok(out)
        }
        NslookupStyle::Resolver => {
            let mut out = format!("Server:\t\t{server}\nAddress:\t{server}:53\n\n");
            let (answers, asked) = match address {
                Some(std::net::IpAddr::V4(ip)) => {
                    let [a, b, c, d] = ip.octets();
                    let arpa = format!("{d}.{c}.{b}.{a}.in-addr.arpa");
                    let lines: Vec<String> = reverse(&ip.to_string())
                        .iter()
                        .map(|name| format!("{arpa}\tname = {name}\n"))
                        .collect();
                    (lines, arpa)
                }
                Some(ip) => (Vec::new(), ip.to_string()),
                None => {
                    let lines = st
                        .dns
                        .forward
                        .get(query)
                        .map(|ips| {
                            ips.iter()
                                .map(|ip| format!("Name:\t{query}\nAddress: {ip}\n"))
                                .collect()
                        })
                        .unwrap_or_default();
                    (lines, query.clone())
                }
            };
            if answers.is_empty() {
                out.push_str(&format!("** server can't find {asked}: NXDOMAIN\n\n"));
                return Ok(Reply {
                    stdout: out,
                    code: 1,
                    ..Reply::default()
                });
            }
            out.push_str(&answers.concat());
            out.push('\n');
            Reply::ok(out)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::{Seed, generate};

    fn lookup(store: &Store, query: &str) -> Reply {
        nslookup(&[query.to_string()], store).unwrap()
    }

    #[test]
    fn nslookup_answers_from_the_records_in_both_layouts() {
        let dir = tempfile::tempdir().unwrap();
        let mut host = generate(&Seed::default()).unwrap();
        host.paths.scratch = dir.path().join("scratch").display().to_string();
        host.dns.forward = [(
            "esx01.lab.example".to_string(),
            vec!["10.0.0.11".to_string()],
        )]
        .into();
        host.dns.reverse = [(
            "10.0.0.11".to_string(),
            vec!["esx01.lab.example".to_string()],
        )]
        .into();
        host.dns.servers = vec!["10.0.0.2".into()];
        let store = Store::new(dir.path().join("state.json"));

        host.dns.nslookup = NslookupStyle::Libc;
        store.write(&host).unwrap();
        let r = lookup(&store, "esx01.lab.example");
        assert_eq!(
            r.stdout,
            "Server:    10.0.0.2\nAddress 1: 10.0.0.2\n\nName:      esx01.lab.example\nAddress 1: 10.0.0.11 esx01.lab.example\n"
        );
        let r = lookup(&store, "esx02.lab.example");
        assert_eq!(
            (r.code, r.stderr.as_str()),
            (1, "nslookup: can't resolve 'esx02.lab.example'\n")
        );
        assert!(
            lookup(&store, "10.0.0.12")
                .stdout
                .ends_with("Address 1: 10.0.0.12\n")
        );

        host.dns.nslookup = NslookupStyle::Resolver;
        store.write(&host).unwrap();
        assert!(
            lookup(&store, "esx01.lab.example")
                .stdout
                .ends_with("Name:\tesx01.lab.example\nAddress: 10.0.0.11\n\n")
        );
        assert!(
            lookup(&store, "10.0.0.11")
                .stdout
                .contains("11.0.0.10.in-addr.arpa\tname = esx01.lab.example\n")
        );
        let r = lookup(&store, "10.0.0.12");
        assert_eq!(r.code, 1);
        assert!(
            r.stdout
                .contains("** server can't find 12.0.0.10.in-addr.arpa: NXDOMAIN")
        );
    }
}
