//! Registered VMs: `getallvms`, then per VM `get.summary`, `get.config` and `snapshot.get`.
//! `device.getdevices`, `power.getstate` and `get.guest` follow only for a VM whose config has
//! no devices or whose summary has no power state or tools status: otherwise those already
//! answered what the three would (the config holds the same `VirtualHardware`, the summary the
//! runtime power state and the guest's tools status). `get.networks` follows for a VM with a NIC
//! on a distributed port group: the config names such a port group only by key.

use super::query::{Answers, Query};
use crate::facts::{Backing, CpuIdLevel, Datastore, Device, PassthroughType, Vm};
use crate::parse::vimcmd::{self, VmRow};
use crate::parse::vmodl::{self, Vmodl, VmodlError};
use crate::transport::ExecOutput;

/// Asked for every VM.
const PER_VM: [&str; 3] = ["get.summary", "get.config", "snapshot.get"];

/// Asked, in a later round, only for what the [`PER_VM`] answers lacked; `get.networks` only
/// for a VM with a NIC on a distributed port group, whose name the config does not hold.
const FALLBACK: [&str; 4] = [
    "device.getdevices",
    "power.getstate",
    "get.guest",
    "get.networks",
];

pub fn rows(answers: &Answers) -> Vec<VmRow> {
    answers
        .raw("getallvms")
        .filter(|o| o.success())
        .map(|o| vimcmd::getallvms(&o.stdout_text()))
        .unwrap_or_default()
}

fn query(cmd: &str, vmid: &str) -> (String, Query) {
    (
        format!("{cmd}:{vmid}"),
        Query::Raw(format!("vim-cmd vmsvc/{cmd} {vmid}")),
    )
}

/// What keeps VMs out of the facts: `getallvms` failing, or printing lines it could not read.
pub fn listing_notes(answers: &Answers) -> Vec<String> {
    match answers.raw("getallvms") {
        Some(o) if !o.success() => vec![format!(
            "vim-cmd vmsvc/getallvms (exit {}): {}; no VMs listed",
            o.status,
            o.first_error_line()
        )],
        Some(o) => vimcmd::unread_lines(&o.stdout_text())
            .into_iter()
            .map(|l| format!("vim-cmd vmsvc/getallvms: skipped a line that is not a VM row: {l}"))
            .collect(),
        None => Vec::new(),
    }
}

/// What to ask about every VM.
pub fn queries(rows: &[VmRow]) -> Vec<(String, Query)> {
    rows.iter()
        .flat_map(|row| PER_VM.iter().map(|cmd| query(cmd, &row.vmid)))
        .collect()
}

/// What to ask about the VMs whose config or summary did not say enough.
pub fn fallback_queries(rows: &[VmRow], details: &Answers) -> Vec<(String, Query)> {
    rows.iter()
        .flat_map(|row| {
            let id = row.vmid.as_str();
            let hardware = config_hardware(details, id);
            let devices = hardware.is_none();
            let dvs = hardware.is_some_and(|h| !dvportgroup_keys(&h).is_empty());
            let power = summary_power(details, id).is_none();
            let tools = summary_tools(details, id).is_none();
            FALLBACK
                .into_iter()
                .zip([devices, power, tools, dvs])
                .filter(|(_, wanted)| *wanted)
                .map(move |(cmd, _)| query(cmd, id))
        })
        .collect()
}

/// The config's `hardware`, when it lists devices.
fn config_hardware(details: &Answers, vmid: &str) -> Option<Vmodl> {
    object(details, "get.config", vmid)
        .ok()?
        .get("hardware")
        .filter(|h| h.get("device").is_some())
        .cloned()
}

/// The guest's tools status as the summary has it (`guestToolsRunning`, …).
fn summary_tools(details: &Answers, vmid: &str) -> Option<String> {
    object(details, "get.summary", vmid)
        .ok()?
        .path(&["guest", "toolsRunningStatus"])
        .and_then(Vmodl::as_str)
        .map(str::to_string)
}

/// The summary's runtime power state (`poweredOn`, …).
fn summary_power(details: &Answers, vmid: &str) -> Option<bool> {
    object(details, "get.summary", vmid)
        .ok()?
        .path(&["runtime", "powerState"])
        .and_then(Vmodl::as_str)
        .map(|p| p == "poweredOn")
}

fn output<'a>(details: &'a Answers, cmd: &str, vmid: &str) -> Option<&'a ExecOutput> {
    details
        .raw(&format!("{cmd}:{vmid}"))
        .filter(|o| o.success())
}

/// `get.networks`: one `vim.Network.Summary` per network the VM uses.
fn networks(details: &Answers, vmid: &str) -> Result<Vec<Vmodl>, String> {
    let out = details
        .raw(&format!("get.networks:{vmid}"))
        .ok_or_else(|| "not run".to_string())?;
    if !out.success() {
        return Err(out.first_error_line());
    }
    vmodl::parse_all(&out.stdout_text()).map_err(|e| e.to_string())
}

