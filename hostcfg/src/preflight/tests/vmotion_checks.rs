//! vMotion: host requirements, VM errors and warnings, destination checks, CPU per VM.

use super::{Lab, Row, app_to_esx02, table};
use crate::facts::{Backing, Device, DvSwitch, PassthroughType, PortGroup, Snapshot, VSwitch};
use crate::preflight::{Code, Severity};
use Severity::{Error, Warning};

fn nothing(_: &mut Lab) {}

fn app_devices(lab: &mut Lab) -> &mut Vec<Device> {
    &mut lab.vm("app").devices
}

fn set_cdrom(lab: &mut Lab, backing: Backing, connected: bool) {
    for d in app_devices(lab) {
        if let Device::Removable {
            backing: b,
            connected: c,
            ..
        } = d
        {
            *b = backing.clone();
            *c = connected;
        }
    }
}

fn local_iso(lab: &mut Lab) -> Backing {
    let _ = lab;
    Backing::File {
        path: "[esx01-local] iso/rhel9.iso".into(),
        datastore_uuid: None,
    }
}

#[test]
fn vmotion_not_configured() {
    let rows: &[Row] = &[
        ("both hosts have a vMotion vmk", nothing, None),
        (
            "the destination's vmk lost its tag",
            |l| l.host("esx02").vmknics[1].tags.clear(),
            Some(Error),
        ),
        (
            "the source's vmk has no IP",
            |l| l.host("esx01").vmknics[1].ip.clear(),
            Some(Error),
        ),
        (
            "the vmk is disabled",
            |l| l.host("esx02").vmknics[1].enabled = false,
            Some(Error),
        ),
        (
            "the vmotion netstack counts without a tag",
            |l| {
                let v = &mut l.host("esx02").vmknics[1];
                v.tags.clear();
                v.netstack = "vmotion".into();
            },
            None,
        ),
        (
            "a powered-off VM needs no vMotion network",
            |l| {
                l.host("esx02").vmknics[1].tags.clear();
                l.vm("app").powered_on = false;
            },
            None,
        ),
    ];
    table(Code::VMotionNotConfigured, app_to_esx02, rows);
}

#[test]
fn vmotion_link_down_and_capacity_low() {
    let down: &[Row] = &[
        ("uplinks up", nothing, None),
        (
            "both uplinks down",
            |l| {
                for n in &mut l.host("esx02").nics {
                    n.link_up = false;
                    n.speed_mbps = 0;
                }
            },
            Some(Error),
        ),
        (
            "the active uplink down, the standby up",
            |l| l.host("esx02").nics[0].link_up = false,
            None,
        ),
    ];
    table(Code::VMotionLinkDown, app_to_esx02, down);
    let low: &[Row] = &[
        ("10 Gb/s", nothing, None),
        (
            "1 Gb/s full duplex is enough",
            |l| {
                l.host("esx02")
                    .nics
                    .iter_mut()
                    .for_each(|n| n.speed_mbps = 1000)
            },
            None,
        ),
        (
            "100 Mb/s full duplex warns",
            |l| {
                l.host("esx02")
                    .nics
                    .iter_mut()
                    .for_each(|n| n.speed_mbps = 100)
            },
            Some(Warning),
        ),
        (
            "1 Gb/s half duplex warns",
            |l| {
                l.host("esx01").nics.iter_mut().for_each(|n| {
                    n.speed_mbps = 1000;
                    n.full_duplex = false;
                })
            },
            Some(Warning),
        ),
    ];
    table(Code::VMotionLinkCapacityLow, app_to_esx02, low);
}

#[test]
fn vmotion_network_names_and_subnets() {
    let names: &[Row] = &[
        ("same port group name", nothing, None),
        (
            "vMotion vs vmotion",
            |l| {
                let h = l.host("esx02");
                h.vmknics[1].portgroup = "vmotion".into();
                h.portgroups[1].name = "vmotion".into();
            },
            Some(Warning),
        ),
    ];
    table(Code::MismatchedVMotionNetworkNames, app_to_esx02, names);
    let subnets: &[Row] = &[
        ("one subnet", nothing, None),
        (
            "another subnet",
            |l| l.host("esx02").vmknics[1].ip = "10.0.2.11".into(),
            Some(Warning),
        ),
        (
            "another subnet, one end on the vmotion TCP/IP stack",
            |l| {
                l.host("esx02").vmknics[1].ip = "10.0.2.11".into();
                l.host("esx02").vmknics[1].netstack = "vmotion".into();
            },
            Some(Warning),
        ),
        (
            "another subnet, routed on the vmotion TCP/IP stack of both",
            |l| {
                for h in ["esx01", "esx02"] {
                    l.host(h).vmknics[1].netstack = "vmotion".into();
                }
                l.host("esx02").vmknics[1].ip = "10.0.2.11".into();
            },
            None,
        ),
    ];
    table(Code::VMotionSubnetMismatch, app_to_esx02, subnets);
}

