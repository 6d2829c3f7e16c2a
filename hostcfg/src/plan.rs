//! From facts and a desired state to an ordered list of changes.
//!
//! Every managed item (`dns.servers`, `vswitch vSwitch1 uplinks`, …) is compared; only the
//! ones that differ become [`Step`]s, each with the esxcli / vim-cmd lines that fix it and a
//! before/after for `--diff`. The order is the kickstart's: identity, DNS, NTP, switches, port
//! groups, vmknics, iSCSI, syslog, services, datastore — a port group needs its vSwitch, a vmknic
//! its port group, a port binding its vmknic.

use crate::collect::ntp_in_esxcli;
use crate::collect::quote;
use crate::desired::{DesiredState, DesiredVSwitch};
use crate::facts::{HostFacts, Teaming};

/// One change.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Step {
    /// What it changes: `dns.servers`, `portgroup "iSCSI-A" vlan`.
    pub item: String,
    pub before: String,
    pub after: String,
    /// Shell lines run in order; the first failure stops the host.
    pub commands: Vec<String>,
}

/// Everything compared and what has to change.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Plan {
    /// Every managed item, in order, changed or not.
    pub items: Vec<String>,
    pub steps: Vec<Step>,
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(
        "{host} runs ESXi {version}: host apply drives esxcli 5.x and later (configure 4.x hosts from their kickstart)"
    )]
    Unsupported { host: String, version: String },
}

impl Plan {
    fn check(&mut self, item: String, before: String, after: String, commands: Vec<String>) {
        if before != after {
            self.steps.push(Step {
                item: item.clone(),
                before,
                after,
                commands,
            });
        }
        self.items.push(item);
    }
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "(none)".to_string()
    } else {
        items.join(", ")
    }
}

