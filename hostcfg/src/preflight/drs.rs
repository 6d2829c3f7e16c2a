//! DRS rules: resolved against the VMs and hosts of the facts, conflicts found the way vCenter
//! treats them, satisfiability, and current violations (hostops.md §5.2).
//!
//! - **Conflicts** (union-find over the enabled VM-VM rules, in creation order): an affinity
//!   rule that would join VMs an older anti-affinity rule keeps apart, or an anti-affinity rule
//!   over VMs older affinity rules already joined, conflicts; vCenter keeps the older rule and
//!   disables the newer, so the newer is reported and left out of every other check.
//! - **VM-Host intersections**: a VM may run on the intersection of the affine host groups of
//!   its mandatory VM-Host rules minus their anti-affine groups, intersected over the VMs a
//!   mandatory affinity rule ties it to. Empty: the VMs can run nowhere (rules are not ranked,
//!   so nothing is disabled: the VMs fail to power on).
//! - **Anti-affinity satisfiability** (Hall's condition): the VMs of an anti-affinity rule need
//!   a matching onto distinct allowed hosts.
//! - **Current violations**: where the powered-on VMs run now.

use std::collections::HashMap;

use esxforge_kickstart::cluster::{Cluster, RuleKind};

use super::finding::{Code, Finding, Severity};
use super::hostset::HostSet;
use super::view::{ClusterView, HostId, VmId, VmView};

/// A rule that applies: enabled, not disabled by a conflict, names resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveRule {
    pub name: String,
    pub mandatory: bool,
    pub kind: Resolved,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    Affinity(Vec<VmId>),
    AntiAffinity(Vec<VmId>),
    VmHost {
        vms: Vec<VmId>,
        affine: Option<HostSet>,
        anti_affine: Option<HostSet>,
    },
}

impl ActiveRule {
    pub fn vms(&self) -> &[VmId] {
        match &self.kind {
            Resolved::Affinity(v) | Resolved::AntiAffinity(v) => v,
            Resolved::VmHost { vms, .. } => vms,
        }
    }

    fn kind_name(&self) -> &'static str {
        match self.kind {
            Resolved::Affinity(_) => "affinity",
            Resolved::AntiAffinity(_) => "anti-affinity",
            Resolved::VmHost { .. } => "VM-Host",
        }
    }

    fn strength(&self) -> &'static str {
        if self.mandatory { "must" } else { "should" }
    }
}

/// The rules, resolved once for every check.
#[derive(Debug, Clone, Default)]
pub struct RuleIndex {
    pub active: Vec<ActiveRule>,
    /// Per VM, the indices into `active` of the rules naming it.
    by_vm: Vec<Vec<usize>>,
    /// Per VM, the hosts its mandatory VM-Host rules (over its mandatory affinity group) allow;
    /// `None` when unrestricted.
    allowed: Vec<Option<HostSet>>,
    /// Per VM, the same with should rules too.
    preferred: Vec<Option<HostSet>>,
    /// Findings made while resolving: conflicts, unknown names, empty intersections.
    pub findings: Vec<Finding>,
}

/// Union-find with path halving; `find` walks at most the depth of the forest, which union
/// by size keeps logarithmic.
struct UnionFind {
    parent: Vec<usize>,
    size: Vec<usize>,
}

