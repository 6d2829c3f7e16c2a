//! Maintenance mode: can the other hosts absorb a host's VMs? Every powered-on VM must move
//! (or be powered off) before the host enters; DRS moves them only where a manual vMotion
//! would succeed, the mandatory rules allow, and the reservations fit. A VM with nowhere to go
//! makes the task hang (`NoMaintenanceModeDrsRecommendationForVM`): this module names those
//! VMs and why, and shows where the others would go (first-fit decreasing, a plan DRS may
//! improve on).

use std::collections::BTreeMap;

use esxforge_kickstart::cluster::{AdmissionControl, DrsAutomation};

use super::finding::{Check, Code, Finding, Severity};
use super::ha;
use super::hostset::HostSet;
use super::network;
use super::placement::{Fit, Placer};
use super::precopy::PrecopyParams;
use super::view::{ClusterView, HostId, VmId};
use super::vmotion;

const REMEDY: &str = "fix the cause above, or power the VM off (or move it yourself) before entering maintenance mode";

/// The blockers of one VM, as one sentence: grouped by code and device, with the hosts.
fn summarize(
    errors: &[(HostId, Finding)],
    view: &ClusterView<'_>,
    all_hosts: bool,
) -> (String, String) {
    // (code, device) → (hosts, first finding)
    type Group<'f> = (Vec<&'f str>, &'f Finding);
    let mut groups: BTreeMap<(String, Option<String>), Group<'_>> = BTreeMap::new();
    for (h, f) in errors {
        let entry = groups
            .entry((f.code.as_str().to_string(), f.device.clone()))
            .or_insert((Vec::new(), f));
        let name = view.host(*h).name;
        if !entry.0.contains(&name) {
            entry.0.push(name);
        }
    }
    let parts: Vec<String> = groups
        .iter()
        .map(|((code, device), (hosts, f))| {
            let dev = device
                .as_ref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default();
            let on = if all_hosts {
                String::new()
            } else {
                format!(" on {}", hosts.join(", "))
            };
            format!("{code}{dev}{on}: {}", f.message)
        })
        .collect();
    let remedy = groups
        .values()
        .next()
        .map_or_else(|| REMEDY.to_string(), |(_, f)| f.remedy.clone());
    (parts.join("; "), remedy)
}

