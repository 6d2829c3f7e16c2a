//! vSphere HA: admission control as vCenter computes it (slot policy, percentage policy,
//! dedicated failover hosts), a stricter "can the VMs really restart" placement, isolation
//! protection (management and FT logging redundancy), and the name checks HA needs (forward
//! and reverse DNS, host names longer than 29 characters).
//!
//! Slot policy (hostops.md §5.1): slot CPU = the largest CPU reservation, a VM with none
//! counting as `das.vmcpuminmhz` (32 MHz); slot memory = the largest memory reservation plus
//! overhead; a host holds `min(⌊cpu/slot cpu⌋, ⌊mem/slot mem⌋)` slots; the cluster tolerates the
//! largest k such that the slots left after losing the k hosts with most slots still cover the
//! powered-on VMs. Capacity here is the hosts' physical CPU (cores × MHz) and memory: vCenter
//! uses the root resource pool, a little smaller, so figures near the edge deserve a margin.

use esxforge_kickstart::cluster::{AdmissionControl, RestartPriority, SlotSize};

use super::finding::{Code, Finding, Severity};
use super::network;
use super::placement::{Fit, Placer};
use super::view::{ClusterView, Demand, HostId, VmId};

/// The slot policy's figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slots {
    pub slot: Demand,
    /// Slots per host, in the order given.
    pub per_host: Vec<u64>,
    /// Slots the powered-on VMs need.
    pub need: u64,
    pub total: u64,
    /// Host failures tolerated.
    pub tolerates: u32,
}

/// The slot policy over host capacities and VM demands (reservation + overhead, with the
/// minimums applied). `fixed` replaces the computed slot; `cpu_cap`/`mem_cap` cap it, and a VM
/// larger than a capped slot needs several.
pub fn slot_policy(
    hosts: &[Demand],
    vms: &[Demand],
    fixed: Option<SlotSize>,
    cpu_cap: Option<u32>,
    mem_cap: Option<u32>,
) -> Slots {
    let slot = match fixed {
        Some(s) => Demand {
            cpu_mhz: u64::from(s.cpu_mhz),
            mem_mb: u64::from(s.memory_mb),
        },
        None => {
            let cpu = vms.iter().map(|v| v.cpu_mhz).max().unwrap_or(0);
            let mem = vms.iter().map(|v| v.mem_mb).max().unwrap_or(0);
            Demand {
                cpu_mhz: cpu_cap.map_or(cpu, |c| cpu.min(u64::from(c))),
                mem_mb: mem_cap.map_or(mem, |c| mem.min(u64::from(c))),
            }
        }
    };
    let per = |cap: u64, size: u64| cap.checked_div(size).unwrap_or(u64::MAX);
    let per_host: Vec<u64> = hosts
        .iter()
        .map(|h| {
            let s = per(h.cpu_mhz, slot.cpu_mhz).min(per(h.mem_mb, slot.mem_mb));
            // No VM at all: every host "holds" unlimited slots; count none instead.
            if s == u64::MAX { 0 } else { s }
        })
        .collect();
    let need = vms
        .iter()
        .map(|v| {
            let n = |x: u64, size: u64| {
                if size == 0 {
                    1
                } else {
                    x.div_ceil(size).max(1)
                }
            };
            n(v.cpu_mhz, slot.cpu_mhz).max(n(v.mem_mb, slot.mem_mb))
        })
        .fold(0u64, u64::saturating_add);
    let total = per_host.iter().copied().fold(0u64, u64::saturating_add);
    Slots {
        slot,
        tolerates: tolerated(&per_host, need),
        per_host,
        need,
        total,
    }
}

/// The largest k such that removing the k largest entries of `slots` leaves at least `need`;
/// at most `slots.len() − 1` (one host must survive).
pub fn tolerated(slots: &[u64], need: u64) -> u32 {
    let mut sorted = slots.to_vec();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    let mut left = sorted.iter().copied().fold(0u64, u64::saturating_add);
    if left < need || sorted.is_empty() {
        return 0;
    }
    let mut k = 0u32;
    for s in sorted.iter().take(sorted.len() - 1) {
        left = left.saturating_sub(*s);
        if left < need {
            break;
        }
        k += 1;
    }
    k
}

