//! The vMotion checks vCenter runs (`CheckMigrate`), predicted from facts: the host
//! requirements of source and destination, the VM's own blockers (source side), and what the
//! destination must offer it (storage by UUID, LUNs, networks, CPU, hardware version,
//! capacity, rules), plus the pre-copy estimate.
//!
//! Severity follows vCenter (hostops.md §3.2): devices and networks are errors only when
//! connected, and only for powered-on VMs; a powered-off VM is a cold migration, which needs
//! only the storage (CPU differences become warnings).

use std::collections::HashSet;

use super::finding::{Code, Finding, Severity};
use super::network;
use super::precopy::{self, PrecopyParams};
use super::view::{ClusterView, HostId, VmId};
use crate::facts::{Backing, Device, PassthroughType};

/// Host findings that concern every powered-on VM moving from `src` to `dst`: vMotion
/// networking on both ends, and whether `dst` takes VMs at all.
pub fn host_pair(view: &ClusterView<'_>, src: HostId, dst: HostId) -> Vec<Finding> {
    let (s, d) = (view.host(src), view.host(dst));
    let mut out = destination_state(view, dst);
    out.extend(network::vmotion_readiness(s));
    out.extend(network::vmotion_readiness(d));
    out.extend(network::vmotion_pair(s, d));
    out
}

/// Whether `dst` accepts VMs: not in maintenance mode, not a dedicated failover host.
pub fn destination_state(view: &ClusterView<'_>, dst: HostId) -> Vec<Finding> {
    let d = view.host(dst);
    let mut out = Vec::new();
    if d.in_maintenance() {
        out.push(
            Finding::error(
                Code::InvalidHostState,
                format!("{} is in maintenance mode: it takes no VMs", d.name),
                format!(
                    "take {} out of maintenance mode first, or pick another host",
                    d.name
                ),
            )
            .host(d.name),
        );
    }
    if view.is_failover_host(dst) {
        out.push(
            Finding::error(
                Code::DisallowedOperationOnFailoverHost,
                format!(
                    "{} is a dedicated HA failover host: vMotion and power-on onto it are blocked",
                    d.name
                ),
                "pick another host, or change the HA admission control policy",
            )
            .host(d.name),
        );
    }
    out
}

/// Whether a passthrough device pins a powered-on VM, and what it is called in the finding.
/// PCI devices (DirectPath I/O, vGPU, SR-IOV virtual functions) have no connection state (the host reports none, so the
/// facts say "not connected") and pin the VM whatever that says; USB devices go by their
/// connection. An unknown type (facts saved before it was recorded, or a backing this version
/// does not know) is treated like PCI: a refusal predicted is cheaper than one missed.
fn passthrough_pins(kind: PassthroughType, connected: bool) -> Option<&'static str> {
    match kind {
        PassthroughType::Pci => Some("a PCI passthrough (DirectPath I/O) device"),
        PassthroughType::Vgpu => Some("a vGPU (PCI passthrough of a GPU profile)"),
        PassthroughType::Usb => connected.then_some("a connected USB passthrough device"),
        PassthroughType::Sriov => {
            Some("an SR-IOV network adapter (a virtual function of a host NIC)")
        }
        PassthroughType::Unknown => {
            Some("a passthrough device of unknown type (re-collect the facts to learn it)")
        }
    }
}

const PASSTHROUGH_REMEDY: &str = "power the VM off and remove or disconnect the passthrough device, then migrate (an \
     NVIDIA vGPU moves only when vCenter has vgpu.hotmigrate.enabled, vSphere 6.7 U1+; a USB device only when it \
     was added with vMotion support)";

const HOST_DEVICE_REMEDY: &str =
    "disconnect the device and set it to a client device or an image on shared storage";

fn is_affinity_set(value: &Option<String>) -> Option<&str> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty() && !v.eq_ignore_ascii_case("all"))
}

