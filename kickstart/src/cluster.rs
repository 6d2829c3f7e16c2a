//! The inventory's `cluster:` section: what vCenter knows and a standalone host cannot report
//! (HA admission control policy, DRS automation and rules, VM and host groups, per-VM
//! reservations and estimates). The preflight in `esxforge-hostcfg` reads it beside the facts
//! gathered from each host.
//!
//! ```yaml
//! cluster:
//!   name: prod
//!   evc_mode: intel-haswell          # only when EVC is enabled on the cluster
//!   vmotion_throughput_mbps: 9400    # measured, for the pre-copy estimate
//!   ha:
//!     admission_control:
//!       policy: slots                # slots | percentage | failover_hosts | disabled
//!       failover_level: 1
//!     isolation_response: power_off
//!   drs:
//!     automation: fully_automated
//!     migration_threshold: 3
//!   groups:
//!     vms:   { web: [web01, web02], db: [db01] }
//!     hosts: { rack-a: [esx01, esx02] }
//!   rules:                           # file order is creation order: the older rule wins
//!     - { name: web-apart, type: anti_affinity, vms: [web01, web02], mandatory: true }
//!     - { name: db-rack-a, type: vm_host, vm_group: db, affine_host_group: rack-a }
//!   vms:
//!     db01: { cpu_reservation_mhz: 4000, memory_reservation_mb: 16384, restart_priority: high,
//!             dirty_rate_mb_s: 120 }
//! ```
//!
//! Every field has a default, so `cluster: {}` is valid. [`Cluster::validate`] checks the
//! references between fields (groups named by rules, hosts named by groups) and reports every
//! problem with its path (`cluster.rules[1].vm_group: …`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

/// The `cluster:` section of an inventory.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Cluster {
    /// The cluster's name, for reports.
    pub name: Option<String>,
    /// The member hosts (inventory names). Empty: every host of the inventory.
    pub hosts: Vec<String>,
    /// The EVC mode configured on the cluster (`intel-haswell`, `amd-zen`, …); unset when EVC is
    /// off. With EVC on, VMs see the mode's baseline instead of their host's CPU.
    pub evc_mode: Option<String>,
    /// The measured vMotion throughput in Mb/s (e.g. from a test migration). Unset: the pre-copy
    /// estimate uses the vMotion link speed.
    pub vmotion_throughput_mbps: Option<u32>,
    pub ha: Ha,
    pub drs: Drs,
    pub groups: Groups,
    /// DRS rules in creation order (the order of the file): when two rules conflict, vCenter
    /// keeps the older one and disables the newer.
    pub rules: Vec<Rule>,
    /// Per-VM settings, keyed by VM name as the hosts report it.
    pub vms: BTreeMap<String, VmOverride>,
}

/// vSphere HA.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Ha {
    pub enabled: bool,
    pub admission_control: AdmissionControl,
    /// `das.vmcpuminmhz`: the CPU reservation counted for a VM with none. 32 MHz in the slot
    /// documentation; the old percentage-policy API text says 256: set it to what your vCenter
    /// uses.
    pub vm_cpu_min_mhz: u32,
    /// The memory counted for a VM with no reservation, in MB (added to its overhead). 0 by
    /// default, as in the slot documentation.
    pub vm_memory_min_mb: u32,
    pub isolation_response: IsolationResponse,
}

impl Default for Ha {
    fn default() -> Self {
        Ha {
            enabled: true,
            admission_control: AdmissionControl::default(),
            vm_cpu_min_mhz: 32,
            vm_memory_min_mb: 0,
            isolation_response: IsolationResponse::default(),
        }
    }
}

