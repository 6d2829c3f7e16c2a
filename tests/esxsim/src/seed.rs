//! A new host from a few parameters.
//!
//! [`Seed`] names what differs between hosts in a test (name, release, CPU, NICs, the datastores
//! it shares with other hosts, how many VMs); [`generate`] fills in the rest the way a freshly
//! installed and lightly used host looks: vSwitch0 with the management network, a vMotion
//! vSwitch, a local datastore, a few VMs with disks, NICs, a CD-ROM and snapshots. Everything
//! random is derived from the host name, so the same seed always gives the same host and two
//! hosts never share MACs or UUIDs by accident. Shared datastores keep the UUID the seed gives,
//! which is how two hosts see the same storage.

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::cpu;
use crate::state::*;
use crate::version::Version;

/// What a new host is made from. Every field has a default; see [`Seed::default`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Seed {
    /// Short host name.
    pub name: String,
    pub domain: String,
    /// `6.7`, `7.0`, `7.0.0`, `8.0` or an exact `X.Y.Z`.
    pub version: String,
    /// A key of [`crate::cpu::MODELS`].
    pub cpu: String,
    pub packages: u32,
    pub cores_per_package: u32,
    pub memory_gb: u64,
    /// Physical NICs (at least 1).
    pub nics: u32,
    pub management_ip: String,
    /// Datastores this host shares with others (same UUID on every host that has them).
    pub shared_datastores: Vec<SharedDatastore>,
    /// VMs to register (0 to many); the first ones vary in the ways preflight cares about.
    pub vms: u32,
}

/// A datastore more than one host mounts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SharedDatastore {
    pub name: String,
    /// VMFS UUID (`5e0026d9-a647150e-d8a8-4cedfb76e9d5`) or NFS volume id.
    pub uuid: String,
    /// `VMFS-6` or `NFS`.
    pub fs_type: String,
    pub size_gb: u64,
}

impl Default for Seed {
    fn default() -> Seed {
        Seed {
            name: "esx01".into(),
            domain: "lab.local".into(),
            version: "8.0".into(),
            cpu: "skylake".into(),
            packages: 2,
            cores_per_package: 8,
            memory_gb: 256,
            nics: 4,
            management_ip: "10.0.0.11".into(),
            shared_datastores: vec![SharedDatastore {
                name: "shared-vmfs01".into(),
                uuid: "5e0026d9-a647150e-d8a8-4cedfb76e9d5".into(),
                fs_type: "VMFS-6".into(),
                size_gb: 2048,
            }],
            vms: 3,
        }
    }
}

/// SplitMix64: small, deterministic, good enough for names and MACs.
struct Rng(u64);

impl Rng {
    fn from_name(name: &str) -> Rng {
        // FNV-1a of the name as the seed.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in name.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        Rng(h)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn hex(&mut self, digits: usize) -> String {
        let mut s = String::with_capacity(digits);
        while s.len() < digits {
            s.push_str(&format!("{:016x}", self.next()));
        }
        s.truncate(digits);
        s
    }

    fn mac(&mut self, oui: &str) -> String {
        let h = self.hex(6);
        format!("{oui}:{}:{}:{}", &h[0..2], &h[2..4], &h[4..6])
    }
}

/// A VMFS-style UUID (`8-8-4-12` hex digits).
fn vmfs_uuid(rng: &mut Rng) -> String {
    format!(
        "{}-{}-{}-{}",
        rng.hex(8),
        rng.hex(8),
        rng.hex(4),
        rng.hex(12)
    )
}

/// The NAA id of the LUN behind a shared VMFS datastore: derived from its UUID so every host
/// that mounts it sees the same device.
fn shared_naa(uuid: &str) -> String {
    let digits: String = uuid.chars().filter(char::is_ascii_hexdigit).collect();
    let mut id = format!("naa.6000c29{digits}");
    id.truncate(36);
    id
}