/// Distributed port group names by key, from `get.networks`: a summary's `network` is a
/// reference whose id is the key (`'vim.dvs.DistributedVirtualPortgroup:dvportgroup-NN'`); the
/// type is not checked, the key is. Empty when not asked or unreadable.
fn dvportgroup_names(details: &Answers, vmid: &str) -> Vec<(String, String)> {
    networks(details, vmid)
        .unwrap_or_default()
        .iter()
        .filter_map(|n| {
            let (_, key) = n.get("network").and_then(Vmodl::as_str)?.split_once(':')?;
            let name = n.get("name").and_then(Vmodl::as_str)?.trim();
            (!name.is_empty()).then(|| (key.to_string(), name.to_string()))
        })
        .collect()
}

/// The distributed port group keys the VM's NICs are on.
fn dvportgroup_keys(hardware: &Vmodl) -> Vec<&str> {
    hardware
        .get("device")
        .map(Vmodl::items)
        .unwrap_or_default()
        .iter()
        .filter_map(|d| d.path(&["backing", "port", "portgroupKey"])?.as_str())
        .filter(|k| !k.trim().is_empty())
        .collect()
}

fn object(details: &Answers, cmd: &str, vmid: &str) -> Result<Vmodl, String> {
    let out = details
        .raw(&format!("{cmd}:{vmid}"))
        .ok_or_else(|| "not run".to_string())?;
    if !out.success() {
        return Err(out.first_error_line());
    }
    vmodl::parse(&out.stdout_text()).map_err(|e: VmodlError| e.to_string())
}

/// One note per VM command that was asked and failed or printed something unreadable.
pub fn notes(rows: &[VmRow], details: &Answers) -> Vec<String> {
    let mut notes = Vec::new();
    for row in rows {
        let asked = PER_VM.iter().chain(
            FALLBACK
                .iter()
                .filter(|cmd| details.raw(&format!("{cmd}:{}", row.vmid)).is_some()),
        );
        for cmd in asked {
            let failed = match *cmd {
                "power.getstate" | "snapshot.get" => output(details, cmd, &row.vmid)
                    .is_none()
                    .then(|| "failed".to_string()),
                "get.networks" => networks(details, &row.vmid).err(),
                _ => object(details, cmd, &row.vmid).err(),
            };
            if let Some(why) = failed {
                notes.push(format!(
                    "vim-cmd vmsvc/{cmd} {} ({}): {why}",
                    row.vmid, row.name
                ));
            }
        }
        if let Ok(config) = object(details, "get.config", &row.vmid) {
            notes.extend(config_notes(&config).into_iter().map(|why| {
                format!(
                    "vim-cmd vmsvc/get.config {} ({}): {why}",
                    row.vmid, row.name
                )
            }));
        }
    }
    notes
}

pub fn build(rows: &[VmRow], details: &Answers, datastores: &[Datastore]) -> Vec<Vm> {
    rows.iter()
        .map(|row| vm(row, details, datastores))
        .collect()
}

