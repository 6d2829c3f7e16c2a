//! Synthetic but realistic facts: hosts with CPUs of a chosen generation, standard networking
//! (management and vMotion vmks on a two-uplink vSwitch), local and shared datastores, and VMs
//! on them. For tests, demos and the benchmark (`esxforge preflight synth`), never for real
//! decisions. Deterministic: the same arguments give the same facts.

use esxforge_kickstart::cluster::{Cluster, Rule, RuleKind};

use super::cpuid::{self, Reg, Register, Vendor};
use crate::facts::{
    Backing, Cpu, CpuIdLevel, CpuPackage, Datastore, Device, Dns, DnsLookups, Hardware, HostFacts,
    Nic, PortGroup, ReverseLookup, StorageDevice, Teaming, VSwitch, Version, Vm, VmkNic,
};

/// Features of each Intel generation, cumulative, and of AMD Zen.
fn generation_features(key: &str) -> Vec<&'static str> {
    const MEROM: &[&str] = &[
        "SSE",
        "SSE2",
        "SSE3",
        "SSSE3",
        "CMPXCHG16B",
        "LAHF/SAHF",
        "NX/XD",
        "LM (64-bit)",
        "VMX",
    ];
    const STEPS: &[(&str, &[&str])] = &[
        ("intel-merom", &[]),
        ("intel-penryn", &["SSE4.1"]),
        ("intel-nehalem", &["SSE4.2", "POPCNT", "RDTSCP"]),
        ("intel-westmere", &["AES", "PCLMULQDQ"]),
        ("intel-sandybridge", &["AVX", "XSAVE"]),
        ("intel-ivybridge", &["F16C", "RDRAND", "SMEP"]),
        (
            "intel-haswell",
            &["AVX2", "BMI1", "BMI2", "FMA", "MOVBE", "LZCNT/ABM"],
        ),
        (
            "intel-broadwell",
            &["ADX", "RDSEED", "3DNowPrefetch", "SMAP"],
        ),
        ("intel-skylake", &["CLFLUSHOPT"]),
    ];
    if key == "amd-zen" {
        return vec![
            "SSE",
            "SSE2",
            "SSE3",
            "SSSE3",
            "SSE4.1",
            "SSE4.2",
            "SSE4A",
            "POPCNT",
            "AES",
            "PCLMULQDQ",
            "AVX",
            "AVX2",
            "FMA",
            "F16C",
            "BMI1",
            "BMI2",
            "ADX",
            "RDSEED",
            "RDRAND",
            "SHA",
            "MOVBE",
            "XSAVE",
            "CLFLUSHOPT",
            "CMPXCHG16B",
            "LAHF/SAHF",
            "LZCNT/ABM",
            "3DNowPrefetch",
            "NX/XD",
            "LM (64-bit)",
            "RDTSCP",
            "SVM",
            "SMEP",
            "SMAP",
        ];
    }
    let mut out: Vec<&str> = MEROM.to_vec();
    for (k, add) in STEPS {
        out.extend_from_slice(add);
        if *k == key {
            break;
        }
    }
    out
}

/// The signature (vendor, family, model, stepping, brand) of a representative CPU per mode.
fn representative(key: &str) -> (Vendor, u32, u32, u32, &'static str) {
    match key {
        "intel-merom" => (
            Vendor::Intel,
            6,
            0x0F,
            11,
            "Intel(R) Xeon(R) CPU 5160 @ 3.00GHz",
        ),
        "intel-penryn" => (
            Vendor::Intel,
            6,
            0x17,
            6,
            "Intel(R) Xeon(R) CPU E5450 @ 3.00GHz",
        ),
        "intel-nehalem" => (
            Vendor::Intel,
            6,
            0x1A,
            5,
            "Intel(R) Xeon(R) CPU X5570 @ 2.93GHz",
        ),
        "intel-westmere" => (
            Vendor::Intel,
            6,
            0x2C,
            2,
            "Intel(R) Xeon(R) CPU X5670 @ 2.93GHz",
        ),
        "intel-sandybridge" => (
            Vendor::Intel,
            6,
            0x2D,
            7,
            "Intel(R) Xeon(R) CPU E5-2670 0 @ 2.60GHz",
        ),
        "intel-ivybridge" => (
            Vendor::Intel,
            6,
            0x3E,
            4,
            "Intel(R) Xeon(R) CPU E5-2670 v2 @ 2.50GHz",
        ),
        "intel-haswell" => (
            Vendor::Intel,
            6,
            0x3F,
            2,
            "Intel(R) Xeon(R) CPU E5-2680 v3 @ 2.50GHz",
        ),
        "intel-broadwell" => (
            Vendor::Intel,
            6,
            0x4F,
            1,
            "Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz",
        ),
        "intel-skylake" => (
            Vendor::Intel,
            6,
            0x55,
            4,
            "Intel(R) Xeon(R) Gold 6130 CPU @ 2.10GHz",
        ),
        _ => (
            Vendor::Amd,
            0x17,
            0x01,
            2,
            "AMD EPYC 7601 32-Core Processor",
        ),
    }
}

