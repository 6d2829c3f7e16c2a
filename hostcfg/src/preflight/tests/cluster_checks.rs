//! Cluster checks: CPU baseline and EVC, HA admission and isolation, DNS, DRS rules,
//! maintenance-mode evacuation.

use super::{Lab, Row, cluster_all, codes, table};
use crate::facts::{Backing, Device, PortGroup, VSwitch, VmkNic};
use crate::preflight::cpu::{HostCpu, baseline};
use crate::preflight::ha::{slot_policy, tolerated};
use crate::preflight::synth;
use crate::preflight::view::Demand;
use crate::preflight::{Code, Finding, Severity};
use Severity::{Error, Info, Warning};

fn nothing(_: &mut Lab) {}

fn cpu_of(lab: &mut Lab, host: &str, key: &str) {
    lab.host(host).cpu = synth::cpu(key, 2, 16, 2400);
}

fn maintenance_esx01(lab: &Lab) -> Vec<Finding> {
    lab.cluster(Some("esx01"))
}

// ---- CPU

#[test]
fn cpu_cluster_checks() {
    let mixed: &[Row] = &[
        ("one vendor", nothing, None),
        (
            "Intel and AMD",
            |l| cpu_of(l, "esx02", "amd-zen"),
            Some(Warning),
        ),
    ];
    table(Code::CpuIncompatible, cluster_all, mixed);
    let evc_low: &[Row] = &[
        ("no EVC mode", nothing, None),
        (
            "EVC at Haswell on Haswell hosts",
            |l| l.yaml("evc_mode: intel-haswell"),
            None,
        ),
        (
            "EVC at Broadwell on Haswell hosts",
            |l| l.yaml("evc_mode: intel-broadwell"),
            Some(Error),
        ),
    ];
    table(Code::EVCModeUnsupportedByHosts, cluster_all, evc_low);
    let vendor: &[Row] = &[
        (
            "EVC at Westmere on Intel hosts",
            |l| l.yaml("evc_mode: intel-westmere"),
            None,
        ),
        (
            "EVC at Zen on Intel hosts",
            |l| l.yaml("evc_mode: amd-zen"),
            Some(Error),
        ),
    ];
    table(Code::EVCAdmissionFailedCPUVendor, cluster_all, vendor);
    let flags: &[Row] = &[
        ("VT and NX on", nothing, None),
        (
            "VT off in the BIOS",
            |l| l.host("esx02").cpu.hv_support = Some(false),
            Some(Warning),
        ),
        (
            "VT off with EVC configured",
            |l| {
                l.host("esx02").cpu.hv_support = Some(false);
                l.yaml("evc_mode: intel-haswell");
            },
            Some(Error),
        ),
    ];
    table(
        Code::EVCAdmissionFailedCPUFeaturesForMode,
        cluster_all,
        flags,
    );
    let unknown: &[Row] = &[
        ("a known model", nothing, None),
        (
            "family 6 model 0x99",
            |l| {
                let cpu = &mut l.host("esx02").cpu;
                cpu.features = synth::cpuid_levels(6, 0x99, 1, &["SSE", "SSE2"]);
                for p in &mut cpu.pkgs {
                    p.model = 0x99;
                    p.features = cpu.features.clone();
                }
            },
            Some(Warning),
        ),
    ];
    table(Code::EVCAdmissionFailedCPUModel, cluster_all, unknown);
    let mixed_pkgs: &[Row] = &[
        ("identical packages", nothing, None),
        (
            "package 1 of another stepping",
            |l| l.host("esx01").cpu.pkgs[1].stepping = 4,
            Some(Warning),
        ),
        (
            "package 1 without AVX2",
            |l| {
                l.host("esx01").cpu.pkgs[1].features =
                    synth::cpuid_levels(6, 0x3F, 2, &["SSE", "SSE2", "AVX"]);
            },
            Some(Warning),
        ),
    ];
    table(Code::MixedCpuPackages, cluster_all, mixed_pkgs);
    let base: &[Row] = &[
        (
            "mixed vendors have no baseline",
            |l| cpu_of(l, "esx02", "amd-zen"),
            None,
        ),
        ("one vendor has one", nothing, Some(Info)),
    ];
    table(Code::EvcBaseline, cluster_all, base);
}

fn amd(family: u32, model: u32, features: &[&str]) -> HostCpu {
    let mut cpu = synth::cpu("amd-zen", 1, 8, 2000);
    cpu.features = synth::cpuid_levels(family, model, 0, features);
    for p in &mut cpu.pkgs {
        (p.family, p.model, p.stepping) = (family, model, 0);
        p.features = cpu.features.clone();
    }
    HostCpu::from_facts(&cpu).unwrap()
}

