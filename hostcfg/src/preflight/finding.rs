//! What every check reports: a [`Finding`] with a stable [`Code`] named after the vSphere fault
//! (or event, or vmkernel status) it predicts, a [`Severity`], the host, VM and device it
//! concerns, a message and a remedy.

use std::fmt;

use serde::{Serialize, Serializer};

/// How much a finding matters. Ordered: `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// A figure or a plan worth knowing (slot size, pre-copy estimate, EVC baseline).
    Info,
    /// vCenter lets the operation go ahead (or a user can override it), but something is off.
    Warning,
    /// vCenter refuses the operation, or it hangs (maintenance mode) or fails.
    Error,
}

impl Severity {
    /// `Error` when `blocks`, else `Warning`: vCenter reports many checks either way depending
    /// on the case (a device connected or only configured, a VM powered on or off, a rule
    /// mandatory or not, EVC on or off).
    pub fn error_if(blocks: bool) -> Severity {
        if blocks {
            Severity::Error
        } else {
            Severity::Warning
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Which check produced a finding: lets a report group and filter them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// Host requirements and VM errors/warnings of a vMotion.
    Vmotion,
    /// CPU vendor, EVC baseline, feature bits against the VM's CPUID mask.
    Cpu,
    /// The pre-copy convergence estimate.
    Precopy,
    /// Maintenance-mode evacuation.
    Maintenance,
    /// HA admission control, failover capacity, isolation, DNS.
    Ha,
    /// DRS rules.
    Drs,
}

/// Where a code's name comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// A vSphere API fault, event or reason (govmomi `vim25/types`), or a vmkernel migration
    /// status: the name vCenter or the host would report.
    Vsphere,
    /// No vSphere name exists for it; named by esxforge.
    Esxforge,
}

macro_rules! codes {
    ($( $(#[doc = $doc:literal])+ $name:ident: $origin:ident, $check:ident, $summary:literal; )*) => {
        /// The stable identifier of a check. Serialized (JSON) as its name, e.g.
        /// `"CannotAccessVmDisk"`; names never change meaning.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $( $(#[doc = $doc])+ $name, )*
        }

        impl Code {
            /// Every code, in the order of the documentation table.
            pub const ALL: &'static [Code] = &[$(Code::$name),*];

            pub fn as_str(self) -> &'static str {
                match self { $(Code::$name => stringify!($name)),* }
            }

            /// Whether the name is vSphere's or esxforge's own.
            pub fn origin(self) -> Origin {
                match self { $(Code::$name => Origin::$origin),* }
            }

            /// The check that reports it.
            pub fn check(self) -> Check {
                match self { $(Code::$name => Check::$check),* }
            }

            /// One line on what it means.
            pub fn summary(self) -> &'static str {
                match self { $(Code::$name => $summary),* }
            }
        }
    };
}