/// The changes that turn `facts` into `desired`.
pub fn plan(facts: &HostFacts, desired: &DesiredState) -> Result<Plan, PlanError> {
    let major: u32 = facts
        .version
        .version
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if major < 5 {
        return Err(PlanError::Unsupported {
            host: facts.name.clone(),
            version: facts.version.version.clone(),
        });
    }
    let mut p = Plan::default();
    if let Some(fqdn) = &desired.fqdn {
        p.check(
            "hostname".into(),
            facts.fqdn.clone(),
            fqdn.clone(),
            vec![format!("esxcli system hostname set --fqdn={}", quote(fqdn))],
        );
    }
    if !desired.dns_servers.is_empty() {
        let mut cmds = vec!["esxcli network ip dns server remove --all".to_string()];
        cmds.extend(
            desired
                .dns_servers
                .iter()
                .map(|s| format!("esxcli network ip dns server add --server={}", quote(s))),
        );
        p.check(
            "dns.servers".into(),
            list(&facts.dns.servers),
            list(&desired.dns_servers),
            cmds,
        );
    }
    if !desired.dns_search.is_empty() {
        let mut cmds: Vec<String> = facts
            .dns
            .search
            .iter()
            .map(|d| format!("esxcli network ip dns search remove --domain={}", quote(d)))
            .collect();
        cmds.extend(
            desired
                .dns_search
                .iter()
                .map(|d| format!("esxcli network ip dns search add --domain={}", quote(d))),
        );
        p.check(
            "dns.search".into(),
            list(&facts.dns.search),
            list(&desired.dns_search),
            cmds,
        );
    }
    if !desired.ntp.is_empty() {
        let show = |enabled: bool, servers: &[String]| {
            format!(
                "{} ({})",
                list(servers),
                if enabled { "enabled" } else { "disabled" }
            )
        };
        p.check(
            "ntp".into(),
            show(facts.ntp.enabled, &facts.ntp.servers),
            show(true, &desired.ntp),
            ntp_commands(&facts.version.version, &desired.ntp),
        );
    }
    for v in &desired.vswitches {
        vswitch(&mut p, facts, v);
    }
    for pg in &desired.portgroups {
        let have = facts.portgroups.iter().find(|h| h.name == pg.name);
        let q = quote(&pg.name);
        p.check(
            format!("portgroup {:?}", pg.name),
            have.map_or("(absent)".into(), |h| format!("on {}", h.vswitch)),
            format!("on {}", pg.vswitch),
            vec![format!(
                "esxcli network vswitch standard portgroup add -p {q} -v {}",
                quote(&pg.vswitch)
            )],
        );
        p.check(
            format!("portgroup {:?} vlan", pg.name),
            have.map_or("(absent)".into(), |h| h.vlan.to_string()),
            pg.vlan.to_string(),
            vec![format!(
                "esxcli network vswitch standard portgroup set -p {q} --vlan-id={}",
                pg.vlan
            )],
        );
        let have_failover = have
            .and_then(|h| h.teaming.as_ref())
            .map(|t| format!("active {} standby {}", list(&t.active), list(&t.standby)));
        let want_failover = pg
            .failover
            .as_ref()
            .map(|(a, s)| format!("active {} standby {}", list(a), list(s)));
        let cmd = match &pg.failover {
            None => format!(
                "esxcli network vswitch standard portgroup policy failover set -p {q} --use-vswitch"
            ),
            Some((active, standby)) => {
                let mut c = format!(
                    "esxcli network vswitch standard portgroup policy failover set -p {q} -a {}",
                    quote(&active.join(","))
                );
                if !standby.is_empty() {
                    c.push_str(&format!(" -s {}", quote(&standby.join(","))));
                }
                c
            }
        };
        p.check(
            format!("portgroup {:?} failover", pg.name),
            have_failover.unwrap_or_else(|| "(vSwitch's)".into()),
            want_failover.unwrap_or_else(|| "(vSwitch's)".into()),
            vec![cmd],
        );
    }
    for k in &desired.vmknics {
        let have = facts.vmknics.iter().find(|h| h.name == k.name);
        let i = quote(&k.name);
        let mut add = format!(
            "esxcli network ip interface add -i {i} -p {}",
            quote(&k.portgroup)
        );
        if let Some(mtu) = k.mtu {
            add.push_str(&format!(" -m {mtu}"));
        }
        // A vmknic moves to another port group by being recreated there; its address, MTU
        // and tags are then set afresh.
        let mut commands = Vec::new();
        if have.is_some_and(|h| h.portgroup != k.portgroup) {
            commands.push(format!("esxcli network ip interface remove -i {i}"));
        }
        commands.push(add);
        p.check(
            format!("vmknic {}", k.name),
            have.map_or("(absent)".into(), |h| format!("on {}", h.portgroup)),
            format!("on {}", k.portgroup),
            commands,
        );
        let have = have.filter(|h| h.portgroup == k.portgroup);
        let (want_ip, cmd) = match &k.ipv4 {
            Some((ip, mask)) => (
                format!("{ip}/{mask}"),
                format!("esxcli network ip interface ipv4 set -i {i} -t static -I {ip} -N {mask}"),
            ),
            None => (
                "dhcp".to_string(),
                format!("esxcli network ip interface ipv4 set -i {i} -t dhcp"),
            ),
        };
        let have_ip = have.map_or("(absent)".into(), |h| {
            if k.ipv4.is_none() {
                // The address a DHCP vmknic got says nothing about its mode: trust the wish.
                "dhcp".to_string()
            } else {
                format!("{}/{}", h.ip, h.netmask)
            }
        });
        p.check(
            format!("vmknic {} ipv4", k.name),
            have_ip,
            want_ip,
            vec![cmd],
        );
        if let Some(mtu) = k.mtu {
            p.check(
                format!("vmknic {} mtu", k.name),
                have.map_or("(absent)".into(), |h| h.mtu.to_string()),
                mtu.to_string(),
                vec![format!("esxcli network ip interface set -i {i} -m {mtu}")],
            );
        }
        let have_tags = have.map(|h| h.tags.clone()).unwrap_or_default();
        let mut cmds: Vec<String> = have_tags
            .iter()
            .filter(|t| !k.tags.contains(t))
            .map(|t| {
                format!(
                    "esxcli network ip interface tag remove -i {i} -t {}",
                    quote(t)
                )
            })
            .collect();
        cmds.extend(
            k.tags
                .iter()
                .filter(|t| !have_tags.contains(t))
                .map(|t| format!("esxcli network ip interface tag add -i {i} -t {}", quote(t))),
        );
        let mut a = have_tags.clone();
        a.sort();
        let mut b = k.tags.clone();
        b.sort();
        p.check(format!("vmknic {} tags", k.name), list(&a), list(&b), cmds);
    }
    if let Some(want) = &desired.iscsi {
        iscsi(&mut p, facts, want);
    }
    if let Some(s) = &desired.syslog {
        let mut cmds = Vec::new();
        let mut set = "esxcli system syslog config set".to_string();
        if let Some(dir) = &s.logdir {
            cmds.push(format!("mkdir -p {}", quote(dir)));
            set.push_str(&format!(" --logdir={} --logdir-unique=true", quote(dir)));
            p.check(
                "syslog logdir".into(),
                format!(
                    "{} (unique {})",
                    facts.syslog.logdir, facts.syslog.logdir_unique
                ),
                format!("{dir} (unique true)"),
                Vec::new(),
            );
        }
        set.push_str(&format!(" --loghost={}", quote(&s.loghosts.join(","))));
        p.check(
            "syslog loghosts".into(),
            list(&facts.syslog.loghosts),
            list(&s.loghosts),
            Vec::new(),
        );
        // One esxcli call sets both; it runs once, attached to whichever item changed first.
        cmds.push(set);
        if !s.loghosts.is_empty() {
            cmds.push(
                "esxcli network firewall ruleset set --ruleset-id=syslog --enabled=true".into(),
            );
            cmds.push("esxcli network firewall refresh".into());
        }
        cmds.push("esxcli system syslog reload".to_string());
        if let Some(first) = p.steps.iter_mut().find(|st| st.item.starts_with("syslog ")) {
            first.commands = cmds;
        }
    }
    for (wanted, key, label, enable, start) in [
        (
            desired.ssh,
            "TSM-SSH",
            "service ssh",
            "enable_ssh",
            "start_ssh",
        ),
        (
            desired.shell,
            "TSM",
            "service shell",
            "enable_esx_shell",
            "start_esx_shell",
        ),
    ] {
        if !wanted {
            continue;
        }
        let have = facts.services.iter().find(|s| s.key == key);
        let state = have.map_or("(unknown)".to_string(), |s| {
            format!(
                "policy {} {}",
                s.policy,
                if s.running { "running" } else { "stopped" }
            )
        });
        p.check(
            label.into(),
            state,
            "policy on running".into(),
            vec![
                format!("vim-cmd hostsvc/{enable}"),
                format!("vim-cmd hostsvc/{start}"),
            ],
        );
    }
    if let Some((from, to)) = &desired.datastore_rename {
        let has = |n: &str| facts.datastores.iter().any(|d| d.name == n);
        // A host without the installer's datastore (installed elsewhere, or renamed by hand to
        // something else) has nothing to rename: the item is not this host's.
        if has(from) || has(to) {
            p.check(
                "datastore name".into(),
                if has(to) { to.clone() } else { from.clone() },
                to.clone(),
                vec![format!(
                    "vim-cmd hostsvc/datastore/rename {} {}",
                    quote(from),
                    quote(to)
                )],
            );
        }
    }
    Ok(p)
}

