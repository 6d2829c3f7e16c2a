//! `esxforge host facts` asks per VM only what it needs: devices from `get.config`, the power
//! state and tools status from `get.summary`, and `device.getdevices` / `power.getstate` /
//! `get.guest` only for a VM those left short. Checked on the simulator's command log (what
//! really ran on the host).

mod common;

use common::hostops::facts;
use common::sshd::{FailRule, Faults, Seed, SimHost, SimOptions, State};
use esxforge_esxsim::cmdlog::Entry;
use esxforge_hostcfg::facts::{Device, HostFacts, PassthroughType};

/// How many times the host ran `vim-cmd vmsvc/<cmd> …`.
fn ran(host: &SimHost, cmd: &str) -> usize {
    let prefix = format!("vim-cmd vmsvc/{cmd} ");
    host.commands()
        .iter()
        .filter(|e| matches!(e, Entry::Command(c) if c.starts_with(&prefix)))
        .count()
}

/// What the fallbacks stand in for: devices, CPUs, memory, power state and tools, per VM.
fn vm_hardware(f: &HostFacts) -> Vec<String> {
    f.vms
        .iter()
        .map(|v| {
            format!(
                "{} on={} cpu={} mem={} tools={} {:?}",
                v.name, v.powered_on, v.num_cpu, v.memory_mb, v.tools_running_status, v.devices
            )
        })
        .collect()
}

#[test]
fn config_and_summary_answer_for_devices_power_state_and_tools() {
    let host = SimHost::start(SimOptions {
        command_log: true,
        ..SimOptions::default()
    })
    .unwrap();
    let st = host.state();
    let (f, notes) = facts(&host);
    assert!(st.vms.len() >= 2, "the seed has VMs");
    assert_eq!(f.vms.len(), st.vms.len());
    for want in &st.vms {
        let got = f
            .vms
            .iter()
            .find(|v| v.vmid == want.vmid.to_string())
            .unwrap();
        assert_eq!(got.powered_on, want.powered_on, "{}", want.name);
        assert_eq!(got.num_cpu, want.num_cpu);
        assert_eq!(got.memory_mb, want.memory_mb);
        assert_eq!(got.tools_running_status, want.tools_running);
        assert!(!got.devices.is_empty(), "{} has devices", want.name);
        assert!(got.devices.iter().any(|d| matches!(d, Device::Disk { .. })));
    }
    assert!(st.vms.iter().any(|v| v.powered_on) && st.vms.iter().any(|v| !v.powered_on));
    assert!(notes.iter().all(|n| !n.contains("vmsvc")), "{notes:?}");
    assert_eq!(ran(&host, "get.config"), st.vms.len());
    assert_eq!(ran(&host, "get.summary"), st.vms.len());
    for fallback in ["device.getdevices", "power.getstate", "get.guest"] {
        assert_eq!(ran(&host, fallback), 0, "{fallback}");
    }
}

/// `get.config` and `get.summary` fail for every VM, as hostd does for a VM it cannot load.
fn config_and_summary_fail() -> Faults {
    let fails = |command: &str| FailRule {
        command: command.into(),
        exit_code: 1,
        stderr: "vim.fault.NotFound".into(),
        ..FailRule::default()
    };
    Faults {
        fail: vec![
            fails("vim-cmd vmsvc/get.config"),
            fails("vim-cmd vmsvc/get.summary"),
        ],
        ..Faults::default()
    }
}