const GIB: u64 = 1 << 30;

/// Builds the host a seed describes.
pub fn generate(seed: &Seed) -> Result<State, Error> {
    let version = Version::named(&seed.version)
        .ok_or_else(|| Error::Seed(format!("version {:?} is not X.Y or X.Y.Z", seed.version)))?;
    let model = cpu::model(&seed.cpu).ok_or_else(|| {
        let known: Vec<&str> = cpu::MODELS.iter().map(|m| m.key).collect();
        Error::Seed(format!(
            "cpu {:?} is not one of {}",
            seed.cpu,
            known.join(", ")
        ))
    })?;
    let mgmt: std::net::Ipv4Addr = seed.management_ip.parse().map_err(|_| {
        Error::Seed(format!(
            "management_ip {:?} is not an IPv4 address",
            seed.management_ip
        ))
    })?;
    let [a, b, c, d] = mgmt.octets();
    let mut rng = Rng::from_name(&seed.name);
    let major = version.major();
    let hw_version = match major {
        0..=6 => "vmx-14",
        7 => "vmx-19",
        _ => "vmx-20",
    };

    let host = Host {
        hostname: seed.name.clone(),
        domain: seed.domain.clone(),
        uuid: format!(
            "{}-{}-{}-{}-{}",
            rng.hex(8),
            rng.hex(4),
            rng.hex(4),
            rng.hex(4),
            rng.hex(12)
        ),
        product: "VMware ESXi".into(),
        version: version.clone(),
        vendor: "Dell Inc.".into(),
        model: "PowerEdge R640".into(),
        serial: rng.hex(7).to_uppercase(),
        memory_bytes: seed.memory_gb.saturating_mul(GIB),
        bios_version: "2.19.1".into(),
        bios_date: "2023-06-14T00:00:00Z".into(),
        boot_time: "2024-05-06T07:08:09.123456Z".into(),
        reboots: 0,
    };

    let cpu_state = Cpu {
        model: model.key.into(),
        packages: seed.packages.max(1),
        cores_per_package: seed.cores_per_package.max(1),
        threads_per_core: 2,
        hz: 2_100_000_000,
        hyperthreading: true,
        hv_support: 3,
        cpuid_overrides: Vec::new(),
    };

    let nic_count = seed.nics.max(1);
    let (driver, description) = if major >= 7 {
        ("i40en", "Intel(R) Ethernet Controller X710 for 10GbE SFP+")
    } else {
        (
            "ixgben",
            "Intel(R) 82599 10 Gigabit Dual Port Network Connection",
        )
    };
    let nics: Vec<Nic> = (0..nic_count)
        .map(|i| Nic {
            name: format!("vmnic{i}"),
            pci: format!("0000:{:02x}:00.{}", 0x18 + i / 2, i % 2),
            driver: driver.into(),
            admin_up: true,
            link_up: i < 4,
            speed: if i < 4 { 10000 } else { 0 },
            full_duplex: i < 4,
            mac: rng.mac("3c:fd:fe"),
            mtu: if i == 2 || i == 3 { 9000 } else { 1500 },
            description: description.into(),
        })
        .collect();
    let nic = |i: u32| format!("vmnic{}", i.min(nic_count - 1));

    let vswitch0 = VSwitch {
        name: "vSwitch0".into(),
        mtu: 1500,
        ports: 128,
        cdp_status: "listen".into(),
        uplinks: vec![nic(0)],
        teaming: Teaming {
            load_balancing: "srcport".into(),
            failure_detection: "link".into(),
            notify_switches: true,
            failback: true,
            active: vec![nic(0)],
            standby: Vec::new(),
        },
    };
    let mut vswitches = vec![vswitch0];
    let mut portgroups = vec![
        PortGroup {
            name: "Management Network".into(),
            vswitch: "vSwitch0".into(),
            vlan: 0,
            overrides: TeamingOverride::default(),
        },
        PortGroup {
            name: "VM Network".into(),
            vswitch: "vSwitch0".into(),
            vlan: 0,
            overrides: TeamingOverride::default(),
        },
    ];
    let mut vmknics = vec![Vmknic {
        name: "vmk0".into(),
        portgroup: "Management Network".into(),
        mac: nics.first().map(|n| n.mac.clone()).unwrap_or_default(),
        mtu: 1500,
        enabled: true,
        netstack: "defaultTcpipStack".into(),
        ipv4: Ipv4 {
            address: seed.management_ip.clone(),
            netmask: "255.255.255.0".into(),
            kind: "STATIC".into(),
            gateway: format!("{a}.{b}.{c}.1"),
        },
        tags: vec!["Management".into()],
        port_id: 33_554_436,
    }];
    if nic_count >= 4 {
        let uplinks = vec![nic(2), nic(3)];
        vswitches.push(VSwitch {
            name: "vSwitch1".into(),
            mtu: 9000,
            ports: 1024,
            cdp_status: "listen".into(),
            uplinks: uplinks.clone(),
            teaming: Teaming {
                load_balancing: "srcport".into(),
                failure_detection: "link".into(),
                notify_switches: true,
                failback: true,
                active: uplinks,
                standby: Vec::new(),
            },
        });
        portgroups.push(PortGroup {
            name: "vMotion".into(),
            vswitch: "vSwitch1".into(),
            vlan: 20,
            overrides: TeamingOverride::default(),
        });
        portgroups.push(PortGroup {
            name: "Prod VMs".into(),
            vswitch: "vSwitch1".into(),
            vlan: 100,
            overrides: TeamingOverride::default(),
        });
        vmknics.push(Vmknic {
            name: "vmk1".into(),
            portgroup: "vMotion".into(),
            mac: rng.mac("00:50:56"),
            mtu: 9000,
            enabled: true,
            netstack: "defaultTcpipStack".into(),
            ipv4: Ipv4 {
                address: format!("{a}.{b}.{}.{d}", c.wrapping_add(20)),
                netmask: "255.255.255.0".into(),
                kind: "STATIC".into(),
                gateway: "0.0.0.0".into(),
            },
            tags: vec!["VMotion".into()],
            port_id: 50_331_652,
        });
    }

    // Storage: a local boot disk holding datastore1 (and OSDATA on 7.0+), boot banks, and the
    // shared datastores with their LUNs.
    let local_naa = format!("naa.5000c500{}", rng.hex(8));
    let mut disks = vec![ScsiDisk {
        name: local_naa.clone(),
        vendor: "ATA".into(),
        model: "MZ7KH480HAHQ0D3".into(),
        size_mb: 457_862,
        is_local: true,
        is_ssd: true,
        is_boot: true,
    }];
    let mut datastores = vec![Datastore {
        name: "datastore1".into(),
        uuid: vmfs_uuid(&mut rng),
        fs_type: if major >= 6 { "VMFS-6" } else { "VMFS-5" }.into(),
        size: 400 * GIB,
        free: 310 * GIB,
        device: local_naa.clone(),
    }];
    if major >= 7 {
        let id = vmfs_uuid(&mut rng);
        datastores.push(Datastore {
            name: format!("OSDATA-{id}"),
            uuid: id,
            fs_type: "VMFSOS".into(),
            size: 32 * GIB,
            free: 30 * GIB,
            device: local_naa.clone(),
        });
        for bank in ["BOOTBANK1", "BOOTBANK2"] {
            let uuid = format!(
                "{}-{}-{}-{}",
                rng.hex(8),
                rng.hex(8),
                rng.hex(4),
                rng.hex(12)
            );
            datastores.push(Datastore {
                name: bank.into(),
                uuid,
                fs_type: "vfat".into(),
                size: 4_293_591_040,
                free: 4_000_000_000,
                device: local_naa.clone(),
            });
        }
    } else {
        for size in [4_293_591_040_u64, 261_853_184, 261_853_184] {
            datastores.push(Datastore {
                name: String::new(),
                uuid: format!(
                    "{}-{}-{}-{}",
                    rng.hex(8),
                    rng.hex(8),
                    rng.hex(4),
                    rng.hex(12)
                ),
                fs_type: "vfat".into(),
                size,
                free: size / 2,
                device: local_naa.clone(),
            });
        }
    }
    for shared in &seed.shared_datastores {
        let size = shared.size_gb.saturating_mul(GIB);
        let device = if shared.fs_type == "NFS" {
            format!("nas01.{}:/export/{}", seed.domain, shared.name)
        } else {
            let naa = shared_naa(&shared.uuid);
            disks.push(ScsiDisk {
                name: naa.clone(),
                vendor: "NETAPP".into(),
                model: "LUN C-Mode".into(),
                size_mb: size / (1 << 20),
                is_local: false,
                is_ssd: true,
                is_boot: false,
            });
            naa
        };
        datastores.push(Datastore {
            name: shared.name.clone(),
            uuid: shared.uuid.clone(),
            fs_type: shared.fs_type.clone(),
            size,
            free: size / 3,
            device,
        });
    }

    let iscsi = Iscsi {
        enabled: false,
        adapter: format!("vmhba{}", 64 + rng.next() % 3),
        iqn: format!("iqn.1998-01.com.vmware:{}-{}", seed.name, rng.hex(8)),
        ..Iscsi::default()
    };

    let vms = (0..seed.vms)
        .map(|i| vm(i, seed, &datastores, hw_version, &mut rng))
        .collect();

    let fqdn = host.fqdn();
    Ok(State {
        host,
        maintenance_mode: false,
        cpu: cpu_state,
        nics,
        vswitches,
        portgroups,
        vmknics,
        dns: Dns {
            servers: vec![format!("{a}.{b}.{c}.2")],
            search: vec![seed.domain.clone()],
            // The host's own records agree, as a healthy site's do.
            forward: [(fqdn.clone(), vec![mgmt.to_string()])].into(),
            reverse: [(mgmt.to_string(), vec![fqdn])].into(),
            // Which busybox ESXi builds is not sampled; the releases differ here so that both
            // layouts run end to end.
            nslookup: if major >= 7 {
                NslookupStyle::Resolver
            } else {
                NslookupStyle::Libc
            },
        },
        ntp: Ntp {
            enabled: false,
            servers: Vec::new(),
            loglevel: "warning".into(),
        },
        syslog: Syslog {
            loghost: Vec::new(),
            logdir: "/scratch/log".into(),
            logdir_unique: false,
            reloads: 0,
        },
        firewall: firewall(),
        iscsi,
        datastores,
        disks,
        advanced: advanced(&seed.name),
        services: services(),
        vibs: vibs(&version),
        vms,
        faults: Faults::default(),
        knobs: Knobs::default(),
        paths: Paths::default(),
        changes: Vec::new(),
    })
}