/// The percentage policy: the share of cluster CPU and memory not reserved, in percent.
pub fn free_percent(hosts: &[Demand], vms: &[Demand]) -> (f64, f64) {
    let cap = hosts.iter().fold(Demand::default(), |a, h| a.plus(h));
    let used = vms.iter().fold(Demand::default(), |a, v| a.plus(v));
    // u64 → f64: capacities far below 2^53.
    let pct = |c: u64, u: u64| {
        if c == 0 {
            0.0
        } else {
            (c as f64 - u as f64) / c as f64 * 100.0
        }
    };
    (pct(cap.cpu_mhz, used.cpu_mhz), pct(cap.mem_mb, used.mem_mb))
}

/// A VM's demand as HA counts it: the minimums for VMs without a reservation.
pub fn ha_demand(view: &ClusterView<'_>, vm: VmId) -> Demand {
    let v = view.vm(vm);
    let ha = &view.spec.ha;
    let mem_res = v.demand.mem_mb.saturating_sub(v.facts.memory_overhead_mb);
    Demand {
        cpu_mhz: v.demand.cpu_mhz.max(u64::from(ha.vm_cpu_min_mhz)),
        mem_mb: mem_res
            .max(u64::from(ha.vm_memory_min_mb))
            .saturating_add(v.facts.memory_overhead_mb),
    }
}

/// The hosts HA counts: members, minus those in maintenance mode and `without`.
fn ha_hosts(view: &ClusterView<'_>, without: Option<HostId>) -> Vec<HostId> {
    (0..view.hosts.len())
        .filter(|&h| Some(h) != without && !view.host(h).in_maintenance())
        .collect()
}

fn powered_on_vms(view: &ClusterView<'_>, hosts: &[HostId]) -> Vec<VmId> {
    hosts
        .iter()
        .flat_map(|&h| view.host(h).vms.iter().copied())
        .filter(|&v| view.vm(v).powered_on())
        .collect()
}