codes! {
    /// No enabled VMkernel NIC with the vMotion service on the host.
    VMotionNotConfigured: Vsphere, Vmotion,
        "no enabled vMotion VMkernel NIC with an IP address on the source or destination";
    /// The vMotion vmk has no operational physical uplink.
    VMotionLinkDown: Vsphere, Vmotion,
        "the vMotion VMkernel NIC has no physical uplink with link up";
    /// The vMotion link is below 1000 Mb/s full duplex.
    VMotionLinkCapacityLow: Vsphere, Vmotion,
        "vMotion link below 1 Gb/s full duplex (100 Mb/s full duplex sometimes works)";
    /// The vMotion vmks of source and destination are on port groups of different names.
    MismatchedVMotionNetworkNames: Vsphere, Vmotion,
        "the vMotion interfaces of the two hosts are on differently named port groups";
    /// The vMotion vmks are in different IP subnets (vMotion across routers is unsupported
    /// unless both are on the `vmotion` TCP/IP stack).
    VMotionSubnetMismatch: Esxforge, Vmotion,
        "the vMotion interfaces of the two hosts are in different IP subnets (not both on the vmotion TCP/IP stack)";
    /// The destination is in maintenance mode.
    InvalidHostState: Vsphere, Vmotion,
        "the destination host is in maintenance mode";
    /// The destination is a dedicated HA failover host.
    DisallowedOperationOnFailoverHost: Vsphere, Vmotion,
        "the destination is a dedicated HA failover host (or a failover host runs VMs)";
    /// A VM network (port group label, case-sensitive, or distributed switch) is missing on the
    /// destination.
    CannotAccessNetwork: Vsphere, Vmotion,
        "a VM network is missing on the destination (error if connected or on a vDS)";
    /// A NIC on an internal-only vSwitch (no uplinks).
    VMOnVirtualIntranet: Vsphere, Vmotion,
        "a NIC on an internal-only vSwitch (error if connected, warning if not)";
    /// A disk's datastore is not mounted on the destination (matched by UUID).
    CannotAccessVmDisk: Vsphere, Vmotion,
        "a virtual disk's datastore (by UUID) is not mounted on the destination";
    /// The datastore holding the `.vmx` is not mounted on the destination.
    CannotAccessVmConfig: Vsphere, Vmotion,
        "the datastore holding the .vmx is not mounted on the destination";
    /// An RDM's LUN is not visible from the destination.
    RDMPointsToInaccessibleDisk: Vsphere, Vmotion,
        "a raw device mapping's LUN is not visible from the destination";
    /// SCSI bus sharing (VM clustering): cold-migrate instead.
    SharedBusControllerNotSupported: Vsphere, Vmotion,
        "SCSI bus sharing (VM clustering) on a powered-on VM";
    /// A CD-ROM/floppy backed by a host device or an image the destination cannot see.
    CannotAccessVmDevice: Vsphere, Vmotion,
        "a CD-ROM/floppy on a host device or non-shared image (error if connected, warning if not)";
    /// A connected device backed by the client (remote device).
    RemoteDeviceNotSupported: Vsphere, Vmotion,
        "a connected device with a remote (client) backing";
    /// A connected serial or parallel port backed by a file.
    FileBackedPortNotSupported: Vsphere, Vmotion,
        "a connected serial or parallel port backed by a file";
    /// A PCI passthrough device (DirectPath I/O, vGPU) or a connected USB passthrough device on
    /// a powered-on VM.
    DisallowedMigrationDeviceAttached: Vsphere, Vmotion,
        "a PCI passthrough device (DirectPath I/O, vGPU) or a connected USB passthrough device on a powered-on VM";
    /// CPU or memory affinity set on a powered-on VM.
    AffinityConfigured: Vsphere, Vmotion,
        "CPU or memory scheduling affinity set on a powered-on VM";
    /// An FT-protected VM would land on the host running its other FT copy.
    FaultToleranceAntiAffinityViolated: Vsphere, Vmotion,
        "an FT VM would land on the host that runs its other FT copy (primary and secondary must be apart)";
    /// Snapshots present.
    SnapshotRevertIssue: Vsphere, Vmotion,
        "the VM has snapshots (reverting after the move may fail)";
    /// VMware Tools not running / no guest heartbeat.
    NoGuestHeartbeat: Vsphere, Vmotion,
        "VMware Tools not running or no guest heartbeat";
    /// The VM's hardware version is newer than the destination's ESXi supports.
    VirtualHardwareVersionNotSupported: Vsphere, Vmotion,
        "the VM's virtual hardware version is newer than the destination supports";
    /// More vCPUs than the destination has logical CPUs.
    NotEnoughLogicalCpus: Vsphere, Vmotion,
        "more vCPUs than the destination has logical CPUs";
    /// The VM's CPU reservation exceeds the destination's unreserved CPU.
    InsufficientCpuResourcesFault: Vsphere, Vmotion,
        "the VM's CPU reservation exceeds the destination's unreserved CPU";
    /// The VM's memory reservation exceeds the destination's unreserved memory.
    InsufficientMemoryResourcesFault: Vsphere, Vmotion,
        "the VM's memory reservation (plus overhead) exceeds the destination's unreserved memory";
    /// A mandatory VM-Host rule keeps the VM off the destination, or no host is allowed.
    VmHostAffinityRuleViolation: Vsphere, Drs,
        "a mandatory VM-Host rule keeps the VM off the host, or leaves it no host at all";
    /// A move that would break a mandatory VM-VM rule, or an anti-affinity rule that cannot be
    /// met with the hosts allowed.
    RuleViolation: Vsphere, Drs,
        "a move would break a mandatory VM-VM rule, or an anti-affinity rule cannot be met";
    /// Source and destination CPUs of different vendors (never bridged).
    CpuIncompatible: Vsphere, Cpu,
        "source and destination CPUs are of different vendors (Intel vs AMD)";
    /// The destination lacks CPU features the VM may use, or breaks a T/F/H/R mask position.
    FeatureRequirementsNotMet: Vsphere, Cpu,
        "the destination lacks CPU features the VM sees, or fails a cpuid mask requirement";
    /// A host cannot run the cluster's EVC mode (baseline too low).
    EVCModeUnsupportedByHosts: Vsphere, Cpu,
        "a host's CPU is below the cluster's EVC mode";
    /// A host's CPU vendor differs from the cluster's EVC mode.
    EVCAdmissionFailedCPUVendor: Vsphere, Cpu,
        "a host's CPU vendor differs from the cluster's EVC mode";
    /// EVC needs NX/XD and hardware virtualization enabled in the firmware.
    EVCAdmissionFailedCPUFeaturesForMode: Vsphere, Cpu,
        "NX/XD or hardware virtualization is disabled in the host's firmware (EVC needs both)";
    /// The host's CPU family/model is not in esxforge's EVC table.
    EVCAdmissionFailedCPUModel: Vsphere, Cpu,
        "the CPU family/model is not in esxforge's EVC table: no baseline for this host";
    /// Not all CPU packages of a host are identical.
    MixedCpuPackages: Esxforge, Cpu,
        "not all CPU packages of the host are identical";
    /// The cluster's highest common EVC baseline and the hosts limiting it.
    EvcBaseline: Esxforge, Cpu,
        "the highest common EVC baseline of the hosts, the hosts limiting it, features lost";
    /// The pre-copy estimate (a first-order model, not a measurement).
    PrecopyEstimate: Esxforge, Precopy,
        "pre-copy rounds, transfer time and switchover, with and without SDPS (an estimate)";
    /// Pages are dirtied faster than they can be sent and the hosts lack SDPS (ESXi < 5.0).
    PrecopyNoForwardProgress: Vsphere, Precopy,
        "dirty rate at or above the link rate without SDPS: the migration fails (VMK_MIGRATE_PRECOPY_NO_FORWARD_PROGRESS)";
    /// SDPS will slow the guest's vCPUs for the pre-copy to converge.
    StunDuringPageSend: Esxforge, Precopy,
        "dirty rate at or above the link rate: SDPS slows the guest's vCPUs to converge";
    /// Pre-copy converges slowly (λ ≥ 0.8) or the switchover stun is long.
    PrecopySlowConvergence: Esxforge, Precopy,
        "dirty rate close to the link rate (λ ≥ 0.8) or a long switchover stun";
    /// A VM that DRS cannot move off a host entering maintenance mode: the task hangs.
    NoMaintenanceModeDrsRecommendationForVM: Vsphere, Maintenance,
        "a VM no host can take: entering maintenance mode would hang";
    /// Where the VMs of a host entering maintenance mode would go.
    MaintenanceModePlan: Esxforge, Maintenance,
        "where the VMs of a host entering maintenance mode would go";
    /// HA's failover capacity under the configured policy is below the configured level.
    InsufficientFailoverResourcesFault: Vsphere, Ha,
        "HA admission control: the failover capacity is below the configured level";
    /// The stricter placement check: VMs that would not fit on the surviving hosts.
    VmFailoverFailed: Vsphere, Ha,
        "a VM that would not fit on the surviving hosts after a failure (first-fit decreasing)";
    /// HA admission control figures (slot size, slots per host, failures tolerated, percentages).
    HaAdmissionControl: Esxforge, Ha,
        "HA admission control figures: slot size, slots per host, failures tolerated, percentages";
    /// The percentage reserved is less than the share of the largest host(s): N+1 not covered.
    FailoverPercentageBelowHostShare: Esxforge, Ha,
        "the percentage reserved is below the share of the largest host(s): N+1 not covered";
    /// The management network has a single point of failure.
    HostNoRedundantManagementNetworkEvent: Vsphere, Ha,
        "management network without redundancy (one uplink, no second management vmk)";
    /// An FT-protected VM on a host with no FT logging vmk.
    MissingFTLoggingNic: Vsphere, Ha,
        "a host running FT-protected VMs has no FT logging VMkernel NIC";
    /// The FT logging network has a single point of failure.
    HostNoRedundantFtLoggingNetwork: Esxforge, Ha,
        "FT logging network without redundancy (FT VMs ignore the isolation response)";
    /// The host's FQDN does not resolve.
    HostShortNameToIpFailedEvent: Vsphere, Ha,
        "the host's name does not resolve (forward DNS)";
    /// The host's management address does not resolve back to a name.
    HostIpToShortNameFailedEvent: Vsphere, Ha,
        "the host's management address has no reverse DNS record";
    /// Reverse DNS returns a different name than the host's.
    HostShortNameInconsistentEvent: Vsphere, Ha,
        "reverse DNS of the management address gives a different name";
    /// Forward DNS returns an address that is not the host's management address.
    HostIpInconsistentEvent: Vsphere, Ha,
        "forward DNS gives an address that is not the host's management address";
    /// Host name longer than 29 characters (broke HA agents of the 4.x era).
    HostNameTooLong: Esxforge, Ha,
        "host name longer than 29 characters (HA of the ESX 3.x/4.x era fails to configure)";
    /// Two rules conflict: vCenter keeps the older and disables the newer.
    DrsRuleConflict: Esxforge, Drs,
        "two DRS rules conflict: vCenter keeps the older and disables the newer";
    /// A mandatory rule is violated now.
    DrsRuleViolationEvent: Vsphere, Drs,
        "a mandatory DRS rule is violated by where the VMs run now";
    /// A should rule is violated now.
    DrsSoftRuleViolationEvent: Vsphere, Drs,
        "a should DRS rule is violated by where the VMs run now";
    /// A clustered VM (shared SCSI bus) left under DRS control.
    DrsEnabledOnVmCluster: Esxforge, Drs,
        "a clustered VM (shared SCSI bus) is not excluded from DRS";
    /// A rule or setting names a VM no host reports.
    UnknownVm: Esxforge, Drs,
        "the cluster section names a VM that no host reports";
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One result of a check. The JSON shape (`--format json`) is a list of these objects, each
/// with every key present (`null` where none applies):
///
/// ```json
/// {"severity": "error", "code": "CannotAccessVmDisk", "check": "vmotion",
///  "host": "esx02", "vm": "db01", "device": "Hard disk 1",
///  "message": "…", "remedy": "…"}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub code: Code,
    pub check: Check,
    /// The host concerned: for a vMotion check, the destination (or the source, for what only
    /// the source decides); for a cluster check, the host at fault.
    pub host: Option<String>,
    pub vm: Option<String>,
    /// A device label (`Hard disk 1`, `CD/DVD drive 1`, `vmk1`) where one applies.
    pub device: Option<String>,
    pub message: String,
    pub remedy: String,
}