/// VM `i`: the first few differ in what vMotion preflight checks.
fn vm(i: u32, seed: &Seed, datastores: &[Datastore], hw: &str, rng: &mut Rng) -> Vm {
    let local = datastores.first();
    let shared = datastores.iter().find(|d| {
        d.fs_type.starts_with("VMFS") && seed.shared_datastores.iter().any(|s| s.uuid == d.uuid)
    });
    let nfs = datastores.iter().find(|d| d.fs_type == "NFS");
    // VM 1 lives on the local datastore (not movable without storage vMotion); the others on
    // the shared one when there is one.
    let home = if i == 1 { local } else { shared.or(local) };
    let (ds_name, ds_uuid) = home
        .map(|d| (d.name.clone(), d.uuid.clone()))
        .unwrap_or_default();
    let name = match i {
        0 => format!("{}-web01", seed.name),
        1 => format!("{}-db 01 [prod]", seed.name),
        2 => format!("{}-build", seed.name),
        n => format!("{}-vm{:02}", seed.name, n + 1),
    };
    let powered_on = i != 2;
    let mut devices = vec![
        Device::ScsiController {
            key: 1000,
            model: if i == 1 { "lsisas" } else { "pvscsi" }.into(),
            shared_bus: "noSharing".into(),
            bus: 0,
        },
        Device::Disk {
            key: 2000,
            controller: 1000,
            unit: 0,
            file: format!("[{ds_name}] {name}/{name}.vmdk"),
            datastore_uuid: ds_uuid.clone(),
            capacity_kb: 41_943_040,
            thin: i != 1,
            rdm: None,
        },
        Device::Nic {
            key: 4000,
            model: "vmxnet3".into(),
            network: if i == 0 { "Prod VMs" } else { "VM Network" }.into(),
            mac: rng.mac("00:0c:29"),
            connected: powered_on,
            start_connected: true,
            dvs: None,
        },
    ];
    match i {
        0 => devices.push(Device::Cdrom {
            key: 3000,
            backing: match nfs {
                Some(n) => Backing::File {
                    path: format!("[{}] iso/ubuntu-22.04.iso", n.name),
                    datastore_uuid: n.uuid.clone(),
                },
                None => Backing::Remote,
            },
            connected: false,
            start_connected: false,
        }),
        1 => devices.push(Device::Cdrom {
            key: 3000,
            backing: Backing::HostDevice {
                device: "/vmfs/devices/cdrom/mpx.vmhba32:C0:T0:L0".into(),
            },
            connected: true,
            start_connected: true,
        }),
        _ => devices.push(Device::Cdrom {
            key: 3000,
            backing: Backing::Remote,
            connected: false,
            start_connected: false,
        }),
    }
    let snapshots = if i == 2 {
        vec![Snapshot {
            id: 1,
            name: "before upgrade".into(),
            description: "clean install".into(),
            created: "3/26/2024 12:51:38".into(),
            powered_on: false,
            children: vec![Snapshot {
                id: 2,
                name: "patched".into(),
                description: String::new(),
                created: "3/27/2024 9:0:4".into(),
                powered_on: false,
                children: Vec::new(),
            }],
        }]
    } else {
        Vec::new()
    };
    Vm {
        vmid: i + 1,
        name: name.clone(),
        datastore: ds_name,
        dir: name.clone(),
        guest_id: if i == 1 {
            "windows2019srv_64Guest"
        } else {
            "ubuntu64Guest"
        }
        .into(),
        guest_full_name: if i == 1 {
            "Microsoft Windows Server 2019 (64-bit)"
        } else {
            "Ubuntu Linux (64-bit)"
        }
        .into(),
        hw_version: hw.into(),
        annotation: if i == 0 {
            "Built by CI".into()
        } else {
            String::new()
        },
        powered_on,
        num_cpu: if i == 1 { 4 } else { 2 },
        cores_per_socket: 1,
        memory_mb: if i == 1 { 16384 } else { 4096 },
        cpu_reservation_mhz: if i == 1 { 2000 } else { 0 },
        memory_reservation_mb: if i == 1 { 8192 } else { 0 },
        memory_overhead_mb: 48,
        active_memory_mb: if powered_on { 409 } else { 0 },
        cpu_affinity: if i == 1 { vec![0, 1, 2, 3] } else { Vec::new() },
        memory_affinity: Vec::new(),
        tools_running: if powered_on {
            "guestToolsRunning"
        } else {
            "guestToolsNotRunning"
        }
        .into(),
        heartbeat: if powered_on { "green" } else { "gray" }.into(),
        guest_hostname: if powered_on {
            name.replace([' ', '[', ']'], "")
        } else {
            String::new()
        },
        guest_ip: if powered_on {
            format!("10.0.100.{}", 10 + i)
        } else {
            String::new()
        },
        fault_tolerance: false,
        cpuid_masks: Vec::new(),
        devices,
        snapshots,
        invalid: false,
    }
}