#[test]
fn destination_state() {
    let maint: &[Row] = &[
        ("destination running", nothing, None),
        (
            "destination in maintenance mode",
            |l| l.host("esx02").maintenance_mode = true,
            Some(Error),
        ),
        (
            "source in maintenance mode is fine",
            |l| l.host("esx01").maintenance_mode = true,
            None,
        ),
    ];
    table(Code::InvalidHostState, app_to_esx02, maint);
    let failover: &[Row] = &[
        (
            "esx01 is the failover host",
            |l| l.yaml("ha: { admission_control: { policy: failover_hosts, hosts: [esx01] } }"),
            None,
        ),
        (
            "esx02 is the failover host",
            |l| l.yaml("ha: { admission_control: { policy: failover_hosts, hosts: [esx02] } }"),
            Some(Error),
        ),
    ];
    table(
        Code::DisallowedOperationOnFailoverHost,
        app_to_esx02,
        failover,
    );
}

#[test]
fn cannot_access_network() {
    let rows: &[Row] = &[
        ("the port group exists", nothing, None),
        (
            "labels differ in case (connected)",
            |l| l.host("esx02").portgroups[2].name = "VM network".into(),
            Some(Error),
        ),
        (
            "missing, NIC disconnected",
            |l| {
                l.host("esx02").portgroups.remove(2);
                for d in &mut l.vm("app").devices {
                    if let Device::Nic { connected, .. } = d {
                        *connected = false;
                    }
                }
            },
            Some(Warning),
        ),
        (
            "missing, VM powered off",
            |l| {
                l.host("esx02").portgroups.remove(2);
                l.vm("app").powered_on = false;
            },
            Some(Warning),
        ),
        (
            "on a vDS the destination has not joined",
            |l| {
                for d in &mut l.vm("app").devices {
                    if let Device::Nic {
                        dvs_uuid, network, ..
                    } = d
                    {
                        *dvs_uuid = Some("50 2a 7b".into());
                        *network = "dvPG-Prod".into();
                    }
                }
            },
            Some(Error),
        ),
        (
            "on a vDS both hosts joined",
            |l| {
                for d in &mut l.vm("app").devices {
                    if let Device::Nic {
                        dvs_uuid, network, ..
                    } = d
                    {
                        *dvs_uuid = Some("50 2a 7b".into());
                        *network = "dvPG-Prod".into();
                    }
                }
                l.host("esx02").dvswitches.push(DvSwitch {
                    name: "dvs".into(),
                    uuid: "50 2a 7b".into(),
                    mtu: 1500,
                    uplinks: vec!["vmnic2".into()],
                });
            },
            None,
        ),
    ];
    table(Code::CannotAccessNetwork, app_to_esx02, rows);
    // The case hint names the other label.
    let mut lab = Lab::pair();
    lab.host("esx02").portgroups[2].name = "VM network".into();
    let f = app_to_esx02(&lab);
    let hit = f
        .iter()
        .find(|f| f.code == Code::CannotAccessNetwork)
        .unwrap();
    assert!(
        hit.message
            .contains("\"VM network\": port group labels are case-sensitive"),
        "{}",
        hit.message
    );
    assert_eq!(hit.device.as_deref(), Some("Network adapter 1"));
}

fn internal_switch(lab: &mut Lab, connected: bool) {
    for h in ["esx01", "esx02"] {
        let h = lab.host(h);
        h.vswitches.push(VSwitch {
            name: "vSwitch9".into(),
            mtu: 1500,
            uplinks: vec![],
            portgroups: vec!["Isolated".into()],
            teaming: Default::default(),
        });
        h.portgroups.push(PortGroup {
            name: "Isolated".into(),
            vswitch: "vSwitch9".into(),
            vlan: 0,
            teaming: None,
        });
    }
    for d in &mut lab.vm("app").devices {
        if let Device::Nic {
            network,
            connected: c,
            ..
        } = d
        {
            *network = "Isolated".into();
            *c = connected;
        }
    }
}