#[test]
fn common_baseline_and_limiting_hosts() {
    let cpu = |key: &str| HostCpu::from_facts(&synth::cpu(key, 2, 8, 2000)).unwrap();
    let (a, b, c) = (
        cpu("intel-haswell"),
        cpu("intel-sandybridge"),
        cpu("intel-broadwell"),
    );
    let base = baseline(&[("esx01", &a), ("esx02", &b), ("esx03", &c)]);
    assert_eq!(base.vendor, Some("Intel"));
    assert_eq!(base.mode, Some("intel-sandybridge"));
    assert_eq!(base.limiting, ["esx02"]);
    // Broadwell gives up what Sandy Bridge lacks: Ivy Bridge's F16C, RDRAND, SMEP, Haswell's
    // AVX2 & co, and its own ADX, RDSEED, 3DNowPrefetch, SMAP.
    let lost = &base.lost.iter().find(|(h, _)| h == "esx03").unwrap().1;
    assert_eq!(
        lost,
        &[
            "MOVBE",
            "FMA",
            "F16C",
            "RDRAND",
            "BMI1",
            "AVX2",
            "SMEP",
            "BMI2",
            "RDSEED",
            "ADX",
            "SMAP",
            "LZCNT/ABM",
            "3DNowPrefetch"
        ]
        .into_iter()
        .collect::<Vec<_>>()
        .tap_sort()
    );
    assert!(!base.lost.iter().any(|(h, _)| h == "esx02"));

    // AMD: Opteron Gen 3 (3DNow!) with Bulldozer (none): only "Gen 3 without 3DNow!" is
    // common, and each host limits the other.
    let k10 = amd(
        0x10,
        0x04,
        &[
            "SSE",
            "SSE2",
            "SSE3",
            "SSE4A",
            "3DNow!",
            "NX/XD",
            "LM (64-bit)",
        ],
    );
    let bd = amd(
        0x15,
        0x01,
        &[
            "SSE",
            "SSE2",
            "SSE3",
            "SSSE3",
            "SSE4.1",
            "SSE4.2",
            "AVX",
            "SSE4A",
            "XOP",
            "FMA4",
            "NX/XD",
            "LM (64-bit)",
        ],
    );
    let base = baseline(&[("k10", &k10), ("bd", &bd)]);
    assert_eq!(base.mode, Some("amd-greyhound-no3dnow"));
    assert_eq!(base.limiting, ["k10", "bd"]);

    // Mixed vendors: no mode, the groups named.
    let base = baseline(&[("esx01", &a), ("k10", &k10)]);
    assert_eq!(base.mode, None);
    assert_eq!(
        base.vendors,
        [
            ("Intel".to_string(), vec!["esx01".to_string()]),
            ("AMD".to_string(), vec!["k10".to_string()])
        ]
    );
}

trait TapSort {
    fn tap_sort(self) -> Self;
}

impl TapSort for Vec<&'static str> {
    /// In feature-table order, as `lost` reports them.
    fn tap_sort(mut self) -> Self {
        self.sort_by_key(|n| {
            crate::preflight::cpuid::FEATURES
                .iter()
                .position(|f| f.name == *n)
        });
        self
    }
}

// ---- HA

#[test]
fn ha_slot_worked_example() {
    // hostops.md §5.1: hosts 9 GHz/9 GB, 9/6, 6/6; VMs (2 GHz, 1 GB) ×2, (1, 2), (1, 1) ×2.
    let gb = |g: u64| g * 1024;
    let hosts = [
        Demand {
            cpu_mhz: 9000,
            mem_mb: gb(9),
        },
        Demand {
            cpu_mhz: 9000,
            mem_mb: gb(6),
        },
        Demand {
            cpu_mhz: 6000,
            mem_mb: gb(6),
        },
    ];
    let vms = [
        Demand {
            cpu_mhz: 2000,
            mem_mb: gb(1),
        },
        Demand {
            cpu_mhz: 2000,
            mem_mb: gb(1),
        },
        Demand {
            cpu_mhz: 1000,
            mem_mb: gb(2),
        },
        Demand {
            cpu_mhz: 1000,
            mem_mb: gb(1),
        },
        Demand {
            cpu_mhz: 1000,
            mem_mb: gb(1),
        },
    ];
    let s = slot_policy(&hosts, &vms, None, None, None);
    assert_eq!(
        s.slot,
        Demand {
            cpu_mhz: 2000,
            mem_mb: gb(2)
        }
    );
    assert_eq!(s.per_host, [4, 3, 3]);
    assert_eq!((s.need, s.total), (5, 10));
    // Losing esx01 leaves 6 slots for 5 VMs; losing esx01 and esx02 leaves 3.
    assert_eq!(s.tolerates, 1);
    assert_eq!(tolerated(&s.per_host, 7), 0);
    // Capped at 1 GHz / 1 GB, the (2, 1) VMs need two slots each, the (1, 2) VM two.
    let capped = slot_policy(&hosts, &vms, None, Some(1000), Some(1024));
    assert_eq!(capped.per_host, [9, 6, 6]);
    assert_eq!(capped.need, 8);
    assert_eq!(capped.tolerates, 1);
}

