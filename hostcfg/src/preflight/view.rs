//! [`ClusterView`]: the facts of every host plus the cluster section, indexed once so that every
//! check is a hash lookup rather than a scan (1,000 VMs × 32 hosts stays linear): datastores by
//! UUID and by name, port groups, switches, NICs, LUNs and distributed switches per host; VMs
//! by name; each VM's effective reservations and settings (the cluster section overrides what
//! the host reports); each host's vMotion, management and FT logging interfaces.

use std::collections::{HashMap, HashSet};

use esxforge_kickstart::cluster::{AdmissionControl, Cluster, DrsAutomation, RestartPriority};

use super::cpu::{self, Baseline, HostCpu};
use super::cpuid::CpuIdVector;
use super::drs::RuleIndex;
use super::hostset::HostSet;
use super::network::{self, NetIf};
use crate::facts::{Datastore, Device, DvSwitch, HostFacts, Nic, PortGroup, VSwitch, Vm};

/// Input that the preflight cannot work with. The CLI exits 2 on these.
#[derive(Debug, thiserror::Error)]
pub enum PreflightError {
    #[error("host {0:?} appears twice in the facts: give each host's facts once")]
    DuplicateHost(String),
    #[error("{host}: {message}")]
    BadFacts { host: String, message: String },
    #[error("no host named {0:?} in the facts")]
    UnknownHost(String),
    #[error("no VM named {0:?} on any host")]
    UnknownVm(String),
}

/// Index of a host in [`ClusterView::hosts`].
pub type HostId = usize;
/// Index of a VM in [`ClusterView::vms`].
pub type VmId = usize;

/// CPU MHz and memory MB: a reservation, a capacity, or what is left of one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Demand {
    pub cpu_mhz: u64,
    pub mem_mb: u64,
}

impl Demand {
    pub fn fits_in(&self, room: &Demand) -> bool {
        self.cpu_mhz <= room.cpu_mhz && self.mem_mb <= room.mem_mb
    }

    pub fn plus(&self, other: &Demand) -> Demand {
        Demand {
            cpu_mhz: self.cpu_mhz.saturating_add(other.cpu_mhz),
            mem_mb: self.mem_mb.saturating_add(other.mem_mb),
        }
    }

    pub fn minus(&self, other: &Demand) -> Demand {
        Demand {
            cpu_mhz: self.cpu_mhz.saturating_sub(other.cpu_mhz),
            mem_mb: self.mem_mb.saturating_sub(other.mem_mb),
        }
    }
}

/// An ESXi version, for what depends on it (SDPS and multi-NIC vMotion from 5.0, hardware
/// versions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct EsxVersion {
    pub major: u32,
    pub minor: u32,
    pub update: u32,
}

impl EsxVersion {
    /// From `esxcli system version get`: `Version: 8.0.2` (the third number is the update on
    /// 7.0 and later), `Update: 2`. `None` when the version is not a number.
    pub fn parse(version: &str, update: &str) -> Option<EsxVersion> {
        let mut parts = version.trim().split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next().map_or(Some(0), |p| p.parse().ok())?;
        let third: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        let update = update.trim().parse().unwrap_or(0).max(third);
        Some(EsxVersion {
            major,
            minor,
            update,
        })
    }

    pub fn at_least(&self, major: u32, minor: u32) -> bool {
        (self.major, self.minor) >= (major, minor)
    }
}

/// One host, indexed.
#[derive(Debug)]
pub struct HostView<'a> {
    pub name: &'a str,
    pub facts: &'a HostFacts,
    datastores: HashMap<&'a str, &'a Datastore>,
    datastore_uuid_by_name: HashMap<&'a str, &'a str>,
    portgroups: HashMap<&'a str, &'a PortGroup>,
    portgroups_folded: HashMap<String, &'a str>,
    vswitches: HashMap<&'a str, &'a VSwitch>,
    nics: HashMap<&'a str, &'a Nic>,
    dvswitches: HashMap<&'a str, &'a DvSwitch>,
    luns: HashSet<&'a str>,
    pub cpu: HostCpu,
    pub version: Option<EsxVersion>,
    /// `cores × MHz` and memory in MB.
    pub capacity: Demand,
    /// What the powered-on VMs on the host reserve (reservation + overhead).
    pub reserved: Demand,
    pub vmotion: Vec<NetIf<'a>>,
    pub management: Vec<NetIf<'a>>,
    pub ft_logging: Vec<NetIf<'a>>,
    /// The VMs registered on this host.
    pub vms: Vec<VmId>,
}