fn ntp_commands(version: &str, servers: &[String]) -> Vec<String> {
    if ntp_in_esxcli(version) {
        let mut set = "esxcli system ntp set --enabled=true".to_string();
        for s in servers {
            set.push_str(&format!(" --server={}", quote(s)));
        }
        return vec![set];
    }
    // Before 7.0 U1 the file is the configuration (kickstart.md §2).
    let mut conf =
        String::from("restrict default kod nomodify notrap nopeer noquery\nrestrict 127.0.0.1\n");
    for s in servers {
        conf.push_str(&format!("server {s}\n"));
    }
    conf.push_str("driftfile /etc/ntp.drift\n");
    vec![
        format!("printf %s {} > /etc/ntp.conf", quote(&conf)),
        "chkconfig ntpd on".to_string(),
        "/etc/init.d/ntpd restart".to_string(),
    ]
}

fn vswitch(p: &mut Plan, facts: &HostFacts, want: &DesiredVSwitch) {
    let have = facts.vswitches.iter().find(|h| h.name == want.name);
    let v = quote(&want.name);
    p.check(
        format!("vswitch {}", want.name),
        if have.is_some() {
            "present"
        } else {
            "(absent)"
        }
        .into(),
        "present".into(),
        vec![format!("esxcli network vswitch standard add -v {v}")],
    );
    p.check(
        format!("vswitch {} mtu", want.name),
        have.map_or("(absent)".into(), |h| h.mtu.to_string()),
        want.mtu.to_string(),
        vec![format!(
            "esxcli network vswitch standard set -v {v} -m {}",
            want.mtu
        )],
    );
    let have_uplinks = have.map(|h| h.uplinks.clone()).unwrap_or_default();
    let mut a = have_uplinks.clone();
    a.sort();
    let mut b = want.uplinks.clone();
    b.sort();
    let mut cmds: Vec<String> = want
        .uplinks
        .iter()
        .filter(|u| !have_uplinks.contains(u))
        .map(|u| {
            format!(
                "esxcli network vswitch standard uplink add -u {} -v {v}",
                quote(u)
            )
        })
        .collect();
    cmds.extend(
        have_uplinks
            .iter()
            .filter(|u| !want.uplinks.contains(u))
            .map(|u| {
                format!(
                    "esxcli network vswitch standard uplink remove -u {} -v {v}",
                    quote(u)
                )
            }),
    );
    p.check(
        format!("vswitch {} uplinks", want.name),
        list(&a),
        list(&b),
        cmds,
    );
    let show = |t: &Teaming| {
        format!(
            "{} active {} standby {}",
            t.load_balancing,
            list(&t.active),
            list(&t.standby)
        )
    };
    let wanted = &want.teaming;
    let mut cmd = format!(
        "esxcli network vswitch standard policy failover set -v {v} -l {}",
        quote(&wanted.load_balancing)
    );
    if !wanted.active.is_empty() {
        cmd.push_str(&format!(" -a {}", quote(&wanted.active.join(","))));
    }
    if !wanted.standby.is_empty() {
        cmd.push_str(&format!(" -s {}", quote(&wanted.standby.join(","))));
    }
    p.check(
        format!("vswitch {} teaming", want.name),
        have.map_or("(absent)".into(), |h| show(&h.teaming)),
        show(wanted),
        vec![cmd],
    );
}