/// What the VM itself decides, wherever it goes: affinity, shared buses, host-local and
/// remote devices, passthrough, internal-only networks, snapshots, guest heartbeat.
/// Findings name the VM's current host.
pub fn vm_source(view: &ClusterView<'_>, vm: VmId) -> Vec<Finding> {
    let v = view.vm(vm);
    let src = view.host(v.host).name;
    let on = v.powered_on();
    let mut out = Vec::new();
    let mut push = |f: Finding| out.push(f.host(src).vm(v.name));

    if on {
        for (what, value) in [
            ("CPU", is_affinity_set(&v.facts.cpu_affinity)),
            ("memory", is_affinity_set(&v.facts.memory_affinity)),
        ] {
            if let Some(value) = value {
                push(Finding::error(
                    Code::AffinityConfigured,
                    format!(
                        "{what} scheduling affinity is set (sched.{}.affinity = {value:?})",
                        if what == "CPU" { "cpu" } else { "mem" }
                    ),
                    format!(
                        "power the VM off and remove sched.{}.affinity (or set it to \"all\"), or migrate cold",
                        if what == "CPU" { "cpu" } else { "mem" }
                    ),
                ));
            }
        }
    }
    for dev in &v.facts.devices {
        match dev {
            Device::Controller { label, bus_sharing }
                if on
                    && !bus_sharing.is_empty()
                    && !bus_sharing.eq_ignore_ascii_case("noSharing") =>
            {
                push(
                    Finding::error(
                        Code::SharedBusControllerNotSupported,
                        format!("{label} shares its SCSI bus ({bus_sharing}): VM clustering (shared or quorum disks) cannot vMotion"),
                        "power the cluster node off (fail its services over first) and migrate it cold",
                    )
                    .device(label),
                );
            }
            Device::Removable {
                class,
                label,
                backing,
                connected,
                ..
            } => {
                let active = on && *connected;
                match backing {
                    // Only the connected case is decided here; a configured but disconnected host
                    // device depends on the destination (see `vm_destination_static`).
                    Backing::HostDevice { device } if active => push(
                        Finding::error(
                            Code::CannotAccessVmDevice,
                            format!(
                                "{label} ({class}) is connected to host device {device} of {src}"
                            ),
                            HOST_DEVICE_REMEDY,
                        )
                        .device(label),
                    ),
                    Backing::File { path, .. }
                        if active && matches!(class.as_str(), "serial" | "parallel") =>
                    {
                        push(
                            Finding::error(
                                Code::FileBackedPortNotSupported,
                                format!("{label} ({class} port) is connected and writes to file {path}"),
                                "disconnect the port (or back it with a network/URI target) before the move",
                            )
                            .device(label),
                        );
                    }
                    Backing::Remote if active => push(
                        Finding::error(
                            Code::RemoteDeviceNotSupported,
                            format!("{label} ({class}) is connected to a remote (client) device"),
                            "disconnect the client device before the move",
                        )
                        .device(label),
                    ),
                    _ => {}
                }
            }
            Device::Passthrough {
                label,
                connected,
                passthrough,
            } if on => {
                if let Some(what) = passthrough_pins(*passthrough, *connected) {
                    push(
                        Finding::error(
                            Code::DisallowedMigrationDeviceAttached,
                            format!("{label} is {what}, tied to {src}'s hardware"),
                            PASSTHROUGH_REMEDY,
                        )
                        .device(label),
                    );
                }
            }
            _ => {}
        }
    }
    if !v.facts.snapshots.is_empty() {
        let names: Vec<&str> = v.facts.snapshots.iter().map(|s| s.name.as_str()).collect();
        push(Finding::warning(
            Code::SnapshotRevertIssue,
            format!(
                "{} snapshot{} ({}): reverting after the move may fail",
                names.len(),
                if names.len() == 1 { "" } else { "s" },
                names.join(", ")
            ),
            "delete (consolidate) snapshots you no longer need before migrating",
        ));
    }
    if on {
        let tools = v.facts.tools_running_status.trim();
        let beat = v.facts.heartbeat_status.trim();
        let tools_bad = !tools.is_empty()
            && !matches!(tools, "guestToolsRunning" | "guestToolsExecutingScripts");
        let beat_bad = !beat.is_empty() && !beat.eq_ignore_ascii_case("green");
        if tools_bad || beat_bad {
            push(Finding::warning(
                Code::NoGuestHeartbeat,
                format!(
                    "no guest heartbeat: VMware Tools {}, heartbeat {}",
                    if tools.is_empty() {
                        "status unknown"
                    } else {
                        tools
                    },
                    if beat.is_empty() { "unknown" } else { beat }
                ),
                "start or install VMware Tools in the guest (vMotion works without them, but the guest is not watched)",
            ));
        }
    }
    out.extend(network::vm_intranet(view, vm));
    out
}