fn vm(row: &VmRow, details: &Answers, datastores: &[Datastore]) -> Vm {
    let id = row.vmid.as_str();
    let summary = object(details, "get.summary", id).ok();
    let config = object(details, "get.config", id).ok();
    let hardware =
        config_hardware(details, id).or_else(|| object(details, "device.getdevices", id).ok());
    let s = |path: &[&str]| summary.as_ref().and_then(|v| v.path(path));
    let c = |path: &[&str]| config.as_ref().and_then(|v| v.path(path));
    let num = |v: Option<&Vmodl>| v.and_then(Vmodl::as_u64);
    let text = |v: Option<&Vmodl>| v.and_then(Vmodl::as_str).map(str::to_string);

    let powered_on = summary_power(details, id)
        .or_else(|| {
            output(details, "power.getstate", id).and_then(|o| vimcmd::powered_on(&o.stdout_text()))
        })
        .unwrap_or(false);
    let devices = hardware
        .as_ref()
        .map(|h| devices(h, datastores, &dvportgroup_names(details, id)))
        .unwrap_or_default();
    let extra = |key: &str| -> Option<String> {
        extra_config(config.as_ref()?)
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.to_string())
    };
    let affinity = |field: &str, key: &str| -> Option<String> {
        let set: Vec<String> = c(&[field, "affinitySet"])
            .map(Vmodl::items)
            .unwrap_or_default()
            .iter()
            .filter_map(|n| n.as_i64().map(|n| n.to_string()))
            .collect();
        if !set.is_empty() {
            return Some(set.join(","));
        }
        extra(key).filter(|v| !v.trim().is_empty() && v.trim() != "all")
    };
    let fault_tolerance = [c(&["ftInfo"]), s(&["config", "ftInfo"])]
        .into_iter()
        .flatten()
        .any(|v| matches!(v, Vmodl::Object { .. }));
    // The config and summary say name and path exactly; getallvms' row is a fallback.
    let name = text(c(&["name"]))
        .or_else(|| text(s(&["config", "name"])))
        .unwrap_or_else(|| row.name.clone());
    let vmx_path = text(c(&["files", "vmPathName"]))
        .or_else(|| text(s(&["config", "vmPathName"])))
        .unwrap_or_else(|| row.vmx_path.clone());
    Vm {
        vmid: row.vmid.clone(),
        name,
        vmx_datastore_uuid: datastore_uuid(&vmx_path, None, datastores),
        vmx_path,
        guest_os: text(c(&["guestId"]))
            .or_else(|| text(s(&["config", "guestId"])))
            .unwrap_or_else(|| row.guest_os.clone()),
        hw_version: text(c(&["version"])).unwrap_or_else(|| row.version.clone()),
        powered_on,
        num_cpu: num(hardware.as_ref().and_then(|h| h.get("numCPU")))
            .or_else(|| num(s(&["config", "numCpu"])))
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0),
        memory_mb: num(hardware.as_ref().and_then(|h| h.get("memoryMB")))
            .or_else(|| num(s(&["config", "memorySizeMB"])))
            .unwrap_or(0),
        cpu_reservation_mhz: num(c(&["cpuAllocation", "reservation"]))
            .or_else(|| num(s(&["config", "cpuReservation"])))
            .unwrap_or(0),
        memory_reservation_mb: num(c(&["memoryAllocation", "reservation"]))
            .or_else(|| num(s(&["config", "memoryReservation"])))
            .unwrap_or(0),
        memory_overhead_mb: num(s(&["quickStats", "consumedOverheadMemory"])).unwrap_or(0),
        active_memory_mb: num(s(&["quickStats", "guestMemoryUsage"])),
        cpu_affinity: affinity("cpuAffinity", "sched.cpu.affinity"),
        memory_affinity: affinity("memoryAffinity", "sched.mem.affinity"),
        tools_running_status: summary_tools(details, id)
            .or_else(|| {
                object(details, "get.guest", id)
                    .ok()
                    .and_then(|g| text(g.get("toolsRunningStatus")))
            })
            .unwrap_or_default(),
        heartbeat_status: text(s(&["quickStats", "guestHeartbeatStatus"]))
            .or_else(|| text(s(&["guestHeartbeatStatus"])))
            .unwrap_or_default(),
        fault_tolerance,
        cpuid_masks: cpuid_masks(config.as_ref()),
        devices,
        snapshots: output(details, "snapshot.get", id)
            .map(|o| vimcmd::snapshots(&o.stdout_text()))
            .unwrap_or_default(),
    }
}

/// `cpuFeatureMask` of the config (VMODL `vim.host.CpuIdInfo`, `vendor` unset or `amd`/`intel`),
/// overlaid with the `cpuid.<leaf>.<reg>[.<vendor>]` keys of its extraConfig (the `.vmx` form,
/// which the host prints there too). Vendor-specific masks stay separate entries: the preflight
/// applies an `.amd` mask only to AMD hosts.
fn cpuid_masks(config: Option<&Vmodl>) -> Vec<CpuIdLevel> {
    let Some(config) = config else {
        return Vec::new();
    };
    // A `ConfigInfo` lists `vim.host.CpuIdInfo` objects; the spec form wraps each in `info`.
    let listed = Vmodl::Array {
        type_name: "vim.host.CpuIdInfo".to_string(),
        items: config
            .get("cpuFeatureMask")
            .map(Vmodl::items)
            .unwrap_or_default()
            .iter()
            .map(|m| m.get("info").unwrap_or(m).clone())
            .collect(),
    };
    let mut masks = super::hardware::levels(Some(&listed));
    for mask in &mut masks {
        mask.vendor = mask.vendor.trim().to_ascii_lowercase();
    }
    for (key, value) in extra_config(config) {
        let Some(Ok(MaskKey { level, vendor, reg })) = mask_key(key) else {
            continue;
        };
        let index = match masks
            .iter()
            .position(|m| m.level == level && m.vendor == vendor)
        {
            Some(i) => i,
            None => {
                masks.push(CpuIdLevel {
                    level,
                    vendor: vendor.to_string(),
                    ..CpuIdLevel::default()
                });
                masks.len().saturating_sub(1)
            }
        };
        let Some(entry) = masks.get_mut(index) else {
            continue;
        };
        let slot = match reg {
            "eax" => &mut entry.eax,
            "ebx" => &mut entry.ebx,
            "ecx" => &mut entry.ecx,
            _ => &mut entry.edx,
        };
        *slot = value.to_string();
    }
    masks
}

/// The `key = value` string pairs of a config's extraConfig.
fn extra_config(config: &Vmodl) -> impl Iterator<Item = (&str, &str)> {
    config
        .get("extraConfig")
        .map(Vmodl::items)
        .unwrap_or_default()
        .iter()
        .filter_map(|o| {
            Some((
                o.get("key").and_then(Vmodl::as_str)?,
                o.get("value").and_then(Vmodl::as_str)?,
            ))
        })
}

/// One register mask named by a `.vmx` key.
#[derive(Debug, PartialEq)]
struct MaskKey {
    level: u32,
    /// Empty for any vendor, else `amd` / `intel`.
    vendor: &'static str,
    /// `eax`, `ebx`, `ecx` or `edx`.
    reg: &'static str,
}

