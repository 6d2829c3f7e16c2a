//! The pre-copy estimate: will a vMotion converge, in how many rounds, how long, and how long
//! is the switchover stun — with and without Stun During Page Send (SDPS, ESXi 5.0+).
//!
//! This is the standard first-order model (hostops.md §3.4), an **estimate**, never a
//! measurement: M = memory (MB), R = vMotion transmit rate (MB/s), D = page dirty rate (MB/s),
//! λ = D/R. Round i sends Vᵢ = M·λⁱ in Vᵢ/R seconds. Pre-copy stops after the first round n
//! whose leftover Vₙ = M·λⁿ can be sent within the switchover limit t (100 s, the limit of
//! KB 2141355 and requirements.md): n = ⌈log(R·t/M) / log λ⌉, at least 1 because the first full
//! copy always runs live. Then the VM is stunned and Vₙ is sent: switchover = Vₙ/R. The whole
//! migration takes T = (M/R)·(1 − λⁿ⁺¹)/(1 − λ). With λ ≥ 1 the leftover never shrinks: before
//! SDPS the migration fails ("lack of pre-copy forward progress"); with SDPS the vCPUs are
//! slowed until the dirty rate is a fraction of R (`sdps_ratio`, an assumption), and the model
//! runs with that rate. Device state and resume time are not modelled.
//!
//! Units: memory and dirty rates are in MB as ESXi reports memory (MiB); link speeds are in
//! Mb/s as NICs report them (10⁶ bit/s). So 1 Gb/s carries 10⁹/8 bytes a second, 119.2 MB/s,
//! not 125: [`link_mb_s`] converts, and every figure here is in MB (MiB).

use super::finding::{Code, Finding};
use super::network;
use super::view::{ClusterView, HostId, VmId};

/// The model's knobs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PrecopyParams {
    /// The switchover limit t in seconds (100).
    pub switchover_limit_s: f64,
    /// The dirty rate SDPS throttles the guest to, as a fraction of R (assumed 0.9: SDPS aims
    /// just below the link rate).
    pub sdps_ratio: f64,
    /// Warn from this λ on (0.8, hostops.md §3.4).
    pub warn_ratio: f64,
    /// Warn when the switchover stun is estimated above this many seconds ("a few seconds").
    pub stun_warn_s: f64,
}

impl Default for PrecopyParams {
    fn default() -> Self {
        PrecopyParams {
            switchover_limit_s: 100.0,
            sdps_ratio: 0.9,
            warn_ratio: 0.8,
            stun_warn_s: 5.0,
        }
    }
}

/// What the model predicts for one rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    Converges {
        /// Pre-copy rounds n (the live ones).
        rounds: u32,
        /// Time of the live rounds, seconds.
        precopy_s: f64,
        /// The stun: sending Vₙ, seconds.
        switchover_s: f64,
        /// precopy + switchover.
        total_s: f64,
    },
    /// λ ≥ 1: the leftover never shrinks.
    NoForwardProgress,
}

impl Outcome {
    /// Whether the switchover fits within the limit.
    pub fn fits(&self, limit_s: f64) -> bool {
        matches!(self, Outcome::Converges { switchover_s, .. } if *switchover_s <= limit_s)
    }
}

/// The estimate for one VM over one link.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub memory_mb: f64,
    pub dirty_mb_s: f64,
    pub rate_mb_s: f64,
    pub lambda: f64,
    pub without_sdps: Outcome,
    /// The dirty rate SDPS allows (D itself when no throttling is needed).
    pub sdps_dirty_mb_s: f64,
    pub with_sdps: Outcome,
}

/// Rounds are capped so that λ a hair below 1 cannot run the loop-free formula into
/// meaningless numbers; a million rounds is far beyond any real migration.
const MAX_ROUNDS: f64 = 1e6;

fn converge(m: f64, r: f64, lambda: f64, limit_s: f64) -> Outcome {
    if lambda >= 1.0 {
        return Outcome::NoForwardProgress;
    }
    let budget = r * limit_s;
    let n = if lambda <= 0.0 || budget >= m {
        1.0
    } else {
        ((budget / m).ln() / lambda.ln())
            .ceil()
            .clamp(1.0, MAX_ROUNDS)
    };
    let ln = lambda.powf(n);
    let precopy_s = if lambda <= 0.0 {
        m / r
    } else {
        (m / r) * (1.0 - ln) / (1.0 - lambda)
    };
    let switchover_s = m * ln / r;
    Outcome::Converges {
        // n is a whole number in 1..=1e6.
        rounds: n as u32,
        precopy_s,
        switchover_s,
        total_s: precopy_s + switchover_s,
    }
}

/// A link speed in Mb/s (10⁶ bit/s) as MB/s in the memory unit (MiB): 1000 Mb/s → 119.2 MB/s.
pub fn link_mb_s(rate_mbps: f64) -> f64 {
    rate_mbps * 1e6 / 8.0 / 1_048_576.0
}