impl UnionFind {
    fn new(n: usize) -> UnionFind {
        UnionFind {
            parent: (0..n).collect(),
            size: vec![1; n],
        }
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    fn union(&mut self, a: usize, b: usize) {
        let (mut a, mut b) = (self.find(a), self.find(b));
        if a == b {
            return;
        }
        if self.size[a] < self.size[b] {
            std::mem::swap(&mut a, &mut b);
        }
        self.parent[b] = a;
        self.size[a] += self.size[b];
    }
}

impl RuleIndex {
    pub fn build(
        spec: &Cluster,
        hosts: &HashMap<&str, HostId>,
        vms_by_name: &HashMap<&str, Vec<VmId>>,
        n_hosts: usize,
        vms: &[VmView<'_>],
    ) -> RuleIndex {
        let mut idx = RuleIndex {
            by_vm: vec![Vec::new(); vms.len()],
            allowed: vec![None; vms.len()],
            preferred: vec![None; vms.len()],
            ..RuleIndex::default()
        };
        let resolve = |names: &[String], what: &str, findings: &mut Vec<Finding>| -> Vec<VmId> {
            let mut out = Vec::new();
            for n in names {
                match vms_by_name.get(n.as_str()) {
                    Some(ids) => out.extend(ids.iter().copied()),
                    None => findings.push(
                        Finding::warning(
                            Code::UnknownVm,
                            format!("{what} names VM {n:?}, which no host reports"),
                            "fix the name in the cluster section, or gather facts from the host running the VM",
                        )
                        .vm(n),
                    ),
                }
            }
            out
        };
        let host_group = |group: &str| -> HostSet {
            let mut set = HostSet::new(n_hosts);
            for h in spec.groups.hosts.get(group).into_iter().flatten() {
                if let Some(&id) = hosts.get(h.as_str()) {
                    set.insert(id);
                }
            }
            set
        };
        for name in spec.vms.keys() {
            if !vms_by_name.contains_key(name.as_str()) {
                idx.findings.push(
                    Finding::warning(
                        Code::UnknownVm,
                        format!("cluster.vms names VM {name:?}, which no host reports"),
                        "fix the name, or gather facts from the host running the VM",
                    )
                    .vm(name),
                );
            }
        }

        // Union-find over VM names of the VM-VM rules, in creation order.
        let mut node: HashMap<&str, usize> = HashMap::new();
        for r in spec.rules.iter().filter(|r| r.enabled) {
            if let RuleKind::Affinity { vms } | RuleKind::AntiAffinity { vms } = &r.kind {
                for v in vms {
                    let next = node.len();
                    node.entry(v.as_str()).or_insert(next);
                }
            }
        }
        let mut uf = UnionFind::new(node.len());
        let mut kept_anti: Vec<(usize, Vec<usize>)> = Vec::new();
        let mut kept_aff: Vec<(usize, Vec<usize>)> = Vec::new();
        for (i, r) in spec.rules.iter().enumerate().filter(|(_, r)| r.enabled) {
            let nodes = |vms: &[String]| -> Vec<usize> {
                vms.iter()
                    .filter_map(|v| node.get(v.as_str()).copied())
                    .collect()
            };
            match &r.kind {
                RuleKind::Affinity { vms } => {
                    let ns = nodes(vms);
                    let roots: Vec<usize> = ns.iter().map(|&n| uf.find(n)).collect();
                    let clash = kept_anti.iter().find(|(_, anti)| {
                        let inside = anti
                            .iter()
                            .filter(|&&a| roots.contains(&uf.find(a)))
                            .count();
                        inside >= 2
                    });
                    if let Some(&(older, _)) = clash {
                        let o = &spec.rules[older];
                        idx.findings.push(conflict(
                            &r.name,
                            "affinity",
                            &[o.name.as_str()],
                            "anti-affinity",
                            vms,
                        ));
                        continue;
                    }
                    for w in ns.windows(2) {
                        uf.union(w[0], w[1]);
                    }
                    kept_aff.push((i, ns));
                }
                RuleKind::AntiAffinity { vms } => {
                    let ns = nodes(vms);
                    let mut together = None;
                    'outer: for (a, &x) in ns.iter().enumerate() {
                        for &y in ns.iter().skip(a + 1) {
                            if uf.find(x) == uf.find(y) {
                                together = Some(uf.find(x));
                                break 'outer;
                            }
                        }
                    }
                    if let Some(root) = together {
                        let older: Vec<&str> = kept_aff
                            .iter()
                            .filter(|(_, aff)| aff.iter().any(|&a| uf.find(a) == root))
                            .map(|(j, _)| spec.rules[*j].name.as_str())
                            .collect();
                        idx.findings.push(conflict(
                            &r.name,
                            "anti-affinity",
                            &older,
                            "affinity",
                            vms,
                        ));
                        continue;
                    }
                    kept_anti.push((i, ns));
                }
                RuleKind::VmHost { .. } => {}
            }
        }
        let mut kept: Vec<usize> = kept_aff.iter().chain(&kept_anti).map(|(i, _)| *i).collect();
        kept.extend(
            spec.rules
                .iter()
                .enumerate()
                .filter(|(_, r)| r.enabled && matches!(r.kind, RuleKind::VmHost { .. }))
                .map(|(i, _)| i),
        );
        kept.sort_unstable();

        for i in kept {
            let r = &spec.rules[i];
            let what = format!("rule {:?}", r.name);
            let kind = match &r.kind {
                RuleKind::Affinity { vms } => {
                    Resolved::Affinity(resolve(vms, &what, &mut idx.findings))
                }
                RuleKind::AntiAffinity { vms } => {
                    Resolved::AntiAffinity(resolve(vms, &what, &mut idx.findings))
                }
                RuleKind::VmHost {
                    vm_group,
                    affine_host_group,
                    anti_affine_host_group,
                } => {
                    let names = spec.groups.vms.get(vm_group).cloned().unwrap_or_default();
                    Resolved::VmHost {
                        vms: resolve(
                            &names,
                            &format!("VM group {vm_group:?} of {what}"),
                            &mut idx.findings,
                        ),
                        affine: affine_host_group.as_deref().map(host_group),
                        anti_affine: anti_affine_host_group.as_deref().map(host_group),
                    }
                }
            };
            let rule_idx = idx.active.len();
            let active = ActiveRule {
                name: r.name.clone(),
                mandatory: r.mandatory,
                kind,
            };
            for &v in active.vms() {
                if let Some(list) = idx.by_vm.get_mut(v) {
                    list.push(rule_idx);
                }
            }
            idx.active.push(active);
        }
        idx.compute_allowed(n_hosts, vms);
        idx
    }

