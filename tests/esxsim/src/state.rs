//! The simulated host: everything `esxcli` and `vim-cmd` report or change, as one JSON
//! document.
//!
//! Every simulator command loads the state, acts, and (when it changed something) writes it
//! back, so a change made by one SSH command is what the next one sees. Tests read and modify the
//! same document through [`crate::store::Store`].

use serde::{Deserialize, Serialize};

use crate::version::Version;

/// One simulated ESXi host.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct State {
    pub host: Host,
    pub maintenance_mode: bool,
    pub cpu: Cpu,
    pub nics: Vec<Nic>,
    pub vswitches: Vec<VSwitch>,
    pub portgroups: Vec<PortGroup>,
    pub vmknics: Vec<Vmknic>,
    pub dns: Dns,
    pub ntp: Ntp,
    pub syslog: Syslog,
    pub firewall: Vec<Ruleset>,
    pub iscsi: Iscsi,
    pub datastores: Vec<Datastore>,
    pub disks: Vec<ScsiDisk>,
    pub advanced: Vec<AdvancedOption>,
    pub services: Vec<Service>,
    pub vibs: Vec<Vib>,
    pub vms: Vec<Vm>,
    pub faults: Faults,
    pub knobs: Knobs,
    pub paths: Paths,
    /// Every command that changed the state, in order (`esxcli network ip dns server add -s …`),
    /// so a test can check what a run did, or that a second run did nothing.
    pub changes: Vec<String>,
}

/// Identity and platform of the host.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Host {
    /// Short host name (`esx01`).
    pub hostname: String,
    pub domain: String,
    /// `esxcli system uuid get`: `5e8d…-…` (the form ESXi prints, not an RFC 4122 UUID).
    pub uuid: String,
    pub product: String,
    pub version: Version,
    pub vendor: String,
    pub model: String,
    pub serial: String,
    pub memory_bytes: u64,
    pub bios_version: String,
    pub bios_date: String,
    /// ISO 8601, changes on every simulated reboot.
    pub boot_time: String,
    /// How many times the host rebooted (restore_config).
    pub reboots: u32,
}

impl Host {
    pub fn fqdn(&self) -> String {
        if self.domain.is_empty() {
            self.hostname.clone()
        } else {
            format!("{}.{}", self.hostname, self.domain)
        }
    }
}

/// The physical CPUs: a model from the table in [`crate::cpu`] and the topology.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Cpu {
    /// A key of [`crate::cpu::MODELS`] (`skylake`, `zen2`, …).
    pub model: String,
    pub packages: u32,
    pub cores_per_package: u32,
    pub threads_per_core: u32,
    pub hz: u64,
    pub hyperthreading: bool,
    /// `HV Support`: 3 = VT-x/AMD-V enabled in firmware, 2 = disabled in BIOS, 1 = unsupported.
    pub hv_support: u32,
    /// Replace whole generated CPUID leaves (e.g. a host whose BIOS hides AES-NI).
    pub cpuid_overrides: Vec<CpuIdLevel>,
}

/// One CPUID leaf as ESXi prints it: 32 characters per register, `????:????:…`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CpuIdLevel {
    /// The leaf as a u32 (`0x80000001` = 2147483649); VMODL prints it as a signed int32.
    pub level: u32,
    pub vendor: String,
    pub eax: String,
    pub ebx: String,
    pub ecx: String,
    pub edx: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Nic {
    pub name: String,
    pub pci: String,
    pub driver: String,
    pub admin_up: bool,
    pub link_up: bool,
    /// Mb/s when the link is up.
    pub speed: u32,
    pub full_duplex: bool,
    pub mac: String,
    pub mtu: u32,
    pub description: String,
}

/// Teaming and failover of a vSwitch.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Teaming {
    /// As `policy failover get` prints it: `srcport`, `iphash`, `srcmac`, `explicit`.
    pub load_balancing: String,
    /// `link` or `beacon`.
    pub failure_detection: String,
    pub notify_switches: bool,
    pub failback: bool,
    pub active: Vec<String>,
    pub standby: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VSwitch {
    pub name: String,
    pub mtu: u32,
    /// Configured ports (`--ports`).
    pub ports: u32,
    pub cdp_status: String,
    pub uplinks: Vec<String>,
    pub teaming: Teaming,
}