fn iscsi(p: &mut Plan, facts: &HostFacts, want: &crate::desired::DesiredIscsi) {
    let have = facts.iscsi.as_ref();
    // The software adapter's vmhba number differs per host: use the one the host reported,
    // else find it when the step runs (it only exists once software iSCSI is enabled).
    let adapter = have
        .map(|i| i.adapter.clone())
        .filter(|a| !a.is_empty())
        .map(|a| quote(&a))
        .unwrap_or_else(|| {
            "\"$(esxcli iscsi adapter list | awk '$2==\"iscsi_vmk\"{print $1; exit}')\"".to_string()
        });
    p.check(
        "iscsi software".into(),
        if have.is_some_and(|i| i.enabled) {
            "enabled"
        } else {
            "disabled"
        }
        .into(),
        "enabled".into(),
        vec!["esxcli iscsi software set --enabled=true".to_string()],
    );
    let bound = have.map(|i| i.bound_vmknics.clone()).unwrap_or_default();
    let mut a = bound.clone();
    a.sort();
    let mut b = want.bind.clone();
    b.sort();
    let cmds = want
        .bind
        .iter()
        .filter(|k| !bound.contains(k))
        .map(|k| {
            format!(
                "esxcli iscsi networkportal add -A {adapter} -n {}",
                quote(k)
            )
        })
        .collect();
    p.check("iscsi bindings".into(), list(&a), list(&b), cmds);
    let targets = have.map(|i| i.send_targets.clone()).unwrap_or_default();
    let missing: Vec<&String> = want
        .send_targets
        .iter()
        .filter(|t| !targets.contains(t))
        .collect();
    let mut cmds: Vec<String> = missing
        .iter()
        .map(|t| {
            format!(
                "esxcli iscsi adapter discovery sendtarget add -A {adapter} -a {}",
                quote(t)
            )
        })
        .collect();
    cmds.push(format!("esxcli storage core adapter rescan -A {adapter}"));
    let shown: Vec<String> = want
        .send_targets
        .iter()
        .filter(|t| targets.contains(t) || missing.contains(t))
        .cloned()
        .collect();
    let before: Vec<String> = want
        .send_targets
        .iter()
        .filter(|t| targets.contains(t))
        .cloned()
        .collect();
    p.check(
        "iscsi send targets".into(),
        list(&before),
        list(&shown),
        cmds,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::{DesiredPortGroup, DesiredVmknic};
    use crate::facts::{PortGroup, VSwitch, Version, VmkNic};

    fn host() -> HostFacts {
        HostFacts {
            name: "esx01".into(),
            version: Version {
                version: "8.0.2".into(),
                ..Version::default()
            },
            fqdn: "esx01.lab".into(),
            vswitches: vec![VSwitch {
                name: "vSwitch0".into(),
                mtu: 1500,
                uplinks: vec!["vmnic0".into()],
                portgroups: vec![],
                teaming: Teaming {
                    load_balancing: "portid".into(),
                    active: vec!["vmnic0".into()],
                    standby: vec![],
                },
            }],
            ..HostFacts::default()
        }
    }

    #[test]
    fn only_differences_become_steps_in_dependency_order() {
        let desired = DesiredState {
            fqdn: Some("esx01.lab".into()),
            dns_servers: vec!["10.0.0.1".into(), "10.0.0.2".into()],
            vswitches: vec![DesiredVSwitch {
                name: "vSwitch0".into(),
                uplinks: vec!["vmnic0".into()],
                mtu: 1500,
                teaming: Teaming {
                    load_balancing: "portid".into(),
                    active: vec!["vmnic0".into()],
                    standby: vec![],
                },
            }],
            portgroups: vec![DesiredPortGroup {
                name: "vMotion net".into(),
                vswitch: "vSwitch0".into(),
                vlan: 20,
                failover: None,
            }],
            vmknics: vec![DesiredVmknic {
                name: "vmk1".into(),
                portgroup: "vMotion net".into(),
                ipv4: Some(("10.0.20.11".into(), "255.255.255.0".into())),
                mtu: None,
                tags: vec!["VMotion".into()],
            }],
            ..DesiredState::default()
        };
        let p = plan(&host(), &desired).unwrap();
        let items: Vec<&str> = p.steps.iter().map(|s| s.item.as_str()).collect();
        assert_eq!(
            items,
            [
                "dns.servers",
                "portgroup \"vMotion net\"",
                "portgroup \"vMotion net\" vlan",
                "vmknic vmk1",
                "vmknic vmk1 ipv4",
                "vmknic vmk1 tags"
            ]
        );
        assert!(p.items.contains(&"hostname".to_string()));
        assert!(p.steps[1].commands[0].contains("-p 'vMotion net' -v vSwitch0"));

        // The host after those changes needs nothing more.
        let mut after = host();
        after.dns.servers = desired.dns_servers.clone();
        after.portgroups.push(PortGroup {
            name: "vMotion net".into(),
            vswitch: "vSwitch0".into(),
            vlan: 20,
            teaming: None,
        });
        after.vmknics.push(VmkNic {
            name: "vmk1".into(),
            portgroup: "vMotion net".into(),
            ip: "10.0.20.11".into(),
            netmask: "255.255.255.0".into(),
            tags: vec!["VMotion".into()],
            ..VmkNic::default()
        });
        assert!(plan(&after, &desired).unwrap().steps.is_empty());
    }

    #[test]
    fn old_hosts_are_refused_and_ntp_follows_the_version() {
        let mut old = host();
        old.version.version = "4.1.0".into();
        assert!(plan(&old, &DesiredState::default()).is_err());
        assert!(ntp_commands("6.7.0", &["a".into()])[0].contains("/etc/ntp.conf"));
        // ntpd knows `nopeer` and `noquery`; VMware's KB sample runs them together.
        assert!(
            ntp_commands("6.7.0", &["a".into()])[0]
                .contains("restrict default kod nomodify notrap nopeer noquery\n")
        );
        assert!(ntp_commands("7.0.3", &["a".into()])[0].starts_with("esxcli system ntp set"));
    }
}
