//! Identity, maintenance mode, DNS (servers, search domains and how the host's own name and
//! addresses resolve), NTP, syslog, services, VIBs and storage.

use super::batch::quote;
use super::query::{Answers, Query};
use crate::facts::{
    Datastore, DnsLookups, HostFacts, InstalledVib, ReverseLookup, Service, StorageDevice, Version,
    VmkNic,
};
use crate::parse::{Value, nslookup, vmodl};

pub fn fill(facts: &mut HostFacts, answers: &Answers, version: &Value) {
    if let Some(v) = version.structures().first() {
        facts.version = Version {
            product: v.text("Product"),
            version: v.text("Version"),
            build: v
                .text("Build")
                .trim_start_matches("Releasebuild-")
                .to_string(),
            update: v.text("Update"),
            patch: v.text("Patch"),
        };
    }
    if let Ok(uuid) = answers.esxcli("system uuid get") {
        facts.uuid = scalar(uuid);
    }
    if let Some(h) = answers.structures("system hostname get").first() {
        facts.hostname = h.text("Host Name");
        facts.fqdn = h.text("Fully Qualified Domain Name");
    }
    if let Ok(mm) = answers.esxcli("system maintenanceMode get") {
        facts.maintenance_mode = Value::String(scalar(mm)).as_flag().unwrap_or(false);
    }
    facts.dns.servers = list_field(answers, "network ip dns server list", "DNSServers");
    facts.dns.search = list_field(answers, "network ip dns search list", "DNSSearchDomains");
    if let Some(ntp) = answers.structures("system ntp get").first() {
        facts.ntp.enabled = ntp.flag("Enabled").unwrap_or(false);
        facts.ntp.servers = ntp.strings("Server");
        if facts.ntp.servers.is_empty() {
            facts.ntp.servers = ntp.strings("Servers");
        }
    }
    if let Some(s) = answers.structures("system syslog config get").first() {
        facts.syslog.logdir = s.text("Local Log Output");
        facts.syslog.logdir_unique = s.flag("Log To Unique Subdirectory").unwrap_or(false);
        facts.syslog.loghosts = s.strings("Remote Host");
    }
    facts.vibs = answers
        .structures("software vib list")
        .iter()
        .map(|v| InstalledVib {
            name: v.text("Name"),
            version: v.text("Version"),
            vendor: v.text("Vendor"),
            acceptance_level: v.text("Acceptance Level"),
        })
        .collect();
    facts.datastores = answers
        .structures("storage filesystem list")
        .iter()
        .map(|d| Datastore {
            name: d.text("Volume Name"),
            uuid: d.text("UUID"),
            mount_point: d.text("Mount Point"),
            fs_type: d.text("Type"),
            size_bytes: d.unsigned("Size"),
            free_bytes: d.unsigned("Free"),
        })
        .collect();
    facts.storage_devices = answers
        .structures("storage core device list")
        .iter()
        .map(|d| {
            let name = d.text("Device");
            StorageDevice {
                // Text records carry the device name as their header only.
                name: if name.is_empty() {
                    d.type_name.clone()
                } else {
                    name
                },
                is_local: d.flag("Is Local").unwrap_or(false),
                size_mb: d.unsigned("Size"),
            }
        })
        .collect();
    facts.services = answers
        .raw("hostconfig")
        .filter(|o| o.success())
        .and_then(|o| vmodl::parse(&o.stdout_text()).ok())
        .map(|v| services(&v))
        .unwrap_or_default();
}

/// Every `vim.host.Service` object in the output, wherever it sits.
fn services(config: &vmodl::Vmodl) -> Vec<Service> {
    config
        .objects()
        .into_iter()
        .filter(|o| {
            o.get("key").is_some() && o.get("running").is_some() && o.get("policy").is_some()
        })
        .map(|o| Service {
            key: o
                .get("key")
                .and_then(vmodl::Vmodl::as_str)
                .unwrap_or("")
                .to_string(),
            running: o
                .get("running")
                .and_then(vmodl::Vmodl::as_bool)
                .unwrap_or(false),
            policy: o
                .get("policy")
                .and_then(vmodl::Vmodl::as_str)
                .unwrap_or("")
                .to_string(),
        })
        .collect()
}

/// ESXi keeps NTP in `esxcli system ntp` from 7.0 U1 (7.0.1) on, in `/etc/ntp.conf` before.
pub fn ntp_in_esxcli(version: &str) -> bool {
    let parts: Vec<u32> = version.split('.').map(|p| p.parse().unwrap_or(0)).collect();
    match parts.as_slice() {
        [major, ..] if *major > 7 => true,
        [7, minor, ..] if *minor > 0 => true,
        [7, 0, patch, ..] => *patch >= 1,
        _ => false,
    }
}

/// ntp.conf and ntpd's status on hosts before 7.0 U1; the DNS lookups of the host's own name
/// and of every vmknic address (which of them carry management traffic is known only once
/// the tags are in, in the same round).
pub fn object_queries(facts: &HostFacts, answers: &Answers) -> Vec<(String, Query)> {
    let mut queries = Vec::new();
    if !(ntp_in_esxcli(&facts.version.version) && answers.esxcli("system ntp get").is_ok()) {
        queries.push((
            "ntp.conf".to_string(),
            Query::Raw("cat /etc/ntp.conf".to_string()),
        ));
        queries.push((
            "ntpd".to_string(),
            Query::Raw("/etc/init.d/ntpd status".to_string()),
        ));
    }
    if !facts.fqdn.is_empty() {
        queries.push(nslookup(&facts.fqdn));
        queries.extend(
            facts
                .vmknics
                .iter()
                .filter(|k| !k.ip.is_empty() && may_carry_management(k))
                .map(|k| nslookup(&k.ip)),
        );
    }
    queries
}

