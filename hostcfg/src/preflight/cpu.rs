//! CPU compatibility: each host's CPU decoded (vendor, signature, microarchitecture, EVC mode,
//! feature bits), the highest common EVC baseline of a set of hosts and the hosts limiting it,
//! and a VM's CPUID view against a destination, with the mask change that would make it
//! movable.
//!
//! Rules (hostops.md §3.3): Intel and AMD are never bridged. Without EVC a running VM keeps the
//! feature bits it saw at power-on, so every user-level feature of the source must exist on the
//! destination (and NX/XD and long mode, which guests use); features the destination has in
//! addition are fine on ESXi 5.x+. A VM mask position `T` needs 1 on the destination, `F`
//! needs 0, `H`/`R` (and their lower-case forms `h`/`r`) need source = destination, `0`/`1` force a value and `x` is unused. With EVC
//! on, every host presents the mode's baseline, so only the mode matters.

use serde::Serialize;

use super::cpuid::{self, CpuIdVector, FeatureSet, Reg, Register, Signature, Vendor};
use super::evc::{self, EvcMode, Microarch};
use super::finding::{Code, Finding, Severity};
use super::view::{ClusterView, HostId, VmId};
use crate::facts::Cpu;

/// One host's CPU, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct HostCpu {
    pub vendor: Option<Vendor>,
    /// The vendor string as reported.
    pub vendor_name: String,
    pub description: String,
    pub signature: Signature,
    pub packages: u32,
    pub cores: u32,
    pub threads: u32,
    pub mhz: u32,
    /// The CPUID vector common to all packages (every bit, for masks naming any position).
    pub vector: CpuIdVector,
    /// The named feature bits of `vector`.
    pub features: FeatureSet,
    pub microarch: Option<&'static Microarch>,
    /// The highest EVC mode the CPU supports, when the table knows the model.
    pub max_mode: Option<&'static EvcMode>,
    /// Why the packages differ, empty when all are identical.
    pub package_differences: Vec<String>,
    /// Hardware virtualization (VT-x/AMD-V) enabled.
    pub hv: Option<bool>,
}

fn feature_known(set: &FeatureSet, name: &str) -> Option<bool> {
    cpuid::feature(name).and_then(|f| set.has(f))
}

impl HostCpu {
    /// Decodes the facts. The signature comes from leaf 1 EAX when the vectors hold it in
    /// full, else from the first package's family/model/stepping.
    pub fn from_facts(cpu: &Cpu) -> Result<HostCpu, String> {
        let first = cpu.pkgs.first();
        let vendor_name = first.map(|p| p.vendor.clone()).unwrap_or_default();
        let vendor = Vendor::from_name(&vendor_name);
        let host_vector = CpuIdVector::from_levels(&cpu.features, vendor)?;
        let mut pkg_vectors = Vec::with_capacity(cpu.pkgs.len());
        for p in &cpu.pkgs {
            let v = CpuIdVector::from_levels(&p.features, Vendor::from_name(&p.vendor))
                .map_err(|e| format!("CPU package {}: {e}", p.index))?;
            pkg_vectors.push(v);
        }
        let vector = if host_vector.is_empty() {
            pkg_vectors.first().cloned().unwrap_or_default()
        } else {
            host_vector
        };
        let signature = vector
            .register(1, Reg::Eax)
            .and_then(Register::value)
            .map(Signature::from_eax)
            .unwrap_or(Signature {
                family: first.map_or(0, |p| p.family),
                model: first.map_or(0, |p| p.model),
                stepping: first.map_or(0, |p| p.stepping),
            });
        let mut package_differences = Vec::new();
        if let Some(first) = first {
            for (p, v) in cpu.pkgs.iter().zip(&pkg_vectors).skip(1) {
                if Vendor::from_name(&p.vendor) != vendor {
                    package_differences.push(format!("package {} is {}", p.index, p.vendor));
                } else if (p.family, p.model, p.stepping)
                    != (first.family, first.model, first.stepping)
                {
                    package_differences.push(format!(
                        "package {} is family {:#x} model {:#x} stepping {} (package {} is {:#x}/{:#x}/{})",
                        p.index, p.family, p.model, p.stepping, first.index, first.family, first.model, first.stepping
                    ));
                } else if let Some(v0) = pkg_vectors.first() {
                    let (a, b) = (FeatureSet::of(v0), FeatureSet::of(v));
                    if a != b {
                        let names: Vec<&str> = a
                            .missing_in(&b)
                            .chain(b.missing_in(&a))
                            .map(|f| f.name)
                            .collect();
                        package_differences.push(format!(
                            "package {} differs in features {}",
                            p.index,
                            names.join(", ")
                        ));
                    }
                }
            }
        }
        let features = FeatureSet::of(&vector);
        let microarch = vendor
            .and_then(|v| evc::microarch(v, signature.family, signature.model, signature.stepping));
        let max_mode = microarch.and_then(|a| evc::mode_by_key(a.max_mode));
        let hv = cpu.hv_support.or_else(|| match vendor {
            Some(Vendor::Intel) => feature_known(&features, "VMX"),
            Some(Vendor::Amd) => feature_known(&features, "SVM"),
            None => None,
        });
        Ok(HostCpu {
            vector,
            vendor,
            vendor_name,
            description: first.map(|p| p.description.clone()).unwrap_or_default(),
            signature,
            packages: cpu.packages,
            cores: cpu.cores,
            threads: cpu.threads,
            mhz: cpu.mhz,
            features,
            microarch,
            max_mode,
            package_differences,
            hv,
        })
    }

