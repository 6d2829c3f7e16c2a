//! `esxcli iscsi …` and `esxcli storage …`.

use super::args::Opts;
use super::network::effective_teaming;
use super::output::{Output, Struct, Value, structs};
use crate::state::State;

fn adapter<'a>(st: &'a State, name: &str) -> Result<&'a str, String> {
    if st.iscsi.enabled && st.iscsi.adapter == name {
        Ok(&st.iscsi.adapter)
    } else {
        Err(format!("Adapter not found: {name}"))
    }
}

pub fn iscsi_software_get(st: &mut State, _: &Opts) -> Result<Output, String> {
    Ok(Output::scalar(Value::Bool(st.iscsi.enabled)))
}

pub fn iscsi_software_set(st: &mut State, o: &Opts) -> Result<Output, String> {
    let enabled = o.bool("enabled")?.unwrap_or(false);
    if let Some(name) = o.get("name") {
        if st.iscsi.enabled {
            return Err(
                "The software iSCSI adapter already exists; --name only applies when enabling"
                    .into(),
            );
        }
        st.iscsi.adapter = name.to_string();
    }
    st.iscsi.enabled = enabled;
    Ok(Output::done())
}

pub fn iscsi_adapter_list(st: &mut State, o: &Opts) -> Result<Output, String> {
    if let Some(a) = o.get("adapter") {
        adapter(st, a)?;
    }
    let items = if st.iscsi.enabled {
        vec![
            Struct::new("Adapter")
                .str("Adapter", &st.iscsi.adapter)
                .str("Driver", "iscsi_vmk")
                .str("State", "online")
                .shown("UID", "UID", Value::Str(st.iscsi.iqn.clone()))
                .str("Description", "iSCSI Software Adapter"),
        ]
    } else {
        Vec::new()
    };
    Ok(Output::table(structs(items)))
}

pub fn networkportal_list(st: &mut State, o: &Opts) -> Result<Output, String> {
    if let Some(a) = o.get("adapter") {
        adapter(st, a)?;
    }
    let items = st
        .iscsi
        .portals
        .iter()
        .filter(|_| st.iscsi.enabled)
        .filter_map(|vmk| st.vmknics.iter().find(|v| &v.name == vmk))
        .map(|v| {
            let pg = st.portgroups.iter().find(|p| p.name == v.portgroup);
            let vswitch = pg.map(|p| p.vswitch.clone()).unwrap_or_default();
            let uplink = pg
                .map(|p| effective_teaming(st, p).0.active)
                .and_then(|a| a.first().cloned())
                .unwrap_or_default();
            let nic = st.nics.iter().find(|n| n.name == uplink);
            Struct::new("NetworkPortal")
                .str("Adapter", &st.iscsi.adapter)
                .str("Vmknic", &v.name)
                .shown("MACAddress", "MAC Address", Value::Str(v.mac.clone()))
                .shown("MACAddressValid", "MAC Address Valid", Value::Bool(true))
                .shown("IPv4", "IPv4", Value::Str(v.ipv4.address.clone()))
                .shown(
                    "IPv4SubnetMask",
                    "IPv4 Subnet Mask",
                    Value::Str(v.ipv4.netmask.clone()),
                )
                .shown("IPv6", "IPv6", Value::Str(String::new()))
                .shown("MTU", "MTU", Value::Int(v.mtu.into()))
                .bool("VlanSupported", true)
                .int("Vlan", pg.map(|p| p.vlan.into()).unwrap_or(0))
                .str("ReservedPorts", "63488~65536")
                .shown("TOE", "TOE", Value::Bool(false))
                .shown("TSO", "TSO", Value::Bool(true))
                .shown("TCPChecksum", "TCP Checksum", Value::Bool(false))
                .bool("LinkConnected", nic.is_some_and(|n| n.link_up))
                .int("EthernetSpeed", nic.map(|n| n.speed.into()).unwrap_or(0))
                .int("PacketsReceived", 0)
                .int("PacketsSent", 0)
                .shown(
                    "NICDriver",
                    "NIC Driver",
                    Value::Str(nic.map(|n| n.driver.clone()).unwrap_or_default()),
                )
                .shown(
                    "NICDriverVersion",
                    "NIC Driver Version",
                    Value::Str("1.11.1.32".into()),
                )
                .shown(
                    "NICFirmwareVersion",
                    "NIC Firmware Version",
                    Value::Str("8.50".into()),
                )
                .str("CompliantStatus", "compliant")
                .str("NonCompliantMessage", "")
                .str("NonCompliantRemedy", "")
                .str("Vswitch", vswitch)
                .shown("PortGroup", "PortGroup", Value::Str(v.portgroup.clone()))
                .str("VswitchUuid", "")
                .shown("PortGroupKey", "PortGroupKey", Value::Str(String::new()))
                .shown("PortKey", "PortKey", Value::Str(String::new()))
                .str("Duplex", "")
                .str("PathStatus", "unused")
        })
        .collect();
    Ok(Output::records(structs(items), Some("%Adapter%")))
}