/// What entering maintenance mode on `host` would do. With `ha_impact`, also whether HA
/// admission control still holds without the host. Findings belong to the maintenance check.
pub fn evacuate(
    view: &ClusterView<'_>,
    host: HostId,
    ha_impact: bool,
    params: &PrecopyParams,
) -> Vec<Finding> {
    let h = view.host(host);
    let mut out = Vec::new();
    if h.in_maintenance() {
        out.push(
            Finding::info(
                Code::MaintenanceModePlan,
                format!("{} is already in maintenance mode", h.name),
            )
            .host(h.name),
        );
        return out;
    }
    let mut candidates_set = view.active_hosts();
    candidates_set.remove(host);
    let candidates: Vec<HostId> = candidates_set.iter().collect();
    let on: Vec<VmId> = h
        .vms
        .iter()
        .copied()
        .filter(|&v| view.vm(v).powered_on())
        .collect();
    let off = h.vms.len() - on.len();

    // Host-level: the source must be able to vMotion at all; each destination too.
    let src_errors: Vec<Finding> = network::vmotion_readiness(h)
        .into_iter()
        .filter(|f| f.severity == Severity::Error)
        .collect();
    let dest_errors: Vec<Vec<Finding>> = (0..view.hosts.len())
        .map(|d| {
            if candidates_set.contains(d) {
                network::vmotion_readiness(view.host(d))
                    .into_iter()
                    .filter(|f| f.severity == Severity::Error)
                    .collect()
            } else {
                Vec::new()
            }
        })
        .collect();

    let mut blocked: Vec<(VmId, String, String)> = Vec::new();
    let mut movable: Vec<VmId> = Vec::new();
    let mut feasible: Vec<HostSet> = vec![HostSet::new(view.hosts.len()); view.vms.len()];
    for &vm in &on {
        let v = view.vm(vm);
        if v.drs == DrsAutomation::Disabled {
            blocked.push((
                vm,
                "DRS is disabled on this VM (per-VM override): DRS never moves it".into(),
                format!(
                    "move {} yourself, or remove cluster.vms.{}.drs_automation: disabled",
                    v.name, v.name
                ),
            ));
            continue;
        }
        let own: Vec<(HostId, Finding)> = vmotion::vm_source(view, vm)
            .into_iter()
            .chain(src_errors.iter().cloned())
            .filter(|f| f.severity == Severity::Error)
            .map(|f| (host, f))
            .collect();
        if !own.is_empty() {
            let (msg, remedy) = summarize(&own, view, true);
            blocked.push((vm, msg, remedy));
            continue;
        }
        if candidates.is_empty() {
            blocked.push((
                vm,
                "no other host takes VMs (all in maintenance mode or dedicated failover hosts)"
                    .into(),
                "take another host out of maintenance mode first".into(),
            ));
            continue;
        }
        let mut errors: Vec<(HostId, Finding)> = Vec::new();
        for &d in &candidates {
            let mut bad: Vec<Finding> = dest_errors[d].clone();
            bad.extend(
                vmotion::vm_destination_static(view, vm, d, params)
                    .into_iter()
                    .filter(|f| f.severity == Severity::Error),
            );
            if bad.is_empty() {
                feasible[vm].insert(d);
            } else {
                errors.extend(bad.into_iter().map(|f| (d, f)));
            }
        }
        if feasible[vm].is_empty() {
            let (msg, remedy) = summarize(&errors, view, false);
            blocked.push((vm, msg, remedy));
        } else {
            movable.push(vm);
        }
    }

    let mut placer = Placer::new(view);
    placer.lift(&on);
    let failed = placer.place_all(movable.clone(), &candidates, Fit::Roomiest, |vm, d| {
        if feasible[vm].contains(d) {
            Ok(())
        } else {
            Err(format!("{} cannot take it", view.host(d).name))
        }
    });
    for (vm, why) in &failed {
        let v = view.vm(*vm);
        blocked.push((*vm, why.describe(&v.demand), "free capacity on the other hosts, lower the VM's reservations, or relax the mandatory rules".into()));
    }
    blocked.sort_by(|a, b| view.vm(a.0).name.cmp(view.vm(b.0).name));
    for (vm, why, remedy) in &blocked {
        out.push(
            Finding::error(
                Code::NoMaintenanceModeDrsRecommendationForVM,
                format!(
                    "{} cannot leave {}, so entering maintenance mode would hang: {why}",
                    view.vm(*vm).name,
                    h.name
                ),
                if remedy.is_empty() {
                    REMEDY.to_string()
                } else {
                    remedy.clone()
                },
            )
            .host(h.name)
            .vm(view.vm(*vm).name),
        );
    }

    // The plan.
    let mut moves: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for &vm in &movable {
        if let Some(d) = placer.location[vm] {
            moves
                .entry(view.host(d).name)
                .or_default()
                .push(view.vm(vm).name);
        }
    }
    let moved: usize = moves.values().map(Vec::len).sum();
    let plan: Vec<String> = moves
        .iter()
        .map(|(d, vms)| format!("{d} ← {}", vms.join(", ")))
        .collect();
    let mut msg = if blocked.is_empty() {
        format!(
            "{} can enter maintenance mode: {moved} powered-on VM{} move",
            h.name,
            if moved == 1 { "" } else { "s" }
        )
    } else {
        format!(
            "{} cannot enter maintenance mode: {} of {} powered-on VMs have nowhere to go; {moved} would move",
            h.name,
            blocked.len(),
            on.len()
        )
    };
    if !plan.is_empty() {
        msg.push_str(&format!(" ({})", plan.join("; ")));
    }
    if off > 0 {
        msg.push_str(&format!(
            "; {off} powered-off VM{} stay registered",
            if off == 1 { "" } else { "s" }
        ));
    }
    if !view.spec.drs.enabled {
        msg.push_str("; DRS is off: you move the VMs yourself (this plan is a suggestion)");
    } else if view.spec.drs.automation != DrsAutomation::FullyAutomated {
        msg.push_str("; DRS is not fully automated: apply its recommendations to proceed");
    }
    out.push(Finding::info(Code::MaintenanceModePlan, msg).host(h.name));

    // HA with the host gone.
    if ha_impact
        && view.spec.ha.enabled
        && !matches!(view.spec.ha.admission_control, AdmissionControl::Disabled)
    {
        out.extend(
            ha::admission(view, Some(host))
                .into_iter()
                .filter(|f| f.code == Code::InsufficientFailoverResourcesFault)
                .map(|f| f.host(h.name)),
        );
    }
    out.into_iter()
        .map(|f| f.in_check(Check::Maintenance))
        .collect()
}