/// Three hosts of the worked example, with the five VMs placed as 2 + 2 + 1.
fn worked_example(lab: &mut Lab, level: u32) {
    *lab = Lab::new(3);
    lab.hosts[0].vms.clear();
    for (h, ghz, gb) in [("esx01", 9, 9u64), ("esx02", 9, 6), ("esx03", 6, 6)] {
        let host = lab.host(h);
        (host.cpu.cores, host.cpu.mhz) = (ghz, 1000);
        host.hardware.memory_bytes = gb << 30;
    }
    let vms = [
        ("a", "esx01", 2000, 1024),
        ("b", "esx01", 2000, 1024),
        ("c", "esx02", 1000, 2048),
        ("d", "esx02", 1000, 1024),
        ("e", "esx03", 1000, 1024),
    ];
    for (name, host, mhz, mb) in vms {
        let vm = lab.add_vm(host, name, mb);
        vm.cpu_reservation_mhz = mhz;
        vm.memory_reservation_mb = mb;
        vm.memory_overhead_mb = 0;
    }
    lab.yaml(&format!(
        "ha: {{ admission_control: {{ policy: slots, failover_level: {level} }} }}"
    ));
}

#[test]
fn ha_slot_policy_from_facts() {
    let mut lab = Lab::pair();
    worked_example(&mut lab, 1);
    let f = lab.cluster(None);
    let info = f
        .iter()
        .find(|f| f.code == Code::HaAdmissionControl)
        .unwrap();
    assert_eq!(
        info.message,
        "slot policy: slot 2000 MHz / 2048 MB; slots per host: esx01 4, esx02 3, esx03 3; 5 powered-on VMs need 5 of 10 \
         slots; tolerates 1 host failure (configured 1)"
    );
    let rows: &[Row] = &[
        ("failover level 1", |l| worked_example(l, 1), None),
        ("failover level 2", |l| worked_example(l, 2), Some(Error)),
        (
            "percentage 25% on a lightly reserved cluster",
            |l| {
                l.yaml("ha: { admission_control: { policy: percentage, cpu_percent: 25, memory_percent: 25 } }")
            },
            None,
        ),
        (
            "percentage 25% with 80% of memory reserved",
            |l| {
                l.vm("app").memory_reservation_mb = 420_000;
                l.vm("app").memory_mb = 420_000;
                l.yaml("ha: { admission_control: { policy: percentage, cpu_percent: 25, memory_percent: 25 } }");
            },
            Some(Error),
        ),
    ];
    table(Code::InsufficientFailoverResourcesFault, cluster_all, rows);
}

#[test]
fn ha_admission_figures() {
    let rows: &[Row] = &[
        ("HA off", |l| l.yaml("ha: { enabled: false }"), None),
        ("HA on", nothing, Some(Info)),
    ];
    table(Code::HaAdmissionControl, cluster_all, rows);
}

#[test]
fn ha_n_plus_one_and_restart_placement() {
    let share: &[Row] = &[
        (
            "50% reserved on two equal hosts",
            |l| {
                l.yaml("ha: { admission_control: { policy: percentage, cpu_percent: 50, memory_percent: 50 } }")
            },
            None,
        ),
        (
            "25% reserved on two equal hosts (each is 50%)",
            |l| {
                l.yaml("ha: { admission_control: { policy: percentage, cpu_percent: 25, memory_percent: 25 } }")
            },
            Some(Warning),
        ),
    ];
    table(Code::FailoverPercentageBelowHostShare, cluster_all, share);
    let restart: &[Row] = &[
        ("no reservations", nothing, None),
        (
            "200 GB reserved, 156 GB left on the survivor",
            |l| {
                l.vm("app").memory_reservation_mb = 200_000;
                l.add_vm("esx02", "hog", 100_000).memory_reservation_mb = 100_000;
            },
            Some(Warning),
        ),
        (
            "the same with both excluded from restarts",
            |l| {
                l.vm("app").memory_reservation_mb = 200_000;
                l.add_vm("esx02", "hog", 100_000).memory_reservation_mb = 100_000;
                l.yaml("vms: { app: { restart_priority: disabled }, hog: { restart_priority: disabled } }");
            },
            None,
        ),
        (
            "a mandatory anti-affinity partner on the only survivor",
            |l| {
                l.add_vm("esx02", "db", 1024);
                l.yaml("rules: [ { name: apart, type: anti_affinity, vms: [app, db], mandatory: true } ]");
            },
            Some(Warning),
        ),
    ];
    table(Code::VmFailoverFailed, cluster_all, restart);
    let busy: &[Row] = &[
        (
            "the failover host is empty",
            |l| l.yaml("ha: { admission_control: { policy: failover_hosts, hosts: [esx02] } }"),
            None,
        ),
        (
            "the failover host runs a VM",
            |l| l.yaml("ha: { admission_control: { policy: failover_hosts, hosts: [esx01] } }"),
            Some(Warning),
        ),
    ];
    table(Code::DisallowedOperationOnFailoverHost, cluster_all, busy);
}