/// Admission control under the configured policy, over the cluster without `without`. The
/// first finding is the figures (info); errors follow when the failover level is not met.
pub fn admission(view: &ClusterView<'_>, without: Option<HostId>) -> Vec<Finding> {
    let mut out = Vec::new();
    let hosts = ha_hosts(view, without);
    // The VMs of a host entering maintenance mode keep running elsewhere: they still count.
    let mut counted = hosts.clone();
    counted.extend(without);
    let vms = powered_on_vms(view, &counted);
    let demands: Vec<Demand> = vms.iter().map(|&v| ha_demand(view, v)).collect();
    let caps: Vec<Demand> = hosts.iter().map(|&h| view.host(h).capacity).collect();
    let names: Vec<&str> = hosts.iter().map(|&h| view.host(h).name).collect();
    let context = match without {
        Some(h) => format!(" while {} is in maintenance mode", view.host(h).name),
        None => String::new(),
    };
    match &view.spec.ha.admission_control {
        AdmissionControl::Slots {
            failover_level,
            fixed_slot,
            slot_cpu_cap_mhz,
            slot_memory_cap_mb,
        } => {
            let s = slot_policy(
                &caps,
                &demands,
                *fixed_slot,
                *slot_cpu_cap_mhz,
                *slot_memory_cap_mb,
            );
            let per: Vec<String> = names
                .iter()
                .zip(&s.per_host)
                .map(|(n, k)| format!("{n} {k}"))
                .collect();
            out.push(Finding::info(
                Code::HaAdmissionControl,
                format!(
                    "slot policy{context}: slot {} MHz / {} MB; slots per host: {}; {} powered-on VMs need {} of {} slots; \
                     tolerates {} host failure{} (configured {failover_level})",
                    s.slot.cpu_mhz,
                    s.slot.mem_mb,
                    per.join(", "),
                    vms.len(),
                    s.need,
                    s.total,
                    s.tolerates,
                    if s.tolerates == 1 { "" } else { "s" }
                ),
            ));
            if s.tolerates < *failover_level {
                out.push(Finding::new(
                    Severity::error_if(without.is_none()),
                    Code::InsufficientFailoverResourcesFault,
                    format!(
                        "HA admission control{context}: the cluster tolerates {} host failure{}, fewer than the {failover_level} \
                         configured; VMs will be refused power-on",
                        s.tolerates,
                        if s.tolerates == 1 { "" } else { "s" }
                    ),
                    "add host capacity, lower the largest reservations (they set the slot size), cap the slot \
                     (das.slotcpuinmhz / das.slotmeminmb), or lower the failover level",
                ));
            }
        }
        AdmissionControl::Percentage {
            cpu_percent,
            memory_percent,
            failover_level,
        } => {
            let (cpu_free, mem_free) = free_percent(&caps, &demands);
            out.push(Finding::info(
                Code::HaAdmissionControl,
                format!(
                    "percentage policy{context}: {cpu_free:.1}% of CPU and {mem_free:.1}% of memory unreserved \
                     (reserved for failover: {cpu_percent}% CPU, {memory_percent}% memory)"
                ),
            ));
            if cpu_free < f64::from(*cpu_percent) || mem_free < f64::from(*memory_percent) {
                out.push(Finding::new(
                    Severity::error_if(without.is_none()),
                    Code::InsufficientFailoverResourcesFault,
                    format!(
                        "HA admission control{context}: {cpu_free:.1}% CPU and {mem_free:.1}% memory unreserved, below the \
                         {cpu_percent}% / {memory_percent}% kept for failover; VMs will be refused power-on"
                    ),
                    "add capacity or lower reservations",
                ));
            }
            // N+1: the percentage must at least cover the largest `failover_level` hosts.
            let share = |pick: fn(&Demand) -> u64| -> f64 {
                let mut v: Vec<u64> = caps.iter().map(pick).collect();
                v.sort_unstable_by(|a, b| b.cmp(a));
                let total = v.iter().copied().fold(0u64, u64::saturating_add);
                let top = v
                    .iter()
                    .take(*failover_level as usize)
                    .copied()
                    .fold(0u64, u64::saturating_add);
                if total == 0 {
                    0.0
                } else {
                    top as f64 / total as f64 * 100.0
                }
            };
            let (cpu_share, mem_share) = (share(|d| d.cpu_mhz), share(|d| d.mem_mb));
            if f64::from(*cpu_percent) < cpu_share || f64::from(*memory_percent) < mem_share {
                out.push(Finding::warning(
                    Code::FailoverPercentageBelowHostShare,
                    format!(
                        "the largest {failover_level} host{} hold{} {cpu_share:.1}% of the CPU and {mem_share:.1}% of the \
                         memory{context}, more than the {cpu_percent}% / {memory_percent}% reserved: admission control \
                         passes, but N+{failover_level} is not covered",
                        if *failover_level == 1 { "" } else { "s" },
                        if *failover_level == 1 { "s" } else { "" }
                    ),
                    format!("reserve at least {:.0}% CPU and {:.0}% memory", cpu_share.ceil(), mem_share.ceil()),
                ));
            }
        }
        AdmissionControl::FailoverHosts { hosts: failover } => {
            let busy: Vec<String> = failover
                .iter()
                .filter_map(|n| view.host_id(n).ok())
                .filter_map(|h| {
                    let running: Vec<&str> = view
                        .host(h)
                        .vms
                        .iter()
                        .filter(|&&v| view.vm(v).powered_on())
                        .map(|&v| view.vm(v).name)
                        .collect();
                    (!running.is_empty())
                        .then(|| format!("{} runs {}", view.host(h).name, running.join(", ")))
                })
                .collect();
            out.push(Finding::info(
                Code::HaAdmissionControl,
                format!("dedicated failover hosts: {}", failover.join(", ")),
            ));
            if !busy.is_empty() {
                out.push(Finding::warning(
                    Code::DisallowedOperationOnFailoverHost,
                    format!(
                        "dedicated failover hosts should stay empty: {}",
                        busy.join("; ")
                    ),
                    "move these VMs to the other hosts",
                ));
            }
        }
        AdmissionControl::Disabled => out.push(Finding::info(
            Code::HaAdmissionControl,
            "HA admission control is disabled: VMs power on whatever the failover capacity",
        )),
    }
    out
}

/// Failures to plan for: the configured failover level (1 without one).
fn failover_level(view: &ClusterView<'_>) -> usize {
    match &view.spec.ha.admission_control {
        AdmissionControl::Slots { failover_level, .. }
        | AdmissionControl::Percentage { failover_level, .. } => *failover_level as usize,
        AdmissionControl::FailoverHosts { .. } | AdmissionControl::Disabled => 1,
    }
}

/// Above this many failure sets, only the sets of the most loaded hosts are tried.
const MAX_FAILURE_SETS: usize = 256;

fn combinations(n: usize, k: usize) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    let mut idx: Vec<usize> = (0..k).collect();
    if k == 0 || k > n {
        return out;
    }
    loop {
        out.push(idx.clone());
        if out.len() > MAX_FAILURE_SETS {
            return Vec::new();
        }
        let Some(i) = (0..k).rev().find(|&i| idx[i] != i + n - k) else {
            break;
        };
        idx[i] += 1;
        for j in i + 1..k {
            idx[j] = idx[j - 1] + 1;
        }
    }
    out
}