fn firewall() -> Vec<Ruleset> {
    [
        ("sshServer", true),
        ("sshClient", false),
        ("nfsClient", true),
        ("nfs41Client", true),
        ("dhcp", true),
        ("dns", true),
        ("snmp", true),
        ("ntpClient", false),
        ("CIMHttpServer", true),
        ("CIMHttpsServer", true),
        ("CIMSLP", true),
        ("iSCSI", false),
        ("vMotion", true),
        ("vSphereClient", true),
        ("webAccess", true),
        ("syslog", false),
        ("httpClient", false),
        ("faultTolerance", true),
        ("updateManager", true),
    ]
    .iter()
    .map(|(name, enabled)| Ruleset {
        name: (*name).into(),
        enabled: *enabled,
        allowed_all: true,
    })
    .collect()
}

fn int_option(
    path: &str,
    value: i64,
    default: i64,
    min: i64,
    max: i64,
    description: &str,
) -> AdvancedOption {
    AdvancedOption {
        path: path.into(),
        kind: "integer".into(),
        int_value: value,
        default_int: default,
        min,
        max,
        description: description.into(),
        ..AdvancedOption::default()
    }
}

fn string_option(path: &str, value: &str, description: &str) -> AdvancedOption {
    AdvancedOption {
        path: path.into(),
        kind: "string".into(),
        string_value: value.into(),
        description: description.into(),
        ..AdvancedOption::default()
    }
}