/// Reads `cpuid.<leaf>.<reg>[.<vendor>]`: the leaf is hexadecimal as in every `.vmx`
/// (`cpuid.d.eax`, `cpuid.80000001.edx`), keys are case-insensitive (`cpuid.1.ECX`). `None` for
/// keys that are not register masks (`cpuid.coresPerSocket`); `Err` says why a key that looks like
/// one cannot be read.
fn mask_key(key: &str) -> Option<Result<MaskKey, String>> {
    let lower = key.trim().to_ascii_lowercase();
    let mut parts = lower.split('.');
    if parts.next() != Some("cpuid") {
        return None;
    }
    let (Some(leaf), Some(reg)) = (parts.next(), parts.next()) else {
        return None;
    };
    let reg = ["eax", "ebx", "ecx", "edx"]
        .into_iter()
        .find(|r| *r == reg)?;
    let vendor = match (parts.next(), parts.next()) {
        (None, _) => "",
        (Some("amd"), None) => "amd",
        (Some("intel"), None) => "intel",
        _ => return Some(Err("not a vendor this version knows (amd, intel)".into())),
    };
    let Ok(level) = u32::from_str_radix(leaf, 16) else {
        return Some(Err(format!("leaf {leaf:?} is not a hexadecimal number")));
    };
    Some(Ok(MaskKey { level, vendor, reg }))
}

/// What in a VM's config was skipped: CPUID mask keys that could not be read.
fn config_notes(config: &Vmodl) -> Vec<String> {
    extra_config(config)
        .filter_map(|(key, _)| match mask_key(key) {
            Some(Err(why)) => Some(format!("skipped CPUID mask {key:?}: {why}")),
            _ => None,
        })
        .collect()
}

/// The UUID of the datastore a `[name] path` lives on: from the device's datastore reference
/// (`'vim.Datastore:<uuid>'`) or by name among the host's datastores.
fn datastore_uuid(path: &str, moref: Option<&str>, datastores: &[Datastore]) -> Option<String> {
    let by_ref = moref
        .and_then(|r| r.strip_prefix("vim.Datastore:"))
        .filter(|id| datastores.iter().any(|d| d.uuid == *id));
    if let Some(id) = by_ref {
        return Some(id.to_string());
    }
    // Datastore names may hold `]` themselves (`[san [gold] 01] vm/vm.vmx`): the longest name
    // the path starts with wins.
    datastores
        .iter()
        .filter(|d| {
            path.strip_prefix('[')
                .and_then(|p| p.strip_prefix(d.name.as_str()))
                .is_some_and(|rest| rest.starts_with(']'))
        })
        .max_by_key(|d| d.name.len())
        .map(|d| d.uuid.clone())
}

/// What a `VirtualUSB` / `VirtualPCIPassthrough` device passes through, by its backing type:
/// the label (`PCI device 0`) is the same for DirectPath I/O and vGPU, and users rename it.
fn passthrough_type(device_type: &str, backing_type: &str) -> PassthroughType {
    let backing = backing_type.rsplit('.').next().unwrap_or(backing_type);
    match (device_type, backing) {
        ("VirtualUSB", _) => PassthroughType::Usb,
        ("VirtualSriovEthernetCard", _) => PassthroughType::Sriov,
        (_, "DeviceBackingInfo" | "DynamicBackingInfo") => PassthroughType::Pci,
        (_, "VmiopBackingInfo") => PassthroughType::Vgpu,
        _ => PassthroughType::Unknown,
    }
}

