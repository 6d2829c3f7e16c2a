//! The typed facts of one ESXi host: what `esxforge host facts` gathers over SSH, what
//! `host facts --save DIR` writes as `DIR/<host>.json`, and what the preflight reads.
//!
//! This is the contract between the collectors (which parse `esxcli`/`vim-cmd` output into it) and
//! the preflight (pure functions over it). Every field is filled from something a standalone host
//! reports; values a host cannot report (DRS rules, HA policy, reservations set in vCenter) come
//! from the inventory's `cluster:` section instead. Missing values are `None` or empty, never
//! invented: a check that needs a missing value says so rather than guessing.
//!
//! Stability: this is the on-disk JSON of `host facts --save DIR`, read back by later runs and by
//! other tools. Field names never change meaning; fields appended after the first version carry
//! `#[serde(default)]`, so facts saved by an older esxforge still load. Units are in the field
//! names (`_mb`, `_mbps`, `_mhz`, `_bytes`): MB means MiB as ESXi reports memory, Mb/s is a link
//! speed.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Reading saved facts failed.
#[derive(Debug, thiserror::Error)]
pub enum FactsError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not host facts (line {line}, column {column}): {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
}

impl HostFacts {
    /// Reads one saved facts file (`DIR/<host>.json`, as `host facts --save DIR` writes it).
    pub fn read(path: &Path) -> Result<HostFacts, FactsError> {
        let text = std::fs::read_to_string(path).map_err(|source| FactsError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|err| FactsError::Parse {
            path: path.to_path_buf(),
            line: err.line(),
            column: err.column(),
            message: err.to_string(),
        })
    }
}

/// Everything gathered from one host.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostFacts {
    /// The inventory name of the host (the key under `hosts:`).
    pub name: String,
    pub version: Version,
    /// `esxcli system uuid get`.
    pub uuid: String,
    /// Short host name and FQDN as the host reports them.
    pub hostname: String,
    pub fqdn: String,
    pub maintenance_mode: bool,
    pub hardware: Hardware,
    pub cpu: Cpu,
    pub nics: Vec<Nic>,
    pub vswitches: Vec<VSwitch>,
    pub portgroups: Vec<PortGroup>,
    pub vmknics: Vec<VmkNic>,
    /// Distributed switches the host has joined.
    #[serde(default)]
    pub dvswitches: Vec<DvSwitch>,
    pub iscsi: Option<Iscsi>,
    pub datastores: Vec<Datastore>,
    /// SCSI devices the host sees (`esxcli storage core device list`), for RDM visibility.
    pub storage_devices: Vec<StorageDevice>,
    pub dns: Dns,
    pub ntp: Ntp,
    pub syslog: Syslog,
    pub services: Vec<Service>,
    pub vibs: Vec<InstalledVib>,
    pub vms: Vec<Vm>,
}

/// `esxcli system version get`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Version {
    /// `VMware ESXi`.
    pub product: String,
    /// `8.0.2`.
    pub version: String,
    /// The build number without the `Releasebuild-` prefix: `22380479`.
    pub build: String,
    /// `2` (the update level), empty when none.
    pub update: String,
    pub patch: String,
}

/// `vim-cmd hostsvc/hosthardware` (system info and memory).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hardware {
    pub vendor: String,
    pub model: String,
    pub memory_bytes: u64,
}

/// CPU identification, per package and for the host as a whole.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cpu {
    /// Sockets, physical cores and logical CPUs (threads) of the whole host.
    pub packages: u32,
    pub cores: u32,
    pub threads: u32,
    /// Clock of one core in MHz (`hz / 1_000_000`); host CPU capacity is `cores × mhz`.
    pub mhz: u32,
    /// Hardware virtualization (VT-x/AMD-V) enabled in firmware, when the host reports it.
    pub hv_support: Option<bool>,
    pub pkgs: Vec<CpuPackage>,
    /// The host's CPUID feature vectors common to all packages (`hardware.cpuFeature`).
    pub features: Vec<CpuIdLevel>,
}

/// One CPU package (`cpuPkg[]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CpuPackage {
    pub index: u32,
    /// As reported: `GenuineIntel` / `AuthenticAMD` (`esxcli hardware cpu`), or `intel` / `amd`
    /// (`cpuPkg[].vendor`); the preflight accepts either spelling.
    pub vendor: String,
    pub description: String,
    /// Display family and model decoded from CPUID leaf 1 EAX (family = base + extended family;
    /// model = extended model << 4 | base model for families 6 and 15), as `esxcli hardware cpu
    /// list` prints them; 0 when the package's leaf 1 EAX is not fully known. Decoded by
    /// `preflight::cpuid::Signature`, the same decoder the preflight applies to the host-wide
    /// vector when that holds leaf 1.
    pub family: u32,
    pub model: u32,
    pub stepping: u32,
    /// This package's CPUID feature vectors (`cpuPkg[].cpuFeature`).
    pub features: Vec<CpuIdLevel>,
}