/// HA admission control: how vCenter keeps capacity for restarting a failed host's VMs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "policy", rename_all = "snake_case", deny_unknown_fields)]
pub enum AdmissionControl {
    /// "Host failures cluster tolerates" (`ClusterFailoverLevelAdmissionControlPolicy`).
    Slots {
        /// Host failures to tolerate, 1 to 4.
        #[serde(default = "one")]
        failover_level: u32,
        /// A fixed slot size instead of the largest reservation (`ClusterFixedSizeSlotPolicy`).
        #[serde(default)]
        fixed_slot: Option<SlotSize>,
        /// `das.slotcpuinmhz`: caps the computed slot's CPU.
        #[serde(default)]
        slot_cpu_cap_mhz: Option<u32>,
        /// `das.slotmeminmb`: caps the computed slot's memory.
        #[serde(default)]
        slot_memory_cap_mb: Option<u32>,
    },
    /// "Percentage of cluster resources reserved" (`ClusterFailoverResourcesAdmissionControlPolicy`).
    Percentage {
        cpu_percent: u32,
        memory_percent: u32,
        /// The failures the percentages are meant to cover, for the N+1 check (default 1).
        #[serde(default = "one")]
        failover_level: u32,
    },
    /// Dedicated failover hosts (`ClusterFailoverHostAdmissionControlPolicy`): kept empty,
    /// never used by DRS, power-on and vMotion onto them blocked.
    FailoverHosts { hosts: Vec<String> },
    /// Admission control off: HA restarts what it can.
    Disabled,
}

fn one() -> u32 {
    1
}

impl Default for AdmissionControl {
    fn default() -> Self {
        AdmissionControl::Slots {
            failover_level: 1,
            fixed_slot: None,
            slot_cpu_cap_mhz: None,
            slot_memory_cap_mb: None,
        }
    }
}

/// A slot: the CPU and memory one VM is assumed to need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlotSize {
    pub cpu_mhz: u32,
    pub memory_mb: u32,
}

/// What an isolated host does with its VMs (FT VMs ignore it and keep running).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IsolationResponse {
    #[default]
    LeavePoweredOn,
    PowerOff,
    Shutdown,
}

/// vSphere DRS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Drs {
    pub enabled: bool,
    pub automation: DrsAutomation,
    /// 1 (conservative: only mandatory moves such as maintenance mode and rule violations) to 5
    /// (aggressive).
    pub migration_threshold: u8,
}

impl Default for Drs {
    fn default() -> Self {
        Drs {
            enabled: true,
            automation: DrsAutomation::FullyAutomated,
            migration_threshold: 3,
        }
    }
}

/// A DRS automation level, for the cluster or one VM.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DrsAutomation {
    /// Per-VM only: DRS never moves or places this VM.
    Disabled,
    Manual,
    PartiallyAutomated,
    #[default]
    FullyAutomated,
}

/// Named VM groups and host groups, for VM-Host rules.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Groups {
    pub vms: BTreeMap<String, Vec<String>>,
    pub hosts: BTreeMap<String, Vec<String>>,
}

/// A DRS rule. `enabled` defaults to true (a rule written into the inventory is meant to
/// apply); `mandatory` ("must") defaults to false ("should").
///
/// In YAML a rule is one flat mapping whose `type` says which of the other keys it takes:
/// `affinity` and `anti_affinity` take `vms`; `vm_host` takes `vm_group` and
/// `affine_host_group` and/or `anti_affine_host_group`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawRule", into = "RawRule")]
pub struct Rule {
    pub name: String,
    pub enabled: bool,
    pub mandatory: bool,
    pub kind: RuleKind,
}

/// What a rule asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleKind {
    /// Keep these VMs on one host.
    Affinity { vms: Vec<String> },
    /// Keep these VMs on different hosts.
    AntiAffinity { vms: Vec<String> },
    /// Run the VMs of a VM group on (affine) or off (anti-affine) the hosts of a host group.
    VmHost {
        vm_group: String,
        affine_host_group: Option<String>,
        anti_affine_host_group: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum RuleType {
    Affinity,
    AntiAffinity,
    VmHost,
}

/// The YAML shape of a rule (flat, so that `deny_unknown_fields` works), turned into [`Rule`].
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: String,
    #[serde(rename = "type")]
    kind: RuleType,
    #[serde(default = "yes")]
    enabled: bool,
    #[serde(default)]
    mandatory: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    vms: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    vm_group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    affine_host_group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    anti_affine_host_group: Option<String>,
}

fn yes() -> bool {
    true
}

impl TryFrom<RawRule> for Rule {
    type Error = String;

