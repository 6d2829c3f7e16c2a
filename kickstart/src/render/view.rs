//! What the templates see for one host: the resolved [`Host`] as it is, plus the facts that
//! take a few lines of Rust but would take a page of Jinja (which uplinks to add, the
//! effective failover order, the name servers that fit on the `network` line, the version
//! gates). Templates stay declarative; the rules live here and in the inventory checks.

use std::net::Ipv4Addr;

use serde::Serialize;

use crate::inventory::{
    DEFAULT_VSWITCH, Host, InstallMode, MANAGEMENT_PORTGROUP, Mtu, NicRef, PostInstall,
    RootPassword, Vmnic, firstboot_work, on_network_line, writes_firstboot,
};

use super::quote::ksq;
use crate::version::{Dialect, EsxiVersion};

#[derive(Serialize)]
pub(crate) struct View<'h> {
    host: &'h Host,
    esxi: EsxiVersion,
    dialect: Dialect,
    /// The arguments of `rootpw`, or `None` for an upgrade (where the installer ignores it).
    rootpw: Option<String>,
    /// The host's DNS domain, if its FQDN has one.
    domain: Option<&'h str>,
    nameservers: Nameservers,
    firstboot: bool,
    /// What `esxforge host apply` configures after the install (`post_install: host_apply`).
    later: Vec<String>,
    /// The local datastore as the installer names it, for the first-boot log.
    local_datastore: Option<&'h str>,
    vswitches: Vec<VSwitchView<'h>>,
    portgroups: Vec<PortGroupView<'h>>,
    syslog: Option<SyslogView>,
    features: Features,
}

#[derive(Serialize)]
struct Nameservers {
    /// On the `network` line: the first two, with static addressing.
    line: Vec<Ipv4Addr>,
    /// Added in `%firstboot`.
    extra: Vec<Ipv4Addr>,
}

#[derive(Serialize)]
struct VSwitchView<'h> {
    name: &'h str,
    /// `vSwitch0` exists already; others are created.
    create: bool,
    /// Uplinks to add (the installer has put the management NIC on `vSwitch0`).
    add_uplinks: Vec<&'h Vmnic>,
    /// Set when not the default 1500.
    mtu: Option<Mtu>,
    policy: &'static str,
    vim_policy: &'static str,
    active: Vec<&'h Vmnic>,
    standby: Vec<&'h Vmnic>,
}

#[derive(Serialize)]
struct PortGroupView<'h> {
    name: &'h str,
    vswitch: &'h str,
    /// The installer creates the management port group itself.
    create: bool,
    vlan: u16,
    failover: bool,
    active: Vec<&'h Vmnic>,
    standby: Vec<&'h Vmnic>,
}

#[derive(Serialize)]
struct SyslogView {
    /// 5.x+: `--logdir` (a per-host subfolder is added by `--logdir-unique`); 4.1: the
    /// folder to create.
    logdir: Option<String>,
    /// 4.1: `Syslog.Local.DatastorePath`, `[datastore] /dir/<host>/messages`.
    datastore_path: Option<String>,
    /// 5.x+: `--loghost`, comma-separated.
    loghost: Option<String>,
    /// 4.1: one UDP host and its port.
    remote_host: Option<String>,
    remote_port: Option<u16>,
}

#[derive(Serialize)]
struct Features {
    esxcli_ntp: bool,
    vmk_tags: bool,
    vsan_tag: bool,
}