/// One CPUID leaf as ESXi prints it: 32 characters per register, most significant bit first,
/// grouped `????:????:…` (the colons are optional); host vectors hold `1`, `0` or `-`, VM masks
/// also `T F R H h r x`. An empty register string means "nothing known / no mask" (all `-`): a VM
/// mask `cpuid.1.ecx = "…"` sets only the `ecx` of level 1.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CpuIdLevel {
    /// The leaf; leaves at or above 0x80000000 are stored as such (not as negative int32).
    pub level: u32,
    /// Empty for any vendor, else `intel` / `amd`.
    pub vendor: String,
    pub eax: String,
    pub ebx: String,
    pub ecx: String,
    pub edx: String,
}

/// `esxcli network nic list`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Nic {
    pub name: String,
    pub mac: String,
    pub driver: String,
    pub link_up: bool,
    /// Mb/s, 0 when the link is down.
    pub speed_mbps: u32,
    pub full_duplex: bool,
    pub mtu: u32,
    pub description: String,
}

/// NIC teaming of a vSwitch or a port-group override.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Teaming {
    /// `portid`, `iphash`, `mac` or `explicit`.
    pub load_balancing: String,
    pub active: Vec<String>,
    pub standby: Vec<String>,
}

/// `esxcli network vswitch standard list` + `policy failover get`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VSwitch {
    pub name: String,
    pub mtu: u32,
    pub uplinks: Vec<String>,
    pub portgroups: Vec<String>,
    pub teaming: Teaming,
}

/// `esxcli network vswitch standard portgroup list` + its `policy failover get`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortGroup {
    /// Case-sensitive, as vMotion compares it.
    pub name: String,
    pub vswitch: String,
    pub vlan: u16,
    /// `None` when the port group uses the vSwitch's teaming.
    pub teaming: Option<Teaming>,
}

/// A VMkernel NIC: `esxcli network ip interface list`, `ipv4 get`, `tag get`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VmkNic {
    pub name: String,
    /// Empty or `N/A` on a distributed switch.
    pub portgroup: String,
    pub ip: String,
    pub netmask: String,
    pub mac: String,
    pub mtu: u32,
    pub enabled: bool,
    pub netstack: String,
    /// Service tags exactly as the host prints them: `Management`, `VMotion`,
    /// `faultToleranceLogging`, `VSAN`, …
    pub tags: Vec<String>,
    /// The switch the vmk sits on (`Portset` of `ip interface list`): a standard vSwitch name or
    /// a distributed switch name. Empty when unknown: the preflight then finds a standard
    /// vmk's switch through its port group.
    #[serde(default)]
    pub portset: String,
    /// The distributed switch's UUID (`VDS UUID`) when the vmk is on a vDS.
    #[serde(default)]
    pub dvs_uuid: Option<String>,
}

/// A distributed switch this host has joined (`esxcli network vswitch dvs vmware list`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DvSwitch {
    pub name: String,
    /// `VDS ID`: two hosts are on the same vDS when they report the same UUID.
    pub uuid: String,
    pub mtu: u32,
    /// This host's physical NICs serving as the vDS uplinks.
    pub uplinks: Vec<String>,
}

/// Software iSCSI: `esxcli iscsi adapter list`, `networkportal list`, `discovery sendtarget list`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Iscsi {
    pub enabled: bool,
    /// The software adapter (`vmhbaNN`), discovered, never assumed.
    pub adapter: String,
    pub bound_vmknics: Vec<String>,
    /// `address:port`.
    pub send_targets: Vec<String>,
}

/// `esxcli storage filesystem list`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Datastore {
    /// May contain spaces; empty for vfat volumes.
    pub name: String,
    /// The volume UUID: two hosts share a datastore when they mount the same UUID.
    pub uuid: String,
    pub mount_point: String,
    /// `VMFS-6`, `NFS`, `vfat`, `vsan`, …
    pub fs_type: String,
    pub size_bytes: u64,
    pub free_bytes: u64,
}

/// `esxcli storage core device list`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageDevice {
    /// `naa.…`, `t10.…`, `mpx.…`.
    pub name: String,
    pub is_local: bool,
    pub size_mb: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dns {
    pub servers: Vec<String>,
    pub search: Vec<String>,
    /// How the host's own name and management addresses resolve, when gathered (`nslookup` from
    /// the ESXi shell). `None` when not gathered: the DNS checks then say they could not run.
    #[serde(default)]
    pub lookups: Option<DnsLookups>,
}

/// Forward and reverse resolution of the host itself, as HA needs them to agree.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsLookups {
    /// The addresses the host's FQDN resolves to; empty when the lookup failed.
    pub forward: Vec<String>,
    /// One entry per management address looked up.
    pub reverse: Vec<ReverseLookup>,
}