    /// Allowed hosts per VM, over its affinity group, for mandatory rules and for all rules.
    fn compute_allowed(&mut self, n_hosts: usize, vms: &[VmView<'_>]) {
        for mandatory_only in [true, false] {
            // Per VM, its own VM-Host restriction.
            let mut own: Vec<Option<HostSet>> = vec![None; vms.len()];
            for r in self
                .active
                .iter()
                .filter(|r| r.mandatory || !mandatory_only)
            {
                if let Resolved::VmHost {
                    vms: members,
                    affine,
                    anti_affine,
                } = &r.kind
                {
                    for &v in members {
                        let set = own[v].get_or_insert_with(|| HostSet::all(n_hosts));
                        if let Some(a) = affine {
                            set.intersect(a);
                        }
                        if let Some(a) = anti_affine {
                            set.subtract(a);
                        }
                    }
                }
            }
            // Affinity groups.
            let mut uf = UnionFind::new(vms.len());
            for r in self
                .active
                .iter()
                .filter(|r| r.mandatory || !mandatory_only)
            {
                if let Resolved::Affinity(members) = &r.kind {
                    for w in members.windows(2) {
                        uf.union(w[0], w[1]);
                    }
                }
            }
            let mut group: HashMap<usize, Option<HostSet>> = HashMap::new();
            for (v, set) in own.iter().enumerate() {
                let Some(set) = set else { continue };
                let root = uf.find(v);
                let g = group.entry(root).or_insert(None);
                match g {
                    Some(existing) => existing.intersect(set),
                    None => *g = Some(set.clone()),
                }
            }
            let target = if mandatory_only {
                &mut self.allowed
            } else {
                &mut self.preferred
            };
            for (v, slot) in target.iter_mut().enumerate() {
                *slot = group.get(&uf.find(v)).cloned().flatten();
            }
        }
    }

    /// The hosts the mandatory rules allow for `vm` (`None`: any host).
    pub fn allowed(&self, vm: VmId) -> Option<&HostSet> {
        self.allowed.get(vm).and_then(Option::as_ref)
    }

    /// The hosts every rule (must and should) allows for `vm`.
    pub fn preferred(&self, vm: VmId) -> Option<&HostSet> {
        self.preferred.get(vm).and_then(Option::as_ref)
    }

    /// The active rules naming `vm`.
    pub fn rules_of(&self, vm: VmId) -> impl Iterator<Item = &ActiveRule> {
        self.by_vm
            .get(vm)
            .into_iter()
            .flatten()
            .filter_map(|&i| self.active.get(i))
    }

    /// The mandatory rule that keeps `vm` apart from a VM on `host`, given where VMs are
    /// (`placed(v)`: the host of v, or `None` when v is not running).
    pub fn anti_affinity_clash(
        &self,
        vm: VmId,
        host: HostId,
        placed: impl Fn(VmId) -> Option<HostId>,
    ) -> Option<(&ActiveRule, VmId)> {
        self.rules_of(vm)
            .filter(|r| r.mandatory)
            .find_map(|r| match &r.kind {
                Resolved::AntiAffinity(members) => members
                    .iter()
                    .copied()
                    .find(|&o| o != vm && placed(o) == Some(host))
                    .map(|o| (r, o)),
                _ => None,
            })
    }

    /// The host a mandatory affinity rule ties `vm` to, when a partner already runs somewhere.
    pub fn affinity_host(
        &self,
        vm: VmId,
        placed: impl Fn(VmId) -> Option<HostId>,
    ) -> Option<(&ActiveRule, VmId, HostId)> {
        self.rules_of(vm)
            .filter(|r| r.mandatory)
            .find_map(|r| match &r.kind {
                Resolved::Affinity(members) => members
                    .iter()
                    .copied()
                    .filter(|&o| o != vm)
                    .find_map(|o| placed(o).map(|h| (r, o, h))),
                _ => None,
            })
    }
}

fn conflict(
    newer: &str,
    newer_kind: &str,
    older: &[&str],
    older_kind: &str,
    vms: &[String],
) -> Finding {
    let quoted: Vec<String> = older.iter().map(|o| format!("{o:?}")).collect();
    Finding::warning(
        Code::DrsRuleConflict,
        format!(
            "{newer_kind} rule {newer:?} (VMs {}) conflicts with the older {older_kind} rule{} {}: vCenter keeps the older \
             rule and disables {newer:?}",
            vms.join(", "),
            if older.len() == 1 { "" } else { "s" },
            quoted.join(", ")
        ),
        format!(
            "delete or rewrite rule {newer:?} (it never applies), or change the older rule if {newer:?} is the one you want"
        ),
    )
}

/// Kuhn's augmenting paths: can every left node get a distinct right node? Each search visits
/// each host at most once, so the whole is O(VMs × edges).
fn perfect_matching(options: &[Vec<HostId>], n_hosts: usize) -> bool {
    let mut owner: Vec<Option<usize>> = vec![None; n_hosts];
    fn augment(
        v: usize,
        options: &[Vec<HostId>],
        owner: &mut [Option<usize>],
        seen: &mut [bool],
    ) -> bool {
        for &h in options.get(v).into_iter().flatten() {
            if seen.get(h).copied().unwrap_or(true) {
                continue;
            }
            seen[h] = true;
            let free = match owner[h] {
                None => true,
                Some(o) => augment(o, options, owner, seen),
            };
            if free {
                owner[h] = Some(v);
                return true;
            }
        }
        false
    }
    (0..options.len()).all(|v| {
        let mut seen = vec![false; n_hosts];
        augment(v, options, &mut owner, &mut seen)
    })
}

fn names(view: &ClusterView<'_>, vms: &[VmId]) -> Vec<String> {
    let mut n: Vec<String> = vms.iter().map(|&v| view.vm(v).name.to_string()).collect();
    n.dedup();
    n
}

fn host_names(view: &ClusterView<'_>, set: &HostSet) -> String {
    let n: Vec<&str> = set.iter().map(|h| view.host(h).name).collect();
    if n.is_empty() {
        "none".into()
    } else {
        n.join(", ")
    }
}

/// Every DRS finding of the cluster.
pub fn findings(view: &ClusterView<'_>) -> Vec<Finding> {
    let mut out = view.rules.findings.clone();
    let active_hosts = view.active_hosts();
    let rules = &view.rules;

    // VM-Host intersections: each VM whose allowed set is empty.
    for (v, vm) in view.vms.iter().enumerate() {
        for mandatory in [true, false] {
            let set = if mandatory {
                rules.allowed(v)
            } else {
                rules.preferred(v)
            };
            let Some(set) = set else { continue };
            let mut live = set.clone();
            live.intersect(&active_hosts);
            if !live.is_empty() {
                continue;
            }
            if !mandatory && rules.allowed(v).is_some_and(|a| a.is_empty()) {
                continue;
            }
            let involved: Vec<String> = rules
                .rules_of(v)
                .filter(|r| {
                    (r.mandatory || !mandatory) && !matches!(r.kind, Resolved::AntiAffinity(_))
                })
                .map(|r| r.name.clone())
                .collect();
            let empty_by_rules = set.is_empty();
            let why = if empty_by_rules {
                format!("rules {} leave it no host at all", involved.join(", "))
            } else {
                format!(
                    "rules {} allow only {}, none of which takes VMs now (maintenance mode or failover host)",
                    involved.join(", "),
                    host_names(view, set)
                )
            };
            let sev = Severity::error_if(mandatory);
            out.push(
                Finding::new(
                    sev,
                    Code::VmHostAffinityRuleViolation,
                    format!(
                        "{}: the {} {why}",
                        vm.name,
                        if mandatory {
                            "mandatory"
                        } else {
                            "must and should"
                        }
                    ),
                    "change the host groups so that their intersection holds at least one host",
                )
                .vm(vm.name),
            );
        }
    }

    // Anti-affinity satisfiability (Hall's condition via a matching).
    for r in &rules.active {
        let Resolved::AntiAffinity(members) = &r.kind else {
            continue;
        };
        let options: Vec<Vec<HostId>> = members
            .iter()
            .map(|&v| {
                let mut set = match rules.allowed(v) {
                    Some(s) => s.clone(),
                    None => HostSet::all(view.hosts.len()),
                };
                set.intersect(&active_hosts);
                set.iter().collect()
            })
            .collect();
        if !perfect_matching(&options, view.hosts.len()) {
            let sev = Severity::error_if(r.mandatory);
            out.push(Finding::new(
                sev,
                Code::RuleViolation,
                format!(
                    "{} anti-affinity rule {:?} needs {} VMs ({}) on distinct hosts, but the hosts they may use ({} active) \
                     cannot hold them apart",
                    r.strength(),
                    r.name,
                    members.len(),
                    names(view, members).join(", "),
                    active_hosts.count()
                ),
                "add hosts (or take them out of maintenance), widen the VM-Host rules, or split the rule",
            ));
        }
    }

    // Current violations (powered-on VMs only).
    let on: Vec<bool> = view.vms.iter().map(|v| v.powered_on()).collect();
    for r in &rules.active {
        let running: Vec<VmId> = r.vms().iter().copied().filter(|&v| on[v]).collect();
        let violation = match &r.kind {
            Resolved::Affinity(_) => {
                let mut hosts: Vec<&str> = running
                    .iter()
                    .map(|&v| view.host(view.vm(v).host).name)
                    .collect();
                hosts.sort_unstable();
                hosts.dedup();
                (hosts.len() > 1).then(|| {
                    format!(
                        "its VMs run on {} hosts ({})",
                        hosts.len(),
                        running
                            .iter()
                            .map(|&v| format!(
                                "{} on {}",
                                view.vm(v).name,
                                view.host(view.vm(v).host).name
                            ))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })
            }
            Resolved::AntiAffinity(_) => {
                let mut by_host: HashMap<HostId, Vec<&str>> = HashMap::new();
                for &v in &running {
                    by_host
                        .entry(view.vm(v).host)
                        .or_default()
                        .push(view.vm(v).name);
                }
                let mut shared: Vec<String> = by_host
                    .iter()
                    .filter(|(_, vs)| vs.len() > 1)
                    .map(|(&h, vs)| format!("{} share {}", vs.join(" and "), view.host(h).name))
                    .collect();
                shared.sort();
                (!shared.is_empty()).then(|| shared.join("; "))
            }
            Resolved::VmHost { .. } => {
                let bad: Vec<String> = running
                    .iter()
                    .filter(|&&v| !vm_host_ok(r, view.vm(v).host))
                    .map(|&v| format!("{} on {}", view.vm(v).name, view.host(view.vm(v).host).name))
                    .collect();
                (!bad.is_empty()).then(|| format!("{} outside the allowed hosts", bad.join(", ")))
            }
        };
        if let Some(msg) = violation {
            let (code, sev) = if r.mandatory {
                (Code::DrsRuleViolationEvent, Severity::Error)
            } else {
                (Code::DrsSoftRuleViolationEvent, Severity::Warning)
            };
            out.push(Finding::new(
                sev,
                code,
                format!("{} {} rule {:?} is violated now: {msg}", r.strength(), r.kind_name(), r.name),
                "let DRS correct it (fully automated, or apply its recommendations), or move the VMs yourself",
            ));
        }
    }

    // Clustered VMs should be excluded from DRS.
    if view.spec.drs.enabled {
        for vm in &view.vms {
            let shared: Vec<&str> = shared_bus_controllers(vm);
            if !shared.is_empty() && vm.drs != esxforge_kickstart::cluster::DrsAutomation::Disabled
            {
                out.push(
                    Finding::warning(
                        Code::DrsEnabledOnVmCluster,
                        format!(
                            "{} shares its SCSI bus ({}) — a VM cluster node — but DRS may still try to move it",
                            vm.name,
                            shared.join(", ")
                        ),
                        format!("set a per-VM override: cluster.vms.{}.drs_automation: disabled", vm.name),
                    )
                    .host(view.host(vm.host).name)
                    .vm(vm.name),
                );
            }
        }
    }
    out
}

/// Controllers of a VM with SCSI bus sharing.
pub fn shared_bus_controllers<'a>(vm: &VmView<'a>) -> Vec<&'a str> {
    vm.facts
        .devices
        .iter()
        .filter_map(|d| match d {
            crate::facts::Device::Controller { label, bus_sharing }
                if !bus_sharing.is_empty() && !bus_sharing.eq_ignore_ascii_case("noSharing") =>
            {
                Some(label.as_str())
            }
            _ => None,
        })
        .collect()
}

/// Whether a VM-Host rule accepts `host`.
pub fn vm_host_ok(rule: &ActiveRule, host: HostId) -> bool {
    match &rule.kind {
        Resolved::VmHost {
            affine,
            anti_affine,
            ..
        } => {
            affine.as_ref().is_none_or(|a| a.contains(host))
                && !anti_affine.as_ref().is_some_and(|a| a.contains(host))
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_needs_distinct_hosts() {
        assert!(perfect_matching(&[vec![0, 1], vec![0]], 2));
        assert!(!perfect_matching(&[vec![0], vec![0]], 2));
        // Hall: three VMs over two hosts.
        assert!(!perfect_matching(&[vec![0, 1], vec![0, 1], vec![0, 1]], 2));
        assert!(perfect_matching(&[vec![1, 2], vec![0, 1], vec![1]], 3));
        assert!(!perfect_matching(&[vec![]], 1));
    }

    #[test]
    fn union_find_groups() {
        let mut uf = UnionFind::new(5);
        uf.union(0, 1);
        uf.union(3, 4);
        uf.union(1, 4);
        assert_eq!(uf.find(0), uf.find(3));
        assert_ne!(uf.find(2), uf.find(0));
    }
}
