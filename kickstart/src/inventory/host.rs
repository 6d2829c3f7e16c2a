//! The resolved specification of one host: defaults, groups and the host's own values merged,
//! templated and checked. This is what the renderer writes into a kickstart and what
//! `esxforge host apply` compares with a live host — one source of truth for both.

use std::net::Ipv4Addr;

use serde::Serialize;

use super::net::{Hostname, Ipv4Cidr, Label, Mtu, NicRef, Vlan, VmkName, Vmnic};
use super::rootpw::RootPassword;
use crate::version::EsxiVersion;

/// One ESXi host, fully resolved.
#[derive(Debug, Clone, Serialize)]
pub struct Host {
    /// The host's key under `hosts:`; also the kickstart's file name (`<name>.ks.cfg`).
    pub name: String,
    pub esxi: EsxiVersion,
    /// The host boots with UEFI Secure Boot, which skips `%firstboot`.
    pub secure_boot: bool,
    /// Who configures the host after the install.
    pub post_install: PostInstall,
    /// Write `paranoid`: the installer then stops on any warning.
    pub paranoid: bool,
    pub install: Install,
    /// `None` only for `install.mode: upgrade`, where the installer ignores `rootpw`.
    pub rootpw: Option<RootPassword>,
    /// `keyboard` layout, e.g. `US Default`, `German`.
    pub keyboard: Option<String>,
    pub network: Management,
    pub dns: Dns,
    /// NTP servers (host names or IPv4 addresses), in order.
    pub ntp: Vec<String>,
    /// Enable and start SSH (remote Tech Support Mode on 4.1).
    pub ssh: bool,
    /// Enable and start the ESXi Shell (local Tech Support Mode on 4.1).
    pub shell: bool,
    pub vswitches: Vec<VSwitch>,
    pub portgroups: Vec<PortGroup>,
    pub vmkernel: Vec<Vmknic>,
    pub iscsi: Option<Iscsi>,
    pub syslog: Option<Syslog>,
    /// Rename the local datastore after the install; `None` when there is none to rename.
    pub datastore: Option<DatastoreRename>,
    /// Driver bundles, VIBs or components installed last, in this order.
    pub drivers: Vec<Driver>,
    pub scripts: Scripts,
    /// Where `esxforge host …` connects: `address` (default: the management IP, else the FQDN).
    pub address: String,
    pub ssh_port: u16,
    pub ssh_user: String,
}

/// Who configures the host after the installer's reboot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PostInstall {
    /// The kickstart's `%firstboot` section (the default).
    Firstboot,
    /// `esxforge host apply`, run after the install; the kickstart holds only the install.
    /// Required with Secure Boot, which skips `%firstboot`.
    HostApply,
}

#[derive(Debug, Clone, Serialize)]
pub struct Install {
    pub mode: InstallMode,
    pub target: InstallTarget,
    pub vmfs: Option<VmfsPolicy>,
    /// `--ignoressd` (install only).
    pub ignore_ssd: bool,
    /// `--forcemigrate` (upgrades on 7.x and later).
    pub forcemigrate: bool,
    /// 4.1 only: where the installer reads its image from (`install cdrom|usb|url|nfs`).
    pub media: Option<InstallMedia>,
    /// Write `reboot` so the installer restarts by itself when done.
    pub reboot: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InstallMode {
    Install,
    Upgrade,
    InstallOrUpgrade,
}

/// Which disk the installer writes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum InstallTarget {
    /// The first disk matching these filters, in preference order (`--firstdisk=local,remote`).
    /// Empty means the installer's default order.
    FirstDisk { prefer: Vec<DiskFilter> },
    /// A named device (`naa.…`, `mpx.…`, `t10.…`, `eui.…`, `vml.…`, `/vmfs/devices/disks/…`).
    Disk { device: String },
    /// A USB stick or SD card (`--firstdisk=usb`).
    Usb,
    /// Boot from SAN, FC or iSCSI (`--firstdisk=remote`).
    San,
}