#[test]
fn a_nic_without_a_named_network_is_not_guessed_at() {
    let mut lab = Lab::pair();
    for d in app_devices(&mut lab) {
        if let Device::Nic { network, .. } = d {
            // An NSX opaque network: the host names no port group and no vDS.
            network.clear();
        }
    }
    let f = app_to_esx02(&lab);
    assert!(
        f.iter().all(|f| f.code != Code::CannotAccessNetwork),
        "{f:#?}"
    );
}

#[test]
fn vm_on_virtual_intranet() {
    let rows: &[Row] = &[
        ("a port group with uplinks", nothing, None),
        (
            "connected to an internal-only switch",
            |l| internal_switch(l, true),
            Some(Error),
        ),
        (
            "configured but disconnected",
            |l| internal_switch(l, false),
            Some(Warning),
        ),
    ];
    table(Code::VMOnVirtualIntranet, app_to_esx02, rows);
}

fn move_disk_to_local(lab: &mut Lab, keep_uuid: bool) {
    for d in app_devices(lab) {
        if let Device::Disk {
            file,
            datastore_uuid,
            ..
        } = d
        {
            *file = "[esx01-local] app/app.vmdk".into();
            *datastore_uuid = keep_uuid.then(|| "5f3b0000-0c2d4e6f-8a9b-b8ca3a000000".into());
        }
    }
}

#[test]
fn cannot_access_vm_disk_and_config() {
    let disk: &[Row] = &[
        ("the disk is on a shared datastore", nothing, None),
        (
            "resolved by name when the UUID is missing",
            |l| {
                for d in app_devices(l) {
                    if let Device::Disk { datastore_uuid, .. } = d {
                        *datastore_uuid = None;
                    }
                }
            },
            None,
        ),
        (
            "on the source's local datastore (UUID known)",
            |l| move_disk_to_local(l, true),
            Some(Error),
        ),
        (
            "on the local datastore, resolved by name",
            |l| move_disk_to_local(l, false),
            Some(Error),
        ),
        (
            "same UUID under another name on the destination",
            |l| {
                // vCenter matches datastores by identity: a renamed mount is the same volume.
                let h = l.host("esx02");
                h.datastores[1].name = "shared-renamed".into();
            },
            None,
        ),
        (
            "same name, different UUID on the destination",
            |l| {
                // A datastore named like the shared one but another volume: names lie, UUIDs do not.
                let h = l.host("esx02");
                h.datastores[1].uuid = "different-volume".into();
            },
            Some(Error),
        ),
        (
            "cold migration needs storage too",
            |l| {
                move_disk_to_local(l, true);
                l.vm("app").powered_on = false;
            },
            Some(Error),
        ),
    ];
    table(Code::CannotAccessVmDisk, app_to_esx02, disk);
    let config: &[Row] = &[
        ("the .vmx is on a shared datastore", nothing, None),
        (
            "the .vmx is local",
            |l| {
                let vm = l.vm("app");
                vm.vmx_path = "[esx01-local] app/app.vmx".into();
                vm.vmx_datastore_uuid = None;
            },
            Some(Error),
        ),
    ];
    table(Code::CannotAccessVmConfig, app_to_esx02, config);
}

fn add_rdm(lab: &mut Lab, lun: &str) {
    app_devices(lab).push(Device::Disk {
        label: "Hard disk 2".into(),
        file: "[shared-00] app/app_rdm.vmdk".into(),
        datastore_uuid: None,
        rdm_device: Some(lun.into()),
        rdm_mode: Some("physicalMode".into()),
        controller: "SCSI controller 0".into(),
    });
}

#[test]
fn rdm_points_to_inaccessible_disk() {
    let rows: &[Row] = &[
        (
            "a LUN both hosts see",
            |l| add_rdm(l, "naa.600a0980000000000000000000000001"),
            None,
        ),
        (
            "a LUN only the source sees",
            |l| {
                add_rdm(l, "naa.600a0980000000000000000000000099");
                l.host("esx01")
                    .storage_devices
                    .push(crate::facts::StorageDevice {
                        name: "naa.600a0980000000000000000000000099".into(),
                        is_local: false,
                        size_mb: 1024,
                    });
            },
            Some(Error),
        ),
    ];
    table(Code::RDMPointsToInaccessibleDisk, app_to_esx02, rows);
}

fn share_bus(lab: &mut Lab) {
    for d in app_devices(lab) {
        if let Device::Controller { bus_sharing, .. } = d {
            *bus_sharing = "physicalSharing".into();
        }
    }
}