    fn try_from(raw: RawRule) -> Result<Rule, String> {
        let name = raw.name;
        let kind = match raw.kind {
            RuleType::Affinity | RuleType::AntiAffinity => {
                if raw.vm_group.is_some()
                    || raw.affine_host_group.is_some()
                    || raw.anti_affine_host_group.is_some()
                {
                    return Err(format!(
                        "rule {name:?}: an affinity or anti_affinity rule takes `vms`, not groups \
                         (use type: vm_host for VM-Host rules)"
                    ));
                }
                let vms = raw
                    .vms
                    .ok_or_else(|| format!("rule {name:?}: list the rule's VMs under `vms`"))?;
                if raw.kind == RuleType::Affinity {
                    RuleKind::Affinity { vms }
                } else {
                    RuleKind::AntiAffinity { vms }
                }
            }
            RuleType::VmHost => {
                if raw.vms.is_some() {
                    return Err(format!(
                        "rule {name:?}: a vm_host rule takes a `vm_group`, not `vms` \
                         (define the group under cluster.groups.vms)"
                    ));
                }
                let vm_group = raw
                    .vm_group
                    .ok_or_else(|| format!("rule {name:?}: a vm_host rule needs `vm_group`"))?;
                RuleKind::VmHost {
                    vm_group,
                    affine_host_group: raw.affine_host_group,
                    anti_affine_host_group: raw.anti_affine_host_group,
                }
            }
        };
        Ok(Rule {
            name,
            enabled: raw.enabled,
            mandatory: raw.mandatory,
            kind,
        })
    }
}

impl From<Rule> for RawRule {
    fn from(rule: Rule) -> RawRule {
        let mut raw = RawRule {
            name: rule.name,
            kind: RuleType::Affinity,
            enabled: rule.enabled,
            mandatory: rule.mandatory,
            vms: None,
            vm_group: None,
            affine_host_group: None,
            anti_affine_host_group: None,
        };
        match rule.kind {
            RuleKind::Affinity { vms } => raw.vms = Some(vms),
            RuleKind::AntiAffinity { vms } => {
                raw.kind = RuleType::AntiAffinity;
                raw.vms = Some(vms);
            }
            RuleKind::VmHost {
                vm_group,
                affine_host_group,
                anti_affine_host_group,
            } => {
                raw.kind = RuleType::VmHost;
                raw.vm_group = Some(vm_group);
                raw.affine_host_group = affine_host_group;
                raw.anti_affine_host_group = anti_affine_host_group;
            }
        }
        raw
    }
}

/// HA restart priority of one VM; `disabled` excludes it from HA restarts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RestartPriority {
    Disabled,
    Lowest,
    Low,
    #[default]
    Medium,
    High,
    Highest,
}

/// Per-VM settings only vCenter knows, and estimates for the pre-copy model. Values given here
/// override what the VM's host reports.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VmOverride {
    pub cpu_reservation_mhz: Option<u64>,
    pub memory_reservation_mb: Option<u64>,
    pub restart_priority: RestartPriority,
    /// The VM is protected by Fault Tolerance.
    pub fault_tolerance: Option<bool>,
    /// A per-VM DRS automation level (`disabled` pins the VM: maintenance mode waits for it).
    pub drs_automation: Option<DrsAutomation>,
    /// Estimated page dirty rate in MB/s, for the pre-copy estimate.
    pub dirty_rate_mb_s: Option<f64>,
}

/// One problem in a `cluster:` section, with the path of the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ClusterError {
    /// `cluster.rules[1].vm_group`.
    pub path: String,
    pub message: String,
}

/// Every problem found by [`Cluster::validate`], one per line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ClusterErrors(pub Vec<ClusterError>);

impl fmt::Display for ClusterErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, err) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{err}")?;
        }
        Ok(())
    }
}