/// A `--firstdisk` filter; serialized as its kickstart spelling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiskFilter {
    Local,
    Remote,
    Usb,
    /// A disk that already holds ESXi.
    Esx,
    /// A driver, model or vendor name (`megaraid_sas`, `ST3120814A`).
    Model(String),
}

impl DiskFilter {
    pub fn as_str(&self) -> &str {
        match self {
            DiskFilter::Local => "local",
            DiskFilter::Remote => "remote",
            DiskFilter::Usb => "usb",
            DiskFilter::Esx => "esx",
            DiskFilter::Model(m) => m,
        }
    }
}

impl Serialize for DiskFilter {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// What happens to a VMFS datastore already on the target disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VmfsPolicy {
    /// `--overwritevmfs`: replace it.
    Overwrite,
    /// `--preservevmfs`: keep it.
    Preserve,
    /// `--novmfsondisk`: create no datastore on the install disk.
    None,
}

/// 4.1's install source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "kind")]
pub enum InstallMedia {
    Cdrom,
    Usb,
    Url { url: String },
    Nfs { server: String, dir: String },
}

/// The management network the installer configures (`network` command, `vmk0`).
#[derive(Debug, Clone, Serialize)]
pub struct Management {
    /// The uplink, by name or MAC address.
    pub device: NicRef,
    pub vlan: Option<Vlan>,
    pub addressing: Addressing,
    /// Short host name (first label of the FQDN).
    pub hostname: Hostname,
    /// The fully qualified name written as `--hostname`.
    pub fqdn: Hostname,
    /// Create the "VM Network" port group (`--addvmportgroup`).
    pub vm_portgroup: bool,
}

impl Management {
    /// The static management IP, if any.
    pub fn ip(&self) -> Option<Ipv4Addr> {
        match &self.addressing {
            Addressing::Static { cidr, .. } => Some(cidr.ip),
            Addressing::Dhcp => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "mode")]
pub enum Addressing {
    Dhcp,
    Static {
        cidr: Ipv4Cidr,
        gateway: Option<Ipv4Addr>,
    },
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Dns {
    /// Name servers in order. The first two go on the `network` line (static addressing);
    /// the installer silently drops the rest, so they are added in `%firstboot`.
    pub servers: Vec<Ipv4Addr>,
    pub search: Vec<Hostname>,
}

/// A standard vSwitch.
#[derive(Debug, Clone, Serialize)]
pub struct VSwitch {
    pub name: Label,
    pub uplinks: Vec<Vmnic>,
    pub mtu: Mtu,
    pub teaming: Teaming,
}

/// Load balancing and failover order of a vSwitch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Teaming {
    pub policy: LoadBalancing,
    /// Active uplinks in order; empty means every uplink of the vSwitch not in `standby`.
    pub active: Vec<Vmnic>,
    pub standby: Vec<Vmnic>,
}

impl VSwitch {
    /// The active uplinks in effect: `teaming.active`, or when that is empty every uplink that
    /// is not in `teaming.standby`, in `uplinks` order.
    pub fn active_uplinks(&self) -> Vec<&Vmnic> {
        if self.teaming.active.is_empty() {
            self.uplinks
                .iter()
                .filter(|u| !self.teaming.standby.contains(u))
                .collect()
        } else {
            self.teaming.active.iter().collect()
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LoadBalancing {
    /// Route based on the originating virtual port (the default).
    PortId,
    /// Route based on IP hash; needs a static EtherChannel on the physical switch.
    IpHash,
    /// Route based on source MAC hash.
    Mac,
    /// Use explicit failover order.
    Explicit,
}

impl LoadBalancing {
    /// The `esxcli … policy failover set -l` value.
    pub fn esxcli(self) -> &'static str {
        match self {
            LoadBalancing::PortId => "portid",
            LoadBalancing::IpHash => "iphash",
            LoadBalancing::Mac => "mac",
            LoadBalancing::Explicit => "explicit",
        }
    }

    /// The vSphere API name, which 4.1's `vim-cmd hostsvc/net/vswitch_setpolicy` takes.
    pub fn vim(self) -> &'static str {
        match self {
            LoadBalancing::PortId => "loadbalance_srcid",
            LoadBalancing::IpHash => "loadbalance_ip",
            LoadBalancing::Mac => "loadbalance_srcmac",
            LoadBalancing::Explicit => "failover_explicit",
        }
    }
}

/// A port group on a standard vSwitch.
#[derive(Debug, Clone, Serialize)]
pub struct PortGroup {
    pub name: Label,
    pub vswitch: Label,
    pub vlan: Vlan,
    /// A failover order overriding the vSwitch's; `None` inherits it.
    pub failover: Option<Failover>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failover {
    pub active: Vec<Vmnic>,
    /// Uplinks of the vSwitch in neither list are unused on this port group.
    pub standby: Vec<Vmnic>,
}

/// A VMkernel NIC.
#[derive(Debug, Clone, Serialize)]
pub struct Vmknic {
    pub name: VmkName,
    pub portgroup: Label,
    /// `None`: DHCP.
    pub address: Option<Ipv4Cidr>,
    pub mtu: Option<Mtu>,
    pub services: Vec<VmkService>,
}

/// A VMkernel service tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VmkService {
    Management,
    Vmotion,
    FtLogging,
    Vsan,
    Provisioning,
    Replication,
    ReplicationNfc,
}

impl VmkService {
    pub const ALL: [VmkService; 7] = [
        VmkService::Management,
        VmkService::Vmotion,
        VmkService::FtLogging,
        VmkService::Vsan,
        VmkService::Provisioning,
        VmkService::Replication,
        VmkService::ReplicationNfc,
    ];