impl<'a> HostView<'a> {
    pub fn datastore(&self, uuid: &str) -> Option<&'a Datastore> {
        self.datastores.get(uuid).copied()
    }

    /// The UUID of the datastore of this name on this host.
    pub fn datastore_uuid(&self, name: &str) -> Option<&'a str> {
        self.datastore_uuid_by_name.get(name).copied()
    }

    pub fn portgroup(&self, name: &str) -> Option<&'a PortGroup> {
        self.portgroups.get(name).copied()
    }

    /// A port group whose name differs from `name` only in case (labels are case-sensitive).
    pub fn portgroup_other_case(&self, name: &str) -> Option<&'a str> {
        self.portgroups_folded.get(&name.to_lowercase()).copied()
    }

    pub fn vswitch(&self, name: &str) -> Option<&'a VSwitch> {
        self.vswitches.get(name).copied()
    }

    pub fn nic(&self, name: &str) -> Option<&'a Nic> {
        self.nics.get(name).copied()
    }

    pub fn dvswitch(&self, uuid: &str) -> Option<&'a DvSwitch> {
        self.dvswitches.get(uuid).copied()
    }

    pub fn dvswitch_by_name(&self, name: &str) -> Option<&'a DvSwitch> {
        self.facts.dvswitches.iter().find(|d| d.name == name)
    }

    pub fn sees_lun(&self, device: &str) -> bool {
        self.luns.contains(device)
    }

    /// CPU and memory not reserved by the powered-on VMs already here.
    pub fn unreserved(&self) -> Demand {
        self.capacity.minus(&self.reserved)
    }

    pub fn in_maintenance(&self) -> bool {
        self.facts.maintenance_mode
    }
}

/// Where a VM's file lives: the `[datastore] path` text and the datastore UUID it resolves to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileRef<'a> {
    pub path: &'a str,
    /// The datastore's UUID; `None` when neither the facts nor the source host resolve it.
    pub uuid: Option<&'a str>,
    /// The `[datastore]` name from the path.
    pub datastore: &'a str,
}

/// One VM, with its effective settings.
#[derive(Debug)]
pub struct VmView<'a> {
    pub name: &'a str,
    pub host: HostId,
    pub facts: &'a Vm,
    /// Reservations plus overhead (the cluster section overrides the host's values).
    pub demand: Demand,
    pub restart_priority: RestartPriority,
    pub fault_tolerance: bool,
    pub drs: DrsAutomation,
    pub dirty_rate_mb_s: Option<f64>,
    pub config: FileRef<'a>,
    /// `(label, file, RDM LUN)` per virtual disk.
    pub disks: Vec<(&'a str, FileRef<'a>, Option<&'a str>)>,
    pub masks: CpuIdVector,
}

impl VmView<'_> {
    pub fn powered_on(&self) -> bool {
        self.facts.powered_on
    }
}

/// Everything the checks read: hosts, VMs, the cluster section, and the rules resolved.
#[derive(Debug)]
pub struct ClusterView<'a> {
    pub spec: &'a Cluster,
    pub hosts: Vec<HostView<'a>>,
    pub vms: Vec<VmView<'a>>,
    host_by_name: HashMap<&'a str, HostId>,
    vm_by_name: HashMap<&'a str, Vec<VmId>>,
    pub rules: RuleIndex,
    /// The hosts' common EVC baseline, computed once.
    pub baseline: Baseline,
}

/// `[datastore] dir/file` → `datastore`.
pub fn datastore_of(path: &str) -> Option<&str> {
    let rest = path.trim_start().strip_prefix('[')?;
    let end = rest.find(']')?;
    rest.get(..end)
}