/// A port group's teaming overrides; `None` inherits the vSwitch.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TeamingOverride {
    pub load_balancing: Option<String>,
    pub failure_detection: Option<String>,
    pub notify_switches: Option<bool>,
    pub failback: Option<bool>,
    /// Active and standby uplinks.
    pub uplinks: Option<(Vec<String>, Vec<String>)>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PortGroup {
    pub name: String,
    pub vswitch: String,
    pub vlan: u16,
    pub overrides: TeamingOverride,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Ipv4 {
    pub address: String,
    pub netmask: String,
    /// `STATIC`, `DHCP` or `NONE`.
    pub kind: String,
    pub gateway: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Vmknic {
    pub name: String,
    pub portgroup: String,
    pub mac: String,
    pub mtu: u32,
    pub enabled: bool,
    pub netstack: String,
    pub ipv4: Ipv4,
    /// `Management`, `VMotion`, `faultToleranceLogging`, `vSphereReplication`, `VSAN`, …
    pub tags: Vec<String>,
    pub port_id: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Dns {
    pub servers: Vec<String>,
    pub search: Vec<String>,
    /// What the DNS servers answer the host's `nslookup`: name → addresses (A records). A
    /// name missing here does not resolve.
    pub forward: std::collections::BTreeMap<String, Vec<String>>,
    /// Address → names (PTR records). Tests make the two disagree to stage HA DNS findings.
    pub reverse: std::collections::BTreeMap<String, Vec<String>>,
    pub nslookup: NslookupStyle,
}

/// How the host's busybox `nslookup` prints (see [`crate::shims::nslookup`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NslookupStyle {
    /// Through libc: `Address 1: <ip> <name>`, `can't resolve` on stderr.
    #[default]
    Libc,
    /// Busybox 1.28+'s own resolver: `Address: <ip>`, `<arpa>\tname = <host>`, `** server
    /// can't find`.
    Resolver,
}

/// NTP. Before 7.0 U1 the servers live in `/etc/ntp.conf` (see [`Paths::ntp_conf`]), which is
/// then the file of record: the store reads it on load and writes it on save.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Ntp {
    pub enabled: bool,
    pub servers: Vec<String>,
    pub loglevel: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Syslog {
    /// `udp://10.0.0.5:514` style entries, in order.
    pub loghost: Vec<String>,
    pub logdir: String,
    pub logdir_unique: bool,
    /// How many times `system syslog reload` ran.
    pub reloads: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Ruleset {
    pub name: String,
    pub enabled: bool,
    pub allowed_all: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Iscsi {
    pub enabled: bool,
    /// The software adapter's name once enabled (`vmhba64`; differs per host).
    pub adapter: String,
    pub iqn: String,
    /// Bound vmknics.
    pub portals: Vec<String>,
    /// `address:port`.
    pub send_targets: Vec<String>,
    pub rescans: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Datastore {
    /// May contain spaces; empty for vfat volumes.
    pub name: String,
    pub uuid: String,
    /// `VMFS-6`, `VMFS-5`, `NFS`, `vfat`, `VMFSOS`.
    pub fs_type: String,
    pub size: u64,
    pub free: u64,
    /// The backing LUN (`naa.…`) or NFS export (`nas01:/export/iso`).
    pub device: String,
}

impl Datastore {
    pub fn mount_point(&self) -> String {
        format!("/vmfs/volumes/{}", self.uuid)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ScsiDisk {
    pub name: String,
    pub vendor: String,
    pub model: String,
    pub size_mb: u64,
    pub is_local: bool,
    pub is_ssd: bool,
    pub is_boot: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AdvancedOption {
    /// `/UserVars/SuppressShellWarning`.
    pub path: String,
    /// `integer` or `string`.
    pub kind: String,
    pub int_value: i64,
    pub default_int: i64,
    pub min: i64,
    pub max: i64,
    pub string_value: String,
    pub default_string: String,
    pub description: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Service {
    /// `TSM-SSH`, `TSM`, `ntpd`, …
    pub key: String,
    pub label: String,
    pub running: bool,
    /// `on`, `off` or `automatic`.
    pub policy: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Vib {
    pub name: String,
    pub version: String,
    pub vendor: String,
    pub acceptance: String,
    pub install_date: String,
}

/// A registered VM.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Vm {
    pub vmid: u32,
    pub name: String,
    /// The datastore holding the `.vmx` (its name, as `[name] dir/file.vmx`).
    pub datastore: String,
    pub dir: String,
    pub guest_id: String,
    pub guest_full_name: String,
    /// `vmx-19`.
    pub hw_version: String,
    pub annotation: String,
    pub powered_on: bool,
    pub num_cpu: u32,
    pub cores_per_socket: u32,
    pub memory_mb: u64,
    pub cpu_reservation_mhz: u64,
    pub memory_reservation_mb: u64,
    pub memory_overhead_mb: u64,
    pub active_memory_mb: u64,
    /// `sched.cpu.affinity`: the physical CPUs, or empty for `all`.
    pub cpu_affinity: Vec<u32>,
    /// `sched.mem.affinity`: NUMA nodes, or empty for `all`.
    pub memory_affinity: Vec<u32>,
    /// `guestToolsRunning`, `guestToolsNotRunning`, `guestToolsExecutingScripts`.
    pub tools_running: String,
    /// `green`, `yellow`, `red`, `gray`.
    pub heartbeat: String,
    pub guest_hostname: String,
    pub guest_ip: String,
    pub fault_tolerance: bool,
    /// VM CPUID masks: `level` and the registers with `T F R H x - 0 1` characters.
    pub cpuid_masks: Vec<CpuIdLevel>,
    pub devices: Vec<Device>,
    pub snapshots: Vec<Snapshot>,
    /// `getallvms` skips it and says so on stderr ("Skipping invalid VM '16'").
    pub invalid: bool,
}

impl Vm {
    pub fn vmx_path(&self) -> String {
        format!("[{}] {}/{}.vmx", self.datastore, self.dir, self.name)
    }
}

/// A virtual device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Device {
    ScsiController {
        key: i32,
        /// `lsilogic`, `lsisas`, `pvscsi`.
        model: String,
        /// `noSharing`, `virtualSharing`, `physicalSharing`.
        shared_bus: String,
        bus: i32,
    },
    Disk {
        key: i32,
        controller: i32,
        unit: i32,
        /// `[datastore] dir/disk.vmdk`.
        file: String,
        /// The datastore UUID (the moref VMODL prints).
        datastore_uuid: String,
        capacity_kb: u64,
        thin: bool,
        /// A raw device mapping: the LUN (`naa.…`) and `physicalMode` / `virtualMode`.
        rdm: Option<(String, String)>,
    },
    Nic {
        key: i32,
        /// `vmxnet3`, `e1000`, `e1000e`.
        model: String,
        /// The port group name; on a vDS, the distributed port group's name, which only
        /// `get.networks` prints (the device names the port group by key).
        network: String,
        mac: String,
        connected: bool,
        start_connected: bool,
        /// Set when the NIC is on a distributed switch.
        #[serde(default)]
        dvs: Option<DvPort>,
    },
    Cdrom {
        key: i32,
        backing: Backing,
        connected: bool,
        start_connected: bool,
    },
    Floppy {
        key: i32,
        backing: Backing,
        connected: bool,
        start_connected: bool,
    },
    Serial {
        key: i32,
        backing: Backing,
        connected: bool,
        start_connected: bool,
    },
    /// USB or PCI passthrough.
    Passthrough {
        key: i32,
        /// `usb`, `pci` (DirectPath I/O) or `vgpu` (a PCI passthrough of a vGPU profile).
        bus: String,
        label: String,
        connected: bool,
    },
}

/// A NIC's port on a distributed switch (`vim.dvs.PortConnection`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DvPort {
    /// `50 1a 2b … e7 f8`, as `esxcli network vswitch dvs vmware list` prints `VDS ID`.
    pub switch_uuid: String,
    /// `dvportgroup-NN`.
    pub portgroup_key: String,
}

/// What a removable device is backed by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Backing {
    /// A host device (`/vmfs/devices/cdrom/mpx.vmhba32:C0:T0:L0`, `/dev/char/serial/uart0`).
    HostDevice { device: String },
    /// An image or output file on a datastore.
    File {
        path: String,
        datastore_uuid: String,
    },
    /// The client's device (remote console).
    Remote,
}

/// One snapshot and its children.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Snapshot {
    pub id: u32,
    pub name: String,
    pub description: String,
    /// As snapshot.get prints it: `3/26/2021 12:51:38` (no zero padding).
    pub created: String,
    pub powered_on: bool,
    pub children: Vec<Snapshot>,
}

/// Failures to inject.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    pub fail: Vec<FailRule>,
    pub slow: Vec<SlowRule>,
    pub drop_transfer: Option<DropRule>,
    pub corrupt_bundle: Option<Corruption>,
}

/// Make a command fail: every command line starting with `command` (words, after esxcli's
/// global options; e.g. `esxcli network ip dns server add`, `vim-cmd hostsvc/firmware/backup_config`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FailRule {
    pub command: String,
    pub exit_code: i32,
    pub stderr: String,
    /// Fail only this many more times (then the rule is spent); `None` = always.
    pub times: Option<u32>,
    /// Fail only esxcli calls printed by this `--formatter` (`xml`; `text` for none given):
    /// a host whose XML formatter breaks while the text form still answers. `None` = any form.
    pub formatter: Option<String>,
}

/// Make a command slow: sleep before running it (outside the state lock).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SlowRule {
    pub command: String,
    pub ms: u64,
}

/// Drop the SSH connection in the middle of a download: after `after_bytes` of a file whose
/// path contains `path_contains` went out (SFTP, `scp -f` or `cat`), the session's sshd is
/// killed, so the client sees the connection go away.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DropRule {
    pub path_contains: String,
    pub after_bytes: u64,
    pub times: Option<u32>,
}

/// How `backup_config` spoils the bundle it writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Corruption {
    /// Not gzip at all.
    BadGzip,
    /// A valid gzip stream whose tar is cut in the middle of a member.
    TruncatedTar,
    /// `Manifest.txt` names another host's UUID.
    WrongUuid,
    /// `Manifest.txt` names another build.
    WrongBuild,
}