#[test]
fn shared_bus_controller() {
    let rows: &[Row] = &[
        ("no sharing", nothing, None),
        ("physical bus sharing, powered on", share_bus, Some(Error)),
        (
            "physical bus sharing, powered off (cold migration)",
            |l| {
                share_bus(l);
                l.vm("app").powered_on = false;
            },
            None,
        ),
    ];
    table(Code::SharedBusControllerNotSupported, app_to_esx02, rows);
}

#[test]
fn cannot_access_vm_device() {
    let rows: &[Row] = &[
        ("no backing", nothing, None),
        (
            "host CD-ROM connected",
            |l| {
                set_cdrom(
                    l,
                    Backing::HostDevice {
                        device: "/vmfs/devices/cdrom/mpx.vmhba32:C0:T0:L0".into(),
                    },
                    true,
                )
            },
            Some(Error),
        ),
        (
            "host CD-ROM configured, not connected",
            |l| {
                set_cdrom(
                    l,
                    Backing::HostDevice {
                        device: "/vmfs/devices/cdrom/mpx.vmhba32:C0:T0:L0".into(),
                    },
                    false,
                )
            },
            Some(Warning),
        ),
        (
            "host CD-ROM configured, not connected, the destination has one of that name",
            |l| {
                set_cdrom(
                    l,
                    Backing::HostDevice {
                        device: "/vmfs/devices/cdrom/mpx.vmhba32:C0:T0:L0".into(),
                    },
                    false,
                );
                l.host("esx02")
                    .storage_devices
                    .push(crate::facts::StorageDevice {
                        name: "mpx.vmhba32:C0:T0:L0".into(),
                        is_local: true,
                        size_mb: 0,
                    });
            },
            None,
        ),
        (
            "ISO on a local datastore, connected",
            |l| {
                let b = local_iso(l);
                set_cdrom(l, b, true)
            },
            Some(Error),
        ),
        (
            "ISO on a local datastore, not connected",
            |l| {
                let b = local_iso(l);
                set_cdrom(l, b, false)
            },
            Some(Warning),
        ),
        (
            "ISO on the shared datastore, connected",
            |l| {
                set_cdrom(
                    l,
                    Backing::File {
                        path: "[shared-00] iso/rhel9.iso".into(),
                        datastore_uuid: None,
                    },
                    true,
                )
            },
            None,
        ),
        (
            "host CD-ROM connected on a powered-off VM",
            |l| {
                set_cdrom(
                    l,
                    Backing::HostDevice {
                        device: "/vmfs/devices/cdrom/x".into(),
                    },
                    true,
                );
                l.vm("app").powered_on = false;
            },
            Some(Warning),
        ),
    ];
    table(Code::CannotAccessVmDevice, app_to_esx02, rows);
}

#[test]
fn remote_file_backed_and_passthrough_devices() {
    let remote: &[Row] = &[
        (
            "remote device disconnected",
            |l| set_cdrom(l, Backing::Remote, false),
            None,
        ),
        (
            "remote device connected",
            |l| set_cdrom(l, Backing::Remote, true),
            Some(Error),
        ),
    ];
    table(Code::RemoteDeviceNotSupported, app_to_esx02, remote);
    fn serial(lab: &mut Lab, connected: bool) {
        app_devices(lab).push(Device::Removable {
            class: "serial".into(),
            label: "Serial port 1".into(),
            backing: Backing::File {
                path: "[shared-00] app/serial.log".into(),
                datastore_uuid: None,
            },
            connected,
            start_connected: connected,
        });
    }
    let port: &[Row] = &[
        (
            "file-backed serial port, disconnected",
            |l| serial(l, false),
            None,
        ),
        (
            "file-backed serial port, connected",
            |l| serial(l, true),
            Some(Error),
        ),
    ];
    table(Code::FileBackedPortNotSupported, app_to_esx02, port);
    fn passthrough(lab: &mut Lab, label: &str, connected: bool, passthrough: PassthroughType) {
        app_devices(lab).push(Device::Passthrough {
            label: label.into(),
            connected,
            passthrough,
        });
    }
    use PassthroughType::{Pci, Sriov, Unknown, Usb, Vgpu};
    let pt: &[Row] = &[
        (
            "USB passthrough disconnected",
            |l| passthrough(l, "USB 1", false, Usb),
            None,
        ),
        (
            "USB passthrough connected",
            |l| passthrough(l, "USB 1", true, Usb),
            Some(Error),
        ),
        (
            "USB passthrough disconnected, whatever its label says",
            |l| passthrough(l, "PCI device 7", false, Usb),
            None,
        ),
        (
            "PCI passthrough (no connection state reported)",
            |l| passthrough(l, "PCI device 0", false, Pci),
            Some(Error),
        ),
        (
            "PCI passthrough with a label of the user's",
            |l| passthrough(l, "scratch NVMe", false, Pci),
            Some(Error),
        ),
        (
            "vGPU (no connection state reported)",
            |l| passthrough(l, "PCI device 0", false, Vgpu),
            Some(Error),
        ),
        (
            "SR-IOV network adapter, even disconnected",
            |l| passthrough(l, "Network adapter 2", false, Sriov),
            Some(Error),
        ),
        (
            "passthrough of unknown type (facts saved before the type was recorded)",
            |l| passthrough(l, "USB 1", false, Unknown),
            Some(Error),
        ),
        (
            "PCI passthrough on a powered-off VM (cold migration)",
            |l| {
                passthrough(l, "PCI device 0", true, Pci);
                l.vm("app").powered_on = false;
            },
            None,
        ),
        (
            "vGPU on a powered-off VM (cold migration)",
            |l| {
                passthrough(l, "PCI device 0", false, Vgpu);
                l.vm("app").powered_on = false;
            },
            None,
        ),
    ];
    table(Code::DisallowedMigrationDeviceAttached, app_to_esx02, pt);
}