impl<'a> ClusterView<'a> {
    /// Indexes `hosts` (every member of the cluster) with the cluster section `spec`.
    pub fn new(
        hosts: &'a [HostFacts],
        spec: &'a Cluster,
    ) -> Result<ClusterView<'a>, PreflightError> {
        let mut host_by_name = HashMap::with_capacity(hosts.len());
        let mut views = Vec::with_capacity(hosts.len());
        let mut vms = Vec::new();
        let mut vm_by_name: HashMap<&'a str, Vec<VmId>> = HashMap::new();
        for (id, facts) in hosts.iter().enumerate() {
            if host_by_name.insert(facts.name.as_str(), id).is_some() {
                return Err(PreflightError::DuplicateHost(facts.name.clone()));
            }
            let mut view = index_host(facts)?;
            for vm in &facts.vms {
                let vm_id = vms.len();
                let v =
                    vm_view(vm, id, &view, spec).map_err(|message| PreflightError::BadFacts {
                        host: facts.name.clone(),
                        message: format!("VM {:?}: {message}", vm.name),
                    })?;
                if v.powered_on() {
                    view.reserved = view.reserved.plus(&v.demand);
                }
                vm_by_name.entry(vm.name.as_str()).or_default().push(vm_id);
                view.vms.push(vm_id);
                vms.push(v);
            }
            views.push(view);
        }
        let rules = RuleIndex::build(spec, &host_by_name, &vm_by_name, views.len(), &vms);
        let cpus: Vec<(&str, &HostCpu)> = views.iter().map(|h| (h.name, &h.cpu)).collect();
        let baseline = cpu::baseline(&cpus);
        Ok(ClusterView {
            baseline,
            spec,
            hosts: views,
            vms,
            host_by_name,
            vm_by_name,
            rules,
        })
    }

    pub fn host_id(&self, name: &str) -> Result<HostId, PreflightError> {
        self.host_by_name
            .get(name)
            .copied()
            .ok_or_else(|| PreflightError::UnknownHost(name.to_string()))
    }

    /// The VMs of this name (FT secondaries and VMs in different folders share names).
    pub fn vms_named(&self, name: &str) -> &[VmId] {
        self.vm_by_name.get(name).map_or(&[], Vec::as_slice)
    }

    pub fn host(&self, id: HostId) -> &HostView<'a> {
        &self.hosts[id]
    }

    pub fn vm(&self, id: VmId) -> &VmView<'a> {
        &self.vms[id]
    }

    /// Hosts that take VMs: not in maintenance mode and not dedicated HA failover hosts.
    pub fn active_hosts(&self) -> HostSet {
        let mut set = HostSet::new(self.hosts.len());
        for (id, h) in self.hosts.iter().enumerate() {
            if !h.in_maintenance() && !self.is_failover_host(id) {
                set.insert(id);
            }
        }
        set
    }

    /// A dedicated failover host of the HA policy.
    pub fn is_failover_host(&self, id: HostId) -> bool {
        match &self.spec.ha.admission_control {
            AdmissionControl::FailoverHosts { hosts } if self.spec.ha.enabled => {
                hosts.iter().any(|h| h == self.hosts[id].name)
            }
            _ => false,
        }
    }
}

fn index_host(facts: &HostFacts) -> Result<HostView<'_>, PreflightError> {
    let bad = |message: String| PreflightError::BadFacts {
        host: facts.name.clone(),
        message,
    };
    let cpu = HostCpu::from_facts(&facts.cpu).map_err(bad)?;
    let mut view = HostView {
        name: &facts.name,
        facts,
        datastores: facts
            .datastores
            .iter()
            .filter(|d| !d.uuid.is_empty())
            .map(|d| (d.uuid.as_str(), d))
            .collect(),
        datastore_uuid_by_name: facts
            .datastores
            .iter()
            .filter(|d| !d.name.is_empty() && !d.uuid.is_empty())
            .map(|d| (d.name.as_str(), d.uuid.as_str()))
            .collect(),
        portgroups: facts
            .portgroups
            .iter()
            .map(|p| (p.name.as_str(), p))
            .collect(),
        portgroups_folded: facts
            .portgroups
            .iter()
            .map(|p| (p.name.to_lowercase(), p.name.as_str()))
            .collect(),
        vswitches: facts
            .vswitches
            .iter()
            .map(|v| (v.name.as_str(), v))
            .collect(),
        nics: facts.nics.iter().map(|n| (n.name.as_str(), n)).collect(),
        dvswitches: facts
            .dvswitches
            .iter()
            .map(|d| (d.uuid.as_str(), d))
            .collect(),
        luns: facts
            .storage_devices
            .iter()
            .map(|d| d.name.as_str())
            .collect(),
        cpu,
        version: EsxVersion::parse(&facts.version.version, &facts.version.update),
        capacity: Demand {
            cpu_mhz: u64::from(facts.cpu.cores).saturating_mul(u64::from(facts.cpu.mhz)),
            mem_mb: facts.hardware.memory_bytes / (1024 * 1024),
        },
        reserved: Demand::default(),
        vmotion: Vec::new(),
        management: Vec::new(),
        ft_logging: Vec::new(),
        vms: Vec::new(),
    };
    view.vmotion = network::interfaces(&view, network::Service::Vmotion);
    view.management = network::interfaces(&view, network::Service::Management);
    view.ft_logging = network::interfaces(&view, network::Service::FtLogging);
    Ok(view)
}