fn advanced(name: &str) -> Vec<AdvancedOption> {
    vec![
        int_option(
            "/UserVars/SuppressShellWarning",
            0,
            0,
            0,
            1,
            "Don't show warning for enabled local and remote shell access",
        ),
        int_option(
            "/UserVars/ESXiShellInteractiveTimeOut",
            0,
            0,
            0,
            86400,
            "Idle time before an interactive shell is automatically logged out (in seconds). 0 disables.",
        ),
        int_option(
            "/UserVars/ESXiShellTimeOut",
            0,
            0,
            0,
            86400,
            "Time before automatically disabling local and remote shell access (in seconds, 0 disables).",
        ),
        int_option(
            "/Net/TcpipHeapSize",
            0,
            0,
            0,
            32,
            "Initial size of the tcpip module heap in megabytes.",
        ),
        int_option(
            "/Net/TcpipHeapMax",
            512,
            512,
            32,
            1536,
            "Max megabytes the tcpip module heap can grow to.",
        ),
        int_option(
            "/NFS/MaxVolumes",
            8,
            8,
            8,
            256,
            "Maximum number of mounted NFS v3 volumes.",
        ),
        int_option(
            "/Migrate/Enabled",
            1,
            1,
            0,
            1,
            "Enable hot migration support",
        ),
        int_option(
            "/Mem/ShareForceSalting",
            2,
            2,
            0,
            2,
            "Mem.ShareForceSalting",
        ),
        int_option(
            "/Security/AccountLockFailures",
            5,
            5,
            0,
            99,
            "Maximum allowed failed login attempts before locking out a user's account. Zero disables account locking.",
        ),
        string_option(
            "/Syslog/global/logHost",
            "",
            "The remote host to output logs to. Reset to default on null. Multiple value allowed, use ',' as separator.",
        ),
        string_option(
            "/Syslog/global/logDir",
            "[] /scratch/log",
            "Datastore path of directory to output logs to. Reset to default on null. Example: [datastoreName] /logdir",
        ),
        string_option(
            "/ScratchConfig/ConfiguredScratchLocation",
            "",
            "The directory configured to be used for scratch space. Changes will take effect on next reboot.",
        ),
        string_option(
            "/ScratchConfig/CurrentScratchLocation",
            "/scratch",
            "The directory currently being used for scratch space.",
        ),
        string_option("/Misc/HostName", name, "Host name"),
        string_option(
            "/UserVars/HostClientWelcomeMessage",
            "",
            "Welcome message for the host client",
        ),
    ]
}

