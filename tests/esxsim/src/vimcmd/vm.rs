//! `vim-cmd vmsvc/…`.

use super::fault_reply;
use super::host::cpuid_list;
use super::vmodl::{V, b, i, opt_s, s, u};
use crate::Reply;
use crate::host_ops::Fault;
use crate::state::{Backing, Device, DvPort, Snapshot, State, Vm};

/// `getallvms`: one row per VM, columns as wide (in bytes) as their widest value plus three spaces; the
/// header is laid out on other widths (as captured from an ESXi 8 host: `Vmid   Name
/// File              Guest OS       Version   Annotation` over `1      x8     [pve-esx]
/// x8/x8.vmx   centos9_64Guest   vmx-20`), so rows do not line up under it.
pub fn getallvms(st: &State) -> Reply {
    let vms: Vec<&Vm> = st.vms.iter().filter(|v| !v.invalid).collect();
    let mut stderr = String::new();
    for v in st.vms.iter().filter(|v| v.invalid) {
        stderr.push_str(&format!("Skipping invalid VM '{}'\n", v.vmid));
    }
    let headers = ["Vmid", "Name", "File", "Guest OS", "Version", "Annotation"];
    if vms.is_empty() {
        return Reply {
            stdout: format!("{}\n", headers.join("   ")),
            stderr,
            code: 0,
        };
    }
    let rows: Vec<[String; 6]> = vms
        .iter()
        .map(|v| {
            [
                v.vmid.to_string(),
                v.name.clone(),
                v.vmx_path(),
                v.guest_id.clone(),
                v.hw_version.clone(),
                v.annotation.clone(),
            ]
        })
        .collect();
    let width = |col: usize| {
        let longest = rows
            .iter()
            .map(|r| r.get(col).map_or(0, String::len))
            .max()
            .unwrap_or(0);
        longest.max(headers.get(col).map_or(0, |h| h.len())) + 3
    };
    let w: Vec<usize> = (0..5).map(width).collect();
    let hw = [
        w.first().copied().unwrap_or(7),
        w.get(1).copied().unwrap_or(7) + 7,
        w.get(2).copied().unwrap_or(7).saturating_sub(4).max(5),
        w.get(3).copied().unwrap_or(11).saturating_sub(3).max(9),
        w.get(4).copied().unwrap_or(10),
    ];
    let mut out = String::new();
    for (h, width) in headers.iter().zip(hw) {
        out.push_str(&format!("{h:<width$}"));
    }
    out.push_str(headers.last().copied().unwrap_or_default());
    out.push('\n');
    for r in &rows {
        // printf's `%-*s` pads bytes, not characters.
        for (cell, width) in r.iter().zip(&w) {
            out.push_str(cell);
            out.push_str(&" ".repeat(width.saturating_sub(cell.len())));
        }
        out.push_str(r.last().map(String::as_str).unwrap_or_default());
        out.push('\n');
    }
    Reply {
        stdout: out,
        stderr,
        code: 0,
    }
}

/// A VM's BIOS UUID, stable per host and VM.
fn vm_uuid(st: &State, v: &Vm) -> String {
    let h: String = st
        .host
        .uuid
        .chars()
        .filter(char::is_ascii_hexdigit)
        .collect();
    let tail = h.get(h.len().saturating_sub(8)..).unwrap_or("00000000");
    format!(
        "564d{:04x}-{}-{}-a1b2-{tail}{:04x}",
        v.vmid,
        tail.get(..4).unwrap_or("0000"),
        tail.get(4..).unwrap_or("0000"),
        v.vmid
    )
}

fn datastore_ref(uuid: &str) -> V {
    if uuid.is_empty() {
        V::Null("vim.Datastore")
    } else {
        V::MoRef("vim.Datastore", uuid.to_string())
    }
}

fn describe(label: &str, summary: &str) -> V {
    V::Obj(
        "vim.Description",
        vec![("label", s(label)), ("summary", s(summary))],
    )
}

fn connect(start: bool, connected: bool) -> V {
    V::Obj(
        "vim.vm.device.VirtualDevice.ConnectInfo",
        vec![
            ("startConnected", b(start)),
            ("allowGuestControl", b(true)),
            ("connected", b(connected)),
            ("status", s("ok")),
        ],
    )
}

fn pci_slot(n: i64) -> V {
    V::Obj(
        "vim.vm.device.VirtualDevice.PciBusSlotInfo",
        vec![("pciSlotNumber", i(n))],
    )
}

/// A NIC's backing: a standard port group by name, or a distributed port, which a host
/// prints by switch UUID and port group key only.
fn nic_backing(network: &str, dvs: Option<&DvPort>) -> V {
    match dvs {
        Some(p) => V::Obj(
            "vim.vm.device.VirtualEthernetCard.DistributedVirtualPortBackingInfo",
            vec![(
                "port",
                V::Obj(
                    "vim.dvs.PortConnection",
                    vec![
                        ("switchUuid", s(&p.switch_uuid)),
                        ("portgroupKey", s(&p.portgroup_key)),
                        ("portKey", s("42")),
                        ("connectionCookie", i(1_803_964_342)),
                    ],
                ),
            )],
        ),
        None => V::Obj(
            "vim.vm.device.VirtualEthernetCard.NetworkBackingInfo",
            vec![
                ("deviceName", s(network)),
                ("useAutoDetect", b(false)),
                (
                    "network",
                    V::MoRef("vim.Network", format!("HaNetwork-{network}")),
                ),
                ("inPassthroughMode", V::Unset),
            ],
        ),
    }
}