#[test]
fn getdevices_getstate_and_get_guest_fill_in_when_config_and_summary_fail() {
    let healthy = SimHost::start(SimOptions::default()).unwrap();
    let broken = SimHost::start(SimOptions {
        command_log: true,
        faults: config_and_summary_fail(),
        ..SimOptions::default()
    })
    .unwrap();
    let (want, _) = facts(&healthy);
    let (got, notes) = facts(&broken);
    assert_eq!(vm_hardware(&got), vm_hardware(&want));
    let vms = want.vms.len();
    for fallback in ["device.getdevices", "power.getstate", "get.guest"] {
        assert_eq!(ran(&broken, fallback), vms, "{fallback}");
    }
    for cmd in ["get.config", "get.summary"] {
        assert_eq!(
            notes.iter().filter(|n| n.contains(cmd)).count(),
            vms,
            "{notes:?}"
        );
    }
    // Without the fallbacks these would be gone: the comparison above would see it.
    assert!(
        want.vms
            .iter()
            .all(|v| !v.devices.is_empty() && !v.tools_running_status.is_empty())
    );
    assert!(want.vms.iter().any(|v| v.powered_on));
}

/// VM names and datastore names with spaces and brackets, and multi-line annotations, come
/// back exactly: from the VMs' config, and from getallvms' rows alone when the config and
/// summary fail.
#[test]
fn names_and_paths_with_brackets_spaces_and_multiline_annotations_are_exact() {
    let seed = || {
        let mut seed = Seed::default();
        seed.shared_datastores[0].name = "san [gold] 01".into();
        seed
    };
    let odd = |st: &mut State| {
        st.vms[0].annotation = "Built by CI\nowner: web [team]\n\n2 [x] y.vmx vmx-13".into();
        st.vms[2].name = "[tmp] build   01".into();
        st.vms[2].dir = st.vms[2].name.clone();
    };
    let healthy = SimHost::start(SimOptions {
        seed: seed(),
        ..SimOptions::default()
    })
    .unwrap();
    let rows_only = SimHost::start(SimOptions {
        seed: seed(),
        faults: config_and_summary_fail(),
        ..SimOptions::default()
    })
    .unwrap();
    healthy.modify(odd);
    rows_only.modify(odd);
    let st = healthy.state();
    let shared = st
        .datastores
        .iter()
        .find(|d| d.name == "san [gold] 01")
        .unwrap();
    assert!(
        st.vms[1].name.ends_with("-db 01 [prod]"),
        "the seed's bracketed name"
    );
    for host in [&healthy, &rows_only] {
        let (f, _) = facts(host);
        let got: Vec<(&str, &str)> = f
            .vms
            .iter()
            .map(|v| (v.name.as_str(), v.vmx_path.as_str()))
            .collect();
        let want: Vec<(String, String)> = st
            .vms
            .iter()
            .map(|v| (v.name.clone(), v.vmx_path()))
            .collect();
        let want: Vec<(&str, &str)> = want.iter().map(|(n, p)| (n.as_str(), p.as_str())).collect();
        assert_eq!(got, want);
        assert_eq!(
            f.vms[0].vmx_datastore_uuid.as_deref(),
            Some(shared.uuid.as_str())
        );
        assert_eq!(
            f.vms[2].vmx_datastore_uuid.as_deref(),
            Some(shared.uuid.as_str())
        );
        assert_eq!(f.vms[0].hw_version, st.vms[0].hw_version);
    }
}

/// A VM with a NIC on a distributed port group, a vGPU, a DirectPath device, a USB device and
/// vendor-specific CPUID masks, as the simulator prints them in `get.config`.
fn special_devices(st: &mut State) {
    use esxforge_esxsim::state::{CpuIdLevel, Device as Sim, DvPort};
    let vm = &mut st.vms[0];
    vm.devices.push(Sim::Nic {
        key: 4001,
        model: "vmxnet3".into(),
        network: "prod (vlan 20)".into(),
        mac: "00:50:56:aa:bb:cc".into(),
        connected: true,
        start_connected: true,
        dvs: Some(DvPort {
            switch_uuid: "50 1a 2b 3c 4d 5e 6f 70-81 92 a3 b4 c5 d6 e7 f8".into(),
            portgroup_key: "dvportgroup-1017".into(),
        }),
    });
    for (key, bus, label) in [
        (13000, "vgpu", "PCI device 0"),
        (13001, "pci", "PCI device 1"),
        (13002, "usb", "USB 1"),
    ] {
        vm.devices.push(Sim::Passthrough {
            key,
            bus: bus.into(),
            label: label.into(),
            connected: false,
        });
    }
    vm.cpuid_masks = vec![
        CpuIdLevel {
            level: 0x8000_0001,
            vendor: "amd".into(),
            edx: "----:----:---0:----:----:----:----:----".into(),
            ..CpuIdLevel::default()
        },
        CpuIdLevel {
            level: 0xd,
            eax: "----:----:----:----:----:----:----:--0-".into(),
            ..CpuIdLevel::default()
        },
    ];
}