impl Cluster {
    /// Checks what serde cannot: value ranges, unique names and references between fields.
    /// `inventory_hosts` are the host names of the inventory; host names in the section must be
    /// among them. Returns every problem found, each with its path.
    pub fn validate<S: AsRef<str>>(&self, inventory_hosts: &[S]) -> Result<(), ClusterErrors> {
        let known: BTreeSet<&str> = inventory_hosts.iter().map(AsRef::as_ref).collect();
        let mut errors = Vec::new();
        let mut push = |path: String, message: String| errors.push(ClusterError { path, message });

        for (i, host) in self.hosts.iter().enumerate() {
            if !known.contains(host.as_str()) {
                push(
                    format!("cluster.hosts[{i}]"),
                    format!("host {host:?} is not in the inventory's hosts (check the spelling)"),
                );
            }
        }
        let members: BTreeSet<&str> = if self.hosts.is_empty() {
            known.clone()
        } else {
            self.hosts.iter().map(String::as_str).collect()
        };
        if let Some(mode) = &self.evc_mode {
            if !(mode.starts_with("intel-") || mode.starts_with("amd-")) {
                push(
                    "cluster.evc_mode".into(),
                    format!(
                        "{mode:?} is not an EVC mode key (intel-… or amd-…, e.g. intel-haswell)"
                    ),
                );
            }
        }
        if self.vmotion_throughput_mbps == Some(0) {
            push(
                "cluster.vmotion_throughput_mbps".into(),
                "must be above 0 (leave it out to use the link speed)".into(),
            );
        }

        match &self.ha.admission_control {
            AdmissionControl::Slots {
                failover_level,
                fixed_slot,
                slot_cpu_cap_mhz,
                slot_memory_cap_mb,
            } => {
                check_failover_level(*failover_level, &mut push);
                if let Some(slot) = fixed_slot {
                    if slot.cpu_mhz == 0 || slot.memory_mb == 0 {
                        push(
                            "cluster.ha.admission_control.fixed_slot".into(),
                            "cpu_mhz and memory_mb must both be above 0".into(),
                        );
                    }
                }
                if *slot_cpu_cap_mhz == Some(0) || *slot_memory_cap_mb == Some(0) {
                    push(
                        "cluster.ha.admission_control".into(),
                        "slot caps must be above 0 (leave them out for no cap)".into(),
                    );
                }
            }
            AdmissionControl::Percentage {
                cpu_percent,
                memory_percent,
                failover_level,
            } => {
                check_failover_level(*failover_level, &mut push);
                for (field, pct) in [
                    ("cpu_percent", cpu_percent),
                    ("memory_percent", memory_percent),
                ] {
                    if *pct > 100 {
                        push(
                            format!("cluster.ha.admission_control.{field}"),
                            format!("{pct} is not a percentage (0 to 100)"),
                        );
                    }
                }
            }
            AdmissionControl::FailoverHosts { hosts } => {
                if hosts.is_empty() {
                    push(
                        "cluster.ha.admission_control.hosts".into(),
                        "name at least one dedicated failover host".into(),
                    );
                }
                for (i, host) in hosts.iter().enumerate() {
                    let path = format!("cluster.ha.admission_control.hosts[{i}]");
                    if !members.contains(host.as_str()) {
                        push(
                            path,
                            format!("host {host:?} is not a member of the cluster"),
                        );
                    }
                }
            }
            AdmissionControl::Disabled => {}
        }

        if !(1..=5).contains(&self.drs.migration_threshold) {
            push(
                "cluster.drs.migration_threshold".into(),
                format!(
                    "{} is out of range: 1 (conservative) to 5 (aggressive)",
                    self.drs.migration_threshold
                ),
            );
        }
        if self.drs.automation == DrsAutomation::Disabled {
            push(
                "cluster.drs.automation".into(),
                "`disabled` is a per-VM level; to turn DRS off set cluster.drs.enabled: false"
                    .into(),
            );
        }

        for (group, hosts) in &self.groups.hosts {
            for (i, host) in hosts.iter().enumerate() {
                let path = format!("cluster.groups.hosts.{group}[{i}]");
                if !members.contains(host.as_str()) {
                    push(
                        path,
                        format!("host {host:?} is not a member of the cluster"),
                    );
                }
            }
        }
        for (group, vms) in &self.groups.vms {
            if vms.is_empty() {
                push(
                    format!("cluster.groups.vms.{group}"),
                    "an empty VM group: list its VMs or remove it".into(),
                );
            }
        }

        let mut names = BTreeSet::new();
        for (i, rule) in self.rules.iter().enumerate() {
            let at = format!("cluster.rules[{i}]");
            if rule.name.trim().is_empty() {
                push(format!("{at}.name"), "a rule needs a name".into());
            } else if !names.insert(rule.name.as_str()) {
                push(
                    format!("{at}.name"),
                    format!(
                        "a second rule named {:?}: rule names must be unique",
                        rule.name
                    ),
                );
            }
            match &rule.kind {
                RuleKind::Affinity { vms } | RuleKind::AntiAffinity { vms } => {
                    if vms.len() < 2 {
                        push(
                            format!("{at}.vms"),
                            "an affinity or anti-affinity rule needs at least two VMs".into(),
                        );
                    }
                    let mut seen = BTreeSet::new();
                    for (j, vm) in vms.iter().enumerate() {
                        if !seen.insert(vm.as_str()) {
                            push(
                                format!("{at}.vms[{j}]"),
                                format!("VM {vm:?} is listed twice"),
                            );
                        }
                    }
                }
                RuleKind::VmHost {
                    vm_group,
                    affine_host_group,
                    anti_affine_host_group,
                } => {
                    if !self.groups.vms.contains_key(vm_group) {
                        push(
                            format!("{at}.vm_group"),
                            format!("no VM group {vm_group:?} under cluster.groups.vms"),
                        );
                    }
                    if affine_host_group.is_none() && anti_affine_host_group.is_none() {
                        push(
                            at.clone(),
                            "a vm_host rule needs affine_host_group or anti_affine_host_group"
                                .into(),
                        );
                    }
                    for (field, group) in [
                        ("affine_host_group", affine_host_group),
                        ("anti_affine_host_group", anti_affine_host_group),
                    ] {
                        if let Some(group) = group {
                            if !self.groups.hosts.contains_key(group) {
                                push(
                                    format!("{at}.{field}"),
                                    format!("no host group {group:?} under cluster.groups.hosts"),
                                );
                            }
                        }
                    }
                }
            }
        }

        for (vm, o) in &self.vms {
            if let Some(rate) = o.dirty_rate_mb_s {
                if !rate.is_finite() || rate < 0.0 {
                    push(
                        format!("cluster.vms.{vm}.dirty_rate_mb_s"),
                        format!("{rate} is not a rate: give MB/s, 0 or more"),
                    );
                }
            }
        }

        if errors.is_empty() {
            Ok(())
        } else {
            Err(ClusterErrors(errors))
        }
    }