/// Maximum virtual hardware version per ESXi release (KB 2007240, from memory: verify on a
/// lab host). Rows: (major, minor, update) → vmx-N; the last row not above the host wins.
const HW_VERSIONS: &[((u32, u32, u32), u32)] = &[
    ((3, 5, 0), 4),
    ((4, 0, 0), 7),
    ((5, 0, 0), 8),
    ((5, 1, 0), 9),
    ((5, 5, 0), 10),
    ((6, 0, 0), 11),
    ((6, 5, 0), 13),
    ((6, 7, 0), 14),
    ((6, 7, 2), 15),
    ((7, 0, 0), 17),
    ((7, 0, 1), 18),
    ((7, 0, 2), 19),
    ((8, 0, 0), 20),
    ((8, 0, 2), 21),
    ((9, 0, 0), 22),
];

/// The newest `vmx-N` a host of this version runs.
pub fn max_hw_version(v: &super::view::EsxVersion) -> Option<u32> {
    HW_VERSIONS
        .iter()
        .rev()
        .find(|((a, b, c), _)| (v.major, v.minor, v.update) >= (*a, *b, *c))
        .map(|(_, hw)| *hw)
}

/// What the destination must offer the VM whatever else moves: storage, LUNs, images,
/// networks, CPU, hardware version, vCPUs, and the pre-copy estimate. Capacity and rules depend
/// on what else moves: see [`vm_destination`]. Findings name the destination.
pub fn vm_destination_static(
    view: &ClusterView<'_>,
    vm: VmId,
    dst: HostId,
    params: &PrecopyParams,
) -> Vec<Finding> {
    let v = view.vm(vm);
    let d = view.host(dst);
    let on = v.powered_on();
    let mut out = Vec::new();
    if v.host == dst {
        return out;
    }
    let mut push = |f: Finding| out.push(f.host(d.name).vm(v.name));
    let not_mounted =
        |r: &super::view::FileRef<'_>| r.uuid.is_none_or(|u| d.datastore(u).is_none());
    let where_ = |r: &super::view::FileRef<'_>| match r.uuid {
        Some(u) => format!("datastore {:?} ({u})", r.datastore),
        None => format!(
            "datastore {:?} (not mounted on {}, UUID unknown)",
            r.datastore,
            view.host(v.host).name
        ),
    };

    if not_mounted(&v.config) {
        push(Finding::error(
            Code::CannotAccessVmConfig,
            format!(
                "the configuration file {} is on {}, which {} does not mount",
                v.config.path,
                where_(&v.config),
                d.name
            ),
            format!(
                "Storage vMotion the VM's home to a datastore {} mounts, or mount that datastore on {}",
                d.name, d.name
            ),
        ));
    }
    for (label, file, lun) in &v.disks {
        if not_mounted(file) {
            push(
                Finding::error(
                    Code::CannotAccessVmDisk,
                    format!("{label} ({}) is on {}, which {} does not mount", file.path, where_(file), d.name),
                    format!("Storage vMotion the disk to a datastore both hosts mount (matched by UUID), or mount it on {}", d.name),
                )
                .device(label),
            );
        }
        if let Some(lun) = lun {
            if !d.sees_lun(lun) {
                push(
                    Finding::error(
                        Code::RDMPointsToInaccessibleDisk,
                        format!(
                            "{label} is a raw device mapping of LUN {lun}, which {} does not see",
                            d.name
                        ),
                        format!(
                            "present (zone and mask) LUN {lun} to {} and rescan its adapters",
                            d.name
                        ),
                    )
                    .device(label),
                );
            }
        }
    }
    for dev in &v.facts.devices {
        let Device::Removable {
            class,
            label,
            backing,
            connected,
            ..
        } = dev
        else {
            continue;
        };
        let active = on && *connected;
        let (path, datastore_uuid) = match backing {
            Backing::File {
                path,
                datastore_uuid,
            } => (path, datastore_uuid),
            // vCenter warns about a disconnected host device only when the destination has no
            // device of the same name (hostops.md §3.2, `CannotAccessVmDevice`).
            Backing::HostDevice { device } if !active => {
                let name = device.rsplit('/').next().unwrap_or(device);
                if !d.sees_lun(name) {
                    push(
                        Finding::warning(
                            Code::CannotAccessVmDevice,
                            format!(
                                "{label} ({class}) is configured for (not connected) host device {device}, which {} \
                                 does not have",
                                d.name
                            ),
                            HOST_DEVICE_REMEDY,
                        )
                        .device(label),
                    );
                }
                continue;
            }
            _ => continue,
        };
        if matches!(class.as_str(), "serial" | "parallel") {
            continue;
        }
        let file = super::view::file_ref(path, datastore_uuid.as_deref(), view.host(v.host));
        if !not_mounted(&file) {
            continue;
        }
        let msg = format!(
            "{label} ({class}) {} image {path} on {}, which {} does not mount",
            if active {
                "has connected"
            } else {
                "is configured with (not connected)"
            },
            where_(&file),
            d.name
        );
        let remedy = "disconnect the image, or keep images on a datastore every host mounts";
        push(
            Finding::new(
                Severity::error_if(active),
                Code::CannotAccessVmDevice,
                msg,
                remedy,
            )
            .device(label),
        );
    }
    out.extend(network::vm_networks(view, vm, dst));
    out.extend(super::cpu::vm_cpu(view, vm, dst));

    let mut push = |f: Finding| out.push(f.host(d.name).vm(v.name));
    let hw: Option<u32> = v
        .facts
        .hw_version
        .trim()
        .strip_prefix("vmx-")
        .and_then(|n| n.parse().ok());
    if let (Some(hw), Some(max)) = (hw, d.version.as_ref().and_then(max_hw_version)) {
        if hw > max {
            push(Finding::error(
                Code::VirtualHardwareVersionNotSupported,
                format!(
                    "the VM is vmx-{hw}; {} runs ESXi {} which supports up to vmx-{max}",
                    d.name, d.facts.version.version
                ),
                format!(
                    "upgrade {} to a release that runs vmx-{hw}, or pick a newer host",
                    d.name
                ),
            ));
        }
    }
    let sev = Severity::error_if(on);
    // An FT secondary is registered under the primary's name on another host; the two must
    // never share a host.
    if v.fault_tolerance
        && view
            .vms_named(v.name)
            .iter()
            .any(|&o| o != vm && view.vm(o).host == dst && view.vm(o).fault_tolerance)
    {
        push(Finding::error(
            Code::FaultToleranceAntiAffinityViolated,
            format!(
                "the VM is FT-protected and its other FT copy runs on {}: primary and secondary \
                 must run on different hosts",
                d.name
            ),
            format!("pick a host other than {}", d.name),
        ));
    }
    if d.cpu.threads > 0 && v.facts.num_cpu > d.cpu.threads {
        push(Finding::new(
            sev,
            Code::NotEnoughLogicalCpus,
            format!(
                "the VM has {} vCPUs; {} has {} logical CPUs",
                v.facts.num_cpu, d.name, d.cpu.threads
            ),
            "reduce the VM's vCPUs or pick a larger host",
        ));
    }
    out.extend(if on {
        precopy::vm_precopy(view, vm, dst, params)
    } else {
        Vec::new()
    });
    out
}