/// The stricter check: for each set of `failover level` failed hosts (every set when there
/// are at most 256, else the most loaded hosts), can every powered-on VM of the failed hosts
/// be placed on the survivors by first-fit decreasing, honouring reservations and mandatory
/// rules? One warning per VM that cannot (for the first failure set that strands it).
pub fn restart_check(view: &ClusterView<'_>) -> Vec<Finding> {
    let hosts = ha_hosts(view, None);
    let k = failover_level(view).min(hosts.len().saturating_sub(1));
    if k == 0 {
        return Vec::new();
    }
    let failover_first: Vec<HostId> = {
        let mut v = hosts.clone();
        v.sort_by_key(|&h| !view.is_failover_host(h));
        v
    };
    let mut sets: Vec<Vec<HostId>> = combinations(hosts.len(), k)
        .into_iter()
        .map(|c| c.into_iter().map(|i| hosts[i]).collect())
        .collect();
    if sets.is_empty() {
        let mut by_load = hosts.clone();
        by_load.sort_by_key(|&h| {
            std::cmp::Reverse((view.host(h).reserved.mem_mb, view.host(h).reserved.cpu_mhz))
        });
        sets.push(by_load.into_iter().take(k).collect());
    }
    let mut out = Vec::new();
    let mut stranded: Vec<VmId> = Vec::new();
    for failed in sets {
        let mut placer = Placer::new(view);
        let victims: Vec<VmId> = failed
            .iter()
            .flat_map(|&h| view.host(h).vms.iter().copied())
            .filter(|&v| view.vm(v).powered_on())
            .collect();
        placer.lift(&victims);
        let restart: Vec<VmId> = victims
            .iter()
            .copied()
            .filter(|&v| view.vm(v).restart_priority != RestartPriority::Disabled)
            .collect();
        let survivors: Vec<HostId> = failover_first
            .iter()
            .copied()
            .filter(|h| !failed.contains(h))
            .collect();
        let failed_names: Vec<&str> = failed.iter().map(|&h| view.host(h).name).collect();
        for (vm, why) in placer.place_all(restart, &survivors, Fit::First, |vm, h| {
            storage_reachable(view, vm, h)
        }) {
            if stranded.contains(&vm) {
                continue;
            }
            stranded.push(vm);
            let v = view.vm(vm);
            out.push(
                Finding::warning(
                    Code::VmFailoverFailed,
                    format!(
                        "if {} fail{}, HA cannot restart {}: {}",
                        failed_names.join(" and "),
                        if failed.len() == 1 { "s" } else { "" },
                        v.name,
                        why.describe(&v.demand)
                    ),
                    "add capacity or lower reservations, relax the mandatory rules, or give the VM a lower restart \
                     priority (disabled excludes it)",
                )
                .host(view.host(v.host).name)
                .vm(v.name),
            );
        }
    }
    out
}

/// HA restarts a VM only where its files and LUNs are: every datastore (by UUID) and RDM LUN.
fn storage_reachable(view: &ClusterView<'_>, vm: VmId, host: HostId) -> Result<(), String> {
    let v = view.vm(vm);
    let h = view.host(host);
    let files = std::iter::once(&v.config).chain(v.disks.iter().map(|(_, f, _)| f));
    for f in files {
        if f.uuid.is_none_or(|u| h.datastore(u).is_none()) {
            return Err(format!(
                "its files on datastore {:?} are reachable from no surviving host",
                f.datastore
            ));
        }
    }
    for (label, _, lun) in &v.disks {
        if let Some(lun) = lun {
            if !h.sees_lun(lun) {
                return Err(format!(
                    "{label} maps LUN {lun}, which no surviving host sees"
                ));
            }
        }
    }
    Ok(())
}