/// Behaviour switches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Knobs {
    /// Old builds end VMODL lines with `, ` and print `dynamicType = <unset>` in every object.
    pub vmodl_legacy: bool,
    /// How long the host is gone after `restore_config` (the simulated reboot).
    pub reboot_ms: u64,
    /// Entering maintenance mode fails while VMs are powered on (a standalone host cannot
    /// evacuate them).
    pub maintenance_needs_powered_off_vms: bool,
    /// `restore_config` (without force) refuses a bundle of another build, as the API contract
    /// says. One public test found real 6.7–8.0 hosts do not check the build; turn this off to
    /// play such a host.
    pub restore_checks_build: bool,
}

impl Default for Knobs {
    fn default() -> Knobs {
        Knobs {
            vmodl_legacy: false,
            reboot_ms: 1500,
            maintenance_needs_powered_off_vms: true,
            restore_checks_build: true,
        }
    }
}

/// Where the simulator keeps files, as seen from inside the host (the harness bind-mounts them
/// to the ESXi paths).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Paths {
    /// The scratch location: bundles go to `<scratch>/downloads/<uuid>/`.
    pub scratch: String,
    /// `/etc/ntp.conf` (the NTP file of record before 7.0 U1).
    pub ntp_conf: String,
    /// The sshd listener's pid file, so a simulated reboot can pause it and drop its sessions.
    pub sshd_pid_file: String,
}

impl Default for Paths {
    fn default() -> Paths {
        Paths {
            scratch: "/scratch".into(),
            ntp_conf: "/etc/ntp.conf".into(),
            sshd_pid_file: String::new(),
        }
    }
}

impl State {
    pub fn vm(&self, vmid: u32) -> Option<&Vm> {
        self.vms.iter().find(|v| v.vmid == vmid && !v.invalid)
    }

    pub fn vm_mut(&mut self, vmid: u32) -> Option<&mut Vm> {
        self.vms.iter_mut().find(|v| v.vmid == vmid && !v.invalid)
    }

    pub fn service_mut(&mut self, key: &str) -> Option<&mut Service> {
        self.services.iter_mut().find(|s| s.key == key)
    }

    pub fn advanced_mut(&mut self, path: &str) -> Option<&mut AdvancedOption> {
        self.advanced
            .iter_mut()
            .find(|o| o.path.eq_ignore_ascii_case(path))
    }
}