/// [`vm_destination_static`] plus the destination's unreserved capacity and the mandatory
/// rules. `moving` are the VMs moving in the same batch (to the same destination), which a
/// mandatory affinity rule may keep together.
pub fn vm_destination(
    view: &ClusterView<'_>,
    vm: VmId,
    dst: HostId,
    moving: &HashSet<VmId>,
    params: &PrecopyParams,
) -> Vec<Finding> {
    let mut out = vm_destination_static(view, vm, dst, params);
    let v = view.vm(vm);
    let d = view.host(dst);
    if v.host == dst || !v.powered_on() {
        return out;
    }
    let mut push = |f: Finding| out.push(f.host(d.name).vm(v.name));
    {
        let room = d.unreserved();
        if v.demand.cpu_mhz > room.cpu_mhz {
            push(Finding::error(
                Code::InsufficientCpuResourcesFault,
                format!(
                    "the VM reserves {} MHz; {} has {} MHz unreserved",
                    v.demand.cpu_mhz, d.name, room.cpu_mhz
                ),
                "lower the VM's CPU reservation, or free capacity on the destination",
            ));
        }
        if v.demand.mem_mb > room.mem_mb {
            push(Finding::error(
                Code::InsufficientMemoryResourcesFault,
                format!(
                    "the VM reserves {} MB (with overhead); {} has {} MB unreserved",
                    v.demand.mem_mb, d.name, room.mem_mb
                ),
                "lower the VM's memory reservation, or free capacity on the destination",
            ));
        }
        rule_checks(view, vm, dst, moving, &mut push);
    }
    out
}