fn second_switch(lab: &mut Lab, host: &str, uplinks: &[&str]) {
    let h = lab.host(host);
    for u in uplinks {
        let mut n = h.nics[0].clone();
        n.name = (*u).into();
        h.nics.push(n);
    }
    h.vswitches.push(VSwitch {
        name: "vSwitch1".into(),
        mtu: 1500,
        uplinks: uplinks.iter().map(|u| (*u).to_string()).collect(),
        portgroups: vec!["Backup Mgmt".into()],
        teaming: Default::default(),
    });
    h.portgroups.push(PortGroup {
        name: "Backup Mgmt".into(),
        vswitch: "vSwitch1".into(),
        vlan: 0,
        teaming: None,
    });
}

fn vmk_on(lab: &mut Lab, host: &str, name: &str, tag: &str) {
    let h = lab.host(host);
    h.vmknics.push(VmkNic {
        name: name.into(),
        portgroup: "Backup Mgmt".into(),
        ip: "10.0.9.11".into(),
        netmask: "255.255.255.0".into(),
        enabled: true,
        tags: vec![tag.into()],
        portset: "vSwitch1".into(),
        ..Default::default()
    });
}

fn single_uplink_mgmt(lab: &mut Lab) {
    lab.host("esx01").vswitches[0].teaming.standby.clear();
}

#[test]
fn management_and_ft_redundancy() {
    let mgmt: &[Row] = &[
        ("active + standby uplinks", nothing, None),
        (
            "the standby removed from the teaming",
            single_uplink_mgmt,
            Some(Warning),
        ),
        (
            "a second management vmk on another switch",
            |l| {
                single_uplink_mgmt(l);
                second_switch(l, "esx01", &["vmnic2"]);
                vmk_on(l, "esx01", "vmk2", "Management");
            },
            None,
        ),
        (
            "no management vmk",
            |l| l.host("esx02").vmknics[0].tags.clear(),
            Some(Warning),
        ),
    ];
    table(
        Code::HostNoRedundantManagementNetworkEvent,
        cluster_all,
        mgmt,
    );
    let ft_nic: &[Row] = &[
        ("no FT VMs", nothing, None),
        (
            "an FT VM on a host without FT logging",
            |l| l.yaml("vms: { app: { fault_tolerance: true } }"),
            Some(Error),
        ),
        (
            "an FT VM with an FT logging vmk",
            |l| {
                l.yaml("vms: { app: { fault_tolerance: true } }");
                second_switch(l, "esx01", &["vmnic2", "vmnic3"]);
                vmk_on(l, "esx01", "vmk2", "faultToleranceLogging");
            },
            None,
        ),
    ];
    table(Code::MissingFTLoggingNic, cluster_all, ft_nic);
    let ft_red: &[Row] = &[
        (
            "FT logging on two uplinks",
            |l| {
                l.yaml("vms: { app: { fault_tolerance: true } }");
                second_switch(l, "esx01", &["vmnic2", "vmnic3"]);
                vmk_on(l, "esx01", "vmk2", "faultToleranceLogging");
            },
            None,
        ),
        (
            "FT logging on one uplink",
            |l| {
                l.vm("app").fault_tolerance = true;
                second_switch(l, "esx01", &["vmnic2"]);
                vmk_on(l, "esx01", "vmk2", "faultToleranceLogging");
            },
            Some(Warning),
        ),
    ];
    table(Code::HostNoRedundantFtLoggingNetwork, cluster_all, ft_red);
    // With FT VMs in the cluster, the management warning says why it matters more.
    let mut lab = Lab::pair();
    single_uplink_mgmt(&mut lab);
    lab.yaml("vms: { app: { fault_tolerance: true } }");
    let f = cluster_all(&lab);
    let m = f
        .iter()
        .find(|f| f.code == Code::HostNoRedundantManagementNetworkEvent)
        .unwrap();
    assert!(
        m.message
            .contains("FT-protected VMs ignore the isolation response"),
        "{}",
        m.message
    );
}

