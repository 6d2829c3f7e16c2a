//! What a host should look like, in the terms `apply` compares with [`HostFacts`].
//!
//! It is built from the inventory's resolved host (the same model the kickstart renderer
//! writes from, so a host installed from its kickstart and one configured by `host apply` end up
//! alike). Only what the inventory states is managed: an empty list or `None` leaves that part
//! of the host alone, and SSH / the ESXi Shell are only ever enabled, never disabled (disabling
//! SSH over SSH would cut the tool off its own host).
//!
//! [`HostFacts`]: crate::facts::HostFacts

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
    /// `active` empty means "every uplink not in standby", as the inventory defines it.
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
    /// `/vmfs/volumes/<datastore>/<dir>` or `[]` default; empty: unmanaged.
    pub logdir: String,
    pub logdir_unique: bool,
    pub loghosts: Vec<String>,
}