/// Resolves a file of a VM on `host` (its current host): the UUID the facts give, or the UUID
/// of the datastore the path names.
pub fn file_ref<'a>(path: &'a str, uuid: Option<&'a str>, host: &HostView<'a>) -> FileRef<'a> {
    let datastore = datastore_of(path).unwrap_or("");
    FileRef {
        path,
        uuid: uuid.or_else(|| host.datastore_uuid(datastore)),
        datastore,
    }
}

fn vm_view<'a>(
    vm: &'a Vm,
    host: HostId,
    view: &HostView<'a>,
    spec: &'a Cluster,
) -> Result<VmView<'a>, String> {
    let o = spec.vm(&vm.name);
    let cpu_res = o
        .and_then(|o| o.cpu_reservation_mhz)
        .unwrap_or(vm.cpu_reservation_mhz);
    let mem_res = o
        .and_then(|o| o.memory_reservation_mb)
        .unwrap_or(vm.memory_reservation_mb);
    let disks = vm
        .devices
        .iter()
        .filter_map(|d| match d {
            Device::Disk {
                label,
                file,
                datastore_uuid,
                rdm_device,
                ..
            } => Some((
                label.as_str(),
                file_ref(file, datastore_uuid.as_deref(), view),
                rdm_device.as_deref(),
            )),
            _ => None,
        })
        .collect();
    let vendor = view.cpu.vendor;
    let masks = CpuIdVector::from_levels(&vm.cpuid_masks, vendor)?;
    Ok(VmView {
        name: &vm.name,
        host,
        facts: vm,
        demand: Demand {
            cpu_mhz: cpu_res,
            mem_mb: mem_res.saturating_add(vm.memory_overhead_mb),
        },
        restart_priority: o.map(|o| o.restart_priority).unwrap_or_default(),
        fault_tolerance: o
            .and_then(|o| o.fault_tolerance)
            .unwrap_or(vm.fault_tolerance),
        drs: o
            .and_then(|o| o.drs_automation)
            .unwrap_or(spec.drs.automation),
        dirty_rate_mb_s: o.and_then(|o| o.dirty_rate_mb_s),
        config: file_ref(&vm.vmx_path, vm.vmx_datastore_uuid.as_deref(), view),
        disks,
        masks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn esx_versions_parse_both_spellings_of_the_update() {
        assert_eq!(
            EsxVersion::parse("8.0.2", ""),
            Some(EsxVersion {
                major: 8,
                minor: 0,
                update: 2
            })
        );
        assert_eq!(
            EsxVersion::parse("6.7.0", "3"),
            Some(EsxVersion {
                major: 6,
                minor: 7,
                update: 3
            })
        );
        assert_eq!(EsxVersion::parse("4.1", "").unwrap().minor, 1);
        assert!(EsxVersion::parse("", "").is_none());
        assert!(EsxVersion::parse("eight", "").is_none());
        assert!(EsxVersion::parse("5.0.0", "").unwrap().at_least(5, 0));
        assert!(!EsxVersion::parse("4.1.0", "").unwrap().at_least(5, 0));
    }

    #[test]
    fn datastore_names_come_from_the_bracket() {
        assert_eq!(
            datastore_of("[shared ds 1] vm/vm.vmdk"),
            Some("shared ds 1")
        );
        assert_eq!(datastore_of("vm.vmdk"), None);
        assert_eq!(datastore_of("[open"), None);
    }
}