/// The estimate for `memory_mb` of memory dirtied at `dirty_mb_s`, sent at `rate_mbps` (Mb/s,
/// see [`link_mb_s`]). `None` when the rate is 0 or an input is not a finite number ≥ 0.
pub fn estimate(
    memory_mb: f64,
    dirty_mb_s: f64,
    rate_mbps: f64,
    p: &PrecopyParams,
) -> Option<Estimate> {
    let finite = |x: f64| x.is_finite() && x >= 0.0;
    if !(finite(memory_mb) && finite(dirty_mb_s) && finite(rate_mbps)) || rate_mbps <= 0.0 {
        return None;
    }
    let r = link_mb_s(rate_mbps);
    let lambda = dirty_mb_s / r;
    let sdps_dirty = dirty_mb_s.min(p.sdps_ratio * r);
    Some(Estimate {
        memory_mb,
        dirty_mb_s,
        rate_mb_s: r,
        lambda,
        without_sdps: converge(memory_mb, r, lambda, p.switchover_limit_s),
        sdps_dirty_mb_s: sdps_dirty,
        with_sdps: converge(memory_mb, r, sdps_dirty / r, p.switchover_limit_s),
    })
}

fn describe(o: &Outcome, limit_s: f64) -> String {
    match o {
        Outcome::Converges {
            rounds,
            precopy_s,
            switchover_s,
            total_s,
        } => format!(
            "{rounds} pre-copy round{} in {precopy_s:.1} s, switchover {switchover_s:.1} s, {total_s:.1} s in all \
             ({} the {limit_s:.0} s limit)",
            if *rounds == 1 { "" } else { "s" },
            if o.fits(limit_s) { "within" } else { "beyond" }
        ),
        Outcome::NoForwardProgress => {
            "does not converge: pages are dirtied as fast as they are sent".into()
        }
    }
}

/// The pre-copy findings of moving a powered-on VM to `dst`, when its dirty rate is known
/// (`cluster.vms.NAME.dirty_rate_mb_s`) and both hosts have a vMotion link.
pub fn vm_precopy(
    view: &ClusterView<'_>,
    vm: VmId,
    dst: HostId,
    p: &PrecopyParams,
) -> Vec<Finding> {
    let v = view.vm(vm);
    let Some(dirty) = v.dirty_rate_mb_s else {
        return Vec::new();
    };
    if !v.powered_on() || v.host == dst {
        return Vec::new();
    }
    let rate = network::vmotion_rate_mbps(view, v.host, dst);
    // u64 → f64 loses precision only above 2^53 MB.
    let Some(e) = estimate(v.facts.memory_mb as f64, dirty, f64::from(rate), p) else {
        return Vec::new();
    };
    let (src, d) = (view.host(v.host), view.host(dst));
    let sdps = [src, d]
        .iter()
        .all(|h| h.version.is_none_or(|ver| ver.at_least(5, 0)));
    let mut msg = format!(
        "estimate (first-order pre-copy model, not a measurement): {:.0} MB over {:.0} MB/s with {:.0} MB/s \
         dirtied (λ = {:.2}): without SDPS {}",
        e.memory_mb,
        e.rate_mb_s,
        e.dirty_mb_s,
        e.lambda,
        describe(&e.without_sdps, p.switchover_limit_s)
    );
    if e.sdps_dirty_mb_s < e.dirty_mb_s {
        msg.push_str(&format!(
            "; with SDPS (guest slowed to {:.0} MB/s dirtied) {}",
            e.sdps_dirty_mb_s,
            describe(&e.with_sdps, p.switchover_limit_s)
        ));
    } else {
        msg.push_str("; with SDPS the same (no throttling needed)");
    }
    if !sdps {
        msg.push_str("; SDPS needs ESXi 5.0 on both hosts, which these are not");
    }
    let mut out = vec![
        Finding::info(Code::PrecopyEstimate, msg)
            .host(d.name)
            .vm(v.name),
    ];
    let applicable = if sdps { e.with_sdps } else { e.without_sdps };
    let link = format!("{:.0} MB/s", e.rate_mb_s);
    if e.lambda >= 1.0 {
        if sdps {
            out.push(
                Finding::warning(
                    Code::StunDuringPageSend,
                    format!(
                        "the VM dirties {:.0} MB/s, more than the {link} vMotion can send: SDPS will slow its vCPUs \
                         for the whole pre-copy",
                        e.dirty_mb_s
                    ),
                    "migrate in a quiet period, or add vMotion bandwidth (10 Gb/s, multi-NIC vMotion)",
                )
                .host(d.name)
                .vm(v.name),
            );
        } else {
            out.push(
                Finding::error(
                    Code::PrecopyNoForwardProgress,
                    format!(
                        "the VM dirties {:.0} MB/s, more than the {link} vMotion can send, and without SDPS (ESXi < 5.0) \
                         the pre-copy never converges: the migration fails (the VM keeps running on the source)",
                        e.dirty_mb_s
                    ),
                    "migrate when the guest is quiet, add vMotion bandwidth, or upgrade both hosts to ESXi 5.0+ (SDPS)",
                )
                .host(d.name)
                .vm(v.name),
            );
        }
    } else if let Outcome::Converges { switchover_s, .. } = applicable {
        if e.lambda >= p.warn_ratio || switchover_s > p.stun_warn_s {
            out.push(
                Finding::warning(
                    Code::PrecopySlowConvergence,
                    format!(
                        "λ = {:.2} (dirty {:.0} MB/s over {link}); estimated switchover stun {switchover_s:.1} s",
                        e.lambda, e.dirty_mb_s
                    ),
                    "migrate in a quiet period or add vMotion bandwidth; applications with short timeouts may notice the stun",
                )
                .host(d.name)
                .vm(v.name),
            );
        }
    }
    out
}