impl Finding {
    pub fn new(
        severity: Severity,
        code: Code,
        message: impl Into<String>,
        remedy: impl Into<String>,
    ) -> Finding {
        Finding {
            severity,
            code,
            check: code.check(),
            host: None,
            vm: None,
            device: None,
            message: message.into(),
            remedy: remedy.into(),
        }
    }

    pub fn error(code: Code, message: impl Into<String>, remedy: impl Into<String>) -> Finding {
        Finding::new(Severity::Error, code, message, remedy)
    }

    pub fn warning(code: Code, message: impl Into<String>, remedy: impl Into<String>) -> Finding {
        Finding::new(Severity::Warning, code, message, remedy)
    }

    pub fn info(code: Code, message: impl Into<String>) -> Finding {
        Finding::new(Severity::Info, code, message, "")
    }

    pub fn host(mut self, host: &str) -> Finding {
        self.host = Some(host.to_string());
        self
    }

    pub fn vm(mut self, vm: &str) -> Finding {
        self.vm = Some(vm.to_string());
        self
    }

    pub fn device(mut self, device: &str) -> Finding {
        self.device = Some(device.to_string());
        self
    }

    /// Reports the finding under another check (a vMotion fault found while planning an
    /// evacuation stays a vMotion fault, but belongs to the maintenance report).
    pub fn in_check(mut self, check: Check) -> Finding {
        self.check = check;
        self
    }
}

