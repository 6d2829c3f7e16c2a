//! The small ESXi shell commands around esxcli: `vmware -v`, `chkconfig`, and the
//! `/etc/init.d/ntpd` script (how NTP is switched on before 7.0 U1).

use crate::faults;
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