/// Mandatory rules against a move of `vm` to `dst`.
fn rule_checks(
    view: &ClusterView<'_>,
    vm: VmId,
    dst: HostId,
    moving: &HashSet<VmId>,
    push: &mut dyn FnMut(Finding),
) {
    let rules = &view.rules;
    let d = view.host(dst);
    if let Some(allowed) = rules.allowed(vm) {
        if !allowed.contains(dst) {
            let names: Vec<&str> = rules
                .rules_of(vm)
                .filter(|r| r.mandatory && !super::drs::vm_host_ok(r, dst))
                .map(|r| r.name.as_str())
                .collect();
            let why = if names.is_empty() {
                "a VM it must run with is bound elsewhere by a VM-Host rule".to_string()
            } else {
                format!(
                    "mandatory VM-Host rule {} keeps it off {}",
                    names.join(", "),
                    d.name
                )
            };
            push(Finding::error(
                Code::VmHostAffinityRuleViolation,
                why,
                "pick a host of the rule's host group, or change the rule",
            ));
        }
    }
    let placed = |o: VmId| -> Option<HostId> {
        let ov = view.vm(o);
        if !ov.powered_on() {
            None
        } else if moving.contains(&o) {
            Some(dst)
        } else {
            Some(ov.host)
        }
    };
    if let Some((r, other)) = rules.anti_affinity_clash(vm, dst, placed) {
        push(Finding::error(
            Code::RuleViolation,
            format!(
                "mandatory anti-affinity rule {:?} keeps it apart from {}, which runs on {}",
                r.name,
                view.vm(other).name,
                d.name
            ),
            "pick another host",
        ));
    }
    if let Some((r, other, host)) = rules.affinity_host(vm, placed) {
        if host != dst {
            push(Finding::error(
                Code::RuleViolation,
                format!(
                    "mandatory affinity rule {:?} keeps it with {}, which runs on {}",
                    r.name,
                    view.vm(other).name,
                    view.host(host).name
                ),
                format!("move {} along with it (name both VMs)", view.vm(other).name),
            ));
        }
    }
}

/// Every check for moving `vms` to each of `dests` (a VM already on a destination is skipped
/// for it). Host findings appear once, however many VMs and pairs reach them.
pub fn check(
    view: &ClusterView<'_>,
    vms: &[VmId],
    dests: &[HostId],
    params: &PrecopyParams,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let moving: HashSet<VmId> = vms.iter().copied().collect();
    let mut pairs_done: HashSet<(HostId, HostId, bool)> = HashSet::new();
    for &vm in vms {
        let v = view.vm(vm);
        out.extend(vm_source(view, vm));
        for &dst in dests {
            if v.host == dst {
                continue;
            }
            if pairs_done.insert((v.host, dst, v.powered_on())) {
                if v.powered_on() {
                    out.extend(host_pair(view, v.host, dst));
                } else {
                    out.extend(destination_state(view, dst));
                }
            }
            out.extend(vm_destination(view, vm, dst, &moving, params));
        }
    }
    let mut seen = HashSet::new();
    out.retain(|f| seen.insert(f.clone()));
    out
}