pub fn networkportal_add(st: &mut State, o: &Opts) -> Result<Output, String> {
    let a = adapter(st, o.req("adapter")?)?.to_string();
    let nic = o.req("nic")?.to_string();
    let force = o.bool("force")?.unwrap_or(false);
    let v = st
        .vmknics
        .iter()
        .find(|v| v.name == nic)
        .ok_or_else(|| format!("Unable to find vmknic {nic}"))?;
    if !force {
        // Port binding needs exactly one active uplink and no standby on the vmk's port group.
        let pg = st
            .portgroups
            .iter()
            .find(|p| p.name == v.portgroup)
            .ok_or_else(|| format!("{nic} is not on a standard port group"))?;
        let (t, _) = effective_teaming(st, pg);
        if t.active.len() != 1 || !t.standby.is_empty() {
            return Err(format!(
                "Unable to bind {nic} to {a}: the VMkernel adapter is not compliant: port group {:?} must have exactly one active uplink and no standby uplinks (it has {} active, {} standby)",
                pg.name,
                t.active.len(),
                t.standby.len()
            ));
        }
    }
    if st.iscsi.portals.contains(&nic) {
        return Err(format!("{nic} is already bound to {a}"));
    }
    st.iscsi.portals.push(nic);
    Ok(Output::done())
}

pub fn networkportal_remove(st: &mut State, o: &Opts) -> Result<Output, String> {
    adapter(st, o.req("adapter")?)?;
    let nic = o.req("nic")?;
    let before = st.iscsi.portals.len();
    st.iscsi.portals.retain(|p| p != nic);
    if before == st.iscsi.portals.len() {
        return Err(format!("{nic} is not bound to {}", st.iscsi.adapter));
    }
    Ok(Output::done())
}

pub fn sendtarget_list(st: &mut State, o: &Opts) -> Result<Output, String> {
    if let Some(a) = o.get("adapter") {
        adapter(st, a)?;
    }
    let items = st
        .iscsi
        .send_targets
        .iter()
        .filter(|_| st.iscsi.enabled)
        .map(|t| {
            Struct::new("SendTarget")
                .str("Adapter", &st.iscsi.adapter)
                .str("Sendtarget", t)
        })
        .collect();
    Ok(Output::table(structs(items)))
}

/// `host[:port]` with the iSCSI default port.
fn target(address: &str) -> Result<String, String> {
    let (host, port) = match address.rsplit_once(':') {
        Some((h, p)) => (
            h,
            p.parse::<u16>()
                .map_err(|_| format!("Invalid port in {address}"))?,
        ),
        None => (address, 3260),
    };
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(format!("Invalid address {address}"));
    }
    Ok(format!("{host}:{port}"))
}