fn nslookup(query: &str) -> (String, Query) {
    (
        format!("nslookup:{query}"),
        Query::Raw(format!("nslookup {}", quote(query))),
    )
}

/// Management traffic runs on the default TCP/IP stack only: a vmknic of the vMotion or
/// provisioning stack is never looked up (each lookup can cost a resolver timeout).
fn may_carry_management(k: &VmkNic) -> bool {
    matches!(k.netstack.as_str(), "" | "defaultTcpipStack")
}

/// One lookup's answer; `None` when nslookup itself did not run (busybox exits 1 for "can't
/// resolve", which is an empty answer).
fn lookup(details: &Answers, query: &str) -> Option<nslookup::Answer> {
    details
        .raw(&format!("nslookup:{query}"))
        .filter(|o| matches!(o.status, 0 | 1))
        .map(|o| nslookup::parse(&o.stdout_text()))
}

/// Forward lookup of the FQDN, reverse of each management address (every vmknic address
/// when no vmknic says it carries management traffic).
fn lookups(facts: &HostFacts, details: &Answers) -> Option<DnsLookups> {
    let forward = lookup(details, &facts.fqdn)?.addresses;
    let tagged = |k: &&VmkNic| k.tags.iter().any(|t| t == "Management");
    let any_tagged = facts.vmknics.iter().any(|k| tagged(&k));
    let reverse = facts
        .vmknics
        .iter()
        .filter(|k| !k.ip.is_empty() && may_carry_management(k) && (!any_tagged || tagged(k)))
        .filter_map(|k| {
            lookup(details, &k.ip).map(|a| ReverseLookup {
                address: k.ip.clone(),
                names: a.names,
            })
        })
        .collect();
    Some(DnsLookups { forward, reverse })
}

/// Why the DNS lookups are missing, when they were asked and did not run.
pub fn notes(facts: &HostFacts, details: &Answers) -> Option<String> {
    let out = details.raw(&format!("nslookup:{}", facts.fqdn))?;
    facts.dns.lookups.is_none().then(|| {
        format!(
            "nslookup {} (exit {}): {}; DNS checks cannot run",
            facts.fqdn,
            out.status,
            out.first_error_line()
        )
    })
}

pub fn fill_objects(facts: &mut HostFacts, _first: &Answers, details: &Answers) {
    facts.dns.lookups = lookups(facts, details);
    if let Some(conf) = details.raw("ntp.conf").filter(|o| o.success()) {
        facts.ntp.servers = ntp_conf_servers(&conf.stdout_text());
        facts.ntp.enabled = details
            .raw("ntpd")
            .is_some_and(|o| o.success() && !o.stdout_text().contains("not running"));
    }
}

/// The servers of an ntp.conf, in order: `server HOST [options]` and `pool HOST` lines;
/// comments, `restrict`, `driftfile` and the like are not servers.
fn ntp_conf_servers(conf: &str) -> Vec<String> {
    conf.lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            match words.next() {
                Some("server" | "pool") => words.next().map(str::to_string),
                _ => None,
            }
        })
        .collect()
}

/// A scalar answer (`system uuid get` prints one value).
fn scalar(v: &Value) -> String {
    match v {
        Value::Structure(s) => s
            .fields
            .first()
            .map(|(_, v)| v.to_text())
            .unwrap_or_default(),
        Value::List(items) => items.first().map(Value::to_text).unwrap_or_default(),
        other => other.to_text(),
    }
    .trim()
    .to_string()
}

/// A list that XML prints bare (`<list type="string">`) and text prints as `Key: a, b`.
fn list_field(answers: &Answers, key: &str, field: &str) -> Vec<String> {
    match answers.esxcli(key) {
        Ok(Value::Structure(s)) => s.strings(field),
        Ok(Value::List(items)) if items.iter().all(|i| matches!(i, Value::Structure(_))) => items
            .iter()
            .flat_map(|i| match i {
                Value::Structure(s) => s.strings(field),
                _ => Vec::new(),
            })
            .collect(),
        Ok(v) => v.as_strings(),
        Err(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ntp_conf_as_esxi_writes_it() {
        let conf = "restrict default KOD nomodify notrap nopeer noquery\nrestrict 127.0.0.1\ndriftfile /etc/ntp.drift\n# server 10.9.9.9\nserver 10.0.0.1\nserver   ntp2.lab.example iburst\n\tpool 0.pool.ntp.org\nserver\n";
        assert_eq!(
            ntp_conf_servers(conf),
            ["10.0.0.1", "ntp2.lab.example", "0.pool.ntp.org"]
        );
        assert!(ntp_conf_servers("").is_empty());
    }

    #[test]
    fn ntp_source_by_version() {
        assert!(!ntp_in_esxcli("6.7.0"));
        assert!(!ntp_in_esxcli("7.0.0"));
        assert!(ntp_in_esxcli("7.0.1"));
        assert!(ntp_in_esxcli("7.0.3"));
        assert!(ntp_in_esxcli("8.0.2"));
        assert!(!ntp_in_esxcli("garbage"));
    }
}
