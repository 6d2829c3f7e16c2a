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
    // M = 16384 MB (MiB), 10 Gb/s = 10¹⁰/8 bytes/s → R = 1192.09 MB/s, D = 250 MB/s →
    // λ = 250·2²⁰·8/10¹⁰ = 0.2097152. R·t = 119209 MB ≥ M, so n = 1: the first full copy,
    // then the switchover. Pre-copy = M/R = 16384·2²⁰·8/10¹⁰ = 13.7438953472 s;
    // switchover = M·λ/R = 13.7438953472 × 0.2097152 = 2.88230376151712 s; total = their sum.
    let e = estimate(16384.0, 250.0, 10_000.0, &PrecopyParams::default()).unwrap();
    assert!(close(e.rate_mb_s, 1192.0928955078125));
    assert!(close(e.lambda, 0.2097152));
    let (n, pre, sw, total) = converges(e.without_sdps);
    assert_eq!(n, 1);
    assert!(
        close(pre, 13.7438953472) && close(sw, 2.88230376151712) && close(total, 16.62619910871712),
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
    // M = 65536 MB, 1 Gb/s → R = 119.209 MB/s, D = 100 MB/s → λ = 0.8388608; M/R = 549.755813888 s;
    // R·t = 11920.9 MB. n = ⌈ln(11920.9/65536) / ln 0.8388608⌉ = ⌈−1.70430 / −0.17571⌉ = ⌈9.6995⌉ = 10
    // (after 9 rounds V₉ = 65536·λ⁹ = 13483.6 MB is still above 11920.9).
    // V₁₀ = 65536·λ¹⁰ = 11310.87 MB → switchover 94.85688 s (within 100 s).
    // Pre-copy = 549.755813888 · (1 − λ¹⁰)/(1 − λ) = 2823.01845 s; total = 2917.87533 s.
    let e = estimate(65536.0, 100.0, 1000.0, &PrecopyParams::default()).unwrap();
    let (n, pre, sw, total) = converges(e.without_sdps);
    assert_eq!(n, 10);
    assert!((pre - 2823.018448551256).abs() < 1e-6, "{pre}");
    assert!((sw - 94.85687950320938).abs() < 1e-6, "{sw}");
    assert!((total - 2917.875328054465).abs() < 1e-6, "{total}");
    assert!(close(pre + sw, total));
}

#[test]
fn no_forward_progress_without_sdps_and_throttled_convergence_with_it() {
    // D = 200 MB/s over R = 119.209 MB/s: λ = 1.6777216, the leftover never shrinks.
    // SDPS throttles to 0.9·R = 107.288 MB/s → λ' = 0.9:
    // n = ⌈ln(11920.9/65536) / ln 0.9⌉ = ⌈16.176⌉ = 17; V₁₇ = 65536·0.9¹⁷ = 10929.59 MB →
    // switchover 91.68378 s; pre-copy 549.755813888·(1 − 0.9¹⁷)/0.1 = 4580.72038 s.
    let e = estimate(65536.0, 200.0, 1000.0, &PrecopyParams::default()).unwrap();
    assert!(close(e.lambda, 1.6777216));
    assert_eq!(e.without_sdps, Outcome::NoForwardProgress);
    assert!(!e.without_sdps.fits(100.0));
    assert!(close(e.sdps_dirty_mb_s, 107.28836059570312));
    let (n, pre, sw, total) = converges(e.with_sdps);
    assert_eq!(n, 17);
    assert!((pre - 4580.720379014176).abs() < 1e-6, "{pre}");
    assert!((sw - 91.68377598658257).abs() < 1e-6, "{sw}");
    assert!((total - 4672.404155000759).abs() < 1e-6, "{total}");
}

#[test]
fn edge_inputs() {
    let p = PrecopyParams::default();
    // Nothing dirtied: one round, no switchover payload; 1000 MB over 8 Gb/s (953.67 MB/s)
    // takes 1000·2²⁰·8/(8·10⁹) = 1.048576 s.
    let (n, pre, sw, _) = converges(estimate(1000.0, 0.0, 8000.0, &p).unwrap().without_sdps);
    assert_eq!((n, sw), (1, 0.0));
    assert!(close(pre, 1.048576));
    // No link, or nonsense numbers: no estimate.
    assert!(estimate(1000.0, 1.0, 0.0, &p).is_none());
    assert!(estimate(f64::NAN, 1.0, 1000.0, &p).is_none());
    assert!(estimate(1000.0, -1.0, 1000.0, &p).is_none());
    // λ a hair below 1 stays finite.
    let (n, ..) = converges(estimate(1e6, 119.209_289, 1000.0, &p).unwrap().without_sdps);
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
            "λ = 1.7 on ESXi 8 (SDPS)",
            |l| dirty(l, "2000"),
            Some(Severity::Warning),
        ),
    ];
    table(Code::StunDuringPageSend, app_to_esx02, sdps);
    let fails: &[Row] = &[
        ("λ = 1.7 on ESXi 8", |l| dirty(l, "2000"), None),
        (
            "λ = 1.7 on ESX 4.1 (no SDPS)",
            |l| {
                dirty(l, "2000");
                old_hosts(l);
            },
            Some(Severity::Error),
        ),
        (
            "λ = 0.52 on ESX 4.1",
            |l| {
                dirty(l, "625");
                old_hosts(l);
            },
            None,
        ),
    ];
    table(Code::PrecopyNoForwardProgress, app_to_esx02, fails);
    let slow: &[Row] = &[
        ("λ = 0.52", |l| dirty(l, "625"), None),
        ("λ = 0.89", |l| dirty(l, "1062.5"), Some(Severity::Warning)),
        (
            "a 24 s stun: 64 GB at λ = 0.21 over a measured 1 Gb/s",
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
            "estimate (first-order pre-copy model, not a measurement): 4096 MB over 1192 MB/s"
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
            .contains("with SDPS (guest slowed to 1073 MB/s dirtied)"),
        "{}",
        e.message
    );
}

#[test]
fn multi_nic_vmotion_adds_link_speeds() {
    // Two vMotion vmks per host on ESXi 8: 2 × 10 Gb/s = 2 × 1192.09 MB/s.
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
    assert!(e.message.contains("over 2384 MB/s"), "{}", e.message);
}