pub fn sendtarget_add(st: &mut State, o: &Opts) -> Result<Output, String> {
    adapter(st, o.req("adapter")?)?;
    let t = target(o.req("address")?)?;
    if !st.iscsi.send_targets.contains(&t) {
        st.iscsi.send_targets.push(t);
    }
    Ok(Output::done())
}

pub fn sendtarget_remove(st: &mut State, o: &Opts) -> Result<Output, String> {
    adapter(st, o.req("adapter")?)?;
    let t = target(o.req("address")?)?;
    let before = st.iscsi.send_targets.len();
    st.iscsi.send_targets.retain(|x| *x != t);
    if before == st.iscsi.send_targets.len() {
        return Err(format!("Send target {t} not found"));
    }
    Ok(Output::done())
}

pub fn rescan(st: &mut State, o: &Opts) -> Result<Output, String> {
    let all = o.bool("all")?.unwrap_or(false);
    match o.get("adapter") {
        Some(a) if a != st.iscsi.adapter && !a.starts_with("vmhba") => {
            return Err(format!("Adapter not found: {a}"));
        }
        None if !all && !o.has("type") => {
            return Err("Specify --all, --adapter or --type".into());
        }
        _ => {}
    }
    st.iscsi.rescans = st.iscsi.rescans.saturating_add(1);
    Ok(Output::done())
}

/// `storage core adapter list`: the local RAID controller, the SATA controller behind the
/// CD-ROM, and the software iSCSI adapter once enabled.
pub fn adapter_list(st: &mut State, _: &Opts) -> Result<Output, String> {
    let hba = |name: &str, driver: &str, link: &str, uid: &str, caps: &str, desc: &str| {
        Struct::new("ScsiAdapter")
            .shown("HBAName", "HBA Name", Value::Str(name.into()))
            .str("Driver", driver)
            .str("LinkState", link)
            .shown("UID", "UID", Value::Str(uid.into()))
            .str("Capabilities", caps)
            .str("Description", desc)
    };
    let mut items = vec![
        hba(
            "vmhba0",
            "lsi_mr3",
            "link-n/a",
            "sas.5d0946606e78ac00",
            "",
            "(0000:3b:00.0) Broadcom PERC H740P Mini",
        ),
        hba(
            "vmhba32",
            "vmw_ahci",
            "link-n/a",
            "sata.vmhba32",
            "",
            "(0000:00:17.0) Intel Corporation Lewisburg SATA AHCI Controller",
        ),
    ];
    if st.iscsi.enabled {
        items.push(hba(
            &st.iscsi.adapter,
            "iscsi_vmk",
            "online",
            &format!("iscsi.{}", st.iscsi.adapter),
            "Second Level Lun ID",
            "iSCSI Software Adapter",
        ));
    }
    Ok(Output::table(structs(items)))
}

pub fn filesystem_list(st: &mut State, _: &Opts) -> Result<Output, String> {
    let items = st
        .datastores
        .iter()
        .map(|d| {
            Struct::new("FilesystemVolume")
                .shown("MountPoint", "Mount Point", Value::Str(d.mount_point()))
                .shown("VolumeName", "Volume Name", Value::Str(d.name.clone()))
                .shown("UUID", "UUID", Value::Str(d.uuid.clone()))
                .bool("Mounted", true)
                .str("Type", &d.fs_type)
                .int("Size", i64::try_from(d.size).unwrap_or(i64::MAX))
                .int("Free", i64::try_from(d.free).unwrap_or(i64::MAX))
        })
        .collect();
    Ok(Output::table(structs(items)))
}