fn services() -> Vec<Service> {
    [
        ("DCUI", "Direct Console UI", true, "on"),
        ("TSM", "ESXi Shell", false, "off"),
        ("TSM-SSH", "SSH", true, "on"),
        ("lbtd", "Load-Based Teaming Daemon", true, "on"),
        ("ntpd", "NTP Daemon", false, "off"),
        ("sfcbd-watchdog", "CIM Server", false, "on"),
        ("snmpd", "SNMP Server", false, "on"),
        ("vpxa", "VMware vCenter Agent", false, "on"),
    ]
    .iter()
    .map(|(key, label, running, policy)| Service {
        key: (*key).into(),
        label: (*label).into(),
        running: *running,
        policy: (*policy).into(),
    })
    .collect()
}

fn vibs(v: &Version) -> Vec<Vib> {
    let major = v.major();
    let base = format!("{}-0.{}.{}", v.version, v.update, v.build);
    let mut list = vec![
        ("esx-base", base.clone(), "VMware", "VMwareCertified"),
        (
            "esx-ui",
            "2.13.0-22130491".to_string(),
            "VMware",
            "VMwareCertified",
        ),
        ("vsan", base.clone(), "VMware", "VMwareCertified"),
        (
            "vmkusb",
            "0.1-8vmw.".to_string() + &base,
            "VMW",
            "VMwareCertified",
        ),
        (
            "ntg3",
            "4.1.9.0-4vmw.".to_string() + &base,
            "VMW",
            "VMwareCertified",
        ),
        (
            "net-dell-idrac",
            "1.0.0-1".to_string(),
            "DEL",
            "PartnerSupported",
        ),
    ];
    if major >= 7 {
        list.push((
            "i40en",
            "1.11.1.32-1vmw.".to_string() + &base,
            "VMW",
            "VMwareCertified",
        ));
    } else {
        list.push((
            "ixgben",
            "1.7.1.16-1vmw.".to_string() + &base,
            "VMW",
            "VMwareCertified",
        ));
    }
    list.into_iter()
        .map(|(name, version, vendor, acceptance)| Vib {
            name: name.into(),
            version,
            vendor: vendor.into(),
            acceptance: acceptance.into(),
            install_date: "2024-05-06".into(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_host_and_shared_storage_agrees() {
        let a = generate(&Seed::default());
        let b = generate(&Seed::default());
        assert!(a.is_ok());
        assert_eq!(a.as_ref().ok(), b.as_ref().ok());
        let other = generate(&Seed {
            name: "esx02".into(),
            ..Seed::default()
        });
        let (Ok(a), Ok(other)) = (a, other) else {
            return;
        };
        assert_ne!(a.host.uuid, other.host.uuid);
        let shared = |s: &State| {
            s.datastores
                .iter()
                .find(|d| d.name == "shared-vmfs01")
                .map(|d| (d.uuid.clone(), d.device.clone()))
        };
        assert_eq!(shared(&a), shared(&other));
        assert_ne!(
            a.nics.first().map(|n| &n.mac),
            other.nics.first().map(|n| &n.mac)
        );
    }

    #[test]
    fn bad_seeds_say_which_field() {
        let err = |s: Seed| {
            generate(&s)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert!(
            err(Seed {
                cpu: "z80".into(),
                ..Seed::default()
            })
            .contains("cpu \"z80\"")
        );
        assert!(
            err(Seed {
                version: "eight".into(),
                ..Seed::default()
            })
            .contains("version")
        );
        assert!(
            err(Seed {
                management_ip: "10.0.0.300".into(),
                ..Seed::default()
            })
            .contains("management_ip")
        );
    }
}
