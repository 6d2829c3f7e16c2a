//! What a host should look like, in the terms `apply` compares with [`HostFacts`].
//!
//! It is built from the inventory's resolved host (the same model the kickstart renderer
//! writes from, so a host installed from its kickstart and one configured by `host apply` end up
//! alike). Only what the inventory states is managed: an empty list or `None` leaves that part
//! of the host alone, and SSH / the ESXi Shell are only ever enabled, never disabled (disabling
//! SSH over SSH would cut the tool off its own host).
//!
//! [`HostFacts`]: crate::facts::HostFacts

use esxforge_kickstart::inventory;

use crate::facts::Teaming;

/// The managed configuration of one host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DesiredState {
    /// `esxcli system hostname set --fqdn`.
    pub fqdn: Option<String>,
    /// Name servers in order; empty: unmanaged.
    pub dns_servers: Vec<String>,
    /// Search domains in order; empty: unmanaged.
    pub dns_search: Vec<String>,
    /// NTP servers in order (and NTP enabled); empty: unmanaged.
    pub ntp: Vec<String>,
    pub vswitches: Vec<DesiredVSwitch>,
    pub portgroups: Vec<DesiredPortGroup>,
    pub vmknics: Vec<DesiredVmknic>,
    pub iscsi: Option<DesiredIscsi>,
    pub syslog: Option<DesiredSyslog>,
    /// Enable and start SSH (`TSM-SSH`).
    pub ssh: bool,
    /// Enable and start the ESXi Shell (`TSM`).
    pub shell: bool,
    pub datastore_rename: Option<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredVSwitch {
    pub name: String,
    pub uplinks: Vec<String>,
    pub mtu: u32,
    /// The failover order in effect: `active` as the inventory resolves it
    /// ([`VSwitch::active_uplinks`](inventory::VSwitch::active_uplinks)), never "empty means all".
    pub teaming: Teaming,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredPortGroup {
    pub name: String,
    pub vswitch: String,
    pub vlan: u16,
    /// An explicit failover order (active, standby) overriding the vSwitch's; `None` inherits.
    pub failover: Option<(Vec<String>, Vec<String>)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredVmknic {
    pub name: String,
    pub portgroup: String,
    /// `(ip, netmask)`; `None` is DHCP.
    pub ipv4: Option<(String, String)>,
    pub mtu: Option<u32>,
    /// The exact set of service tags, as esxcli spells them (`Management`, `VMotion`, …).
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredIscsi {
    pub bind: Vec<String>,
    /// `address:port`.
    pub send_targets: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredSyslog {
    /// `/vmfs/volumes/<datastore>/<dir>`, always with a per-host subfolder (`--logdir-unique`);
    /// `None` leaves the host's log directory alone.
    pub logdir: Option<String>,
    /// Remote log hosts (`udp://host:514`), in order.
    pub loghosts: Vec<String>,
}

/// The desired state of an inventory host, as its kickstart's `%firstboot` would configure it
/// (the management vmknic is the installer's and is left alone).
pub fn from_inventory(host: &inventory::Host) -> DesiredState {
    let names =
        |v: &[inventory::Vmnic]| v.iter().map(|n| n.as_str().to_string()).collect::<Vec<_>>();
    DesiredState {
        fqdn: Some(host.network.fqdn.as_str().to_string()),
        dns_servers: host.dns.servers.iter().map(ToString::to_string).collect(),
        dns_search: host
            .dns
            .search
            .iter()
            .map(|d| d.as_str().to_string())
            .collect(),
        ntp: host.ntp.clone(),
        vswitches: host
            .vswitches
            .iter()
            .map(|v| DesiredVSwitch {
                name: v.name.as_str().to_string(),
                uplinks: names(&v.uplinks),
                mtu: u32::from(v.mtu.bytes()),
                teaming: Teaming {
                    load_balancing: v.teaming.policy.esxcli().to_string(),
                    active: v
                        .active_uplinks()
                        .iter()
                        .map(|n| n.as_str().to_string())
                        .collect(),
                    standby: names(&v.teaming.standby),
                },
            })
            .collect(),
        portgroups: host
            .portgroups
            .iter()
            .map(|p| DesiredPortGroup {
                name: p.name.as_str().to_string(),
                vswitch: p.vswitch.as_str().to_string(),
                vlan: p.vlan.id(),
                failover: p
                    .failover
                    .as_ref()
                    .map(|f| (names(&f.active), names(&f.standby))),
            })
            .collect(),
        vmknics: host
            .vmkernel
            .iter()
            .map(|k| DesiredVmknic {
                name: k.name.as_str().to_string(),
                portgroup: k.portgroup.as_str().to_string(),
                ipv4: k
                    .address
                    .as_ref()
                    .map(|c| (c.ip.to_string(), c.netmask().to_string())),
                mtu: k.mtu.map(|m| u32::from(m.bytes())),
                tags: k.services.iter().map(|s| s.tag().to_string()).collect(),
            })
            .collect(),
        iscsi: host.iscsi.as_ref().map(|i| DesiredIscsi {
            bind: i.bind.iter().map(|k| k.as_str().to_string()).collect(),
            send_targets: i
                .targets
                .iter()
                .map(|t| format!("{}:{}", t.address, t.port))
                .collect(),
        }),
        syslog: host.syslog.as_ref().map(|s| DesiredSyslog {
            logdir: s
                .datastore
                .as_ref()
                .map(|ds| format!("/vmfs/volumes/{ds}/{}", s.dir)),
            loghosts: s.remote.clone(),
        }),
        ssh: host.ssh,
        shell: host.shell,
        datastore_rename: host
            .datastore
            .as_ref()
            .map(|d| (d.from.as_str().to_string(), d.to.as_str().to_string())),
    }
}