    pub fn nx(&self) -> Option<bool> {
        feature_known(&self.features, "NX/XD")
    }

    pub fn long_mode(&self) -> Option<bool> {
        feature_known(&self.features, "LM (64-bit)")
    }

    /// The EVC modes this CPU can run, lowest first (empty when the model is unknown).
    pub fn supported_modes(&self) -> Vec<&'static EvcMode> {
        self.max_mode.map(evc::supported_modes).unwrap_or_default()
    }
}

/// The per-host CPU report of `esxforge host cpu` (JSON: one object per host).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CpuReport {
    pub host: String,
    pub vendor: String,
    pub description: String,
    pub family: u32,
    pub model: u32,
    pub stepping: u32,
    pub microarchitecture: Option<&'static str>,
    pub packages: u32,
    pub cores: u32,
    pub threads: u32,
    pub mhz: u32,
    /// `SSE4.2`, `SSSE3`, …
    pub sse: Option<&'static str>,
    pub nx: Option<bool>,
    pub hardware_virtualization: Option<bool>,
    pub long_mode: Option<bool>,
    pub identical_packages: bool,
    pub package_differences: Vec<String>,
    /// The highest EVC mode key; `None` when the table does not know the model.
    pub evc_mode: Option<&'static str>,
    /// False when the EVC row is from memory rather than a source (see the EVC table).
    pub evc_verified: Option<bool>,
    /// Feature names present on the host.
    pub features: Vec<&'static str>,
}

impl CpuReport {
    pub fn new(host: &str, cpu: &HostCpu) -> CpuReport {
        CpuReport {
            host: host.to_string(),
            vendor: cpu
                .vendor
                .map_or_else(|| cpu.vendor_name.clone(), |v| v.as_str().to_string()),
            description: cpu.description.clone(),
            family: cpu.signature.family,
            model: cpu.signature.model,
            stepping: cpu.signature.stepping,
            microarchitecture: cpu.microarch.map(|a| a.name),
            packages: cpu.packages,
            cores: cpu.cores,
            threads: cpu.threads,
            mhz: cpu.mhz,
            sse: cpuid::sse_level(&cpu.features),
            nx: cpu.nx(),
            hardware_virtualization: cpu.hv,
            long_mode: cpu.long_mode(),
            identical_packages: cpu.package_differences.is_empty(),
            package_differences: cpu.package_differences.clone(),
            evc_mode: cpu.max_mode.map(|m| m.key),
            evc_verified: cpu
                .microarch
                .map(|a| a.verified && cpu.max_mode.is_some_and(|m| m.verified)),
            features: cpu.features.names(),
        }
    }
}

/// The common EVC baseline of a set of hosts (JSON: the `common` object of `host cpu`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Baseline {
    /// The vendor when all hosts share one.
    pub vendor: Option<&'static str>,
    /// Hosts per vendor when they differ (no vMotion between the groups, ever).
    pub vendors: Vec<(String, Vec<String>)>,
    /// The highest mode every host with a known model supports.
    pub mode: Option<&'static str>,
    pub mode_name: Option<&'static str>,
    /// Hosts whose removal would raise the baseline.
    pub limiting: Vec<String>,
    /// Hosts whose CPU model is not in the table (left out of `mode`).
    pub unknown: Vec<String>,
    /// The feature names every host has (bitwise AND of the host vectors).
    pub common_features: Vec<&'static str>,
    /// Per host, the features it has beyond the common set (lost to VMs that must move freely).
    pub lost: Vec<(String, Vec<&'static str>)>,
}