#[test]
fn affinity_configured() {
    let rows: &[Row] = &[
        ("affinity unset", nothing, None),
        (
            "affinity \"all\"",
            |l| l.vm("app").cpu_affinity = Some("all".into()),
            None,
        ),
        (
            "CPU affinity 0,1",
            |l| l.vm("app").cpu_affinity = Some("0,1".into()),
            Some(Error),
        ),
        (
            "memory affinity node 0",
            |l| l.vm("app").memory_affinity = Some("0".into()),
            Some(Error),
        ),
        (
            "CPU affinity on a powered-off VM",
            |l| {
                let vm = l.vm("app");
                vm.cpu_affinity = Some("0,1".into());
                vm.powered_on = false;
            },
            None,
        ),
    ];
    table(Code::AffinityConfigured, app_to_esx02, rows);
}

/// An FT-protected `app` on esx01; with `twin_ft`, its secondary (same name) runs on esx02.
fn ft_pair(lab: &mut Lab, twin_ft: bool) {
    lab.vm("app").fault_tolerance = true;
    lab.add_vm("esx02", "app", 4096).fault_tolerance = twin_ft;
}

#[test]
fn fault_tolerance_anti_affinity() {
    let rows: &[Row] = &[
        (
            "an FT VM whose secondary runs elsewhere",
            |l| l.vm("app").fault_tolerance = true,
            None,
        ),
        (
            "a VM of the same name on the destination, not FT",
            |l| ft_pair(l, false),
            None,
        ),
        (
            "the FT secondary runs on the destination",
            |l| ft_pair(l, true),
            Some(Error),
        ),
    ];
    table(Code::FaultToleranceAntiAffinityViolated, app_to_esx02, rows);
}

#[test]
fn snapshots_and_heartbeat() {
    let snaps: &[Row] = &[
        ("no snapshots", nothing, None),
        (
            "one snapshot",
            |l| {
                l.vm("app").snapshots.push(Snapshot {
                    name: "before-patch".into(),
                    description: String::new(),
                    created: String::new(),
                    depth: 0,
                })
            },
            Some(Warning),
        ),
    ];
    table(Code::SnapshotRevertIssue, app_to_esx02, snaps);
    let beat: &[Row] = &[
        ("tools running, heartbeat green", nothing, None),
        (
            "tools not running",
            |l| {
                let vm = l.vm("app");
                vm.tools_running_status = "guestToolsNotRunning".into();
                vm.heartbeat_status = "gray".into();
            },
            Some(Warning),
        ),
        (
            "heartbeat yellow",
            |l| l.vm("app").heartbeat_status = "yellow".into(),
            Some(Warning),
        ),
        (
            "unknown status is not reported",
            |l| {
                let vm = l.vm("app");
                vm.tools_running_status.clear();
                vm.heartbeat_status.clear();
            },
            None,
        ),
        (
            "powered off",
            |l| {
                let vm = l.vm("app");
                vm.tools_running_status = "guestToolsNotRunning".into();
                vm.powered_on = false;
            },
            None,
        ),
    ];
    table(Code::NoGuestHeartbeat, app_to_esx02, beat);
}