fn lookups(lab: &mut Lab) -> &mut crate::facts::DnsLookups {
    lab.host("esx02").dns.lookups.as_mut().unwrap()
}

#[test]
fn dns_and_names() {
    let fwd: &[Row] = &[
        ("resolves", nothing, None),
        (
            "does not resolve",
            |l| lookups(l).forward.clear(),
            Some(Warning),
        ),
        (
            "lookups not gathered",
            |l| {
                l.host("esx02").dns.lookups = None;
            },
            None,
        ),
    ];
    table(Code::HostShortNameToIpFailedEvent, cluster_all, fwd);
    let ip: &[Row] = &[
        ("resolves to the management address", nothing, None),
        (
            "resolves to another address",
            |l| lookups(l).forward = vec!["10.0.0.99".into()],
            Some(Warning),
        ),
    ];
    table(Code::HostIpInconsistentEvent, cluster_all, ip);
    let rev: &[Row] = &[
        ("has a PTR record", nothing, None),
        (
            "no PTR record",
            |l| lookups(l).reverse[0].names.clear(),
            Some(Warning),
        ),
    ];
    table(Code::HostIpToShortNameFailedEvent, cluster_all, rev);
    let name: &[Row] = &[
        (
            "PTR gives the FQDN with a trailing dot",
            |l| lookups(l).reverse[0].names = vec!["ESX02.lab.example.".into()],
            None,
        ),
        (
            "PTR gives another host",
            |l| lookups(l).reverse[0].names = vec!["esx07.lab.example".into()],
            Some(Warning),
        ),
    ];
    table(Code::HostShortNameInconsistentEvent, cluster_all, name);
    let long: &[Row] = &[
        ("a short name", nothing, None),
        (
            "a 30-character FQDN on ESX 4.1",
            |l| {
                let h = l.host("esx02");
                h.fqdn = "esx02.datacenter-east.corp.com".into();
                h.version.version = "4.1.0".into();
            },
            Some(Warning),
        ),
        (
            "a 30-character FQDN on ESXi 8",
            |l| l.host("esx02").fqdn = "esx02.datacenter-east.corp.com".into(),
            Some(Info),
        ),
    ];
    table(Code::HostNameTooLong, cluster_all, long);
}

// ---- DRS

#[test]
fn drs_rule_conflicts() {
    let rows: &[Row] = &[
        (
            "compatible rules",
            |l| {
                l.add_vm("esx02", "db", 1024);
                l.add_vm("esx02", "web", 1024);
                l.yaml("rules: [ { name: apart, type: anti_affinity, vms: [app, db] }, { name: together, type: affinity, vms: [db, web] } ]");
            },
            None,
        ),
        (
            "anti-affinity, then affinity over the same VMs",
            |l| {
                l.add_vm("esx02", "db", 1024);
                l.yaml("rules: [ { name: apart, type: anti_affinity, vms: [app, db] }, { name: together, type: affinity, vms: [app, db] } ]");
            },
            Some(Warning),
        ),
        (
            "disabled rules do not conflict",
            |l| {
                l.add_vm("esx02", "db", 1024);
                l.yaml("rules: [ { name: apart, type: anti_affinity, vms: [app, db], enabled: false }, { name: together, type: affinity, vms: [app, db] } ]");
            },
            None,
        ),
    ];
    table(Code::DrsRuleConflict, cluster_all, rows);

    let conflict = |yaml: &str| -> Finding {
        let mut lab = Lab::pair();
        lab.add_vm("esx01", "db", 1024);
        lab.add_vm("esx01", "web", 1024);
        lab.yaml(yaml);
        let f = cluster_all(&lab);
        let hits: Vec<&Finding> = f
            .iter()
            .filter(|f| f.code == Code::DrsRuleConflict)
            .collect();
        assert_eq!(hits.len(), 1, "{hits:#?}");
        hits[0].clone()
    };
    // The newer rule is the one vCenter disables, whichever kind it is.
    let f = conflict(
        "rules: [ { name: apart, type: anti_affinity, vms: [app, db] }, { name: together, type: affinity, vms: [app, db] } ]",
    );
    assert!(
        f.message.starts_with("affinity rule \"together\""),
        "{}",
        f.message
    );
    assert!(
        f.message.contains("older anti-affinity rule \"apart\""),
        "{}",
        f.message
    );
    let f = conflict(
        "rules: [ { name: together, type: affinity, vms: [app, db] }, { name: apart, type: anti_affinity, vms: [app, db] } ]",
    );
    assert!(
        f.message.starts_with("anti-affinity rule \"apart\""),
        "{}",
        f.message
    );
    // Through a chain: app~db, db~web, then app apart from web.
    let f = conflict(
        "rules: [ { name: r1, type: affinity, vms: [app, db] }, { name: r2, type: affinity, vms: [db, web] }, \
         { name: r3, type: anti_affinity, vms: [app, web] } ]",
    );
    assert!(
        f.message.starts_with("anti-affinity rule \"r3\""),
        "{}",
        f.message
    );
    assert!(
        f.message.contains("older affinity rules \"r1\", \"r2\""),
        "{}",
        f.message
    );
    // A disabled (conflicting) rule is not checked for violations: app and db run apart,
    // which only the disabled affinity rule would mind.
    let mut lab = Lab::pair();
    lab.add_vm("esx02", "db", 1024);
    lab.yaml("rules: [ { name: apart, type: anti_affinity, vms: [app, db] }, { name: together, type: affinity, vms: [app, db], mandatory: true } ]");
    let f = cluster_all(&lab);
    assert!(
        !f.iter().any(|f| f.code == Code::DrsRuleViolationEvent),
        "{f:#?}"
    );
}

