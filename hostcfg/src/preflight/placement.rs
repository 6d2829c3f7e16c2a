//! First-fit-decreasing placement of VMs onto hosts, honouring reservations and the mandatory
//! DRS rules: what HA does when it restarts a failed host's VMs and what DRS does when it
//! evacuates a host for maintenance mode. A heuristic (bin packing is NP-hard): when it finds
//! a place, one exists; when it does not, the cluster is at best tight.

use super::view::{ClusterView, Demand, HostId, VmId};

/// How a host is chosen among those that fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// The first candidate with room (first-fit decreasing: HA's restart check).
    First,
    /// The candidate with the most memory not configured to running VMs (a proxy for the
    /// load DRS balances), then the fewest VMs: how DRS spreads an evacuation.
    Roomiest,
}

/// MB as a signed number for headroom arithmetic (memory sizes are far below 2^63).
fn mb(x: u64) -> i64 {
    i64::try_from(x).unwrap_or(i64::MAX)
}

/// Why a VM found no host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blocked {
    /// No candidate host passed the rules; the reason of the last refusal.
    Rules(String),
    /// Hosts passed the rules but none had the unreserved CPU and memory.
    Capacity { best_free: Demand },
}

/// The state of a placement: free capacity per host, and where each VM runs (`None`: not
/// running, or waiting for a place).
#[derive(Debug, Clone)]
pub struct Placer<'v, 'a> {
    view: &'v ClusterView<'a>,
    pub free: Vec<Demand>,
    pub location: Vec<Option<HostId>>,
    /// Per host: memory not configured to running VMs (MB, may go below 0), and VMs running.
    headroom: Vec<(i64, usize)>,
}

impl<'v, 'a> Placer<'v, 'a> {
    /// Starts from the cluster as it is: powered-on VMs where they run.
    pub fn new(view: &'v ClusterView<'a>) -> Placer<'v, 'a> {
        Placer {
            view,
            free: view.hosts.iter().map(|h| h.unreserved()).collect(),
            location: view
                .vms
                .iter()
                .map(|v| v.powered_on().then_some(v.host))
                .collect(),
            headroom: view
                .hosts
                .iter()
                .map(|h| {
                    let running = h.vms.iter().map(|&v| view.vm(v)).filter(|v| v.powered_on());
                    let used = running
                        .clone()
                        .map(|v| v.facts.memory_mb)
                        .fold(0u64, u64::saturating_add);
                    (
                        mb(h.capacity.mem_mb).saturating_sub(mb(used)),
                        running.count(),
                    )
                })
                .collect(),
        }
    }

    /// Takes VMs off their hosts (a host failing, or being evacuated): their reservations are
    /// given back and they wait for a place.
    pub fn lift(&mut self, vms: &[VmId]) {
        for &vm in vms {
            if let Some(h) = self.location[vm].take() {
                self.free[h] = self.free[h].plus(&self.view.vm(vm).demand);
                let size = mb(self.view.vm(vm).facts.memory_mb);
                self.headroom[h] = (
                    self.headroom[h].0.saturating_add(size),
                    self.headroom[h].1.saturating_sub(1),
                );
            }
        }
    }

    /// The order FFD places in: largest memory first, then CPU, then name.
    pub fn decreasing(&self, vms: &mut [VmId]) {
        let view = self.view;
        vms.sort_by(|&a, &b| {
            let (va, vb) = (view.vm(a), view.vm(b));
            (vb.demand.mem_mb, vb.demand.cpu_mhz, va.name).cmp(&(
                va.demand.mem_mb,
                va.demand.cpu_mhz,
                vb.name,
            ))
        });
    }

    /// Whether the mandatory rules let `vm` run on `host` given the placement so far;
    /// `Err` says why not.
    pub fn rules_allow(&self, vm: VmId, host: HostId) -> Result<(), String> {
        let view = self.view;
        let rules = &view.rules;
        if let Some(allowed) = rules.allowed(vm) {
            if !allowed.contains(host) {
                return Err(format!(
                    "mandatory VM-Host rules keep it off {}",
                    view.host(host).name
                ));
            }
        }
        let at = |o: VmId| self.location.get(o).copied().flatten();
        if let Some((r, other)) = rules.anti_affinity_clash(vm, host, at) {
            return Err(format!(
                "mandatory anti-affinity rule {:?} keeps it apart from {} (on {})",
                r.name,
                view.vm(other).name,
                view.host(host).name
            ));
        }
        if let Some((r, other, h)) = rules.affinity_host(vm, at) {
            if h != host {
                return Err(format!(
                    "mandatory affinity rule {:?} ties it to {} on {}",
                    r.name,
                    view.vm(other).name,
                    view.host(h).name
                ));
            }
        }
        Ok(())
    }

    /// Places `vms` (largest first) on a host of `candidates` that `eligible` accepts (`Err`
    /// says why not), the
    /// rules allow and has room, chosen by `fit`. Returns the VMs that found no host, with the
    /// reason.
    pub fn place_all(
        &mut self,
        mut vms: Vec<VmId>,
        candidates: &[HostId],
        fit: Fit,
        eligible: impl Fn(VmId, HostId) -> Result<(), String>,
    ) -> Vec<(VmId, Blocked)> {
        self.decreasing(&mut vms);
        let mut failed = Vec::new();
        for vm in vms {
            let demand = self.view.vm(vm).demand;
            let mut reason = None;
            let mut best_free: Option<Demand> = None;
            let mut chosen = None;
            for &h in candidates {
                if let Err(why) = eligible(vm, h) {
                    reason = Some(why);
                    continue;
                }
                if let Err(why) = self.rules_allow(vm, h) {
                    reason = Some(why);
                    continue;
                }
                let free = self.free[h];
                if demand.fits_in(&free) {
                    let better = |c: HostId| {
                        let key =
                            |x: HostId| (self.headroom[x].0, std::cmp::Reverse(self.headroom[x].1));
                        key(h) > key(c)
                    };
                    if chosen.is_none_or(better) {
                        chosen = Some(h);
                    }
                    if fit == Fit::First {
                        break;
                    }
                    continue;
                }
                if best_free.is_none_or(|b| (free.mem_mb, free.cpu_mhz) > (b.mem_mb, b.cpu_mhz)) {
                    best_free = Some(free);
                }
            }
            match chosen {
                Some(h) => {
                    self.free[h] = self.free[h].minus(&demand);
                    self.location[vm] = Some(h);
                    let size = mb(self.view.vm(vm).facts.memory_mb);
                    self.headroom[h] = (
                        self.headroom[h].0.saturating_sub(size),
                        self.headroom[h].1 + 1,
                    );
                }
                None => failed.push((
                    vm,
                    match best_free {
                        Some(best_free) => Blocked::Capacity { best_free },
                        None => {
                            Blocked::Rules(reason.unwrap_or_else(|| "no host is eligible".into()))
                        }
                    },
                )),
            }
        }
        failed
    }
}

impl Blocked {
    /// A sentence for a report, given the VM's demand.
    pub fn describe(&self, demand: &Demand) -> String {
        match self {
            Blocked::Rules(why) => why.clone(),
            Blocked::Capacity { best_free } => format!(
                "no host has room for its reservation of {} MHz / {} MB (the roomiest eligible host has {} MHz / {} MB \
                 unreserved)",
                demand.cpu_mhz, demand.mem_mb, best_free.cpu_mhz, best_free.mem_mb
            ),
        }
    }
}