    /// The inventory spelling.
    pub fn key(self) -> &'static str {
        match self {
            VmkService::Management => "management",
            VmkService::Vmotion => "vmotion",
            VmkService::FtLogging => "ft_logging",
            VmkService::Vsan => "vsan",
            VmkService::Provisioning => "provisioning",
            VmkService::Replication => "replication",
            VmkService::ReplicationNfc => "replication_nfc",
        }
    }

    /// The `esxcli network ip interface tag add -t` value.
    pub fn tag(self) -> &'static str {
        match self {
            VmkService::Management => "Management",
            VmkService::Vmotion => "VMotion",
            VmkService::FtLogging => "faultToleranceLogging",
            VmkService::Vsan => "VSAN",
            VmkService::Provisioning => "vSphereProvisioning",
            VmkService::Replication => "vSphereReplication",
            VmkService::ReplicationNfc => "vSphereReplicationNFC",
        }
    }
}

/// Software iSCSI with port binding.
#[derive(Debug, Clone, Serialize)]
pub struct Iscsi {
    /// VMkernel NICs bound to the software adapter; each must sit on a port group with exactly
    /// one active uplink and no standby.
    pub bind: Vec<VmkName>,
    /// Send targets (dynamic discovery), `address[:port]`.
    pub targets: Vec<SendTarget>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SendTarget {
    pub address: Ipv4Addr,
    pub port: u16,
}

#[derive(Debug, Clone, Serialize)]
pub struct Syslog {
    /// Keep logs on this datastore, in `dir` (one subfolder per host is added).
    pub datastore: Option<Label>,
    pub dir: String,
    /// Remote log hosts, `udp://host:514`, `tcp://…`, `ssl://…`.
    pub remote: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DatastoreRename {
    /// The datastore the installer created (`datastore1`).
    pub from: Label,
    /// Its new name; default `<hostname>-datastore01`.
    pub to: Label,
}

/// A driver or other software installed after the first boot.
#[derive(Debug, Clone, Serialize)]
pub struct Driver {
    /// An `http(s)://` URL, or an absolute path on the host (a datastore).
    pub source: String,
    pub kind: DriverKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DriverKind {
    /// An offline bundle (depot zip): `esxcli software vib install -d`, 4.1 `esxupdate --bundle`.
    Bundle,
    /// A single VIB: `esxcli software vib install -v`.
    Vib,
    /// A 7.0+ component zip: `esxcli software component apply -d`.
    Component,
}

/// The user's own script sections, added after what esxforge writes in each.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Scripts {
    pub pre: Option<String>,
    pub post: Option<String>,
    pub firstboot: Option<String>,
}