#[test]
fn drs_vm_host_intersections_and_hall() {
    let inter: &[Row] = &[
        (
            "one must rule",
            |l| {
                l.yaml("groups: { vms: { g: [app] }, hosts: { a: [esx01], b: [esx02] } }\nrules: [ { name: r1, type: vm_host, vm_group: g, affine_host_group: a, mandatory: true } ]")
            },
            None,
        ),
        (
            "two must rules with disjoint host groups",
            |l| {
                l.yaml(
            "groups: { vms: { g: [app] }, hosts: { a: [esx01], b: [esx02] } }\nrules: [ { name: r1, type: vm_host, vm_group: g, affine_host_group: a, mandatory: true }, { name: r2, type: vm_host, vm_group: g, affine_host_group: b, mandatory: true } ]",
        )
            },
            Some(Error),
        ),
        (
            "two should rules with disjoint host groups",
            |l| {
                l.yaml(
            "groups: { vms: { g: [app] }, hosts: { a: [esx01], b: [esx02] } }\nrules: [ { name: r1, type: vm_host, vm_group: g, affine_host_group: a }, { name: r2, type: vm_host, vm_group: g, affine_host_group: b } ]",
        )
            },
            Some(Warning),
        ),
        (
            "must affinity ties VMs whose host rules are disjoint",
            |l| {
                l.add_vm("esx02", "db", 1024);
                l.yaml("groups: { vms: { g1: [app], g2: [db] }, hosts: { a: [esx01], b: [esx02] } }\nrules: [ { name: r1, type: vm_host, vm_group: g1, affine_host_group: a, mandatory: true }, { name: r2, type: vm_host, vm_group: g2, affine_host_group: b, mandatory: true }, { name: t, type: affinity, vms: [app, db], mandatory: true } ]");
            },
            Some(Error),
        ),
        (
            "the only allowed host is in maintenance mode",
            |l| {
                l.host("esx02").maintenance_mode = true;
                l.yaml("groups: { vms: { g: [app] }, hosts: { b: [esx02] } }\nrules: [ { name: r1, type: vm_host, vm_group: g, affine_host_group: b, mandatory: true } ]");
            },
            Some(Error),
        ),
    ];
    table(Code::VmHostAffinityRuleViolation, cluster_all, inter);
    let hall: &[Row] = &[
        (
            "two VMs apart on two hosts",
            |l| {
                l.add_vm("esx02", "db", 1024);
                l.yaml("rules: [ { name: apart, type: anti_affinity, vms: [app, db], mandatory: true } ]");
            },
            None,
        ),
        (
            "three VMs apart on two hosts (must)",
            |l| {
                l.add_vm("esx02", "db", 1024);
                l.add_vm("esx02", "web", 1024).powered_on = false;
                l.yaml("rules: [ { name: apart, type: anti_affinity, vms: [app, db, web], mandatory: true } ]");
            },
            Some(Error),
        ),
        (
            "three VMs apart on two hosts (should)",
            |l| {
                l.add_vm("esx02", "db", 1024);
                l.add_vm("esx02", "web", 1024).powered_on = false;
                l.yaml("rules: [ { name: apart, type: anti_affinity, vms: [app, db, web] } ]");
            },
            Some(Warning),
        ),
        (
            "two VMs apart, both bound to esx01",
            |l| {
                l.add_vm("esx01", "db", 1024).powered_on = false;
                l.yaml("groups: { vms: { g: [app, db] }, hosts: { a: [esx01] } }\nrules: [ { name: pin, type: vm_host, vm_group: g, affine_host_group: a, mandatory: true }, { name: apart, type: anti_affinity, vms: [app, db], mandatory: true } ]");
            },
            Some(Error),
        ),
    ];
    table(Code::RuleViolation, cluster_all, hall);
}