/// Leaf 1 EAX for a display family/model/stepping (the inverse of [`cpuid::Signature`]).
pub fn signature_eax(family: u32, model: u32, stepping: u32) -> u32 {
    let (base_family, ext_family) = if family >= 0xF {
        (0xF, family - 0xF)
    } else {
        (family, 0)
    };
    let (base_model, ext_model) = if base_family == 6 || base_family == 0xF {
        (model & 0xF, (model >> 4) & 0xF)
    } else {
        (model & 0xF, 0)
    };
    (ext_family << 20)
        | (ext_model << 16)
        | (base_family << 8)
        | (base_model << 4)
        | (stepping & 0xF)
}

fn bits(value: u32) -> String {
    let mut r = Register::default();
    for b in 0..32u8 {
        r = r.with(b, if value & (1 << b) != 0 { b'1' } else { b'0' });
    }
    r.to_string()
}

/// The CPUID vector (leaves 1, 7, 0x80000001) of a CPU with these features.
pub fn cpuid_levels(family: u32, model: u32, stepping: u32, features: &[&str]) -> Vec<CpuIdLevel> {
    let mut regs: [[u32; 4]; 3] = [[0; 4]; 3];
    let slot = |leaf: u32| match leaf {
        1 => 0usize,
        7 => 1,
        _ => 2,
    };
    for name in features {
        if let Some(f) = cpuid::feature(name) {
            let r = match f.reg {
                Reg::Eax => 0,
                Reg::Ebx => 1,
                Reg::Ecx => 2,
                Reg::Edx => 3,
            };
            regs[slot(f.leaf)][r] |= 1 << f.bit;
        }
    }
    regs[0][0] = signature_eax(family, model, stepping);
    [1u32, 7, 0x8000_0001]
        .iter()
        .map(|&leaf| {
            let r = regs[slot(leaf)];
            CpuIdLevel {
                level: leaf,
                vendor: String::new(),
                // Leaf 7 and 0x80000001 EAX/EBX carry no features we compare: left unknown.
                eax: if leaf == 1 { bits(r[0]) } else { String::new() },
                ebx: if leaf == 0x8000_0001 {
                    String::new()
                } else {
                    bits(r[1])
                },
                ecx: bits(r[2]),
                edx: if leaf == 7 { String::new() } else { bits(r[3]) },
            }
        })
        .collect()
}

/// A host CPU of EVC generation `key` (`intel-haswell`, `amd-zen`, …).
pub fn cpu(key: &str, sockets: u32, cores_per_socket: u32, mhz: u32) -> Cpu {
    let (vendor, family, model, stepping, brand) = representative(key);
    let features = cpuid_levels(family, model, stepping, &generation_features(key));
    let vendor_name = match vendor {
        Vendor::Intel => "GenuineIntel",
        Vendor::Amd => "AuthenticAMD",
    };
    Cpu {
        packages: sockets,
        cores: sockets * cores_per_socket,
        threads: sockets * cores_per_socket * 2,
        mhz,
        hv_support: Some(true),
        pkgs: (0..sockets)
            .map(|i| CpuPackage {
                index: i,
                vendor: vendor_name.into(),
                description: brand.into(),
                family,
                model,
                stepping,
                features: features.clone(),
            })
            .collect(),
        features,
    }
}