#[test]
fn hardware_version_and_vcpus() {
    let hw: &[Row] = &[
        ("vmx-19 to 8.0", nothing, None),
        (
            "vmx-19 to 6.7 U3",
            |l| {
                let v = &mut l.host("esx02").version;
                v.version = "6.7.0".into();
                v.update = "3".into();
            },
            Some(Error),
        ),
        (
            "vmx-14 to 6.7",
            |l| {
                l.host("esx02").version.version = "6.7.0".into();
                l.vm("app").hw_version = "vmx-14".into();
            },
            None,
        ),
        (
            "vmx-22 to 8.0 U3",
            |l| {
                l.host("esx02").version.version = "8.0.3".into();
                l.vm("app").hw_version = "vmx-22".into();
            },
            Some(Error),
        ),
        (
            "vmx-22 to 9.0",
            |l| {
                l.host("esx02").version.version = "9.0.0".into();
                l.vm("app").hw_version = "vmx-22".into();
            },
            None,
        ),
    ];
    table(Code::VirtualHardwareVersionNotSupported, app_to_esx02, hw);
    let cpus: &[Row] = &[
        ("2 vCPUs", nothing, None),
        (
            "128 vCPUs on a 64-thread host",
            |l| l.vm("app").num_cpu = 128,
            Some(Error),
        ),
    ];
    table(Code::NotEnoughLogicalCpus, app_to_esx02, cpus);
}

#[test]
fn destination_capacity() {
    let mem: &[Row] = &[
        ("no reservation", nothing, None),
        (
            "reservation above the host's memory",
            |l| l.vm("app").memory_reservation_mb = 300_000,
            Some(Error),
        ),
        (
            "reservation above what is left unreserved",
            |l| {
                l.vm("app").memory_reservation_mb = 200_000;
                l.add_vm("esx02", "hog", 100_000).memory_reservation_mb = 100_000;
            },
            Some(Error),
        ),
        (
            "the cluster section's reservation counts",
            |l| l.yaml("vms: { app: { memory_reservation_mb: 300000 } }"),
            Some(Error),
        ),
    ];
    table(Code::InsufficientMemoryResourcesFault, app_to_esx02, mem);
    let cpu: &[Row] = &[
        ("no reservation", nothing, None),
        (
            "100 GHz reserved on a 76.8 GHz host",
            |l| l.vm("app").cpu_reservation_mhz = 100_000,
            Some(Error),
        ),
    ];
    table(Code::InsufficientCpuResourcesFault, app_to_esx02, cpu);
}

#[test]
fn mandatory_rules_on_a_move() {
    let vm_host: &[Row] = &[
        (
            "should rule keeping it on esx01",
            |l| {
                l.yaml("groups: { vms: { g: [app] }, hosts: { h: [esx01] } }\nrules: [ { name: r, type: vm_host, vm_group: g, affine_host_group: h } ]")
            },
            None,
        ),
        (
            "must rule keeping it on esx01",
            |l| {
                l.yaml("groups: { vms: { g: [app] }, hosts: { h: [esx01] } }\nrules: [ { name: r, type: vm_host, vm_group: g, affine_host_group: h, mandatory: true } ]")
            },
            Some(Error),
        ),
        (
            "must rule keeping it off esx02",
            |l| {
                l.yaml("groups: { vms: { g: [app] }, hosts: { h: [esx02] } }\nrules: [ { name: r, type: vm_host, vm_group: g, anti_affine_host_group: h, mandatory: true } ]")
            },
            Some(Error),
        ),
        (
            "disabled must rule",
            |l| {
                l.yaml("groups: { vms: { g: [app] }, hosts: { h: [esx01] } }\nrules: [ { name: r, type: vm_host, vm_group: g, affine_host_group: h, mandatory: true, enabled: false } ]")
            },
            None,
        ),
    ];
    table(Code::VmHostAffinityRuleViolation, app_to_esx02, vm_host);
    let vm_vm: &[Row] = &[
        (
            "anti-affinity partner elsewhere",
            |l| {
                l.add_vm("esx01", "db", 1024);
                l.yaml("rules: [ { name: apart, type: anti_affinity, vms: [app, db], mandatory: true } ]");
            },
            None,
        ),
        (
            "anti-affinity partner on the destination",
            |l| {
                l.add_vm("esx02", "db", 1024);
                l.yaml("rules: [ { name: apart, type: anti_affinity, vms: [app, db], mandatory: true } ]");
            },
            Some(Error),
        ),
        (
            "affinity partner staying behind",
            |l| {
                l.add_vm("esx01", "db", 1024);
                l.yaml("rules: [ { name: together, type: affinity, vms: [app, db], mandatory: true } ]");
            },
            Some(Error),
        ),
        (
            "affinity partner powered off",
            |l| {
                l.add_vm("esx01", "db", 1024).powered_on = false;
                l.yaml("rules: [ { name: together, type: affinity, vms: [app, db], mandatory: true } ]");
            },
            None,
        ),
    ];
    table(Code::RuleViolation, app_to_esx02, vm_vm);
    // Moving both VMs of an affinity rule together is fine.
    let mut lab = Lab::pair();
    lab.add_vm("esx01", "db", 1024);
    lab.yaml("rules: [ { name: together, type: affinity, vms: [app, db], mandatory: true } ]");
    let view = lab.view();
    let mut vms = view.vms_named("app").to_vec();
    vms.extend(view.vms_named("db"));
    let to = view.host_id("esx02").unwrap();
    let f = crate::preflight::vmotion(
        &view,
        &vms,
        &[to],
        &crate::preflight::PrecopyParams::default(),
    );
    assert!(f.iter().all(|f| f.code != Code::RuleViolation), "{f:#?}");
}

