//! What the first boot does beyond networking: syslog, the datastore rename, drivers, and the
//! user's own script sections.

use std::net::Ipv4Addr;

use serde_yaml::Value;

use super::install::url_ok;
use super::{Decoder, Fields, opt};
use crate::inventory::host::*;
use crate::inventory::net::{Hostname, Label};
use crate::inventory::problem::Path;

pub(super) fn syslog(d: &mut Decoder<'_>, v: &Value, path: &Path<'_>) -> Option<Syslog> {
    let mut f = d.fields(v, path)?;
    let datastore = opt(&mut f, "datastore", path, |d, v, p| d.label(v, p), d);
    let dir = opt(&mut f, "dir", path, |d, v, p| {
        d.parsed(v, p, |s| {
            let ok = !s.is_empty()
                && !s.starts_with('/')
                && s.split('/').all(|part| !part.is_empty() && part != "." && part != "..")
                && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-/".contains(&b));
            if ok {
                Ok(s.to_string())
            } else {
                Err("is not a folder on the datastore (a relative path of letters, digits, '.', '_', '-')".to_string())
            }
        })
    }, d)
    .unwrap_or_else(|| "logs".to_string());
    let remote = f
        .get("remote")
        .map(|v| {
            d.list(v, &path.key("remote"), |d, x, p| {
                d.parsed(x, p, |s| {
                    let (proto, rest) = s.split_once("://").unwrap_or(("udp", s));
                    let (host, port) = match rest.rsplit_once(':') {
                        Some((h, port)) => (h, port.parse::<u16>().ok().filter(|&p| p > 0)),
                        None => (rest, Some(514)),
                    };
                    let host_ok = host.parse::<Ipv4Addr>().is_ok() || Hostname::new(host).is_ok();
                    match (proto, port) {
                        ("udp" | "tcp" | "ssl", Some(port)) if host_ok => {
                            Ok(format!("{proto}://{host}:{port}"))
                        }
                        _ => Err(
                            "is not a log host (udp://host:514, tcp://host:514, ssl://host:1514)"
                                .to_string(),
                        ),
                    }
                })
            })
        })
        .unwrap_or_default();
    d.finish(f, path);
    Some(Syslog {
        datastore,
        dir,
        remote,
    })
}

/// The `datastore:` section before the host name is known.
#[derive(Default)]
pub(super) struct DatastoreSpec {
    rename: Option<bool>,
    from: Option<Label>,
    name: Option<Label>,
}

impl DatastoreSpec {
    pub(super) fn resolve(
        self,
        hostname: &Hostname,
        vmfs_on_disk: bool,
    ) -> Option<DatastoreRename> {
        if !self.rename.unwrap_or(vmfs_on_disk) {
            return None;
        }
        Some(DatastoreRename {
            from: self.from.or_else(|| Label::new("datastore1").ok())?,
            to: self
                .name
                .or_else(|| Label::new(&format!("{hostname}-datastore01")).ok())?,
        })
    }
}

pub(super) fn datastore(d: &mut Decoder<'_>, v: &Value, path: &Path<'_>) -> Option<DatastoreSpec> {
    let mut f = d.fields(v, path)?;
    let rename = opt(&mut f, "rename", path, |d, v, p| d.bool(v, p), d);
    let from = opt(&mut f, "from", path, |d, v, p| d.label(v, p), d);
    let name = opt(
        &mut f,
        "name",
        path,
        |d, v, p| {
            let label = d.label(v, p)?;
            // VMFS labels hold at most 42 characters.
            if label.as_str().len() > 42 {
                d.error(
                    p,
                    format!(
                        "{:?} is longer than a datastore name may be (42 characters)",
                        label.as_str()
                    ),
                );
                return None;
            }
            Some(label)
        },
        d,
    );
    d.finish(f, path);
    Some(DatastoreSpec { rename, from, name })
}

pub(super) fn driver(d: &mut Decoder<'_>, v: &Value, path: &Path<'_>) -> Option<Driver> {
    let (source, kind) = match v {
        Value::Mapping(_) => {
            let mut f = d.fields(v, path)?;
            let source = f.get("source");
            let kind = opt(
                &mut f,
                "kind",
                path,
                |d, v, p| {
                    d.choice(
                        v,
                        p,
                        &[
                            ("bundle", DriverKind::Bundle),
                            ("vib", DriverKind::Vib),
                            ("component", DriverKind::Component),
                        ],
                    )
                },
                d,
            );
            d.finish(f, path);
            let Some(source) = source else {
                d.error(
                    &path.key("source"),
                    "is missing: the bundle's URL or path on the host",
                );
                return None;
            };
            (d.str(source, &path.key("source"))?, kind)
        }
        _ => (d.str(v, path)?, None),
    };
    let at = if v.is_mapping() {
        path.key("source")
    } else {
        *path
    };
    let remote = source.starts_with("http://") || source.starts_with("https://");
    if !(remote || source.starts_with('/')) || !url_ok(source) {
        d.error(
            &at,
            format!("{source:?} is not an http(s):// URL or an absolute path on the host"),
        );
        return None;
    }
    let kind = match kind {
        Some(k) => k,
        None if source.ends_with(".vib") => DriverKind::Vib,
        None if source.ends_with(".zip") => DriverKind::Bundle,
        None => {
            d.error(
                path,
                format!("cannot tell what {source:?} is: give kind: bundle, vib or component"),
            );
            return None;
        }
    };
    Some(Driver {
        source: source.to_string(),
        kind,
    })
}

pub(super) fn scripts(d: &mut Decoder<'_>, v: &Value, path: &Path<'_>) -> Option<Scripts> {
    let mut f = d.fields(v, path)?;
    let read = |f: &mut Fields<'_>, key: &'static str, d: &mut Decoder<'_>| {
        opt(
            f,
            key,
            path,
            |d, v, p| {
                d.parsed(v, p, |s| {
                for (n, line) in s.lines().enumerate() {
                    if let Some(c) = line.chars().find(|c| !(c.is_ascii_graphic() || *c == ' ' || *c == '\t')) {
                        return Err(format!("has {c:?} on line {} of the script: only printable ASCII is allowed", n + 1));
                    }
                    // The installer ends a section at any line starting with these.
                    if line.starts_with('%') || line.starts_with("include") {
                        return Err(format!(
                            "has a line starting with `{}` (line {}), which would end the section in the installer; indent it",
                            line.split_whitespace().next().unwrap_or(line),
                            n + 1
                        ));
                    }
                }
                Ok(s.to_string())
            })
            },
            d,
        )
    };
    let pre = read(&mut f, "pre", d);
    let post = read(&mut f, "post", d);
    let firstboot = read(&mut f, "firstboot", d);
    d.finish(f, path);
    Some(Scripts {
        pre,
        post,
        firstboot,
    })
}
