//! `vim-cmd hostsvc/…`.

use std::time::{SystemTime, UNIX_EPOCH};

use super::vmodl::{V, b, i, opt_s, s, u};
use super::{fault_reply, mutate};
use crate::host_ops::{self, Fault};
use crate::state::State;
use crate::store::Store;
use crate::{Error, Reply, bundle, cpu, reboot};

pub fn backup(st: &State) -> Reply {
    match bundle::write(st) {
        Ok((_, line)) => Reply::ok(format!("{line}\n")),
        Err(e) => fault_reply(&Fault::new("FileFault", e.to_string())),
    }
}

/// `restore_config [1|0] <path>`: `1` forces past a UUID/build mismatch.
pub fn restore(args: &[String], line: &str, store: &Store) -> Result<Reply, Error> {
    let (force, path) = match args {
        [flag, path] if flag == "1" || flag == "0" => (flag == "1", path),
        [path] => (false, path),
        _ => {
            return Ok(Reply::error(
                "Usage: restore_config [force(0|1)] bundle_path",
            ));
        }
    };
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            return Ok(fault_reply(&Fault::new(
                "FileFault",
                format!("Cannot read {path}: {e}"),
            )));
        }
    };
    let mut reboot_after = None;
    let reply = mutate(store, line, |st| {
        if !st.maintenance_mode {
            return fault_reply(&Fault::new(
                "InvalidState",
                "The operation is not allowed in the current state.",
            ));
        }
        let (manifest, saved) = match bundle::read(&bytes) {
            Ok(x) => x,
            Err(e) => return fault_reply(&Fault::new("InvalidBundle", e.to_string())),
        };
        let build_differs =
            st.knobs.restore_checks_build && manifest.build != st.host.version.build;
        if !force && (manifest.uuid != st.host.uuid || build_differs) {
            return fault_reply(&Fault::new(
                "MismatchedBundle",
                format!(
                    "The uuid / build number in the bundle does not match the host (bundle {} build {}, host {} build {})",
                    manifest.uuid, manifest.build, st.host.uuid, st.host.version.build
                ),
            ));
        }
        apply_restore(st, saved);
        reboot_after = Some((st.paths.sshd_pid_file.clone(), st.knobs.reboot_ms));
        Reply::default()
    })?;
    if let Some((pid_file, ms)) = reboot_after {
        reboot::schedule(&pid_file, ms);
    }
    Ok(reply)
}

/// The host after restoring `saved` and rebooting: the bundle's configuration on this host's
/// hardware, software and simulator settings; VMs powered off; services as their policy says.
fn apply_restore(st: &mut State, saved: State) {
    let keep = std::mem::replace(st, saved);
    let h = &mut st.host;
    h.uuid = keep.host.uuid;
    h.product = keep.host.product;
    h.version = keep.host.version;
    h.vendor = keep.host.vendor;
    h.model = keep.host.model;
    h.serial = keep.host.serial;
    h.memory_bytes = keep.host.memory_bytes;
    h.bios_version = keep.host.bios_version;
    h.bios_date = keep.host.bios_date;
    h.reboots = keep.host.reboots.saturating_add(1);
    h.boot_time = iso8601_now();
    st.cpu = keep.cpu;
    st.nics = keep.nics;
    st.disks = keep.disks;
    st.datastores = keep.datastores;
    st.vibs = keep.vibs;
    st.faults = keep.faults;
    st.knobs = keep.knobs;
    st.paths = keep.paths;
    st.changes = keep.changes;
    st.maintenance_mode = true;
    for vm in &mut st.vms {
        vm.powered_on = false;
        vm.tools_running = "guestToolsNotRunning".into();
        vm.heartbeat = "gray".into();
    }
    for svc in &mut st.services {
        svc.running = svc.policy == "on";
    }
}

/// Now as `2024-05-06T07:08:09.123456Z`.
fn iso8601_now() -> String {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = d.as_secs();
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_micros()
    )
}

pub fn maintenance(st: &mut State, enable: bool) -> Reply {
    match host_ops::set_maintenance(st, enable) {
        Ok(()) => {
            let method = if enable {
                "enterMaintenanceMode"
            } else {
                "exitMaintenanceMode"
            };
            let n = 20 + st.changes.len();
            Reply::ok(format!(
                "'vim.Task:haTask-ha-host-vim.HostSystem.{method}-{n}'\n"
            ))
        }
        Err(f) => fault_reply(&f),
    }
}