fn cpu_of(lab: &mut Lab, host: &str, key: &str) {
    lab.host(host).cpu = crate::preflight::synth::cpu(key, 2, 16, 2400);
}

/// A VM mask setting only `ecx` of `leaf`, as a `.vmx` line `cpuid.<leaf>.ecx = "…"` does.
fn ecx_mask(leaf: u32, ecx: &str) -> crate::facts::CpuIdLevel {
    crate::facts::CpuIdLevel {
        level: leaf,
        ecx: ecx.into(),
        ..Default::default()
    }
}

#[test]
fn cpu_vendor() {
    let rows: &[Row] = &[
        ("Intel to Intel", nothing, None),
        (
            "Intel to AMD",
            |l| cpu_of(l, "esx02", "amd-zen"),
            Some(Error),
        ),
        (
            "Intel to AMD, powered off",
            |l| {
                cpu_of(l, "esx02", "amd-zen");
                l.vm("app").powered_on = false;
            },
            Some(Warning),
        ),
    ];
    table(Code::CpuIncompatible, app_to_esx02, rows);
}

#[test]
fn cpu_feature_requirements() {
    let rows: &[Row] = &[
        ("Haswell to Haswell", nothing, None),
        (
            "Sandy Bridge to Haswell (more features are fine)",
            |l| cpu_of(l, "esx01", "intel-sandybridge"),
            None,
        ),
        (
            "Haswell to Sandy Bridge",
            |l| cpu_of(l, "esx02", "intel-sandybridge"),
            Some(Error),
        ),
        (
            "Haswell to Sandy Bridge, powered off",
            |l| {
                cpu_of(l, "esx02", "intel-sandybridge");
                l.vm("app").powered_on = false;
            },
            Some(Warning),
        ),
        (
            "Haswell to Sandy Bridge with EVC at Sandy Bridge",
            |l| {
                cpu_of(l, "esx02", "intel-sandybridge");
                l.yaml("evc_mode: intel-sandybridge");
            },
            None,
        ),
        (
            "Haswell to Sandy Bridge with the suggested masks applied",
            |l| {
                cpu_of(l, "esx02", "intel-sandybridge");
                let mask = |leaf: u32, ecx: &str, ebx: &str| crate::facts::CpuIdLevel {
                    level: leaf,
                    vendor: String::new(),
                    eax: String::new(),
                    ebx: ebx.into(),
                    ecx: ecx.into(),
                    edx: String::new(),
                };
                // Hide FMA (1.ecx 12), MOVBE (22), F16C (29), RDRAND (30); AVX2 (7.ebx 5), BMI1 (3),
                // BMI2 (8); LZCNT (80000001.ecx 5).
                l.vm("app").cpuid_masks = vec![
                    mask(1, "-00-:----:-0--:----:---0:----:----:----", ""),
                    mask(7, "", "----:----:----:----:----:---0:--0-:0---"),
                    mask(0x8000_0001, "----:----:----:----:----:----:--0-:----", ""),
                ];
            },
            None,
        ),
        (
            "the VM requires (T) AVX2 and the destination lacks it",
            |l| {
                cpu_of(l, "esx02", "intel-sandybridge");
                cpu_of(l, "esx01", "intel-sandybridge");
                l.vm("app").cpuid_masks = vec![crate::facts::CpuIdLevel {
                    level: 7,
                    vendor: String::new(),
                    eax: String::new(),
                    ebx: "----:----:----:----:----:----:--T-:----".into(),
                    ecx: String::new(),
                    edx: String::new(),
                }];
            },
            Some(Error),
        ),
        (
            "H position differs between the hosts",
            |l| {
                cpu_of(l, "esx01", "intel-sandybridge");
                cpu_of(l, "esx02", "intel-ivybridge");
                // F16C is 1.ecx bit 29: Ivy Bridge has it, Sandy Bridge does not.
                l.vm("app").cpuid_masks = vec![crate::facts::CpuIdLevel {
                    level: 1,
                    vendor: String::new(),
                    eax: String::new(),
                    ebx: String::new(),
                    ecx: "--H-:----:----:----:----:----:----:----".into(),
                    edx: String::new(),
                }];
            },
            Some(Error),
        ),
        (
            "h (the vSphere Client's lower case) position differs between the hosts",
            |l| {
                cpu_of(l, "esx01", "intel-sandybridge");
                cpu_of(l, "esx02", "intel-ivybridge");
                l.vm("app").cpuid_masks =
                    vec![ecx_mask(1, "--h- ---- ---- ---- ---- ---- ---- ----")];
            },
            Some(Error),
        ),
        (
            "r position differs between the hosts",
            |l| {
                cpu_of(l, "esx01", "intel-sandybridge");
                cpu_of(l, "esx02", "intel-ivybridge");
                l.vm("app").cpuid_masks =
                    vec![ecx_mask(1, "--r-:----:----:----:----:----:----:----")];
            },
            Some(Error),
        ),
        (
            "h and r positions equal on both hosts",
            |l| {
                cpu_of(l, "esx01", "intel-ivybridge");
                cpu_of(l, "esx02", "intel-ivybridge");
                l.vm("app").cpuid_masks =
                    vec![ecx_mask(1, "-rh-:----:----:----:----:----:----:----")];
            },
            None,
        ),
        (
            "Haswell to Sandy Bridge, masks written .vmx style (space-grouped)",
            |l| {
                cpu_of(l, "esx02", "intel-sandybridge");
                l.vm("app").cpuid_masks = vec![
                    ecx_mask(1, "-00- ---- -0-- ---- ---0 ---- ---- ----"),
                    crate::facts::CpuIdLevel {
                        level: 7,
                        ebx: "---- ---- ---- ---- ---- ---0 --0- 0---".into(),
                        ..Default::default()
                    },
                    ecx_mask(0x8000_0001, "---- ---- ---- ---- ---- ---- --0- ----"),
                ];
            },
            None,
        ),
    ];
    table(Code::FeatureRequirementsNotMet, app_to_esx02, rows);
}