fn best_common(cpus: &[(&str, &HostCpu)], skip: Option<usize>) -> Option<&'static EvcMode> {
    let mut common: Option<Vec<&'static EvcMode>> = None;
    for (i, (_, c)) in cpus.iter().enumerate() {
        if Some(i) == skip || c.max_mode.is_none() {
            continue;
        }
        let modes = c.supported_modes();
        common = Some(match common {
            None => modes,
            Some(prev) => prev.into_iter().filter(|m| modes.contains(m)).collect(),
        });
    }
    common?.into_iter().max_by_key(|m| m.tier)
}

/// The highest common baseline of `cpus` (host name, CPU).
pub fn baseline(cpus: &[(&str, &HostCpu)]) -> Baseline {
    let mut vendors: Vec<(String, Vec<String>)> = Vec::new();
    for (name, c) in cpus {
        let v = c
            .vendor
            .map_or_else(|| c.vendor_name.clone(), |v| v.as_str().to_string());
        match vendors.iter_mut().find(|(k, _)| *k == v) {
            Some((_, hosts)) => hosts.push((*name).to_string()),
            None => vendors.push((v, vec![(*name).to_string()])),
        }
    }
    let single = vendors.len() == 1;
    let vendor = if single {
        cpus.first().and_then(|(_, c)| c.vendor).map(Vendor::as_str)
    } else {
        None
    };
    let (mode, limiting) = if single {
        let best = best_common(cpus, None);
        let limiting = cpus
            .iter()
            .enumerate()
            .filter(|(i, (_, c))| {
                c.max_mode.is_some()
                    && best_common(cpus, Some(*i)).map(|m| m.tier) > best.map(|m| m.tier)
            })
            .map(|(_, (n, _))| (*n).to_string())
            .collect();
        (best, limiting)
    } else {
        (None, Vec::new())
    };
    let common = cpus
        .iter()
        .map(|(_, c)| c.features)
        .reduce(|a, b| a.common(&b))
        .unwrap_or_default();
    let lost = cpus
        .iter()
        .map(|(n, c)| {
            (
                (*n).to_string(),
                c.features
                    .missing_in(&common)
                    .map(|f| f.name)
                    .collect::<Vec<_>>(),
            )
        })
        .filter(|(_, l)| !l.is_empty())
        .collect();
    Baseline {
        vendor,
        vendors: if single { Vec::new() } else { vendors },
        mode: mode.map(|m| m.key),
        mode_name: mode.map(|m| m.name),
        limiting,
        unknown: cpus
            .iter()
            .filter(|(_, c)| c.max_mode.is_none())
            .map(|(n, _)| (*n).to_string())
            .collect(),
        common_features: common.names(),
        lost,
    }
}

