//! The migration-readiness preflight: pure functions over host facts and the inventory's
//! `cluster:` section that predict what vCenter would say before anyone asks it — which VMs
//! will not vMotion and why, whether a host can enter maintenance mode, how many host failures
//! HA tolerates, and which DRS rules conflict or are violated.
//!
//! Every result is a [`Finding`] with a stable [`Code`] named after the vSphere fault (or
//! event) it predicts, a [`Severity`] (an error blocks the operation, a warning does not),
//! the host, VM and device concerned, a message and a remedy. Nothing here does I/O: build a
//! [`ClusterView`] from facts (gathered live or read from `host facts --save DIR`) and a
//! [`Cluster`](esxforge_kickstart::cluster::Cluster), then ask it questions.
//!
//! ```
//! use esxforge_hostcfg::facts::HostFacts;
//! use esxforge_hostcfg::preflight::{self, ClusterView, PrecopyParams, Severity};
//! use esxforge_kickstart::cluster::Cluster;
//!
//! let hosts = vec![
//!     HostFacts { name: "esx01".into(), ..HostFacts::default() },
//!     HostFacts { name: "esx02".into(), ..HostFacts::default() },
//! ];
//! let spec = Cluster::default();
//! let view = ClusterView::new(&hosts, &spec)?;
//! let findings = preflight::cluster(&view, None, &PrecopyParams::default());
//! // Two empty hosts: nothing to evacuate, so no errors; HA warns that neither host has a
//! // (redundant) management network.
//! assert!(findings.iter().all(|f| f.severity != Severity::Error));
//! # Ok::<(), preflight::PreflightError>(())
//! ```
//!
//! Modules: [`vmotion`](mod@vmotion) (host requirements, VM errors and warnings), [`network`], [`cpu`]
//! with [`cpuid`] and the [`evc`] table, [`precopy`], [`maintenance`] (with [`placement`]),
//! [`ha`], [`drs`]; [`view`] indexes the facts so that 1,000 VMs on 32 hosts stay fast;
//! [`synth`] makes realistic synthetic clusters for tests and the benchmark.

pub mod cpu;
pub mod cpuid;
pub mod drs;
pub mod evc;
pub mod finding;
pub mod ha;
pub mod hostset;
pub mod maintenance;
pub mod network;
pub mod placement;
pub mod precopy;
pub mod synth;
pub mod view;
pub mod vmotion;

#[cfg(test)]
mod tests;

pub use finding::{Check, Code, Finding, Origin, Severity, has_errors};
pub use precopy::PrecopyParams;
pub use view::{ClusterView, HostId, PreflightError, VmId};

/// `preflight vmotion`: moving `vms` to each of `dests`, sorted for the report.
pub fn vmotion(
    view: &ClusterView<'_>,
    vms: &[VmId],
    dests: &[HostId],
    params: &PrecopyParams,
) -> Vec<Finding> {
    let mut out = vmotion::check(view, vms, dests, params);
    finding::sort(&mut out);
    out
}

/// `preflight cluster`: CPU baseline, HA, DRS rules, and maintenance-mode evacuation of
/// `maintenance` (with its effect on HA), or of every host not already in maintenance mode
/// when `None`; sorted.
pub fn cluster(
    view: &ClusterView<'_>,
    maintenance: Option<HostId>,
    params: &PrecopyParams,
) -> Vec<Finding> {
    let mut out = cpu::cluster_findings(view);
    out.extend(ha::findings(view));
    out.extend(drs::findings(view));
    match maintenance {
        Some(h) => out.extend(maintenance::evacuate(view, h, true, params)),
        None => {
            for h in 0..view.hosts.len() {
                if !view.host(h).in_maintenance() {
                    out.extend(maintenance::evacuate(view, h, false, params));
                }
            }
        }
    }
    finding::sort(&mut out);
    out
}