    /// The override for a VM, if the section has one.
    pub fn vm(&self, name: &str) -> Option<&VmOverride> {
        self.vms.get(name)
    }
}

fn check_failover_level(level: u32, push: &mut dyn FnMut(String, String)) {
    if !(1..=4).contains(&level) {
        push(
            "cluster.ha.admission_control.failover_level".into(),
            format!("{level} is out of range: HA tolerates 1 to 4 host failures"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Cluster {
        serde_yaml::from_str(yaml).unwrap()
    }

    const HOSTS: [&str; 3] = ["esx01", "esx02", "esx03"];

    #[test]
    fn empty_section_is_valid_with_vsphere_defaults() {
        let c = parse("{}");
        assert_eq!(c.validate(&HOSTS), Ok(()));
        assert_eq!(c.ha.vm_cpu_min_mhz, 32);
        assert!(matches!(
            c.ha.admission_control,
            AdmissionControl::Slots {
                failover_level: 1,
                ..
            }
        ));
        assert_eq!(c.drs.automation, DrsAutomation::FullyAutomated);
        assert_eq!(c.drs.migration_threshold, 3);
    }

    #[test]
    fn the_module_example_parses_and_validates() {
        let doc = r#"
name: prod
evc_mode: intel-haswell
vmotion_throughput_mbps: 9400
ha:
  admission_control:
    policy: slots
    failover_level: 1
  isolation_response: power_off
drs:
  automation: fully_automated
  migration_threshold: 3
groups:
  vms:   { web: [web01, web02], db: [db01] }
  hosts: { rack-a: [esx01, esx02] }
rules:
  - { name: web-apart, type: anti_affinity, vms: [web01, web02], mandatory: true }
  - { name: db-rack-a, type: vm_host, vm_group: db, affine_host_group: rack-a }
vms:
  db01: { cpu_reservation_mhz: 4000, memory_reservation_mb: 16384, restart_priority: high,
          dirty_rate_mb_s: 120 }
"#;
        let c = parse(doc);
        assert_eq!(c.validate(&HOSTS), Ok(()));
        assert_eq!(c.rules.len(), 2);
        assert!(c.rules[0].mandatory && c.rules[0].enabled);
        assert!(!c.rules[1].mandatory);
        assert_eq!(
            c.rules[1].kind,
            RuleKind::VmHost {
                vm_group: "db".into(),
                affine_host_group: Some("rack-a".into()),
                anti_affine_host_group: None
            }
        );
        assert_eq!(c.vms["db01"].restart_priority, RestartPriority::High);
        assert_eq!(c.ha.isolation_response, IsolationResponse::PowerOff);
    }

    #[test]
    fn unknown_fields_are_rejected() {
        for doc in [
            "colour: blue",
            "ha: { enabled: true, slots: 3 }",
            "ha: { admission_control: { policy: percentage, cpu_percent: 25, memory_percent: 25, extra: 1 } }",
            "rules: [ { name: a, type: affinity, vms: [a, b], weight: 3 } ]",
            "rules: [ { name: a, type: affinity, vm_group: g } ]",
            "rules: [ { name: a, type: vm_host, vms: [a, b], affine_host_group: h } ]",
            "rules: [ { name: a, type: near, vms: [a, b] } ]",
            "vms: { a: { cpu_reservation: 5 } }",
        ] {
            assert!(
                serde_yaml::from_str::<Cluster>(doc).is_err(),
                "{doc} parsed"
            );
        }
    }

    #[test]
    fn validation_reports_every_problem_with_its_path() {
        let c = parse(
            r#"
hosts: [esx01, esx09]
evc_mode: haswell
ha:
  admission_control: { policy: percentage, cpu_percent: 120, memory_percent: 25, failover_level: 5 }
drs: { migration_threshold: 7 }
groups:
  hosts: { rack-b: [esx03] }
rules:
  - { name: r, type: anti_affinity, vms: [a] }
  - { name: r, type: vm_host, vm_group: nope, affine_host_group: rack-z }
  - { name: s, type: vm_host, vm_group: nope }
vms:
  a: { dirty_rate_mb_s: -1 }
"#,
        );
        let errs = c.validate(&HOSTS).unwrap_err();
        let paths: Vec<&str> = errs.0.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "cluster.hosts[1]",
                "cluster.evc_mode",
                "cluster.ha.admission_control.failover_level",
                "cluster.ha.admission_control.cpu_percent",
                "cluster.drs.migration_threshold",
                "cluster.groups.hosts.rack-b[0]",
                "cluster.rules[0].vms",
                "cluster.rules[1].name",
                "cluster.rules[1].vm_group",
                "cluster.rules[1].affine_host_group",
                "cluster.rules[2].vm_group",
                "cluster.rules[2]",
                "cluster.vms.a.dirty_rate_mb_s",
            ]
        );
        let text = errs.to_string();
        assert!(text.contains("cluster.hosts[1]: host \"esx09\" is not in the inventory's hosts"));
        assert!(text.contains("cluster.groups.hosts.rack-b[0]: host \"esx03\" is not a member"));
    }

    #[test]
    fn rules_round_trip_through_yaml() {
        let c = parse(
            "rules: [ { name: a, type: anti_affinity, vms: [x, y], enabled: false }, \
             { name: b, type: vm_host, vm_group: g, anti_affine_host_group: h, mandatory: true } ]",
        );
        let again: Cluster = serde_yaml::from_str(&serde_yaml::to_string(&c).unwrap()).unwrap();
        assert_eq!(again, c);
        assert!(!c.rules[0].enabled);
    }

    #[test]
    fn failover_hosts_must_be_members() {
        let c = parse("ha: { admission_control: { policy: failover_hosts, hosts: [esx07] } }");
        let errs = c.validate(&HOSTS).unwrap_err();
        assert_eq!(errs.0[0].path, "cluster.ha.admission_control.hosts[0]");
        let ok = parse("ha: { admission_control: { policy: failover_hosts, hosts: [esx03] } }");
        assert_eq!(ok.validate(&HOSTS), Ok(()));
    }
}