/// The names one address resolves back to (PTR records); empty when the lookup failed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReverseLookup {
    pub address: String,
    pub names: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ntp {
    pub enabled: bool,
    pub servers: Vec<String>,
}

/// `esxcli system syslog config get`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Syslog {
    pub logdir: String,
    pub logdir_unique: bool,
    /// `udp://host:514` style entries.
    pub loghosts: Vec<String>,
}

/// A host service such as `TSM-SSH` (SSH) or `TSM` (ESXi Shell).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    pub key: String,
    pub running: bool,
    /// `on`, `off` or `automatic`.
    pub policy: String,
}

/// `esxcli software vib list`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstalledVib {
    pub name: String,
    pub version: String,
    pub vendor: String,
    pub acceptance_level: String,
}

/// A registered VM: `getallvms`, `get.summary`/`get.config`, `get.guest`, `device.getdevices`,
/// `snapshot.get`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vm {
    pub vmid: String,
    pub name: String,
    /// `[datastore] dir/name.vmx`.
    pub vmx_path: String,
    /// The UUID of the datastore holding the `.vmx`, when resolved; otherwise the preflight
    /// resolves the `[datastore]` name against the VM's host.
    #[serde(default)]
    pub vmx_datastore_uuid: Option<String>,
    pub guest_os: String,
    /// `vmx-19`.
    pub hw_version: String,
    pub powered_on: bool,
    pub num_cpu: u32,
    pub memory_mb: u64,
    /// Reservations as the host reports them (vCenter may set more; the inventory can override).
    pub cpu_reservation_mhz: u64,
    pub memory_reservation_mb: u64,
    pub memory_overhead_mb: u64,
    /// Guest memory actively used, MB (quickStats), an input of the pre-copy estimate.
    pub active_memory_mb: Option<u64>,
    /// `sched.cpu.affinity` when set to something other than `all`.
    pub cpu_affinity: Option<String>,
    /// `sched.mem.affinity` when set to something other than `all`.
    pub memory_affinity: Option<String>,
    /// `guestToolsRunning`, `guestToolsNotRunning`, `guestToolsExecutingScripts`; empty when
    /// unknown.
    pub tools_running_status: String,
    /// `green`, `yellow`, `red`, `gray`; empty when unknown.
    pub heartbeat_status: String,
    /// True when the VM is FT-protected (primary or secondary).
    pub fault_tolerance: bool,
    /// The VM's CPUID requirement masks from its `.vmx` (`cpuid.1.ecx = "----:…"`, one
    /// `CpuIdLevel` per leaf, registers not set left empty); empty when none.
    pub cpuid_masks: Vec<CpuIdLevel>,
    pub devices: Vec<Device>,
    pub snapshots: Vec<Snapshot>,
}

/// A virtual device, as far as the migration checks care.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Device {
    Disk {
        label: String,
        /// `[datastore] dir/disk.vmdk`.
        file: String,
        /// The datastore UUID the file lives on, when resolved; otherwise the preflight resolves
        /// the `[datastore]` name against the VM's host.
        datastore_uuid: Option<String>,
        /// For a raw device mapping: the LUN device name (`naa.…`).
        rdm_device: Option<String>,
        /// `physicalMode` / `virtualMode` for RDMs.
        rdm_mode: Option<String>,
        /// The label of the controller it hangs off (`SCSI controller 0`).
        controller: String,
    },
    Controller {
        label: String,
        /// `noSharing`, `virtualSharing`, `physicalSharing`.
        bus_sharing: String,
    },
    Nic {
        label: String,
        /// The port group name (`backing.deviceName`); on a vDS, the distributed port group's
        /// name when the host names it (`vim-cmd vmsvc/get.networks`), else its key
        /// (`dvportgroup-NN`), so that messages always name something.
        network: String,
        /// The distributed switch UUID (`backing.port.switchUuid`) when on a vDS.
        #[serde(default)]
        dvs_uuid: Option<String>,
        /// The distributed port group's key (`backing.port.portgroupKey`, `dvportgroup-NN`) when
        /// on a vDS: the same on every host of the vDS, whatever the name.
        #[serde(default)]
        dvportgroup_key: Option<String>,
        connected: bool,
        start_connected: bool,
        mac: String,
    },
    /// CD-ROM, floppy, serial and parallel ports: whatever has a backing and a connection state.
    Removable {
        /// `cdrom`, `floppy`, `serial`, `parallel`.
        class: String,
        label: String,
        backing: Backing,
        connected: bool,
        start_connected: bool,
    },
    /// USB or PCI passthrough (`VirtualUSB`, `VirtualPCIPassthrough`). A connected USB device
    /// pins a powered-on VM; a PCI device (DirectPath I/O, vGPU) has no connection state on a
    /// real host (`connected` is then false) and pins it regardless.
    Passthrough {
        label: String,
        connected: bool,
        /// What is passed through, from the device and backing types. Appended later: facts
        /// saved before it load as [`PassthroughType::Unknown`].
        #[serde(default)]
        passthrough: PassthroughType,
    },
}