#[test]
fn drs_current_violations() {
    let must: &[Row] = &[
        (
            "apart as asked",
            |l| {
                l.add_vm("esx02", "db", 1024);
                l.yaml("rules: [ { name: apart, type: anti_affinity, vms: [app, db], mandatory: true } ]");
            },
            None,
        ),
        (
            "together against a must anti-affinity rule",
            |l| {
                l.add_vm("esx01", "db", 1024);
                l.yaml("rules: [ { name: apart, type: anti_affinity, vms: [app, db], mandatory: true } ]");
            },
            Some(Error),
        ),
        (
            "together but one is powered off",
            |l| {
                l.add_vm("esx01", "db", 1024).powered_on = false;
                l.yaml("rules: [ { name: apart, type: anti_affinity, vms: [app, db], mandatory: true } ]");
            },
            None,
        ),
        (
            "apart against a must affinity rule",
            |l| {
                l.add_vm("esx02", "db", 1024);
                l.yaml("rules: [ { name: together, type: affinity, vms: [app, db], mandatory: true } ]");
            },
            Some(Error),
        ),
        (
            "outside a must VM-Host rule's hosts",
            |l| {
                l.yaml("groups: { vms: { g: [app] }, hosts: { b: [esx02] } }\nrules: [ { name: r, type: vm_host, vm_group: g, affine_host_group: b, mandatory: true } ]")
            },
            Some(Error),
        ),
    ];
    table(Code::DrsRuleViolationEvent, cluster_all, must);
    let should: &[Row] = &[
        (
            "apart as asked",
            |l| {
                l.add_vm("esx02", "db", 1024);
                l.yaml("rules: [ { name: apart, type: anti_affinity, vms: [app, db] } ]");
            },
            None,
        ),
        (
            "together against a should rule",
            |l| {
                l.add_vm("esx01", "db", 1024);
                l.yaml("rules: [ { name: apart, type: anti_affinity, vms: [app, db] } ]");
            },
            Some(Warning),
        ),
    ];
    table(Code::DrsSoftRuleViolationEvent, cluster_all, should);
}

fn clustered(lab: &mut Lab) {
    for d in &mut lab.vm("app").devices {
        if let Device::Controller { bus_sharing, .. } = d {
            *bus_sharing = "physicalSharing".into();
        }
    }
}

#[test]
fn drs_vm_clusters_and_unknown_names() {
    let vmc: &[Row] = &[
        ("no shared bus", nothing, None),
        ("a cluster node under DRS", clustered, Some(Warning)),
        (
            "a cluster node excluded from DRS",
            |l| {
                clustered(l);
                l.yaml("vms: { app: { drs_automation: disabled } }");
            },
            None,
        ),
        (
            "DRS off",
            |l| {
                clustered(l);
                l.yaml("drs: { enabled: false }");
            },
            None,
        ),
    ];
    table(Code::DrsEnabledOnVmCluster, cluster_all, vmc);
    let unknown: &[Row] = &[
        (
            "known VMs",
            |l| {
                l.add_vm("esx02", "db", 1024);
                l.yaml("rules: [ { name: apart, type: anti_affinity, vms: [app, db] } ]");
            },
            None,
        ),
        (
            "a rule names a VM no host has",
            |l| l.yaml("rules: [ { name: apart, type: anti_affinity, vms: [app, ghost] } ]"),
            Some(Warning),
        ),
        (
            "an override names a VM no host has",
            |l| l.yaml("vms: { ghost: { restart_priority: high } }"),
            Some(Warning),
        ),
    ];
    table(Code::UnknownVm, cluster_all, unknown);
}

// ---- maintenance mode