pub fn rename_datastore(st: &mut State, old: &str, new: &str) -> Reply {
    if st.datastores.iter().any(|d| d.name == new) {
        return fault_reply(&Fault::new(
            "DuplicateName",
            format!("The name '{new}' already exists."),
        ));
    }
    let Some(ds) = st.datastores.iter_mut().find(|d| d.name == old) else {
        return fault_reply(&Fault::new(
            "NotFound",
            "The object or item referred to could not be found.",
        ));
    };
    ds.name = new.to_string();
    // Paths name the datastore: `[old] vm/vm.vmx` becomes `[new] vm/vm.vmx`.
    let (from, to) = (format!("[{old}] "), format!("[{new}] "));
    for vm in &mut st.vms {
        if vm.datastore == old {
            vm.datastore = new.to_string();
        }
        for d in &mut vm.devices {
            if let crate::state::Device::Disk { file, .. } = d {
                if let Some(rest) = file.strip_prefix(&from) {
                    *file = format!("{to}{rest}");
                }
            }
        }
    }
    Reply::default()
}

pub fn service_toggle(st: &mut State, cmd: &str) -> Reply {
    let (key, action) = match cmd.trim_start_matches("hostsvc/") {
        "enable_ssh" => ("TSM-SSH", "enable"),
        "disable_ssh" => ("TSM-SSH", "disable"),
        "start_ssh" => ("TSM-SSH", "start"),
        "stop_ssh" => ("TSM-SSH", "stop"),
        "enable_esx_shell" => ("TSM", "enable"),
        "disable_esx_shell" => ("TSM", "disable"),
        "start_esx_shell" => ("TSM", "start"),
        _ => ("TSM", "stop"),
    };
    match action {
        "enable" => host_ops::set_service(st, key, None, Some("on")),
        "disable" => host_ops::set_service(st, key, None, Some("off")),
        "start" => host_ops::set_service(st, key, Some(true), None),
        _ => host_ops::set_service(st, key, Some(false), None),
    }
    Reply::default()
}

pub fn runtime_info(st: &State) -> V {
    let mut m = vec![
        ("connectionState", s("connected")),
        ("powerState", s("poweredOn")),
        ("standbyMode", s("none")),
        ("inMaintenanceMode", b(st.maintenance_mode)),
        ("inQuarantineMode", b(false)),
        ("bootTime", s(&st.host.boot_time)),
        (
            "healthSystemRuntime",
            V::Null("vim.host.HealthStatusSystem.Runtime"),
        ),
        ("dasHostState", V::Null("vim.cluster.DasFdmHostState")),
        ("tpmPcrValues", V::Unset),
        (
            "vsanRuntimeInfo",
            V::Obj(
                "vim.vsan.host.VsanRuntimeInfo",
                vec![
                    ("membershipList", V::Unset),
                    ("diskIssues", V::Unset),
                    ("accessGenNo", i(0)),
                ],
            ),
        ),
        (
            "vFlashResourceRuntimeInfo",
            V::Null("vim.host.VFlashManager.VFlashResourceRunTimeInfo"),
        ),
        ("hostMaxVirtualDiskCapacity", i(68_169_720_922_112_i64)),
        ("cryptoState", s("incapable")),
        ("cryptoKeyId", V::Null("vim.encryption.CryptoKeyId")),
    ];
    if st.host.version.major() >= 7 {
        m.push(("statelessNvdsMigrationReady", s("unknown")));
    }
    V::Obj("vim.host.RuntimeInfo", m)
}

fn cpuid(l: &crate::state::CpuIdLevel) -> V {
    // VMODL's level is an int32: leaves at or above 0x80000000 print negative.
    let level = i64::from(l.level as i32);
    V::Obj(
        "vim.host.CpuIdInfo",
        vec![
            ("level", i(level)),
            ("vendor", opt_s(&l.vendor)),
            ("eax", s(&l.eax)),
            ("ebx", s(&l.ebx)),
            ("ecx", s(&l.ecx)),
            ("edx", s(&l.edx)),
        ],
    )
}

pub fn cpuid_list(levels: &[crate::state::CpuIdLevel]) -> V {
    V::Arr("vim.host.CpuIdInfo", levels.iter().map(cpuid).collect())
}