fn nic(name: &str, speed: u32) -> Nic {
    Nic {
        name: name.into(),
        mac: format!(
            "00:50:56:00:00:{:02x}",
            name.trim_start_matches("vmnic").parse::<u8>().unwrap_or(0)
        ),
        driver: "ixgben".into(),
        link_up: true,
        speed_mbps: speed,
        full_duplex: true,
        mtu: 1500,
        description: "Intel(R) Ethernet Controller X540-AT2".into(),
    }
}

fn vmk(name: &str, pg: &str, ip: String, tags: &[&str]) -> VmkNic {
    VmkNic {
        name: name.into(),
        portgroup: pg.into(),
        ip,
        netmask: "255.255.255.0".into(),
        mac: String::new(),
        mtu: 1500,
        enabled: true,
        netstack: "defaultTcpipStack".into(),
        tags: tags.iter().map(|t| (*t).to_string()).collect(),
        portset: "vSwitch0".into(),
        dvs_uuid: None,
    }
}

/// The UUID of a shared datastore `i` (the same on every host).
pub fn shared_uuid(i: usize) -> String {
    format!("5f3a{i:04x}-1e2f3a4b-5c6d-001b21{i:06x}")
}

/// A host named `name`, number `i` (addresses 10.0.0.(10+i)), with `key` CPUs, 256 GB,
/// vSwitch0 on vmnic0+vmnic1 (10 Gb/s) carrying `Management Network`, `vMotion`, `VM Network`,
/// a local datastore and `shared` shared datastores.
pub fn host(name: &str, i: usize, key: &str, shared: usize) -> HostFacts {
    let octet = 10 + i;
    let fqdn = format!("{name}.lab.example");
    let mgmt_ip = format!("10.0.0.{octet}");
    let mut datastores = vec![Datastore {
        name: format!("{name}-local"),
        uuid: format!("5f3b{i:04x}-0c2d4e6f-8a9b-b8ca3a{i:06x}"),
        mount_point: format!("/vmfs/volumes/5f3b{i:04x}-0c2d4e6f-8a9b-b8ca3a{i:06x}"),
        fs_type: "VMFS-6".into(),
        size_bytes: 500 << 30,
        free_bytes: 400 << 30,
    }];
    datastores.extend((0..shared).map(|s| Datastore {
        name: format!("shared-{s:02}"),
        uuid: shared_uuid(s),
        mount_point: format!("/vmfs/volumes/{}", shared_uuid(s)),
        fs_type: "VMFS-6".into(),
        size_bytes: 4 << 40,
        free_bytes: 2 << 40,
    }));
    let teaming = Teaming {
        load_balancing: "portid".into(),
        active: vec!["vmnic0".into()],
        standby: vec!["vmnic1".into()],
    };
    HostFacts {
        name: name.into(),
        version: Version {
            product: "VMware ESXi".into(),
            version: "8.0.2".into(),
            build: "22380479".into(),
            update: "2".into(),
            patch: "0".into(),
        },
        uuid: format!("4c4c4544-0042-3510-8052-{i:012x}"),
        hostname: name.into(),
        fqdn: fqdn.clone(),
        maintenance_mode: false,
        hardware: Hardware {
            vendor: "Dell Inc.".into(),
            model: "PowerEdge R640".into(),
            memory_bytes: 256 << 30,
        },
        cpu: cpu(key, 2, 16, 2400),
        nics: vec![nic("vmnic0", 10000), nic("vmnic1", 10000)],
        vswitches: vec![VSwitch {
            name: "vSwitch0".into(),
            mtu: 1500,
            uplinks: vec!["vmnic0".into(), "vmnic1".into()],
            portgroups: vec![
                "Management Network".into(),
                "vMotion".into(),
                "VM Network".into(),
            ],
            teaming,
        }],
        portgroups: ["Management Network", "vMotion", "VM Network"]
            .iter()
            .map(|n| PortGroup {
                name: (*n).into(),
                vswitch: "vSwitch0".into(),
                vlan: 0,
                teaming: None,
            })
            .collect(),
        vmknics: vec![
            vmk(
                "vmk0",
                "Management Network",
                mgmt_ip.clone(),
                &["Management"],
            ),
            vmk("vmk1", "vMotion", format!("10.0.1.{octet}"), &["VMotion"]),
        ],
        dvswitches: Vec::new(),
        iscsi: None,
        datastores,
        storage_devices: vec![StorageDevice {
            name: "naa.600a0980000000000000000000000001".into(),
            is_local: false,
            size_mb: 102_400,
        }],
        dns: Dns {
            servers: vec!["10.0.0.2".into(), "10.0.0.3".into()],
            search: vec!["lab.example".into()],
            lookups: Some(DnsLookups {
                forward: vec![mgmt_ip.clone()],
                reverse: vec![ReverseLookup {
                    address: mgmt_ip,
                    names: vec![fqdn],
                }],
            }),
        },
        ntp: Default::default(),
        syslog: Default::default(),
        services: Vec::new(),
        vibs: Vec::new(),
        vms: Vec::new(),
    }
}