/// What a passthrough device hands the VM, as its VMODL device and backing types say.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PassthroughType {
    /// DirectPath I/O: `VirtualPCIPassthrough` with a `DeviceBackingInfo` (or the dynamic
    /// DirectPath `DynamicBackingInfo`).
    Pci,
    /// An NVIDIA vGPU profile: `VirtualPCIPassthrough` with a `VmiopBackingInfo`.
    Vgpu,
    /// A host USB device: `VirtualUSB`.
    Usb,
    /// An SR-IOV network adapter (`VirtualSriovEthernetCard`): a virtual function of a host
    /// NIC. The adapter is listed as a [`Device::Nic`] as well.
    Sriov,
    /// A backing this version does not know, or facts saved before the type was recorded.
    #[default]
    Unknown,
}

/// What a removable device is backed by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Backing {
    /// A device of the host (`/vmfs/devices/cdrom/…`, a physical serial port).
    HostDevice { device: String },
    /// An image file (`[ds] iso/x.iso`, a file-backed serial port) and, when known, its datastore UUID.
    File {
        path: String,
        datastore_uuid: Option<String>,
    },
    /// A client or remote device (passthrough from the client).
    Remote,
    /// Nothing attached.
    None,
}

/// One node of the snapshot tree, flattened with its depth.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    pub name: String,
    pub description: String,
    pub created: String,
    pub depth: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_saved_before_appended_fields_still_load() {
        // A facts file written without the fields appended after the first version
        // (`dvswitches`, `lookups`, `portset`, `vmx_datastore_uuid`, `dvs_uuid`, `passthrough`,
        // `dvportgroup_key`).
        let saved = HostFacts {
            vms: vec![Vm {
                devices: vec![
                    Device::Passthrough {
                        label: "PCI device 0".into(),
                        connected: false,
                        passthrough: PassthroughType::Vgpu,
                    },
                    Device::Nic {
                        label: "Network adapter 1".into(),
                        network: "VM Network".into(),
                        dvs_uuid: None,
                        dvportgroup_key: None,
                        connected: true,
                        start_connected: true,
                        mac: "00:50:56:01:02:03".into(),
                    },
                ],
                ..Vm::default()
            }],
            ..HostFacts::default()
        };
        let mut value = serde_json::to_value(&saved).unwrap();
        let obj = value.as_object_mut().unwrap();
        obj.remove("dvswitches");
        obj["dns"].as_object_mut().unwrap().remove("lookups");
        let vm = obj["vms"][0].as_object_mut().unwrap();
        vm.remove("vmx_datastore_uuid");
        let device = vm["devices"][0].as_object_mut().unwrap();
        assert_eq!(device.remove("passthrough"), Some("vgpu".into()));
        let nic = vm["devices"][1].as_object_mut().unwrap();
        assert!(nic.remove("dvs_uuid").is_some() && nic.remove("dvportgroup_key").is_some());
        let facts: HostFacts = serde_json::from_value(value).unwrap();
        let mut want = saved;
        want.vms[0].devices[0] = Device::Passthrough {
            label: "PCI device 0".into(),
            connected: false,
            passthrough: PassthroughType::Unknown,
        };
        assert_eq!(facts, want);
    }

    #[test]
    fn unknown_fields_and_bad_json_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("esx01.json");
        let mut value = serde_json::to_value(HostFacts::default()).unwrap();
        value["colour"] = serde_json::json!("blue");
        std::fs::write(&path, value.to_string()).unwrap();
        let err = HostFacts::read(&path).unwrap_err().to_string();
        assert!(err.contains("esx01.json: not host facts"), "{err}");
        assert!(err.contains("colour"), "{err}");
        let missing = HostFacts::read(&dir.path().join("nope.json")).unwrap_err();
        assert!(missing.to_string().contains("nope.json: cannot read"));
    }

    #[test]
    fn devices_serialize_with_a_kind_tag() {
        let dev = Device::Removable {
            class: "cdrom".into(),
            label: "CD/DVD drive 1".into(),
            backing: Backing::HostDevice {
                device: "/vmfs/devices/cdrom/mpx.vmhba0:C0:T0:L0".into(),
            },
            connected: true,
            start_connected: false,
        };
        let json = serde_json::to_value(&dev).unwrap();
        assert_eq!(json["kind"], "removable");
        assert_eq!(json["backing"]["type"], "host_device");
        assert_eq!(serde_json::from_value::<Device>(json).unwrap(), dev);
    }
}