/// Cluster-wide CPU findings: the baseline, mixed vendors, unknown models, mixed packages,
/// firmware flags, and the configured EVC mode against every host.
pub fn cluster_findings(view: &ClusterView<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let b = &view.baseline;
    if !b.vendors.is_empty() {
        let groups: Vec<String> = b
            .vendors
            .iter()
            .map(|(v, hs)| format!("{v}: {}", hs.join(", ")))
            .collect();
        out.push(Finding::warning(
            Code::CpuIncompatible,
            format!("the cluster mixes CPU vendors ({}): VMs never vMotion between them (HA restarts still work)", groups.join("; ")),
            "keep one CPU vendor per cluster",
        ));
    } else if let Some(mode) = b.mode {
        let mut msg = format!(
            "highest common EVC baseline: {mode} ({})",
            b.mode_name.unwrap_or(mode)
        );
        if !b.limiting.is_empty() {
            msg.push_str(&format!("; limited by {}", b.limiting.join(", ")));
        }
        for (host, lost) in &b.lost {
            msg.push_str(&format!("; {host} gives up {}", lost.join(", ")));
        }
        if !b.unknown.is_empty() {
            msg.push_str(&format!(
                "; not counted (unknown model): {}",
                b.unknown.join(", ")
            ));
        }
        if mode_unverified(mode) {
            msg.push_str(" (this mode key is from memory, unverified: check it against vCenter)");
        }
        out.push(Finding::info(Code::EvcBaseline, msg));
    }
    let configured = view.spec.evc_mode.as_deref();
    let configured_mode = configured.and_then(evc::mode_by_key);
    if let (Some(key), None) = (configured, configured_mode) {
        out.push(Finding::warning(
            Code::EVCModeUnsupportedByHosts,
            format!("cluster.evc_mode {key:?} is not in esxforge's EVC table: no host can be checked against it"),
            "use a key of the EVC table (esxforge host cpu lists each host's highest mode)",
        ));
    }
    for h in &view.hosts {
        let c = &h.cpu;
        if c.vendor.is_some() && c.max_mode.is_none() {
            out.push(
                Finding::warning(
                    Code::EVCAdmissionFailedCPUModel,
                    format!(
                        "{}: CPU family {:#x} model {:#x} stepping {} ({}) is not in esxforge's EVC table",
                        h.name, c.signature.family, c.signature.model, c.signature.stepping, c.description
                    ),
                    "check the host's EVC modes in vCenter; CPU feature bits are still compared",
                )
                .host(h.name),
            );
        }
        if !c.package_differences.is_empty() {
            out.push(
                Finding::warning(
                    Code::MixedCpuPackages,
                    format!(
                        "{}: not all CPUs are identical: {}",
                        h.name,
                        c.package_differences.join("; ")
                    ),
                    "fit identical CPUs in every socket (VMs see only the common features)",
                )
                .host(h.name),
            );
        }
        let disabled: Vec<&str> = [("NX/XD", c.nx()), ("hardware virtualization", c.hv)]
            .into_iter()
            .filter(|(_, v)| *v == Some(false))
            .map(|(n, _)| n)
            .collect();
        if !disabled.is_empty() {
            let f = Finding::new(
                Severity::error_if(configured_mode.is_some()),
                Code::EVCAdmissionFailedCPUFeaturesForMode,
                format!(
                    "{}: {} disabled in the firmware; EVC needs both enabled",
                    h.name,
                    disabled.join(" and ")
                ),
                "enable NX/XD (Execute Disable) and VT-x/AMD-V in the BIOS/UEFI setup and power-cycle the host",
            );
            out.push(f.host(h.name));
        }
        let Some(mode) = configured_mode else {
            continue;
        };
        match c.vendor {
            Some(v) if v != mode.vendor => out.push(
                Finding::error(
                    Code::EVCAdmissionFailedCPUVendor,
                    format!(
                        "{}: an {} CPU cannot join a cluster in EVC mode {}",
                        h.name,
                        v.as_str(),
                        mode.key
                    ),
                    "move the host to a cluster of its CPU vendor",
                )
                .host(h.name),
            ),
            Some(_) if c.max_mode.is_some() && !c.supported_modes().contains(&mode) => out.push(
                Finding::error(
                    Code::EVCModeUnsupportedByHosts,
                    format!(
                        "{}: {} supports EVC up to {}, below the cluster's {}",
                        h.name,
                        c.microarch.map_or("the CPU", |a| a.name),
                        c.max_mode.map_or("?", |m| m.key),
                        mode.key
                    ),
                    format!(
                        "lower the cluster's EVC mode to {} or move the host out",
                        b.mode.unwrap_or("the common baseline")
                    ),
                )
                .host(h.name),
            ),
            _ => {}
        }
    }
    out
}

fn mode_unverified(key: &str) -> bool {
    evc::mode_by_key(key).is_some_and(|m| !m.verified)
}

/// One position a VM's CPU view fails on the destination.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Miss {
    leaf: u32,
    reg: Reg,
    bit: u8,
    what: String,
    /// A `0` mask here makes the VM movable (false for a `T` requirement).
    maskable: bool,
}

fn position_name(leaf: u32, reg: Reg, bit: u8) -> String {
    cpuid::FEATURES
        .iter()
        .find(|f| f.leaf == leaf && f.reg == reg && f.bit == bit)
        .map_or_else(
            || {
                format!(
                    "cpuid.{}.{} bit {bit}",
                    cpuid::level_key(leaf),
                    reg.as_str()
                )
            },
            |f| f.name.to_string(),
        )
}