/// `vmsvc/get.networks`: one `vim.Network.Summary` per network the VM's NICs use, in device
/// order, each once.
pub fn networks(v: &Vm) -> Vec<V> {
    let mut seen: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for d in &v.devices {
        let Device::Nic { network, dvs, .. } = d else {
            continue;
        };
        if seen.contains(&network.as_str()) {
            continue;
        }
        seen.push(network);
        let moref = match dvs {
            Some(p) => V::MoRef(
                "vim.dvs.DistributedVirtualPortgroup",
                p.portgroup_key.clone(),
            ),
            None => V::MoRef("vim.Network", format!("HaNetwork-{network}")),
        };
        out.push(V::Obj(
            "vim.Network.Summary",
            vec![
                ("network", moref),
                ("name", s(network)),
                ("accessible", b(true)),
                ("ipPoolName", s("")),
                ("ipPoolId", V::Unset),
            ],
        ));
    }
    out
}

/// The members every virtual device has, then its own.
#[allow(clippy::too_many_arguments)]
fn device(
    kind: &'static str,
    key: i32,
    label: &str,
    summary: &str,
    backing: V,
    connectable: V,
    slot: V,
    controller: V,
    unit: V,
    own: Vec<(&'static str, V)>,
) -> V {
    let mut m = vec![
        ("key", i(key)),
        ("deviceInfo", describe(label, summary)),
        ("backing", backing),
        ("connectable", connectable),
        ("slotInfo", slot),
        ("controllerKey", controller),
        ("unitNumber", unit),
    ];
    m.extend(own);
    V::Obj(kind, m)
}

const NO_BACKING: V = V::Null("vim.vm.device.VirtualDevice.BackingInfo");
const NO_CONNECT: V = V::Null("vim.vm.device.VirtualDevice.ConnectInfo");
const NO_SLOT: V = V::Null("vim.vm.device.VirtualDevice.BusSlotInfo");

fn controller(
    kind: &'static str,
    key: i32,
    label: &str,
    bus: i32,
    devices: Vec<i32>,
    own: Vec<(&'static str, V)>,
) -> V {
    let mut m = vec![
        ("busNumber", i(bus)),
        (
            "device",
            if devices.is_empty() {
                V::Omit
            } else {
                V::Arr("int", devices.into_iter().map(i).collect())
            },
        ),
    ];
    m.extend(own);
    device(
        kind,
        key,
        label,
        label,
        NO_BACKING,
        NO_CONNECT,
        NO_SLOT,
        V::Unset,
        V::Unset,
        m,
    )
}

fn removable_backing(class: &str, backing: &Backing) -> (V, String) {
    match (class, backing) {
        ("cdrom", Backing::HostDevice { device }) => (
            V::Obj(
                "vim.vm.device.VirtualCdrom.AtapiBackingInfo",
                vec![("deviceName", s(device)), ("useAutoDetect", b(false))],
            ),
            format!("ATAPI {device}"),
        ),
        (
            "cdrom",
            Backing::File {
                path,
                datastore_uuid,
            },
        ) => (
            V::Obj(
                "vim.vm.device.VirtualCdrom.IsoBackingInfo",
                vec![
                    ("fileName", s(path)),
                    ("datastore", datastore_ref(datastore_uuid)),
                    ("backingObjectId", V::Unset),
                ],
            ),
            format!("ISO {path}"),
        ),
        ("cdrom", Backing::Remote) => (
            V::Obj(
                "vim.vm.device.VirtualCdrom.RemotePassthroughBackingInfo",
                vec![
                    ("deviceName", s("")),
                    ("useAutoDetect", b(false)),
                    ("exclusive", b(false)),
                ],
            ),
            "Remote device".into(),
        ),
        ("floppy", Backing::HostDevice { device }) => (
            V::Obj(
                "vim.vm.device.VirtualFloppy.DeviceBackingInfo",
                vec![("deviceName", s(device)), ("useAutoDetect", b(false))],
            ),
            format!("Floppy {device}"),
        ),
        (
            "floppy",
            Backing::File {
                path,
                datastore_uuid,
            },
        ) => (
            V::Obj(
                "vim.vm.device.VirtualFloppy.ImageBackingInfo",
                vec![
                    ("fileName", s(path)),
                    ("datastore", datastore_ref(datastore_uuid)),
                ],
            ),
            format!("Image {path}"),
        ),
        ("floppy", Backing::Remote) => (
            V::Obj(
                "vim.vm.device.VirtualFloppy.RemoteDeviceBackingInfo",
                vec![("deviceName", s("")), ("useAutoDetect", b(false))],
            ),
            "Remote".into(),
        ),
        (_, Backing::HostDevice { device }) => (
            V::Obj(
                "vim.vm.device.VirtualSerialPort.DeviceBackingInfo",
                vec![("deviceName", s(device)), ("useAutoDetect", b(false))],
            ),
            format!("Device {device}"),
        ),
        (
            _,
            Backing::File {
                path,
                datastore_uuid,
            },
        ) => (
            V::Obj(
                "vim.vm.device.VirtualSerialPort.FileBackingInfo",
                vec![
                    ("fileName", s(path)),
                    ("datastore", datastore_ref(datastore_uuid)),
                ],
            ),
            format!("File {path}"),
        ),
        (_, Backing::Remote) => (
            V::Obj(
                "vim.vm.device.VirtualSerialPort.URIBackingInfo",
                vec![
                    ("serviceURI", s("telnet://:23")),
                    ("direction", s("server")),
                    ("proxyURI", V::Unset),
                ],
            ),
            "Remote telnet://:23".into(),
        ),
    }
}

/// `device.getdevices`: `(vim.vm.VirtualHardware)` with the standard chipset devices and the
/// VM's own.
pub fn hardware(st: &State, v: &Vm) -> V {
    let eight = st.host.version.major() >= 8;
    let mut scsi = Vec::new();
    let mut disks = Vec::new();
    let mut cdroms = Vec::new();
    let mut sio = Vec::new();
    let mut nics = Vec::new();
    let mut passthrough = Vec::new();
    let mut pci_children = vec![500, 12000];
    let mut ide1 = Vec::new();
    let mut sio_keys = Vec::new();
    let mut usb_keys = Vec::new();
    let mut nic_slot = 192;
    for d in &v.devices {
        match d {
            Device::ScsiController {
                key,
                model,
                shared_bus,
                bus,
            } => {
                let (kind, summary) = match model.as_str() {
                    "lsilogic" => ("vim.vm.device.VirtualLsiLogicController", "LSI Logic"),
                    "lsisas" => (
                        "vim.vm.device.VirtualLsiLogicSASController",
                        "LSI Logic SAS",
                    ),
                    _ => (
                        "vim.vm.device.ParaVirtualSCSIController",
                        "VMware paravirtual SCSI",
                    ),
                };
                pci_children.push(*key);
                let own_disks: Vec<i32> = v
                    .devices
                    .iter()
                    .filter_map(|d| match d {
                        Device::Disk {
                            key: k, controller, ..
                        } if controller == key => Some(*k),
                        _ => None,
                    })
                    .collect();
                let label = format!("SCSI controller {bus}");
                scsi.push(device(
                    kind,
                    *key,
                    &label,
                    summary,
                    NO_BACKING,
                    NO_CONNECT,
                    pci_slot(160 + i64::from(*bus)),
                    i(100),
                    i(bus.saturating_add(3)),
                    vec![
                        ("busNumber", i(*bus)),
                        (
                            "device",
                            V::Arr("int", own_disks.into_iter().map(i).collect()),
                        ),
                        ("hotAddRemove", b(true)),
                        ("sharedBus", s(shared_bus)),
                        ("scsiCtlrUnitNumber", i(7)),
                    ],
                ));
            }
            Device::Disk {
                key,
                controller,
                unit,
                file,
                datastore_uuid,
                capacity_kb,
                thin,
                rdm,
            } => {
                let n = disks.len() + 1;
                let backing = match rdm {
                    Some((lun, mode)) => V::Obj(
                        "vim.vm.device.VirtualDisk.RawDiskMappingVer1BackingInfo",
                        vec![
                            ("fileName", s(file)),
                            ("datastore", datastore_ref(datastore_uuid)),
                            ("backingObjectId", s("")),
                            (
                                "lunUuid",
                                s(format!("0200000000{}", lun.trim_start_matches("naa."))),
                            ),
                            ("deviceName", s(format!("/vmfs/devices/disks/{lun}"))),
                            ("compatibilityMode", s(mode)),
                            (
                                "diskMode",
                                s(if mode == "physicalMode" {
                                    "independent_persistent"
                                } else {
                                    "persistent"
                                }),
                            ),
                            ("uuid", s(format!("6000C29{key:04}-rdm-{}", v.vmid))),
                            ("contentId", s("d41d8cd98f00b204e9800998ecf8427e")),
                            ("changeId", V::Unset),
                            (
                                "parent",
                                V::Null("vim.vm.device.VirtualDisk.RawDiskMappingVer1BackingInfo"),
                            ),
                            ("deltaDiskFormat", V::Unset),
                            ("deltaGrainSize", V::Unset),
                            ("sharing", s("sharingNone")),
                        ],
                    ),
                    None => V::Obj(
                        "vim.vm.device.VirtualDisk.FlatVer2BackingInfo",
                        vec![
                            ("fileName", s(file)),
                            ("datastore", datastore_ref(datastore_uuid)),
                            ("backingObjectId", s("")),
                            ("diskMode", s("persistent")),
                            ("split", b(false)),
                            ("writeThrough", b(false)),
                            ("thinProvisioned", b(*thin)),
                            ("eagerlyScrub", V::Unset),
                            ("uuid", s(format!("6000C29{}-{key:04}-{:04}", v.vmid, n))),
                            ("contentId", s("7d0a0813c0306b532b906208c88ac9c7")),
                            ("changeId", V::Unset),
                            (
                                "parent",
                                V::Null("vim.vm.device.VirtualDisk.FlatVer2BackingInfo"),
                            ),
                            ("deltaDiskFormat", V::Unset),
                            ("digestEnabled", b(false)),
                            ("deltaGrainSize", V::Unset),
                            ("deltaDiskFormatVariant", V::Unset),
                            ("sharing", s("sharingNone")),
                        ],
                    ),
                };
                disks.push(device(
                    "vim.vm.device.VirtualDisk",
                    *key,
                    &format!("Hard disk {n}"),
                    &format!("{} KB", group_thousands(*capacity_kb)),
                    backing,
                    NO_CONNECT,
                    NO_SLOT,
                    i(*controller),
                    i(*unit),
                    vec![
                        ("capacityInKB", u(*capacity_kb)),
                        ("capacityInBytes", u(capacity_kb.saturating_mul(1024))),
                        (
                            "shares",
                            V::Obj(
                                "vim.SharesInfo",
                                vec![("shares", i(1000)), ("level", s("normal"))],
                            ),
                        ),
                        (
                            "storageIOAllocation",
                            V::Obj(
                                "vim.StorageResourceManager.IOAllocationInfo",
                                vec![
                                    ("limit", i(-1)),
                                    (
                                        "shares",
                                        V::Obj(
                                            "vim.SharesInfo",
                                            vec![("shares", i(1000)), ("level", s("normal"))],
                                        ),
                                    ),
                                    ("reservation", i(0)),
                                ],
                            ),
                        ),
                        ("diskObjectId", s(format!("{}-{key}", v.vmid))),
                        (
                            "vFlashCacheConfigInfo",
                            V::Null("vim.vm.device.VirtualDisk.VFlashCacheConfigInfo"),
                        ),
                        ("iofilter", V::Omit),
                    ],
                ));
            }
            Device::Nic {
                key,
                model,
                network,
                mac,
                connected,
                start_connected,
                dvs,
            } => {
                let kind = match model.as_str() {
                    "e1000" => "vim.vm.device.VirtualE1000",
                    "e1000e" => "vim.vm.device.VirtualE1000e",
                    _ => "vim.vm.device.VirtualVmxnet3",
                };
                pci_children.push(*key);
                let n = nics.len() + 1;
                nics.push(device(
                    kind,
                    *key,
                    &format!("Network adapter {n}"),
                    &match dvs {
                        Some(p) => format!("DVSwitch: {}", p.switch_uuid),
                        None => network.clone(),
                    },
                    nic_backing(network, dvs.as_ref()),
                    connect(*start_connected, *connected),
                    pci_slot(nic_slot),
                    i(100),
                    i(7 + i64::try_from(n).unwrap_or(0) - 1),
                    vec![
                        ("addressType", s("generated")),
                        ("macAddress", s(mac)),
                        ("wakeOnLanEnabled", b(true)),
                        (
                            "resourceAllocation",
                            V::Obj(
                                "vim.vm.device.VirtualEthernetCard.ResourceAllocation",
                                vec![
                                    ("reservation", i(0)),
                                    (
                                        "share",
                                        V::Obj(
                                            "vim.SharesInfo",
                                            vec![("shares", i(50)), ("level", s("normal"))],
                                        ),
                                    ),
                                    ("limit", i(-1)),
                                ],
                            ),
                        ),
                        ("externalId", V::Unset),
                        ("uptCompatibilityEnabled", b(model == "vmxnet3")),
                    ],
                ));
                nic_slot += 32;
            }
            Device::Cdrom {
                key,
                backing,
                connected,
                start_connected,
            } => {
                let (backing, summary) = removable_backing("cdrom", backing);
                ide1.push(*key);
                let n = cdroms.len() + 1;
                cdroms.push(device(
                    "vim.vm.device.VirtualCdrom",
                    *key,
                    &format!("CD/DVD drive {n}"),
                    &summary,
                    backing,
                    connect(*start_connected, *connected),
                    NO_SLOT,
                    i(201),
                    i(i64::try_from(n).unwrap_or(1) - 1),
                    vec![],
                ));
            }
            Device::Floppy {
                key,
                backing,
                connected,
                start_connected,
            }
            | Device::Serial {
                key,
                backing,
                connected,
                start_connected,
            } => {
                // Both hang off the SIO controller (key 400).
                let (type_name, class, label, extra) = match d {
                    Device::Floppy { .. } => (
                        "vim.vm.device.VirtualFloppy",
                        "floppy",
                        "Floppy drive 1",
                        vec![],
                    ),
                    _ => (
                        "vim.vm.device.VirtualSerialPort",
                        "serial",
                        "Serial port 1",
                        vec![("yieldOnPoll", b(true))],
                    ),
                };
                let (backing, summary) = removable_backing(class, backing);
                sio_keys.push(*key);
                sio.push(device(
                    type_name,
                    *key,
                    label,
                    &summary,
                    backing,
                    connect(*start_connected, *connected),
                    NO_SLOT,
                    i(400),
                    i(0),
                    extra,
                ));
            }
            Device::Passthrough {
                key,
                bus,
                label,
                connected,
            } if bus == "usb" => {
                usb_keys.push(*key);
                passthrough.push(device(
                    "vim.vm.device.VirtualUSB",
                    *key,
                    label,
                    label,
                    V::Obj(
                        "vim.vm.device.VirtualUSB.USBBackingInfo",
                        vec![
                            ("deviceName", s("path:1/9 version:2")),
                            ("useAutoDetect", V::Unset),
                        ],
                    ),
                    NO_CONNECT,
                    NO_SLOT,
                    i(7000),
                    i(0),
                    vec![
                        ("connected", b(*connected)),
                        ("vendor", i(1921)),
                        ("product", i(21888)),
                    ],
                ));
            }
            Device::Passthrough {
                key, bus, label, ..
            } => {
                pci_children.push(*key);
                // DirectPath I/O names the host's PCI function; a vGPU only its profile.
                let backing = if bus == "vgpu" {
                    V::Obj(
                        "vim.vm.device.VirtualPCIPassthrough.VmiopBackingInfo",
                        vec![("vgpu", s("grid_t4-4q")), ("migrateSupported", b(true))],
                    )
                } else {
                    V::Obj(
                        "vim.vm.device.VirtualPCIPassthrough.DeviceBackingInfo",
                        vec![
                            ("deviceName", s(label)),
                            ("useAutoDetect", b(false)),
                            ("id", s("0000:3b:00.0")),
                            ("deviceId", s("1591")),
                            ("systemId", s(&st.host.uuid)),
                            ("vendorId", i(-32634)),
                        ],
                    )
                };
                passthrough.push(device(
                    "vim.vm.device.VirtualPCIPassthrough",
                    *key,
                    label,
                    label,
                    backing,
                    NO_CONNECT,
                    pci_slot(224),
                    i(100),
                    i(18),
                    vec![],
                ));
            }
        }
    }
    let mut list = vec![
        controller(
            "vim.vm.device.VirtualIDEController",
            200,
            "IDE 0",
            0,
            vec![],
            vec![],
        ),
        controller(
            "vim.vm.device.VirtualIDEController",
            201,
            "IDE 1",
            1,
            ide1,
            vec![],
        ),
        controller(
            "vim.vm.device.VirtualPS2Controller",
            300,
            "PS2 controller 0",
            0,
            vec![600, 700],
            vec![],
        ),
        controller(
            "vim.vm.device.VirtualPCIController",
            100,
            "PCI controller 0",
            0,
            pci_children,
            vec![],
        ),
        controller(
            "vim.vm.device.VirtualSIOController",
            400,
            "SIO controller 0",
            0,
            sio_keys,
            vec![],
        ),
        device(
            "vim.vm.device.VirtualKeyboard",
            600,
            "Keyboard",
            "Keyboard",
            NO_BACKING,
            NO_CONNECT,
            NO_SLOT,
            i(300),
            i(0),
            vec![],
        ),
        device(
            "vim.vm.device.VirtualPointingDevice",
            700,
            "Pointing device",
            "Pointing device; Device",
            V::Obj(
                "vim.vm.device.VirtualPointingDevice.DeviceBackingInfo",
                vec![
                    ("deviceName", s("")),
                    ("useAutoDetect", b(false)),
                    ("hostPointingDevice", s("autodetect")),
                ],
            ),
            NO_CONNECT,
            NO_SLOT,
            i(300),
            i(1),
            vec![],
        ),
        device(
            "vim.vm.device.VirtualVideoCard",
            500,
            "Video card ",
            "Video card",
            NO_BACKING,
            NO_CONNECT,
            NO_SLOT,
            i(100),
            i(0),
            vec![
                ("videoRamSizeInKB", i(8192)),
                ("numDisplays", i(1)),
                ("useAutoDetect", b(false)),
                ("enable3DSupport", b(false)),
                ("use3dRenderer", s("automatic")),
                ("graphicsMemorySizeInKB", i(262_144)),
            ],
        ),
        device(
            "vim.vm.device.VirtualVMCIDevice",
            12000,
            "VMCI device",
            "Device on the virtual machine PCI bus that provides support for the virtual machine communication interface",
            NO_BACKING,
            NO_CONNECT,
            pci_slot(32),
            i(100),
            i(17),
            vec![
                ("id", i(-1_708_029_162)),
                ("allowUnrestrictedCommunication", b(false)),
                ("filterEnable", b(true)),
                (
                    "filterInfo",
                    V::Null("vim.vm.device.VirtualVMCIDevice.FilterInfo"),
                ),
            ],
        ),
    ];
    if !usb_keys.is_empty() {
        list.push(controller(
            "vim.vm.device.VirtualUSBController",
            7000,
            "USB controller ",
            0,
            usb_keys,
            vec![("autoConnectDevices", b(false)), ("ehciEnabled", b(true))],
        ));
    }
    list.extend(scsi);
    list.extend(cdroms);
    list.extend(disks);
    list.extend(sio);
    list.extend(nics);
    list.extend(passthrough);
    let mut m = vec![
        ("numCPU", i(v.num_cpu)),
        ("numCoresPerSocket", i(v.cores_per_socket)),
    ];
    if eight {
        m.push(("autoCoresPerSocket", b(false)));
    }
    m.push(("memoryMB", u(v.memory_mb)));
    m.push(("virtualICH7MPresent", b(false)));
    m.push(("virtualSMCPresent", b(false)));
    m.push(("device", V::Arr("vim.vm.device.VirtualDevice", list)));
    if eight {
        m.push(("motherboardLayout", s("i440bxHostBridge")));
        m.push(("simultaneousThreads", i(1)));
    }
    V::Obj("vim.vm.VirtualHardware", m)
}

/// `209715200` → `209,715,200` (the disk summary's style).
fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (k, c) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn guest_info(st: &State, v: &Vm) -> V {
    let major = st.host.version.major();
    let running = v.powered_on && v.tools_running == "guestToolsRunning";
    let net: Vec<V> = if running {
        v.devices
            .iter()
            .filter_map(|d| match d {
                Device::Nic {
                    key,
                    network,
                    mac,
                    connected,
                    ..
                } => Some(V::Obj(
                    "vim.vm.GuestInfo.NicInfo",
                    vec![
                        ("network", s(network)),
                        ("ipAddress", V::Arr("string", vec![s(&v.guest_ip)])),
                        ("macAddress", s(mac)),
                        ("connected", b(*connected)),
                        ("deviceConfigId", i(*key)),
                        ("dnsConfig", V::Null("vim.net.DnsConfigInfo")),
                        ("ipConfig", V::Null("vim.net.IpConfigInfo")),
                        ("netBIOSConfig", V::Null("vim.net.NetBIOSConfigInfo")),
                    ],
                )),
                _ => None,
            })
            .collect()
    } else {
        Vec::new()
    };
    let tools_status = if running {
        "toolsOk"
    } else {
        "toolsNotRunning"
    };
    let mut m = vec![
        ("toolsStatus", s(tools_status)),
        ("toolsVersionStatus", s("guestToolsCurrent")),
        ("toolsVersionStatus2", s("guestToolsCurrent")),
        ("toolsRunningStatus", s(&v.tools_running)),
        ("toolsVersion", s("12352")),
        ("toolsInstallType", s("guestToolsTypeOpenVMTools")),
        (
            "toolsUpdateStatus",
            V::Null("vim.vm.GuestInfo.ToolsUpdateStatus"),
        ),
        ("guestId", if running { s(&v.guest_id) } else { V::Unset }),
        (
            "guestFamily",
            if running {
                s(if v.guest_id.starts_with("windows") {
                    "windowsGuest"
                } else {
                    "linuxGuest"
                })
            } else {
                V::Unset
            },
        ),
        (
            "guestFullName",
            if running {
                s(&v.guest_full_name)
            } else {
                V::Unset
            },
        ),
    ];
    if major >= 8 {
        m.push(("guestDetailedData", V::Unset));
    }
    m.extend([
        (
            "hostName",
            if running {
                opt_s(&v.guest_hostname)
            } else {
                V::Unset
            },
        ),
        (
            "ipAddress",
            if running {
                opt_s(&v.guest_ip)
            } else {
                V::Unset
            },
        ),
        (
            "net",
            if running {
                V::Arr("vim.vm.GuestInfo.NicInfo", net)
            } else {
                V::Unset
            },
        ),
        ("ipStack", V::Unset),
        ("disk", V::Unset),
        (
            "screen",
            V::Obj(
                "vim.vm.GuestInfo.ScreenInfo",
                vec![("width", i(1024)), ("height", i(768))],
            ),
        ),
        (
            "guestState",
            s(if v.powered_on {
                "running"
            } else {
                "notRunning"
            }),
        ),
    ]);
    if major >= 7 {
        m.push(("hwVersion", s(&v.hw_version)));
    }
    m.push((
        "customizationInfo",
        V::Obj(
            "vim.vm.GuestInfo.CustomizationInfo",
            vec![
                ("customizationStatus", s("TOOLSDEPLOYPKG_IDLE")),
                ("startTime", V::Unset),
                ("endTime", V::Unset),
                ("errorMsg", V::Unset),
            ],
        ),
    ));
    V::Obj("vim.vm.GuestInfo", m)
}

fn ft_info(v: &Vm) -> V {
    if v.fault_tolerance {
        V::Obj(
            "vim.vm.FaultToleranceConfigInfo",
            vec![
                ("role", i(1)),
                (
                    "instanceUuids",
                    V::Arr("string", vec![s(format!("52{:06x}-primary", v.vmid))]),
                ),
                ("configPaths", V::Arr("string", vec![s(v.vmx_path())])),
                ("orphaned", b(false)),
            ],
        )
    } else {
        V::Null("vim.vm.FaultToleranceConfigInfo")
    }
}

pub fn summary(st: &State, v: &Vm) -> V {
    let nics = v
        .devices
        .iter()
        .filter(|d| matches!(d, Device::Nic { .. }))
        .count();
    let disks = v
        .devices
        .iter()
        .filter(|d| matches!(d, Device::Disk { .. }))
        .count();
    let on = v.powered_on;
    let mhz = st.cpu.hz / 1_000_000;
    V::Obj(
        "vim.vm.Summary",
        vec![
            ("vm", V::MoRef("vim.VirtualMachine", v.vmid.to_string())),
            (
                "runtime",
                V::Obj(
                    "vim.vm.RuntimeInfo",
                    vec![
                        ("host", V::MoRef("vim.HostSystem", "ha-host".into())),
                        ("connectionState", s("connected")),
                        ("powerState", s(if on { "poweredOn" } else { "poweredOff" })),
                        (
                            "faultToleranceState",
                            s(if v.fault_tolerance {
                                "running"
                            } else {
                                "notConfigured"
                            }),
                        ),
                        ("toolsInstallerMounted", b(false)),
                        (
                            "bootTime",
                            if on { s(&st.host.boot_time) } else { V::Unset },
                        ),
                        ("suspendInterval", i(0)),
                        ("maxCpuUsage", u(mhz.saturating_mul(u64::from(v.num_cpu)))),
                        ("maxMemoryUsage", u(v.memory_mb)),
                        ("numMksConnections", i(0)),
                        ("recordReplayState", s("inactive")),
                        ("onlineStandby", b(false)),
                        ("consolidationNeeded", b(false)),
                        ("paused", b(false)),
                        ("snapshotInBackground", b(false)),
                    ],
                ),
            ),
            (
                "guest",
                V::Obj(
                    "vim.vm.Summary.GuestSummary",
                    vec![
                        ("guestId", s(&v.guest_id)),
                        ("guestFullName", s(&v.guest_full_name)),
                        (
                            "toolsStatus",
                            s(if on && v.tools_running == "guestToolsRunning" {
                                "toolsOk"
                            } else {
                                "toolsNotRunning"
                            }),
                        ),
                        ("toolsVersionStatus", s("guestToolsCurrent")),
                        ("toolsVersionStatus2", s("guestToolsCurrent")),
                        ("toolsRunningStatus", s(&v.tools_running)),
                        ("hostName", opt_s(&v.guest_hostname)),
                        ("ipAddress", opt_s(&v.guest_ip)),
                        ("hwVersion", s(&v.hw_version)),
                    ],
                ),
            ),
            (
                "config",
                V::Obj(
                    "vim.vm.Summary.ConfigSummary",
                    vec![
                        ("name", s(&v.name)),
                        ("template", b(false)),
                        ("vmPathName", s(v.vmx_path())),
                        ("memorySizeMB", u(v.memory_mb)),
                        ("cpuReservation", u(v.cpu_reservation_mhz)),
                        ("memoryReservation", u(v.memory_reservation_mb)),
                        ("numCpu", i(v.num_cpu)),
                        ("numEthernetCards", i(i64::try_from(nics).unwrap_or(0))),
                        ("numVirtualDisks", i(i64::try_from(disks).unwrap_or(0))),
                        ("uuid", s(vm_uuid(st, v))),
                        (
                            "instanceUuid",
                            s(format!("52{}", vm_uuid(st, v).get(2..).unwrap_or_default())),
                        ),
                        ("guestId", s(&v.guest_id)),
                        ("guestFullName", s(&v.guest_full_name)),
                        ("annotation", s(&v.annotation)),
                        ("product", V::Null("vim.vApp.ProductInfo")),
                        ("installBootRequired", b(false)),
                        ("ftInfo", ft_info(v)),
                        ("managedBy", V::Null("vim.ext.ManagedByInfo")),
                        ("tpmPresent", b(false)),
                        ("numVmiopBackings", i(0)),
                        ("hwVersion", s(&v.hw_version)),
                    ],
                ),
            ),
            (
                "storage",
                V::Obj(
                    "vim.vm.Summary.StorageSummary",
                    vec![
                        ("committed", i(4_294_967_296_i64)),
                        ("uncommitted", i(38_654_705_664_i64)),
                        ("unshared", i(4_294_967_296_i64)),
                        ("timestamp", s(&st.host.boot_time)),
                    ],
                ),
            ),
            (
                "quickStats",
                V::Obj(
                    "vim.vm.Summary.QuickStats",
                    vec![
                        ("overallCpuUsage", i(if on { 42 } else { 0 })),
                        ("overallCpuDemand", i(if on { 42 } else { 0 })),
                        ("overallCpuReadiness", i(0)),
                        ("guestMemoryUsage", u(v.active_memory_mb)),
                        ("hostMemoryUsage", u(if on { v.memory_mb } else { 0 })),
                        ("guestHeartbeatStatus", s(&v.heartbeat)),
                        ("distributedCpuEntitlement", i(0)),
                        ("distributedMemoryEntitlement", i(0)),
                        ("staticCpuEntitlement", i(0)),
                        ("staticMemoryEntitlement", i(0)),
                        ("grantedMemory", u(if on { v.memory_mb } else { 0 })),
                        ("privateMemory", u(if on { v.memory_mb } else { 0 })),
                        ("sharedMemory", i(0)),
                        ("swappedMemory", i(0)),
                        ("balloonedMemory", i(0)),
                        (
                            "consumedOverheadMemory",
                            u(if on { v.memory_overhead_mb } else { 0 }),
                        ),
                        ("ftLogBandwidth", i(-1)),
                        ("ftSecondaryLatency", i(-1)),
                        ("ftLatencyStatus", s("gray")),
                        ("compressedMemory", i(0)),
                        ("uptimeSeconds", i(if on { 3600 } else { 0 })),
                        ("ssdSwappedMemory", i(0)),
                    ],
                ),
            ),
            ("overallStatus", s("green")),
            (
                "customValue",
                V::Arr("vim.CustomFieldsManager.Value", vec![]),
            ),
        ],
    )
}

fn affinity(set: &[u32]) -> V {
    if set.is_empty() {
        V::Null("vim.vm.AffinityInfo")
    } else {
        V::Obj(
            "vim.vm.AffinityInfo",
            vec![(
                "affinitySet",
                V::Arr("int", set.iter().map(|c| i(*c)).collect()),
            )],
        )
    }
}

fn allocation(reservation: u64, shares: i64) -> V {
    V::Obj(
        "vim.ResourceAllocationInfo",
        vec![
            ("reservation", u(reservation)),
            ("expandableReservation", b(false)),
            ("limit", i(-1)),
            (
                "shares",
                V::Obj(
                    "vim.SharesInfo",
                    vec![("shares", i(shares)), ("level", s("normal"))],
                ),
            ),
            ("overheadLimit", V::Unset),
        ],
    )
}

fn option(key: &str, value: &str) -> V {
    V::Obj(
        "vim.option.OptionValue",
        vec![("key", s(key)), ("value", s(value))],
    )
}

fn joined(set: &[u32]) -> String {
    if set.is_empty() {
        "all".into()
    } else {
        set.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
    }
}

/// `get.config`: `(vim.vm.ConfigInfo)`: reservations, affinity, hardware version, memory,
/// CPUID masks, extraConfig.
pub fn config_info(st: &State, v: &Vm) -> V {
    let mut extra = vec![
        option("nvram", &format!("{}.nvram", v.name)),
        option("svga.present", "TRUE"),
        option("sched.cpu.affinity", &joined(&v.cpu_affinity)),
        option("sched.mem.affinity", &joined(&v.memory_affinity)),
        option("sched.cpu.min", &v.cpu_reservation_mhz.to_string()),
        option("sched.mem.min", &v.memory_reservation_mb.to_string()),
    ];
    for m in &v.cpuid_masks {
        for (reg, bits) in [
            ("eax", &m.eax),
            ("ebx", &m.ebx),
            ("ecx", &m.ecx),
            ("edx", &m.edx),
        ] {
            if bits.chars().any(|c| c != '-' && c != ':') {
                // A vendor-specific mask is written `cpuid.80000001.edx.amd` in the `.vmx`.
                let suffix = match m.vendor.as_str() {
                    "" => String::new(),
                    v => format!(".{v}"),
                };
                extra.push(option(&format!("cpuid.{:x}.{reg}{suffix}", m.level), bits));
            }
        }
    }
    V::Obj(
        "vim.vm.ConfigInfo",
        vec![
            ("changeVersion", s("2024-05-06T07:08:09.123456Z")),
            ("modified", s("1970-01-01T00:00:00Z")),
            ("name", s(&v.name)),
            ("guestFullName", s(&v.guest_full_name)),
            ("version", s(&v.hw_version)),
            ("uuid", s(vm_uuid(st, v))),
            ("createDate", s("2024-05-06T07:08:09.123456Z")),
            (
                "instanceUuid",
                s(format!("52{}", vm_uuid(st, v).get(2..).unwrap_or_default())),
            ),
            ("npivTemporaryDisabled", b(true)),
            ("locationId", s(format!("564d-{}", v.vmid))),
            ("template", b(false)),
            ("guestId", s(&v.guest_id)),
            ("alternateGuestName", s("")),
            ("annotation", s(&v.annotation)),
            (
                "files",
                V::Obj(
                    "vim.vm.FileInfo",
                    vec![
                        ("vmPathName", s(v.vmx_path())),
                        (
                            "snapshotDirectory",
                            s(format!("[{}] {}/", v.datastore, v.dir)),
                        ),
                        (
                            "suspendDirectory",
                            s(format!("[{}] {}/", v.datastore, v.dir)),
                        ),
                        ("logDirectory", s(format!("[{}] {}/", v.datastore, v.dir))),
                        ("ftMetadataDirectory", V::Unset),
                    ],
                ),
            ),
            ("hardware", hardware(st, v)),
            (
                "cpuAllocation",
                allocation(v.cpu_reservation_mhz, 1000 * i64::from(v.num_cpu)),
            ),
            (
                "memoryAllocation",
                allocation(
                    v.memory_reservation_mb,
                    i64::try_from(v.memory_mb.saturating_mul(10)).unwrap_or(0),
                ),
            ),
            (
                "latencySensitivity",
                V::Obj(
                    "vim.LatencySensitivity",
                    vec![("level", s("normal")), ("sensitivity", V::Unset)],
                ),
            ),
            ("memoryHotAddEnabled", b(false)),
            ("cpuHotAddEnabled", b(false)),
            ("cpuHotRemoveEnabled", b(false)),
            ("extraConfig", V::Arr("vim.option.OptionValue", extra)),
            ("cpuFeatureMask", cpuid_list(&v.cpuid_masks)),
            ("cpuAffinity", affinity(&v.cpu_affinity)),
            ("memoryAffinity", affinity(&v.memory_affinity)),
            ("ftInfo", ft_info(v)),
            ("firmware", s("efi")),
            ("swapPlacement", s("inherit")),
            ("changeTrackingEnabled", b(false)),
        ],
    )
}

/// `snapshot.get`: the tree, each level two more dashes in.
pub fn snapshot_tree(v: &Vm) -> String {
    fn walk(out: &mut String, snaps: &[Snapshot], depth: usize) {
        let dashes = "--".repeat(depth);
        for snap in snaps {
            if depth == 0 {
                out.push_str("|-ROOT\n");
            } else {
                out.push_str(&format!("{}|-CHILD\n", "--".repeat(depth)));
            }
            let state = if snap.powered_on {
                "powered on"
            } else {
                "powered off"
            };
            out.push_str(&format!("{dashes}--Snapshot Name        : {}\n", snap.name));
            out.push_str(&format!("{dashes}--Snapshot Id        : {}\n", snap.id));
            out.push_str(&format!(
                "{dashes}--Snapshot Desciption  : {}\n",
                snap.description
            ));
            out.push_str(&format!(
                "{dashes}--Snapshot Created On  : {}\n",
                snap.created
            ));
            out.push_str(&format!("{dashes}--Snapshot State       : {state}\n"));
            walk(out, &snap.children, depth + 1);
        }
    }
    let mut out = String::from("Get Snapshot:\n");
    walk(&mut out, &v.snapshots, 0);
    out
}

pub fn power(st: &mut State, vmid: u32, on: bool) -> Reply {
    let Some(v) = st.vm_mut(vmid) else {
        return fault_reply(&Fault::new(
            "NotFound",
            format!("Unable to find a VM corresponding to \"{vmid}\""),
        ));
    };
    let verb = if on {
        "Powering on VM:\n"
    } else {
        "Powering off VM:\n"
    };
    if v.powered_on == on {
        let now = if on { "Powered on" } else { "Powered off" };
        let mut r = fault_reply(&Fault::new(
            "InvalidPowerState",
            format!("The attempted operation cannot be performed in the current state ({now})."),
        ));
        r.stdout = format!("{verb}{}", r.stdout);
        return r;
    }
    v.powered_on = on;
    v.tools_running = if on {
        "guestToolsRunning"
    } else {
        "guestToolsNotRunning"
    }
    .into();
    v.heartbeat = if on { "green" } else { "gray" }.into();
    for d in &mut v.devices {
        if let Device::Nic {
            connected,
            start_connected,
            ..
        } = d
        {
            *connected = on && *start_connected;
        }
    }
    Reply::ok(verb)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::{Seed, generate};

    /// The one-VM listing captured from an ESXi 8 host (Jenkins vsphere-cloud VimCmdParsersTest).
    #[test]
    fn getallvms_matches_the_esxi8_capture() {
        let Ok(mut st) = generate(&Seed {
            vms: 1,
            ..Seed::default()
        }) else {
            panic!("seed");
        };
        if let Some(v) = st.vms.first_mut() {
            v.name = "x8".into();
            v.datastore = "pve-esx".into();
            v.dir = "x8".into();
            v.guest_id = "centos9_64Guest".into();
            v.hw_version = "vmx-20".into();
            v.annotation = String::new();
        }
        let out = getallvms(&st).stdout;
        let lines: Vec<&str> = out.lines().map(str::trim_end).collect();
        assert_eq!(
            lines,
            [
                "Vmid   Name          File              Guest OS       Version   Annotation",
                "1      x8     [pve-esx] x8/x8.vmx   centos9_64Guest   vmx-20",
            ]
        );
        st.vms.clear();
        assert_eq!(
            getallvms(&st).stdout,
            "Vmid   Name   File   Guest OS   Version   Annotation\n"
        );
    }

    #[test]
    fn snapshot_tree_depth_is_dashes() {
        let Ok(st) = generate(&Seed::default()) else {
            panic!("seed");
        };
        let Some(vm) = st.vms.iter().find(|v| !v.snapshots.is_empty()) else {
            panic!("the default seed has a VM with snapshots");
        };
        let tree = snapshot_tree(vm);
        assert!(tree.starts_with("Get Snapshot:\n|-ROOT\n--Snapshot Name        : before upgrade\n--Snapshot Id        : 1\n"));
        assert!(tree.contains("\n--|-CHILD\n----Snapshot Name        : patched\n"));
    }
}
