//! The pre-copy model against hand-computed figures (hostops.md §3.4 formulas), and its
//! findings.

use super::{Lab, Row, app_to_esx02, table};
use crate::preflight::precopy::{Outcome, PrecopyParams, estimate};
use crate::preflight::{Code, Severity};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

fn converges(o: Outcome) -> (u32, f64, f64, f64) {
    match o {
        Outcome::Converges {
            rounds,
            precopy_s,
            switchover_s,
            total_s,
        } => (rounds, precopy_s, switchover_s, total_s),
        Outcome::NoForwardProgress => panic!("expected convergence"),
    }
}

#[test]
fn one_round_when_memory_fits_the_switchover_window() {
    // M = 16384 MB, 10 Gb/s → R = 1250 MB/s, D = 250 MB/s → λ = 0.2.
    // R·t = 125000 MB ≥ M, so n = 1: the first full copy, then the switchover.
    // Pre-copy = M/R = 13.1072 s; switchover = M·λ/R = 2.62144 s;
    // total = (M/R)(1 − λ²)/(1 − λ) = 13.1072 × 0.96 / 0.8 = 15.72864 s.
    let e = estimate(16384.0, 250.0, 10_000.0, &PrecopyParams::default()).unwrap();
    assert!(close(e.lambda, 0.2));
    let (n, pre, sw, total) = converges(e.without_sdps);
    assert_eq!(n, 1);
    assert!(
        close(pre, 13.1072) && close(sw, 2.62144) && close(total, 15.72864),
        "{pre} {sw} {total}"
    );
    assert_eq!(
        e.with_sdps, e.without_sdps,
        "λ below the SDPS ratio: no throttling"
    );
    assert!(e.without_sdps.fits(100.0));
}

#[test]
fn many_rounds_when_the_dirty_rate_nears_the_link_rate() {
    // M = 65536 MB, 1 Gb/s → R = 125 MB/s, D = 100 MB/s → λ = 0.8; R·t = 12500 MB.
    // n = ⌈ln(12500/65536) / ln 0.8⌉ = ⌈−1.65688 / −0.22314⌉ = ⌈7.4251⌉ = 8
    // (after 7 rounds V₇ = 65536·0.8⁷ = 13743.9 MB is still above 12500).
    // V₈ = 65536 · 0.8⁸ = 10995.116 MB → switchover 87.96093 s (within 100 s).
    // Pre-copy = 524.288 · (1 − 0.8⁸)/0.2 = 2181.63535 s; total = 524.288 · (1 − 0.8⁹)/0.2 = 2269.59628 s.
    let e = estimate(65536.0, 100.0, 1000.0, &PrecopyParams::default()).unwrap();
    let (n, pre, sw, total) = converges(e.without_sdps);
    assert_eq!(n, 8);
    assert!((pre - 2181.6353488896).abs() < 1e-6, "{pre}");
    assert!((sw - 87.96093022208).abs() < 1e-6, "{sw}");
    assert!((total - 2269.59627911168).abs() < 1e-6, "{total}");
    assert!(close(pre + sw, total));
}

#[test]
fn no_forward_progress_without_sdps_and_throttled_convergence_with_it() {
    // D = 200 MB/s over R = 125 MB/s: λ = 1.6, the leftover never shrinks.
    // SDPS throttles to 0.9·R = 112.5 MB/s → λ' = 0.9:
    // n = ⌈ln(12500/65536) / ln 0.9⌉ = ⌈15.726⌉ = 16; V₁₆ = 65536·0.9¹⁶ = 12143.95 MB →
    // switchover 97.15162 s; pre-copy 524.288·(1 − 0.9¹⁶)/0.1 = 4271.36375 s.
    let e = estimate(65536.0, 200.0, 1000.0, &PrecopyParams::default()).unwrap();
    assert!(close(e.lambda, 1.6));
    assert_eq!(e.without_sdps, Outcome::NoForwardProgress);
    assert!(!e.without_sdps.fits(100.0));
    assert!(close(e.sdps_dirty_mb_s, 112.5));
    let (n, pre, sw, total) = converges(e.with_sdps);
    assert_eq!(n, 16);
    assert!((pre - 4271.363751227247).abs() < 1e-6, "{pre}");
    assert!((sw - 97.15162487727544).abs() < 1e-6, "{sw}");
    assert!((total - 4368.515376104522).abs() < 1e-6, "{total}");
}