#[test]
fn distributed_port_groups_passthrough_types_and_vendor_masks_come_through() {
    let host = SimHost::start(SimOptions {
        command_log: true,
        ..SimOptions::default()
    })
    .unwrap();
    host.modify(special_devices);
    let (f, notes) = facts(&host);
    assert!(notes.iter().all(|n| !n.contains("vmsvc")), "{notes:?}");
    let vm = &f.vms[0];
    let dv = vm
        .devices
        .iter()
        .find_map(|d| match d {
            Device::Nic {
                network,
                dvs_uuid: Some(uuid),
                dvportgroup_key,
                ..
            } => Some((network.as_str(), uuid.as_str(), dvportgroup_key.as_deref())),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{:#?}", vm.devices));
    assert_eq!(
        dv,
        (
            "prod (vlan 20)",
            "50 1a 2b 3c 4d 5e 6f 70-81 92 a3 b4 c5 d6 e7 f8",
            Some("dvportgroup-1017")
        ),
        "the name comes from get.networks"
    );
    // Only the VM with a distributed port asks for its networks.
    assert_eq!(ran(&host, "get.networks"), 1);
    let kinds: Vec<(&str, PassthroughType)> = vm
        .devices
        .iter()
        .filter_map(|d| match d {
            Device::Passthrough {
                label, passthrough, ..
            } => Some((label.as_str(), *passthrough)),
            _ => None,
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("PCI device 0", PassthroughType::Vgpu),
            ("PCI device 1", PassthroughType::Pci),
            ("USB 1", PassthroughType::Usb),
        ]
    );
    let mask = |level: u32, vendor: &str| {
        vm.cpuid_masks
            .iter()
            .find(|m| m.level == level && m.vendor == vendor)
            .unwrap_or_else(|| panic!("{level:x} {vendor:?}: {:#?}", vm.cpuid_masks))
    };
    assert!(mask(0x8000_0001, "amd").edx.contains("---0"));
    assert!(mask(0xd, "").eax.ends_with("--0-"));
    assert!(
        vm.cpuid_masks
            .iter()
            .all(|m| m.level != 0x8000_0001 || m.vendor == "amd"),
        "an AMD mask never becomes one for any vendor: {:#?}",
        vm.cpuid_masks
    );
}

#[test]
fn a_distributed_port_group_keeps_its_key_when_the_host_cannot_name_it() {
    let host = SimHost::start(SimOptions {
        faults: Faults {
            fail: vec![FailRule {
                command: "vim-cmd vmsvc/get.networks".into(),
                exit_code: 1,
                stderr: "vim.fault.NotFound".into(),
                ..FailRule::default()
            }],
            ..Faults::default()
        },
        ..SimOptions::default()
    })
    .unwrap();
    host.modify(special_devices);
    let (f, notes) = facts(&host);
    assert!(
        f.vms[0].devices.iter().any(|d| matches!(d,
            Device::Nic { network, dvportgroup_key: Some(key), .. }
                if network == "dvportgroup-1017" && key == "dvportgroup-1017")),
        "{:#?}",
        f.vms[0].devices
    );
    assert_eq!(
        notes.iter().filter(|n| n.contains("get.networks")).count(),
        1,
        "{notes:?}"
    );
}