/// The VM's devices; `dvportgroups` names distributed port groups by key (`get.networks`).
fn devices(
    hardware: &Vmodl,
    datastores: &[Datastore],
    dvportgroups: &[(String, String)],
) -> Vec<Device> {
    let all = hardware.get("device").map(Vmodl::items).unwrap_or_default();
    let label = |d: &Vmodl| {
        d.path(&["deviceInfo", "label"])
            .and_then(Vmodl::as_str)
            .unwrap_or("")
            .trim()
            .to_string()
    };
    let controller_label = |key: Option<i64>| {
        all.iter()
            .find(|d| key.is_some() && d.get("key").and_then(Vmodl::as_i64) == key)
            .map(label)
            .unwrap_or_default()
    };
    let connected = |d: &Vmodl| {
        d.path(&["connectable", "connected"])
            .and_then(Vmodl::as_bool)
            .or_else(|| d.get("connected").and_then(Vmodl::as_bool))
            .unwrap_or(false)
    };
    let start_connected = |d: &Vmodl| {
        d.path(&["connectable", "startConnected"])
            .and_then(Vmodl::as_bool)
            .unwrap_or(false)
    };
    let text = |v: Option<&Vmodl>| v.and_then(Vmodl::as_str).unwrap_or("").to_string();
    let mut out: Vec<Device> = all
        .iter()
        .filter_map(|d| {
            let kind = d.type_name().unwrap_or("");
            let short = kind.rsplit('.').next().unwrap_or(kind);
            let backing = d.get("backing");
            let backing_type = backing.and_then(Vmodl::type_name).unwrap_or("");
            let file = text(backing.and_then(|b| b.get("fileName")));
            let ds_ref = backing
                .and_then(|b| b.get("datastore"))
                .and_then(Vmodl::as_str);
            if short == "VirtualDisk" {
                let rdm = backing_type.contains("RawDiskMapping");
                return Some(Device::Disk {
                    label: label(d),
                    datastore_uuid: datastore_uuid(&file, ds_ref, datastores),
                    file,
                    rdm_device: rdm.then(|| text(backing.and_then(|b| b.get("deviceName")))),
                    rdm_mode: rdm.then(|| text(backing.and_then(|b| b.get("compatibilityMode")))),
                    controller: controller_label(d.get("controllerKey").and_then(Vmodl::as_i64)),
                });
            }
            if let Some(sharing) = d.get("sharedBus").and_then(Vmodl::as_str) {
                return Some(Device::Controller {
                    label: label(d),
                    bus_sharing: sharing.to_string(),
                });
            }
            if d.get("macAddress").is_some() {
                let port = |field: &str| {
                    backing
                        .and_then(|b| b.path(&["port", field]))
                        .and_then(Vmodl::as_str)
                        .map(str::trim)
                        .filter(|v| !v.is_empty())
                        .map(str::to_string)
                };
                let dvportgroup_key = port("portgroupKey");
                // A distributed port backing has no `deviceName`: the port group is named by
                // key, and by name only where the host told us (else the key stands in).
                let network = match &dvportgroup_key {
                    Some(key) => dvportgroups
                        .iter()
                        .find(|(k, _)| k == key)
                        .map_or_else(|| key.clone(), |(_, name)| name.clone()),
                    None => text(backing.and_then(|b| b.get("deviceName"))),
                };
                return Some(Device::Nic {
                    label: label(d),
                    network,
                    dvs_uuid: port("switchUuid"),
                    dvportgroup_key,
                    connected: connected(d),
                    start_connected: start_connected(d),
                    mac: text(d.get("macAddress")),
                });
            }
            let class = match short {
                "VirtualCdrom" => "cdrom",
                "VirtualFloppy" => "floppy",
                "VirtualSerialPort" => "serial",
                "VirtualParallelPort" => "parallel",
                "VirtualUSB" | "VirtualPCIPassthrough" => {
                    return Some(Device::Passthrough {
                        label: label(d),
                        connected: connected(d),
                        passthrough: passthrough_type(short, backing_type),
                    });
                }
                _ => return None,
            };
            let backing = if backing.is_none_or(|b| matches!(b, Vmodl::Null(_) | Vmodl::Unset)) {
                Backing::None
            } else if backing_type.contains("Remote") {
                Backing::Remote
            } else if backing_type.contains("Iso")
                || backing_type.contains("Image")
                || backing_type.contains("FileBacking")
            {
                Backing::File {
                    datastore_uuid: datastore_uuid(&file, ds_ref, datastores),
                    path: file,
                }
            } else {
                let device = text(backing.and_then(|b| b.get("deviceName")));
                let pipe = text(backing.and_then(|b| b.get("pipeName")));
                Backing::HostDevice {
                    device: if device.is_empty() { pipe } else { device },
                }
            };
            Some(Device::Removable {
                class: class.to_string(),
                label: label(d),
                backing,
                connected: connected(d),
                start_connected: start_connected(d),
            })
        })
        .collect();
    // An SR-IOV adapter is a NIC (its port group matters) and a virtual function of a host
    // NIC passed through (which pins the VM): it is listed as both.
    out.extend(
        all.iter()
            .filter(|d| {
                d.type_name()
                    .is_some_and(|t| t.ends_with(".VirtualSriovEthernetCard"))
            })
            .map(|d| Device::Passthrough {
                label: label(d),
                connected: connected(d),
                passthrough: PassthroughType::Sriov,
            }),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEVICES: &str = r#"Devices:

(vim.vm.VirtualHardware) {
   numCPU = 4,
   memoryMB = 8192,
   device = (vim.vm.device.VirtualDevice) [
      (vim.vm.device.ParaVirtualSCSIController) {
         key = 1000,
         deviceInfo = (vim.Description) { label = "SCSI controller 0", summary = "VMware paravirtual SCSI" },
         sharedBus = "physicalSharing",
      },
      (vim.vm.device.VirtualDisk) {
         key = 2000,
         deviceInfo = (vim.Description) { label = "Hard disk 1", summary = "16,777,216 KB" },
         backing = (vim.vm.device.VirtualDisk.FlatVer2BackingInfo) {
            fileName = "[shared ds] app/app.vmdk",
            datastore = 'vim.Datastore:aaaa-bbbb',
         },
         controllerKey = 1000,
      },
      (vim.vm.device.VirtualDisk) {
         key = 2001,
         deviceInfo = (vim.Description) { label = "Hard disk 2" },
         backing = (vim.vm.device.VirtualDisk.RawDiskMappingVer1BackingInfo) {
            fileName = "[shared ds] app/app_1.vmdk",
            deviceName = "/vmfs/devices/disks/naa.600a",
            compatibilityMode = "physicalMode",
         },
         controllerKey = 1000,
      },
      (vim.vm.device.VirtualCdrom) {
         key = 3000,
         deviceInfo = (vim.Description) { label = "CD/DVD drive 1" },
         backing = (vim.vm.device.VirtualCdrom.AtapiBackingInfo) { deviceName = "/vmfs/devices/cdrom/mpx.vmhba0:C0:T0:L0" },
         connectable = (vim.vm.device.VirtualDevice.ConnectInfo) { startConnected = true, connected = true },
      },
      (vim.vm.device.VirtualFloppy) {
         key = 8000,
         deviceInfo = (vim.Description) { label = "Floppy drive 1" },
         backing = (vim.vm.device.VirtualFloppy.RemoteDeviceBackingInfo) { deviceName = "" },
         connectable = (vim.vm.device.VirtualDevice.ConnectInfo) { startConnected = false, connected = false },
      },
      (vim.vm.device.VirtualVmxnet3) {
         key = 4000,
         deviceInfo = (vim.Description) { label = "Network adapter 1" },
         backing = (vim.vm.device.VirtualEthernetCard.NetworkBackingInfo) { deviceName = "VM Network" },
         connectable = (vim.vm.device.VirtualDevice.ConnectInfo) { startConnected = true, connected = true },
         macAddress = "00:50:56:01:02:03",
      },
      (vim.vm.device.VirtualVmxnet3) {
         key = 4001,
         deviceInfo = (vim.Description) { label = "Network adapter 2", summary = "DVSwitch: 50 1a 2b 3c 4d 5e 6f 70-81 92 a3 b4 c5 d6 e7 f8" },
         backing = (vim.vm.device.VirtualEthernetCard.DistributedVirtualPortBackingInfo) {
            port = (vim.dvs.PortConnection) {
               switchUuid = "50 1a 2b 3c 4d 5e 6f 70-81 92 a3 b4 c5 d6 e7 f8",
               portgroupKey = "dvportgroup-1017",
               portKey = "42",
               connectionCookie = 1803964342,
            },
         },
         connectable = (vim.vm.device.VirtualDevice.ConnectInfo) { startConnected = true, connected = true },
         macAddress = "00:50:56:aa:bb:cc",
      },
      (vim.vm.device.VirtualSriovEthernetCard) {
         key = 4002,
         deviceInfo = (vim.Description) { label = "Network adapter 3", summary = "VM Network" },
         backing = (vim.vm.device.VirtualEthernetCard.NetworkBackingInfo) { deviceName = "VM Network", useAutoDetect = false },
         connectable = (vim.vm.device.VirtualDevice.ConnectInfo) { startConnected = true, connected = true },
         macAddress = "00:50:56:aa:bb:cd",
         allowGuestOSMtuChange = false,
         sriovBacking = (vim.vm.device.VirtualSriovEthernetCard.SriovBackingInfo) {
            physicalFunctionBacking = (vim.vm.device.VirtualPCIPassthrough.DeviceBackingInfo) {
               deviceName = "",
               useAutoDetect = false,
               id = "0000:af:00.0",
               deviceId = "158b",
               systemId = "BYPASS",
               vendorId = -32634,
            },
            virtualFunctionBacking = <unset>,
            virtualFunctionIndex = <unset>,
         },
      },
      (vim.vm.device.VirtualUSB) {
         key = 9000,
         deviceInfo = (vim.Description) { label = "USB 1" },
         connected = true,
      },
      (vim.vm.device.VirtualPCIPassthrough) {
         key = 13000,
         deviceInfo = (vim.Description) { label = "PCI device 0", summary = "NVIDIA GRID vGPU grid_t4-4q" },
         backing = (vim.vm.device.VirtualPCIPassthrough.VmiopBackingInfo) {
            vgpu = "grid_t4-4q",
            migrateSupported = true,
         },
         connectable = <unset>,
         controllerKey = 100,
         unitNumber = 18,
      },
      (vim.vm.device.VirtualPCIPassthrough) {
         key = 13001,
         deviceInfo = (vim.Description) { label = "PCI device 1", summary = "0000:3b:00.0 | Intel(R) Ethernet Controller X710" },
         backing = (vim.vm.device.VirtualPCIPassthrough.DeviceBackingInfo) {
            deviceName = "Intel(R) Ethernet Controller X710 for 10GbE SFP+",
            useAutoDetect = false,
            id = "0000:3b:00.0",
            deviceId = "1572",
            systemId = "5e3a9c1d-1234-5678-9abc-0025b5000001",
            vendorId = -32634,
         },
         controllerKey = 100,
         unitNumber = 19,
      },
      (vim.vm.device.VirtualPCIPassthrough) {
         key = 13002,
         deviceInfo = (vim.Description) { label = "NVMe for scratch", summary = "Dynamic DirectPath" },
         backing = (vim.vm.device.VirtualPCIPassthrough.DynamicBackingInfo) {
            deviceName = "",
            useAutoDetect = false,
            allowedDevice = (vim.vm.device.VirtualPCIPassthrough.AllowedDevice) [
               (vim.vm.device.VirtualPCIPassthrough.AllowedDevice) { vendorId = -32634, deviceId = 2643 },
            ],
            customLabel = "",
            assignedId = "0000:5e:00.0",
         },
         controllerKey = 100,
         unitNumber = 20,
      },
      (vim.vm.device.VirtualPCIPassthrough) {
         key = 13003,
         deviceInfo = (vim.Description) { label = "PCI device 3" },
         backing = (vim.vm.device.VirtualPCIPassthrough.DvxBackingInfo) { deviceClass = "dpu" },
         controllerKey = 100,
         unitNumber = 21,
      },
      (vim.vm.device.VirtualKeyboard) { key = 600 },
   ]
}
"#;

    #[test]
    fn devices_map_to_the_migration_model() {
        let hw = vmodl::parse(DEVICES).unwrap();
        let ds = [Datastore {
            name: "shared ds".into(),
            uuid: "aaaa-bbbb".into(),
            ..Datastore::default()
        }];
        let d = devices(&hw, &ds, &[]);
        assert_eq!(d.len(), 14, "{d:#?}");
        assert_eq!(
            d[0],
            Device::Controller {
                label: "SCSI controller 0".into(),
                bus_sharing: "physicalSharing".into()
            }
        );
        let Device::Disk {
            datastore_uuid,
            controller,
            rdm_device,
            ..
        } = &d[1]
        else {
            panic!("{:?}", d[1])
        };
        assert_eq!(datastore_uuid.as_deref(), Some("aaaa-bbbb"));
        assert_eq!(controller, "SCSI controller 0");
        assert_eq!(*rdm_device, None);
        let Device::Disk {
            rdm_device,
            rdm_mode,
            datastore_uuid,
            ..
        } = &d[2]
        else {
            panic!()
        };
        assert_eq!(rdm_device.as_deref(), Some("/vmfs/devices/disks/naa.600a"));
        assert_eq!(rdm_mode.as_deref(), Some("physicalMode"));
        assert_eq!(
            datastore_uuid.as_deref(),
            Some("aaaa-bbbb"),
            "resolved by name"
        );
        assert!(matches!(
            &d[3],
            Device::Removable { class, backing: Backing::HostDevice { .. }, connected: true, .. } if class == "cdrom"
        ));
        assert!(matches!(
            &d[4],
            Device::Removable {
                backing: Backing::Remote,
                connected: false,
                ..
            }
        ));
        assert!(
            matches!(&d[5], Device::Nic { network, connected: true, dvs_uuid: None, dvportgroup_key: None, .. } if network == "VM Network")
        );
        assert_eq!(
            d[6],
            Device::Nic {
                label: "Network adapter 2".into(),
                network: "dvportgroup-1017".into(),
                dvs_uuid: Some("50 1a 2b 3c 4d 5e 6f 70-81 92 a3 b4 c5 d6 e7 f8".into()),
                dvportgroup_key: Some("dvportgroup-1017".into()),
                connected: true,
                start_connected: true,
                mac: "00:50:56:aa:bb:cc".into(),
            },
            "no name known: the key stands in"
        );
        assert_eq!(dvportgroup_keys(&hw), ["dvportgroup-1017"]);
        let named = devices(
            &hw,
            &ds,
            &[("dvportgroup-1017".into(), "prod (vlan 20)".into())],
        );
        assert!(
            matches!(&named[6], Device::Nic { network, dvportgroup_key: Some(key), .. }
                if network == "prod (vlan 20)" && key == "dvportgroup-1017"),
            "{:?}",
            named[6]
        );
        assert!(
            matches!(&d[7], Device::Nic { label, network, .. } if label == "Network adapter 3" && network == "VM Network"),
            "an SR-IOV adapter is a NIC: {:?}",
            d[7]
        );
        let passthrough: Vec<(&str, bool, PassthroughType)> = d[8..]
            .iter()
            .filter_map(|d| match d {
                Device::Passthrough {
                    label,
                    connected,
                    passthrough,
                } => Some((label.as_str(), *connected, *passthrough)),
                _ => None,
            })
            .collect();
        assert_eq!(
            passthrough,
            [
                ("USB 1", true, PassthroughType::Usb),
                ("PCI device 0", false, PassthroughType::Vgpu),
                ("PCI device 1", false, PassthroughType::Pci),
                ("NVMe for scratch", false, PassthroughType::Pci),
                ("PCI device 3", false, PassthroughType::Unknown),
                ("Network adapter 3", true, PassthroughType::Sriov),
            ]
        );
    }

    #[test]
    fn masks_from_extra_config_read_hex_leaves_vendors_and_any_case() {
        let cfg = vmodl::parse(
            r#"(vim.vm.ConfigInfo) {
   extraConfig = (vim.option.OptionValue) [
      (vim.option.OptionValue) { key = "cpuid.1.ECX", value = "----:----:----:----:----:----:--0-:----" },
      (vim.option.OptionValue) { key = "cpuid.80000001.edx", value = "----:----:---0:----:----:----:----:----" },
      (vim.option.OptionValue) { key = "cpuid.80000001.edx.amd", value = "----:----:---R:----:----:----:----:----" },
      (vim.option.OptionValue) { key = "cpuid.1.ecx.intel", value = "----:----:----:----:----:----:----:---H" },
      (vim.option.OptionValue) { key = "cpuid.d.eax", value = "----:----:----:----:----:----:----:--0-" },
      (vim.option.OptionValue) { key = "cpuid.10.ebx", value = "----:----:----:----:----:----:----:---0" },
      (vim.option.OptionValue) { key = "cpuid.coresPerSocket", value = "2" },
      (vim.option.OptionValue) { key = "sched.cpu.affinity", value = "all" },
   ],
}"#,
        )
        .unwrap();
        let m = cpuid_masks(Some(&cfg));
        let find = |level: u32, vendor: &str| {
            m.iter()
                .find(|l| l.level == level && l.vendor == vendor)
                .unwrap_or_else(|| panic!("{level:x} {vendor:?} in {m:#?}"))
        };
        assert_eq!(m.len(), 6, "{m:#?}");
        assert!(
            find(1, "").ecx.contains("--0-"),
            "ECX read case-insensitively"
        );
        assert!(find(1, "intel").ecx.ends_with("---H"));
        assert_eq!(find(1, "").edx, "", "only the named register is set");
        assert!(find(0x8000_0001, "").edx.contains("---0"));
        assert!(find(0x8000_0001, "amd").edx.contains("---R"));
        assert!(find(0xd, "").eax.ends_with("--0-"), "leaf d is 13");
        assert!(
            find(0x10, "").ebx.ends_with("---0"),
            "leaf 10 is 16, not 10"
        );
        assert!(config_notes(&cfg).is_empty());
    }

    #[test]
    fn masks_from_cpu_feature_mask_keep_their_vendor_and_meet_extra_config() {
        // `vim-cmd vmsvc/get.config` prints the VMODL form; leaves at or above 0x80000000 as
        // negative int32.
        let cfg = vmodl::parse(
            r#"(vim.vm.ConfigInfo) {
   cpuFeatureMask = (vim.vm.ConfigSpec.CpuIdInfoSpec) [
      (vim.vm.ConfigSpec.CpuIdInfoSpec) {
         operation = "add",
         removeKey = <unset>,
         info = (vim.host.CpuIdInfo) {
            level = 1,
            vendor = <unset>,
            eax = <unset>,
            ebx = <unset>,
            ecx = "----:----:----:----:----:----:--0-:----",
            edx = <unset>,
         },
      },
      (vim.host.CpuIdInfo) {
         level = -2147483647,
         vendor = "AMD",
         eax = <unset>,
         ebx = <unset>,
         ecx = <unset>,
         edx = "----:----:---0:----:----:----:----:----",
      },
   ],
   extraConfig = (vim.option.OptionValue) [
      (vim.option.OptionValue) { key = "cpuid.80000001.edx.amd", value = "0---:----:---0:----:----:----:----:----" },
      (vim.option.OptionValue) { key = "cpuid.80000001.ecx.via", value = "----" },
      (vim.option.OptionValue) { key = "cpuid.zz.eax", value = "----" },
   ],
}"#,
        )
        .unwrap();
        let m = cpuid_masks(Some(&cfg));
        assert!(
            m.iter().any(|l| l.level == 1 && l.ecx.contains("--0-")),
            "the spec form's `info` is read: {m:#?}"
        );
        let amd: Vec<_> = m.iter().filter(|l| l.level == 0x8000_0001).collect();
        assert_eq!(amd.len(), 1, "the .amd key overlays the AMD entry: {m:#?}");
        assert_eq!(amd[0].vendor, "amd");
        assert!(amd[0].edx.starts_with("0---"), "the .vmx key wins: {m:#?}");
        let notes = config_notes(&cfg);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[0].contains("cpuid.80000001.ecx.via") && notes[0].contains("vendor"));
        assert!(notes[1].contains("cpuid.zz.eax") && notes[1].contains("hexadecimal"));
    }

    #[test]
    fn amd_only_masks_do_not_reach_intel_hosts() {
        use crate::preflight::cpuid::{CpuIdVector, Reg, Vendor};
        let cfg = vmodl::parse(
            r#"(vim.vm.ConfigInfo) {
   extraConfig = (vim.option.OptionValue) [
      (vim.option.OptionValue) { key = "cpuid.80000001.edx.amd", value = "----:----:---0:----:----:----:----:----" },
   ],
}"#,
        )
        .unwrap();
        let m = cpuid_masks(Some(&cfg));
        let on = |vendor| CpuIdVector::from_levels(&m, Some(vendor)).unwrap();
        assert_eq!(on(Vendor::Amd).at(0x8000_0001, Reg::Edx, 20), b'0');
        assert!(on(Vendor::Intel).is_empty());
    }
}