fn strip_dot(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// Names and DNS, per host: forward and reverse resolution agree with the host's own name and
/// management addresses; names longer than 29 characters.
pub fn names(view: &ClusterView<'_>, host: HostId) -> Vec<Finding> {
    let h = view.host(host);
    let f = h.facts;
    let mut out = Vec::new();
    let modern = h.version.is_some_and(|v| v.at_least(5, 0));
    for (what, name) in [
        ("host name", f.hostname.as_str()),
        ("FQDN", f.fqdn.as_str()),
    ] {
        let len = name.trim().chars().count();
        if len > 29 {
            let msg = format!(
                "{}: the {what} {name:?} has {len} characters; the HA agent of ESX/ESXi 3.x–4.x fails to configure on \
                 names longer than 29{}",
                h.name,
                if modern {
                    " (this host runs 5.0+, whose HA agent is not affected)"
                } else {
                    ""
                }
            );
            let remedy = "shorten the host name (or leave it if every host runs ESXi 5.0+)";
            out.push(
                if modern {
                    Finding::info(Code::HostNameTooLong, msg)
                } else {
                    Finding::warning(Code::HostNameTooLong, msg, remedy)
                }
                .host(h.name),
            );
            break;
        }
    }
    let Some(lookups) = &f.dns.lookups else {
        return out;
    };
    let mgmt: Vec<&str> = h
        .management
        .iter()
        .map(|i| i.vmk.ip.trim())
        .filter(|ip| !ip.is_empty())
        .collect();
    let own = [strip_dot(&f.fqdn), strip_dot(&f.hostname)];
    if lookups.forward.is_empty() {
        out.push(
            Finding::warning(
                Code::HostShortNameToIpFailedEvent,
                format!("{}: {} does not resolve (forward DNS)", h.name, f.fqdn),
                format!(
                    "add an A record for {} → {}",
                    f.fqdn,
                    mgmt.first().copied().unwrap_or("its management address")
                ),
            )
            .host(h.name),
        );
    } else if !mgmt.is_empty() && !lookups.forward.iter().any(|a| mgmt.contains(&a.trim())) {
        out.push(
            Finding::warning(
                Code::HostIpInconsistentEvent,
                format!(
                    "{}: {} resolves to {}, not to its management address {}",
                    h.name,
                    f.fqdn,
                    lookups.forward.join(", "),
                    mgmt.join(", ")
                ),
                format!("fix the A record of {}", f.fqdn),
            )
            .host(h.name),
        );
    }
    for r in &lookups.reverse {
        if r.names.is_empty() {
            out.push(
                Finding::warning(
                    Code::HostIpToShortNameFailedEvent,
                    format!("{}: {} has no reverse DNS record", h.name, r.address),
                    format!("add a PTR record {} → {}", r.address, f.fqdn),
                )
                .host(h.name),
            );
        } else if !r.names.iter().any(|n| {
            let n = strip_dot(n);
            own.contains(&n)
                || own
                    .iter()
                    .any(|o| !o.is_empty() && n.split('.').next() == Some(o.as_str()))
        }) {
            out.push(
                Finding::warning(
                    Code::HostShortNameInconsistentEvent,
                    format!(
                        "{}: {} resolves back to {}, not to {}",
                        h.name,
                        r.address,
                        r.names.join(", "),
                        f.fqdn
                    ),
                    format!("fix the PTR record of {}", r.address),
                )
                .host(h.name),
            );
        }
    }
    out
}

/// Every HA finding of the cluster (nothing when HA is off).
pub fn findings(view: &ClusterView<'_>) -> Vec<Finding> {
    if !view.spec.ha.enabled {
        return Vec::new();
    }
    let mut out = admission(view, None);
    out.extend(restart_check(view));
    let cluster_has_ft = view.vms.iter().any(|v| v.fault_tolerance);
    for (id, h) in view.hosts.iter().enumerate() {
        let ft_vms: Vec<&str> = h
            .vms
            .iter()
            .map(|&v| view.vm(v))
            .filter(|v| v.fault_tolerance && v.powered_on())
            .map(|v| v.name)
            .collect();
        out.extend(network::redundancy(h, cluster_has_ft, &ft_vms));
        out.extend(names(view, id));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combinations_enumerate_and_give_up_when_too_many() {
        assert_eq!(combinations(3, 2), vec![vec![0, 1], vec![0, 2], vec![1, 2]]);
        assert_eq!(combinations(4, 1).len(), 4);
        assert!(combinations(2, 3).is_empty());
        assert!(combinations(32, 3).is_empty());
        assert_eq!(combinations(23, 2).len(), 253);
    }

    #[test]
    fn tolerated_keeps_one_host() {
        assert_eq!(tolerated(&[4, 3, 3], 5), 1);
        assert_eq!(tolerated(&[4, 3, 3], 0), 2);
        assert_eq!(tolerated(&[4, 3, 3], 11), 0);
        assert_eq!(tolerated(&[], 0), 0);
    }
}