pub fn hardware_info(st: &State) -> V {
    let c = &st.cpu;
    let model = cpu::model(&c.model);
    let threads_per_pkg = c.cores_per_package.saturating_mul(if c.hyperthreading {
        c.threads_per_core
    } else {
        1
    });
    let cores = c.packages.saturating_mul(c.cores_per_package);
    let pkgs = (0..c.packages)
        .map(|p| {
            let first = p.saturating_mul(threads_per_pkg);
            V::Obj(
                "vim.host.CpuPackage",
                vec![
                    ("index", i(p)),
                    ("vendor", s(model.map(|m| m.vendor).unwrap_or("unknown"))),
                    ("hz", u(c.hz)),
                    ("busHz", i(99_999_988)),
                    ("description", s(model.map(|m| m.brand).unwrap_or_default())),
                    (
                        "threadId",
                        V::Arr(
                            "short",
                            (first..first.saturating_add(threads_per_pkg))
                                .map(i)
                                .collect(),
                        ),
                    ),
                    ("cpuFeature", cpuid_list(&cpu::package_features(c, p))),
                ],
            )
        })
        .collect();
    let h = &st.host;
    let mut system = vec![
        ("vendor", s(&h.vendor)),
        ("model", s(&h.model)),
        ("uuid", s(&h.uuid)),
        (
            "otherIdentifyingInfo",
            V::Arr(
                "vim.host.SystemIdentificationInfo",
                vec![V::Obj(
                    "vim.host.SystemIdentificationInfo",
                    vec![
                        ("identifierValue", s(&h.serial)),
                        (
                            "identifierType",
                            V::Obj(
                                "vim.ElementDescription",
                                vec![
                                    ("label", s("Service tag")),
                                    ("summary", s("Service tag of the system")),
                                    ("key", s("ServiceTag")),
                                ],
                            ),
                        ),
                    ],
                )],
            ),
        ),
    ];
    if h.version.major() >= 7 {
        system.push(("serialNumber", s(&h.serial)));
    }
    let threads = c.packages.saturating_mul(threads_per_pkg);
    let (major, minor) = h
        .bios_version
        .split_once('.')
        .map(|(a, r)| {
            let minor = r.split('.').next().and_then(|m| m.parse::<i64>().ok());
            (a.parse::<i64>().unwrap_or(0), minor.unwrap_or(0))
        })
        .unwrap_or((0, 0));
    let mut members = vec![
        ("systemInfo", V::Obj("vim.host.SystemInfo", system)),
        (
            "cpuPowerManagementInfo",
            V::Obj(
                "vim.host.CpuPowerManagementInfo",
                vec![
                    ("currentPolicy", s("Balanced")),
                    ("hardwareSupport", s("ACPI P-states, ACPI C-states")),
                ],
            ),
        ),
        (
            "cpuInfo",
            V::Obj(
                "vim.host.CpuInfo",
                vec![
                    ("numCpuPackages", i(c.packages)),
                    ("numCpuCores", i(cores)),
                    ("numCpuThreads", i(threads)),
                    ("hz", u(c.hz)),
                ],
            ),
        ),
        ("cpuPkg", V::Arr("vim.host.CpuPackage", pkgs)),
        ("memorySize", u(h.memory_bytes)),
        (
            "numaInfo",
            V::Obj(
                "vim.host.NumaInfo",
                vec![
                    ("type", s("NUMA")),
                    ("numNodes", i(c.packages)),
                    ("numaNode", V::Arr("vim.host.NumaNode", vec![])),
                ],
            ),
        ),
        ("smcPresent", b(false)),
        ("pciDevice", V::Arr("vim.host.PciDevice", vec![])),
        ("cpuFeature", cpuid_list(&cpu::host_features(c))),
        (
            "biosInfo",
            V::Obj(
                "vim.host.BIOSInfo",
                vec![
                    ("biosVersion", s(&h.bios_version)),
                    ("releaseDate", s(&h.bios_date)),
                    ("vendor", s(&h.vendor)),
                    ("majorRelease", i(major)),
                    ("minorRelease", i(minor)),
                    ("firmwareMajorRelease", V::Unset),
                    ("firmwareMinorRelease", V::Unset),
                ],
            ),
        ),
        ("reliableMemoryInfo", V::Null("vim.host.ReliableMemoryInfo")),
    ];
    if h.version.major() >= 7 {
        members.push((
            "persistentMemoryInfo",
            V::Null("vim.host.PersistentMemoryInfo"),
        ));
        members.push(("sgxInfo", V::Null("vim.host.SgxInfo")));
    }
    V::Obj("vim.host.HardwareInfo", members)
}