impl<'h> View<'h> {
    pub(crate) fn new(host: &'h Host, salt_seed: &str) -> View<'h> {
        let v = host.esxi;
        let upgrade = host.install.mode == InstallMode::Upgrade;
        let rootpw = match (&host.rootpw, upgrade) {
            (Some(pw), false) => Some(rootpw_args(pw, &host.name, salt_seed)),
            _ => None,
        };
        let on_line = on_network_line(host);
        let (line, extra) = if on_line {
            let cut = host.dns.servers.len().min(2);
            let (a, b) = host.dns.servers.split_at(cut);
            (a.to_vec(), b.to_vec())
        } else {
            (Vec::new(), host.dns.servers.clone())
        };
        let firstboot = writes_firstboot(host);
        let later = match host.post_install {
            PostInstall::HostApply => firstboot_work(host),
            PostInstall::Firstboot => Vec::new(),
        };
        let vmfs_on_disk = host.install.vmfs != Some(crate::inventory::VmfsPolicy::None);
        let local_datastore = match &host.datastore {
            Some(d) => Some(d.from.as_str()),
            None if vmfs_on_disk => Some("datastore1"),
            None => None,
        };
        View {
            host,
            esxi: v,
            dialect: v.dialect(),
            rootpw,
            domain: host.network.fqdn.as_str().split_once('.').map(|(_, d)| d),
            nameservers: Nameservers { line, extra },
            firstboot,
            later,
            local_datastore,
            vswitches: vswitches(host),
            portgroups: portgroups(host),
            syslog: syslog(host),
            features: Features {
                esxcli_ntp: v.has_esxcli_ntp(),
                vmk_tags: v.has_vmk_tags(),
                vsan_tag: v.has_vsan_tag(),
            },
        }
    }
}

/// `--iscrypted <hash>`, or the quoted clear password when the user asked for clear text.
fn rootpw_args(pw: &RootPassword, host: &str, salt_seed: &str) -> String {
    match pw.crypted(host, salt_seed) {
        Some(hash) => format!("--iscrypted {}", hash.as_str()),
        None => match pw {
            RootPassword::Clear { secret, .. } => ksq(secret.expose()),
            RootPassword::Hash(h) => format!("--iscrypted {}", h.as_str()),
        },
    }
}

fn vswitches(host: &Host) -> Vec<VSwitchView<'_>> {
    let mgmt = match &host.network.device {
        NicRef::Name(n) => Some(n),
        NicRef::Mac(_) => None,
    };
    host.vswitches
        .iter()
        .map(|vs| {
            let existing = vs.name.as_str() == DEFAULT_VSWITCH;
            VSwitchView {
                name: vs.name.as_str(),
                create: !existing,
                add_uplinks: vs
                    .uplinks
                    .iter()
                    .filter(|u| !(existing && Some(*u) == mgmt))
                    .collect(),
                mtu: (vs.mtu != Mtu::DEFAULT).then_some(vs.mtu),
                policy: vs.teaming.policy.esxcli(),
                vim_policy: vs.teaming.policy.vim(),
                active: vs.active_uplinks(),
                standby: vs.teaming.standby.iter().collect(),
            }
        })
        .collect()
}

fn portgroups(host: &Host) -> Vec<PortGroupView<'_>> {
    host.portgroups
        .iter()
        .map(|pg| {
            let (active, standby) = match &pg.failover {
                Some(f) => (f.active.iter().collect(), f.standby.iter().collect()),
                None => (Vec::new(), Vec::new()),
            };
            PortGroupView {
                name: pg.name.as_str(),
                vswitch: pg.vswitch.as_str(),
                create: pg.name.as_str() != MANAGEMENT_PORTGROUP,
                vlan: pg.vlan.id(),
                failover: pg.failover.is_some(),
                active,
                standby,
            }
        })
        .collect()
}

fn syslog(host: &Host) -> Option<SyslogView> {
    let s = host.syslog.as_ref()?;
    let four_one = !host.esxi.has_esxcli();
    let hostname = host.network.hostname.as_str();
    let (logdir, datastore_path) = match &s.datastore {
        Some(ds) if four_one => (
            Some(format!("/vmfs/volumes/{ds}/{}/{hostname}", s.dir)),
            Some(format!("[{ds}] /{}/{hostname}/messages", s.dir)),
        ),
        Some(ds) => (Some(format!("/vmfs/volumes/{ds}/{}", s.dir)), None),
        None => (None, None),
    };
    let (remote_host, remote_port) = match s.remote.first() {
        Some(r) if four_one => {
            // Checked to be udp://host:port on 4.1.
            let rest = r.split_once("://").map_or(r.as_str(), |(_, rest)| rest);
            match rest.rsplit_once(':') {
                Some((h, p)) => (Some(h.to_string()), p.parse().ok()),
                None => (Some(rest.to_string()), Some(514)),
            }
        }
        _ => (None, None),
    };
    Some(SyslogView {
        logdir,
        datastore_path,
        loghost: (!four_one && !s.remote.is_empty()).then(|| s.remote.join(",")),
        remote_host,
        remote_port,
    })
}