#[test]
fn maintenance_blockers() {
    let rows: &[Row] = &[
        ("everything movable", nothing, None),
        (
            "a disk on the local datastore",
            |l| {
                for d in &mut l.vm("app").devices {
                    if let Device::Disk {
                        file,
                        datastore_uuid,
                        ..
                    } = d
                    {
                        *file = "[esx01-local] app/app.vmdk".into();
                        *datastore_uuid = None;
                    }
                }
            },
            Some(Error),
        ),
        (
            "a connected host CD-ROM",
            |l| {
                for d in &mut l.vm("app").devices {
                    if let Device::Removable {
                        backing, connected, ..
                    } = d
                    {
                        *backing = Backing::HostDevice {
                            device: "/vmfs/devices/cdrom/mpx.vmhba32:C0:T0:L0".into(),
                        };
                        *connected = true;
                    }
                }
            },
            Some(Error),
        ),
        (
            "CPU affinity",
            |l| l.vm("app").cpu_affinity = Some("0-3".into()),
            Some(Error),
        ),
        (
            "a reservation no other host can hold",
            |l| {
                l.vm("app").memory_reservation_mb = 200_000;
                l.add_vm("esx02", "hog", 100_000).memory_reservation_mb = 100_000;
            },
            Some(Error),
        ),
        (
            "a must anti-affinity partner on the only other host",
            |l| {
                l.add_vm("esx02", "db", 1024);
                l.yaml("rules: [ { name: apart, type: anti_affinity, vms: [app, db], mandatory: true } ]");
            },
            Some(Error),
        ),
        (
            "a should anti-affinity partner on the only other host",
            |l| {
                l.add_vm("esx02", "db", 1024);
                l.yaml("rules: [ { name: apart, type: anti_affinity, vms: [app, db] } ]");
            },
            None,
        ),
        (
            "DRS disabled on the VM",
            |l| l.yaml("vms: { app: { drs_automation: disabled } }"),
            Some(Error),
        ),
        (
            "the other host is in maintenance mode",
            |l| l.host("esx02").maintenance_mode = true,
            Some(Error),
        ),
        (
            "powered-off VMs do not block",
            |l| {
                l.vm("app").cpu_affinity = Some("0-3".into());
                l.vm("app").powered_on = false;
            },
            None,
        ),
        (
            "no vMotion network on the host itself",
            |l| l.host("esx01").vmknics[1].tags.clear(),
            Some(Error),
        ),
    ];
    table(
        Code::NoMaintenanceModeDrsRecommendationForVM,
        maintenance_esx01,
        rows,
    );
}

#[test]
fn maintenance_messages_say_why_and_plan_the_rest() {
    let mut lab = Lab::new(3);
    lab.add_vm("esx01", "web", 2048);
    lab.add_vm("esx01", "off", 2048).powered_on = false;
    for d in &mut lab.vm("app").devices {
        if let Device::Disk {
            file,
            datastore_uuid,
            ..
        } = d
        {
            *file = "[esx01-local] app/app.vmdk".into();
            *datastore_uuid = None;
        }
    }
    let f = maintenance_esx01(&lab);
    let blocked: Vec<&Finding> = f
        .iter()
        .filter(|f| f.code == Code::NoMaintenanceModeDrsRecommendationForVM)
        .collect();
    assert_eq!(blocked.len(), 1);
    assert_eq!(blocked[0].vm.as_deref(), Some("app"));
    assert!(
        blocked[0].message.starts_with(
            "app cannot leave esx01, so entering maintenance mode would hang: CannotAccessVmDisk (Hard disk 1) on esx02, esx03:"
        ),
        "{}",
        blocked[0].message
    );
    let plan = f
        .iter()
        .find(|f| f.code == Code::MaintenanceModePlan)
        .unwrap();
    assert_eq!(
        plan.message,
        "esx01 cannot enter maintenance mode: 1 of 2 powered-on VMs have nowhere to go; 1 would move (esx02 ← web); \
         1 powered-off VM stay registered"
    );
    assert!(
        blocked
            .iter()
            .all(|f| f.check == crate::preflight::Check::Maintenance)
    );
}

#[test]
fn maintenance_warns_when_ha_loses_its_failover_capacity() {
    let mut lab = Lab::pair();
    worked_example(&mut lab, 1);
    let f = maintenance_esx01(&lab);
    let ha: Vec<(Code, Severity)> = codes(&f)
        .into_iter()
        .filter(|(c, _)| *c == Code::InsufficientFailoverResourcesFault)
        .collect();
    assert_eq!(ha, [(Code::InsufficientFailoverResourcesFault, Warning)]);
    let msg = &f
        .iter()
        .find(|f| f.code == Code::InsufficientFailoverResourcesFault)
        .unwrap()
        .message;
    assert!(
        msg.contains("while esx01 is in maintenance mode: the cluster tolerates 0 host failures"),
        "{msg}"
    );
    // Without esx03, slots 4 + 3 = 7 hold the 5 VMs, but losing esx01 then leaves 3: 0 again.
    let without3 = lab.cluster(Some("esx03"));
    assert!(
        without3
            .iter()
            .any(|f| f.code == Code::InsufficientFailoverResourcesFault)
    );
    // With HA admission control off there is nothing to lose.
    lab.yaml("ha: { admission_control: { policy: disabled } }");
    assert!(
        !maintenance_esx01(&lab)
            .iter()
            .any(|f| f.code == Code::InsufficientFailoverResourcesFault)
    );
}