/// Sorts findings into report order: cluster-wide and host findings first, then by VM; within
/// one VM by host; errors before warnings before info; then by code, device and message. The
/// same findings always come out in the same order (deterministic output).
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (
            &a.vm,
            &a.host,
            std::cmp::Reverse(a.severity),
            a.code,
            &a.device,
            &a.message,
        )
            .cmp(&(
                &b.vm,
                &b.host,
                std::cmp::Reverse(b.severity),
                b.code,
                &b.device,
                &b.message,
            ))
    });
}

/// True when any finding is an error (the CLI exits 1).
pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_serialize_as_their_names() {
        let mut names: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len());
        assert_eq!(
            serde_json::to_string(&Code::CannotAccessVmDisk).unwrap(),
            "\"CannotAccessVmDisk\""
        );
    }

    #[test]
    fn the_documented_code_table_is_the_code_list() {
        // docs/preflight.md promises these names as the stable JSON `code` values: the table
        // must list every code, in order, with its check, and no code that does not exist.
        let doc = include_str!("../../../docs/preflight.md");
        let rows: Vec<(&str, &str)> = doc
            .lines()
            .filter_map(|l| {
                let mut cells = l.strip_prefix("| `")?.split('|');
                let code = cells.next()?.trim().trim_end_matches('`');
                Some((code, cells.next()?.trim()))
            })
            .collect();
        let want: Vec<(&str, String)> = Code::ALL
            .iter()
            .map(|c| {
                let check = serde_json::to_value(c.check()).unwrap();
                (c.as_str(), check.as_str().unwrap().to_string())
            })
            .collect();
        let got: Vec<(&str, String)> = rows.iter().map(|(c, k)| (*c, k.to_string())).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn finding_json_has_every_key_in_order() {
        let f = Finding::error(Code::AffinityConfigured, "m", "r").vm("db01");
        assert_eq!(
            serde_json::to_string(&f).unwrap(),
            r#"{"severity":"error","code":"AffinityConfigured","check":"vmotion","host":null,"vm":"db01","device":null,"message":"m","remedy":"r"}"#
        );
    }

    #[test]
    fn sort_puts_cluster_findings_first_and_errors_before_warnings() {
        let mut v = vec![
            Finding::warning(Code::SnapshotRevertIssue, "s", "r")
                .vm("a")
                .host("h"),
            Finding::info(Code::EvcBaseline, "e"),
            Finding::error(Code::AffinityConfigured, "a", "r")
                .vm("a")
                .host("h"),
        ];
        sort(&mut v);
        let codes: Vec<Code> = v.iter().map(|f| f.code).collect();
        assert_eq!(
            codes,
            [
                Code::EvcBaseline,
                Code::AffinityConfigured,
                Code::SnapshotRevertIssue
            ]
        );
        assert!(has_errors(&v));
    }
}