pub fn device_list(st: &mut State, o: &Opts) -> Result<Output, String> {
    let wanted = o.get("device");
    if let Some(w) = wanted.filter(|w| !st.disks.iter().any(|d| d.name == *w)) {
        return Err(format!("Unknown device {w}"));
    }
    let seven = st.host.version.major() >= 7;
    let items = st
        .disks
        .iter()
        .filter(|d| wanted.is_none_or(|w| w == d.name))
        .map(|d| {
            let kind = if d.is_local {
                "Local ATA Disk"
            } else {
                "NETAPP iSCSI Disk"
            };
            let plugin = if seven && d.is_local { "HPP" } else { "NMP" };
            Struct::new("ScsiDevice")
                .str("Device", &d.name)
                .str("DisplayName", format!("{kind} ({})", d.name))
                .bool("HasSettableDisplayName", true)
                .int("Size", i64::try_from(d.size_mb).unwrap_or(i64::MAX))
                .str("DeviceType", "Direct-Access ")
                .str("MultipathPlugin", plugin)
                .str("DevfsPath", format!("/vmfs/devices/disks/{}", d.name))
                // SCSI INQUIRY strings, space-padded to their fixed widths.
                .str("Vendor", format!("{:<8}", d.vendor))
                .str("Model", format!("{:<16}", d.model))
                .str("Revision", format!("{:<4}", "0001"))
                .shown("SCSILevel", "SCSI Level", Value::Int(6))
                .bool("IsPseudo", false)
                .str("Status", "on")
                .shown("IsRDMCapable", "Is RDM Capable", Value::Bool(!d.is_local))
                .bool("IsLocal", d.is_local)
                .bool("IsRemovable", false)
                .shown("IsSSD", "Is SSD", Value::Bool(d.is_ssd))
                .shown("IsVVOLPE", "Is VVOL PE", Value::Bool(false))
                .bool("IsOffline", false)
                .bool("IsPerenniallyReserved", false)
                .int("QueueFullSampleSize", 0)
                .int("QueueFullThreshold", 0)
                .str(
                    "ThinProvisioningStatus",
                    if d.is_local { "unknown" } else { "yes" },
                )
                .str("AttachedFilters", "")
                .shown(
                    "VAAIStatus",
                    "VAAI Status",
                    Value::Str(
                        if d.is_local {
                            "unsupported"
                        } else {
                            "supported"
                        }
                        .into(),
                    ),
                )
                .shown(
                    "OtherUIDs",
                    "Other UIDs",
                    Value::Str(format!(
                        "vml.0200000000{}",
                        d.name.trim_start_matches("naa.")
                    )),
                )
                .bool("IsSharedClusterwide", !d.is_local)
                .shown("IsSAS", "Is SAS", Value::Bool(false))
                .shown("IsUSB", "Is USB", Value::Bool(false))
                .bool("IsBootDevice", d.is_boot)
                .int("DeviceMaxQueueDepth", if d.is_local { 31 } else { 128 })
                .shown(
                    "NoofoutstandingIOswithcompetingworlds",
                    "No of outstanding IOs with competing worlds",
                    Value::Int(32),
                )
                .str("DriveType", "unknown")
                .shown("RAIDLevel", "RAID Level", Value::Str("unknown".into()))
                .shown(
                    "NumberofPhysicalDrives",
                    "Number of Physical Drives",
                    Value::Str("unknown".into()),
                )
                .bool("ProtectionEnabled", false)
                .shown("PIActivated", "PI Activated", Value::Bool(false))
                .shown("PIType", "PI Type", Value::Int(0))
                .shown(
                    "PIProtectionMask",
                    "PI Protection Mask",
                    Value::Str("NO PROTECTION".into()),
                )
                .str("SupportedGuardTypes", "NO GUARD SUPPORT")
                .shown("DIXEnabled", "DIX Enabled", Value::Bool(false))
                .shown(
                    "DIXGuardType",
                    "DIX Guard Type",
                    Value::Str("NO GUARD SUPPORT".into()),
                )
                .shown(
                    "EmulatedDIXDIFEnabled",
                    "Emulated DIX/DIF Enabled",
                    Value::Bool(false),
                )
        })
        .map(|s| {
            // The device name heads the record and is not repeated as a field.
            let mut s = s;
            if let Some(f) = s.fields.iter_mut().find(|f| f.name == "Device") {
                f.display = None;
            }
            s
        })
        .collect();
    Ok(Output::records(structs(items), Some("%Device%")))
}