/// A VM's CPU against a destination: vendor, then (without EVC) the feature bits it sees on
/// its host and its own mask requirements.
pub fn vm_cpu(view: &ClusterView<'_>, vm: VmId, dst: HostId) -> Vec<Finding> {
    let v = view.vm(vm);
    if v.host == dst {
        return Vec::new();
    }
    let (src, d) = (view.host(v.host), view.host(dst));
    let sev = Severity::error_if(v.powered_on());
    if let (Some(a), Some(b)) = (src.cpu.vendor, d.cpu.vendor) {
        if a != b {
            return vec![Finding::new(
                sev,
                Code::CpuIncompatible,
                format!("{} has an {} CPU and {} an {} CPU: vMotion never crosses vendors", src.name, a.as_str(), d.name, b.as_str()),
                "power the VM off and migrate it cold (CPU compatibility is only a warning for cold migration)",
            )
            .host(d.name)
            .vm(v.name)];
        }
    }
    if let Some(mode) = view.spec.evc_mode.as_deref().and_then(evc::mode_by_key) {
        let ok = |c: &HostCpu| c.max_mode.is_none() || c.supported_modes().contains(&mode);
        if ok(&src.cpu) && ok(&d.cpu) {
            return Vec::new();
        }
    }
    let mut misses = Vec::new();
    // The VM's explicit requirements.
    for (leaf, reg, bit, c) in v.masks.positions(b"TFHRhr") {
        let sv = host_known(view, v.host, leaf, reg, bit);
        let dv = host_known(view, dst, leaf, reg, bit);
        let name = position_name(leaf, reg, bit);
        match (c, dv) {
            (b'T', Some(false)) => misses.push(Miss {
                leaf,
                reg,
                bit,
                what: format!("{name} (mask T: must be 1)"),
                maskable: false,
            }),
            (b'F', Some(true)) => misses.push(Miss {
                leaf,
                reg,
                bit,
                what: format!("{name} (mask F: must be 0)"),
                maskable: true,
            }),
            (c, Some(dv)) if cpuid::MUST_MATCH.contains(&c) && sv.is_some_and(|sv| sv != dv) => {
                misses.push(Miss {
                    leaf,
                    reg,
                    bit,
                    what: format!(
                        "{name} (mask {}: must match, {} on the source)",
                        char::from(c),
                        if dv { "0" } else { "1" }
                    ),
                    maskable: true,
                })
            }
            _ => {}
        }
    }
    // The features the guest sees on its host, where the VM does not decide itself.
    for f in src.cpu.features.missing_in(&d.cpu.features) {
        let mask = v.masks.at(f.leaf, f.reg, f.bit);
        if !f.compared || !(mask == b'-' || cpuid::MUST_MATCH.contains(&mask)) {
            continue;
        }
        if misses
            .iter()
            .any(|m| (m.leaf, m.reg, m.bit) == (f.leaf, f.reg, f.bit))
        {
            continue;
        }
        misses.push(Miss {
            leaf: f.leaf,
            reg: f.reg,
            bit: f.bit,
            what: f.name.to_string(),
            maskable: true,
        });
    }
    if misses.is_empty() {
        return Vec::new();
    }
    let names: Vec<&str> = misses.iter().map(|m| m.what.as_str()).collect();
    let mut lines: Vec<String> = Vec::new();
    let mut regs: Vec<(u32, Reg)> = misses
        .iter()
        .filter(|m| m.maskable)
        .map(|m| (m.leaf, m.reg))
        .collect();
    regs.sort_unstable();
    regs.dedup();
    for (leaf, reg) in regs {
        let mut mask = v.masks.register(leaf, reg).copied().unwrap_or_default();
        for m in misses
            .iter()
            .filter(|m| m.maskable && (m.leaf, m.reg) == (leaf, reg))
        {
            mask = mask.with(m.bit, b'0');
        }
        lines.push(cpuid::vmx_mask_line(leaf, reg, &mask));
    }
    let mut remedy = if lines.is_empty() {
        String::new()
    } else {
        format!(
            "power the VM off and hide the features with a CPUID mask in its .vmx: {} (the guest stops using \
             them after the next power-on)",
            lines.join("; ")
        )
    };
    if misses.iter().any(|m| !m.maskable) {
        if !remedy.is_empty() {
            remedy.push_str("; ");
        }
        remedy.push_str("the VM requires (T) a feature the destination lacks: remove that requirement or keep the VM off this host");
    }
    if let Some(mode) = view.baseline.mode {
        remedy.push_str(&format!("; or enable EVC on the cluster at {mode}"));
    }
    vec![
        Finding::new(
            sev,
            Code::FeatureRequirementsNotMet,
            format!(
                "{} does not offer what the VM sees on {}: {}",
                d.name,
                src.name,
                names.join(", ")
            ),
            remedy,
        )
        .host(d.name)
        .vm(v.name),
    ]
}

/// A host's bit at any position, named feature or not (masks can name any bit).
fn host_known(view: &ClusterView<'_>, host: HostId, leaf: u32, reg: Reg, bit: u8) -> Option<bool> {
    view.host(host).cpu.vector.known(leaf, reg, bit)
}