pub fn config_info(st: &State) -> V {
    let h = &st.host;
    let v = &h.version;
    let (major, minor, _) = v.triplet();
    let services = st
        .services
        .iter()
        .map(|svc| {
            V::Obj(
                "vim.host.Service",
                vec![
                    ("key", s(&svc.key)),
                    ("label", s(&svc.label)),
                    ("required", b(false)),
                    ("uneditable", b(false)),
                    ("running", b(svc.running)),
                    ("ruleset", V::Arr("string", vec![])),
                    ("policy", s(&svc.policy)),
                    (
                        "sourcePackage",
                        V::Obj(
                            "vim.host.Service.SourcePackage",
                            vec![
                                ("sourcePackageName", s("esx-base")),
                                ("description", s("This VIB contains all of the base functionality of vSphere ESXi.")),
                            ],
                        ),
                    ),
                ],
            )
        })
        .collect();
    let rulesets = st
        .firewall
        .iter()
        .map(|r| {
            V::Obj(
                "vim.host.Ruleset",
                vec![
                    ("key", s(&r.name)),
                    ("label", s(&r.name)),
                    ("required", b(r.name == "sshServer")),
                    ("enabled", b(r.enabled)),
                    (
                        "allowedHosts",
                        V::Obj(
                            "vim.host.Ruleset.IpList",
                            vec![
                                ("ipAddress", V::Unset),
                                ("ipNetwork", V::Unset),
                                ("allIp", b(r.allowed_all)),
                            ],
                        ),
                    ),
                ],
            )
        })
        .collect();
    let options = st
        .advanced
        .iter()
        .map(|o| {
            let value = if o.kind == "integer" {
                i(o.int_value)
            } else {
                s(&o.string_value)
            };
            V::Obj(
                "vim.option.OptionValue",
                vec![
                    ("key", s(o.path.trim_start_matches('/').replace('/', "."))),
                    ("value", value),
                ],
            )
        })
        .collect();
    V::Obj(
        "vim.host.ConfigInfo",
        vec![
            ("host", V::MoRef("vim.HostSystem", "ha-host".into())),
            (
                "product",
                V::Obj(
                    "vim.AboutInfo",
                    vec![
                        ("name", s(&h.product)),
                        (
                            "fullName",
                            s(format!("{} {} build-{}", h.product, v.version, v.build)),
                        ),
                        ("vendor", s("VMware, Inc.")),
                        ("version", s(&v.version)),
                        ("build", s(&v.build)),
                        ("localeVersion", s("INTL")),
                        ("localeBuild", s("000")),
                        ("osType", s("vmnix-x86")),
                        ("productLineId", s("embeddedEsx")),
                        ("apiType", s("HostAgent")),
                        ("apiVersion", s(format!("{}.0", v.version))),
                        ("instanceUuid", V::Unset),
                        ("licenseProductName", s("VMware ESX Server")),
                        ("licenseProductVersion", s(format!("{major}.{minor}"))),
                    ],
                ),
            ),
            (
                "hyperThread",
                V::Obj(
                    "vim.host.CpuSchedulerSystem.HyperThreadScheduleInfo",
                    vec![
                        ("available", b(st.cpu.threads_per_core > 1)),
                        ("active", b(st.cpu.hyperthreading)),
                        ("config", b(st.cpu.hyperthreading)),
                    ],
                ),
            ),
            (
                "dateTimeInfo",
                V::Obj(
                    "vim.host.DateTimeInfo",
                    vec![
                        (
                            "timeZone",
                            V::Obj(
                                "vim.host.DateTimeSystem.TimeZone",
                                vec![
                                    ("key", s("UTC")),
                                    ("name", s("UTC")),
                                    ("description", s("UTC")),
                                    ("gmtOffset", i(0)),
                                ],
                            ),
                        ),
                        ("systemClockProtocol", s("ntp")),
                        (
                            "ntpConfig",
                            V::Obj(
                                "vim.host.NtpConfig",
                                vec![
                                    (
                                        "server",
                                        V::Arr("string", st.ntp.servers.iter().map(s).collect()),
                                    ),
                                    ("configFile", V::Unset),
                                ],
                            ),
                        ),
                    ],
                ),
            ),
            (
                "service",
                V::Obj(
                    "vim.host.ServiceInfo",
                    vec![("service", V::Arr("vim.host.Service", services))],
                ),
            ),
            (
                "firewall",
                V::Obj(
                    "vim.host.FirewallInfo",
                    vec![
                        (
                            "defaultPolicy",
                            V::Obj(
                                "vim.host.FirewallInfo.DefaultPolicy",
                                vec![("incomingBlocked", b(true)), ("outgoingBlocked", b(true))],
                            ),
                        ),
                        ("ruleset", V::Arr("vim.host.Ruleset", rulesets)),
                    ],
                ),
            ),
            ("option", V::Arr("vim.option.OptionValue", options)),
            ("lockdownMode", s("lockdownDisabled")),
        ],
    )
}