/// A powered-on VM with one disk on `[datastore]`, one NIC on `VM Network`, tools running.
pub fn vm(name: &str, datastore: &str, datastore_uuid: &str, memory_mb: u64) -> Vm {
    Vm {
        vmid: String::new(),
        name: name.into(),
        vmx_path: format!("[{datastore}] {name}/{name}.vmx"),
        vmx_datastore_uuid: Some(datastore_uuid.into()),
        guest_os: "rhel9_64Guest".into(),
        hw_version: "vmx-19".into(),
        powered_on: true,
        num_cpu: 2,
        memory_mb,
        cpu_reservation_mhz: 0,
        memory_reservation_mb: 0,
        memory_overhead_mb: 40,
        active_memory_mb: None,
        cpu_affinity: None,
        memory_affinity: None,
        tools_running_status: "guestToolsRunning".into(),
        heartbeat_status: "green".into(),
        fault_tolerance: false,
        cpuid_masks: Vec::new(),
        devices: vec![
            Device::Controller {
                label: "SCSI controller 0".into(),
                bus_sharing: "noSharing".into(),
            },
            Device::Disk {
                label: "Hard disk 1".into(),
                file: format!("[{datastore}] {name}/{name}.vmdk"),
                datastore_uuid: Some(datastore_uuid.into()),
                rdm_device: None,
                rdm_mode: None,
                controller: "SCSI controller 0".into(),
            },
            Device::Nic {
                label: "Network adapter 1".into(),
                network: "VM Network".into(),
                dvs_uuid: None,
                dvportgroup_key: None,
                connected: true,
                start_connected: true,
                mac: String::new(),
            },
            Device::Removable {
                class: "cdrom".into(),
                label: "CD/DVD drive 1".into(),
                backing: Backing::None,
                connected: false,
                start_connected: false,
            },
        ],
        snapshots: Vec::new(),
    }
}

/// A cluster of `hosts` Haswell hosts and `vms` VMs spread round-robin on 4 shared datastores,
/// with a reservation on every tenth VM and an anti-affinity rule per 50 VMs: the benchmark's
/// scenario (1,000 VMs on 32 hosts).
pub fn cluster(hosts: usize, vms: usize) -> (Vec<HostFacts>, Cluster) {
    let mut facts: Vec<HostFacts> = (0..hosts)
        .map(|i| host(&format!("esx{:02}", i + 1), i, "intel-haswell", 4))
        .collect();
    let mut spec = Cluster {
        name: Some("synthetic".into()),
        ..Cluster::default()
    };
    let n_hosts = facts.len().max(1);
    for v in 0..vms {
        let ds = v % 4;
        let mut m = vm(
            &format!("vm{:04}", v + 1),
            &format!("shared-{ds:02}"),
            &shared_uuid(ds),
            4096,
        );
        if v % 10 == 0 {
            m.cpu_reservation_mhz = 500;
            m.memory_reservation_mb = 2048;
        }
        if let Some(h) = facts.get_mut(v % n_hosts) {
            h.vms.push(m);
        }
    }
    for r in 0..vms / 50 {
        spec.rules.push(Rule {
            name: format!("apart-{r:02}"),
            enabled: true,
            mandatory: false,
            kind: RuleKind::AntiAffinity {
                vms: vec![
                    format!("vm{:04}", r * 50 + 1),
                    format!("vm{:04}", r * 50 + 2),
                ],
            },
        });
    }
    (facts, spec)
}