#[test]
fn edge_inputs() {
    let p = PrecopyParams::default();
    // Nothing dirtied: one round, no switchover payload.
    let (n, pre, sw, _) = converges(estimate(1000.0, 0.0, 8000.0, &p).unwrap().without_sdps);
    assert_eq!((n, sw), (1, 0.0));
    assert!(close(pre, 1.0));
    // No link, or nonsense numbers: no estimate.
    assert!(estimate(1000.0, 1.0, 0.0, &p).is_none());
    assert!(estimate(f64::NAN, 1.0, 1000.0, &p).is_none());
    assert!(estimate(1000.0, -1.0, 1000.0, &p).is_none());
    // λ a hair below 1 stays finite.
    let (n, ..) = converges(estimate(1e6, 124.999_999, 1000.0, &p).unwrap().without_sdps);
    assert!(n >= 1);
}

fn dirty(lab: &mut Lab, rate: &str) {
    lab.yaml(&format!("vms: {{ app: {{ dirty_rate_mb_s: {rate} }} }}"));
}

fn old_hosts(lab: &mut Lab) {
    for h in ["esx01", "esx02"] {
        lab.host(h).version.version = "4.1.0".into();
    }
}

#[test]
fn precopy_findings() {
    let estimate_rows: &[Row] = &[
        ("no dirty rate known: no estimate", |_| {}, None),
        (
            "a dirty rate gives an estimate",
            |l| dirty(l, "100"),
            Some(Severity::Info),
        ),
        (
            "powered off: no estimate",
            |l| {
                dirty(l, "100");
                l.vm("app").powered_on = false;
            },
            None,
        ),
    ];
    table(Code::PrecopyEstimate, app_to_esx02, estimate_rows);
    let sdps: &[Row] = &[
        ("λ = 0.08", |l| dirty(l, "100"), None),
        (
            "λ = 1.6 on ESXi 8 (SDPS)",
            |l| dirty(l, "2000"),
            Some(Severity::Warning),
        ),
    ];
    table(Code::StunDuringPageSend, app_to_esx02, sdps);
    let fails: &[Row] = &[
        ("λ = 1.6 on ESXi 8", |l| dirty(l, "2000"), None),
        (
            "λ = 1.6 on ESX 4.1 (no SDPS)",
            |l| {
                dirty(l, "2000");
                old_hosts(l);
            },
            Some(Severity::Error),
        ),
        (
            "λ = 0.5 on ESX 4.1",
            |l| {
                dirty(l, "625");
                old_hosts(l);
            },
            None,
        ),
    ];
    table(Code::PrecopyNoForwardProgress, app_to_esx02, fails);
    let slow: &[Row] = &[
        ("λ = 0.5", |l| dirty(l, "625"), None),
        ("λ = 0.85", |l| dirty(l, "1062.5"), Some(Severity::Warning)),
        (
            "a 21 s stun: 64 GB at λ = 0.2 over a measured 1 Gb/s",
            |l| {
                l.yaml("vmotion_throughput_mbps: 1000\nvms: { app: { dirty_rate_mb_s: 25 } }");
                l.vm("app").memory_mb = 65536;
            },
            Some(Severity::Warning),
        ),
    ];
    table(Code::PrecopySlowConvergence, app_to_esx02, slow);
}

#[test]
fn the_estimate_message_is_labelled_and_shows_both_models() {
    let mut lab = Lab::pair();
    dirty(&mut lab, "2000");
    let f = app_to_esx02(&lab);
    let e = f.iter().find(|f| f.code == Code::PrecopyEstimate).unwrap();
    assert!(
        e.message.starts_with(
            "estimate (first-order pre-copy model, not a measurement): 4096 MB over 1250 MB/s"
        ),
        "{}",
        e.message
    );
    assert!(
        e.message.contains("without SDPS does not converge"),
        "{}",
        e.message
    );
    assert!(
        e.message
            .contains("with SDPS (guest slowed to 1125 MB/s dirtied)"),
        "{}",
        e.message
    );
}

#[test]
fn multi_nic_vmotion_adds_link_speeds() {
    // Two vMotion vmks per host on ESXi 8: 2 × 10 Gb/s = 2500 MB/s.
    let mut lab = Lab::pair();
    for h in ["esx01", "esx02"] {
        let host = lab.host(h);
        let mut second = host.vmknics[1].clone();
        second.name = "vmk2".into();
        second.ip = second.ip.replace("10.0.1.", "10.0.1.1");
        host.vmknics.push(second);
    }
    dirty(&mut lab, "100");
    let f = app_to_esx02(&lab);
    let e = f.iter().find(|f| f.code == Code::PrecopyEstimate).unwrap();
    assert!(e.message.contains("over 2500 MB/s"), "{}", e.message);
}