#[test]
fn feature_mismatch_names_the_features_and_the_mask() {
    let mut lab = Lab::pair();
    cpu_of(&mut lab, "esx02", "intel-sandybridge");
    let f = app_to_esx02(&lab);
    let hit = f
        .iter()
        .find(|f| f.code == Code::FeatureRequirementsNotMet)
        .unwrap();
    // Haswell has what Sandy Bridge lacks: FMA, MOVBE, BMI1, AVX2, BMI2, LZCNT (and F16C,
    // RDRAND from Ivy Bridge).
    for name in [
        "FMA",
        "MOVBE",
        "F16C",
        "RDRAND",
        "BMI1",
        "AVX2",
        "BMI2",
        "LZCNT/ABM",
    ] {
        assert!(
            hit.message.contains(name),
            "{name} missing from {}",
            hit.message
        );
    }
    // Bits: 1.ecx 12 (FMA), 22 (MOVBE), 29 (F16C), 30 (RDRAND).
    assert!(
        hit.remedy
            .contains(r#"cpuid.1.ecx = "-00-:----:-0--:----:---0:----:----:----""#),
        "{}",
        hit.remedy
    );
    assert!(
        hit.remedy
            .contains(r#"cpuid.7.ebx = "----:----:----:----:----:---0:--0-:0---""#),
        "{}",
        hit.remedy
    );
    assert!(
        hit.remedy
            .contains(r#"cpuid.80000001.ecx = "----:----:----:----:----:----:--0-:----""#),
        "{}",
        hit.remedy
    );
    assert!(
        hit.remedy
            .contains("or enable EVC on the cluster at intel-sandybridge"),
        "{}",
        hit.remedy
    );
    assert_eq!(
        (hit.host.as_deref(), hit.vm.as_deref()),
        (Some("esx02"), Some("app"))
    );
}
