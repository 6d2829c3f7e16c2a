//! `esxforge vib inspect` on VIBs in both `ar` styles and on offline bundles, good and bad.

mod common;

use std::path::Path;
use std::process::Output;

use common::esxi_iso::{self, VibSpec, p, text};

/// `esxforge ARGS… FILE`
fn esxforge(args: &[&str], file: &Path) -> Output {
    let mut args = args.to_vec();
    args.push(p(file));
    esxi_iso::esxforge(&args)
}

#[test]
fn verifies_vmware_and_gnu_style_vibs() {
    let dir = tempfile::tempdir().unwrap();
    for gnu_ar in [false, true] {
        let spec = VibSpec {
            gnu_ar,
            ..VibSpec::driver("net-test", "1.0-1")
        };
        let vib = esxi_iso::vib(dir.path(), &spec);
        let out = esxforge(&["vib", "inspect", "--format", "json"], &vib);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json["kind"], "vib");
        assert_eq!(json["ok"], true);
        let v = &json["vibs"][0];
        assert_eq!(v["id"], "TST_bootbank_net-test_1.0-1");
        assert_eq!(v["esxi8_refusal"], serde_json::Value::Null);
        let sums = v["payloads"][0]["checksums"].as_array().unwrap();
        assert_eq!(sums.len(), 3);
        assert!(sums.iter().all(|c| c["result"] == "verified"), "{sums:?}");
        assert_eq!(v["payloads"][0]["size_matches"], true);
        let out = esxforge(&["vib", "inspect"], &vib);
        let t = text(&out);
        assert!(
            t.contains("sha-256 (gunzip)") && t.contains("all verified"),
            "{t}"
        );
    }
}

#[test]
fn wrong_digest_is_a_finding_and_corrupt_payload_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let vib = esxi_iso::vib(
        dir.path(),
        &VibSpec {
            wrong_digest: true,
            ..VibSpec::driver("net-bad", "1.0-1")
        },
    );
    let out = esxforge(&["vib", "inspect"], &vib);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("MISMATCH"), "{}", text(&out));
    let vib = esxi_iso::vib(
        dir.path(),
        &VibSpec {
            corrupt: true,
            ..VibSpec::driver("net-cor", "1.0-1")
        },
    );
    let out = esxforge(&["vib", "inspect"], &vib);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("net-cor") && t.contains("corrupt"), "{t}");
    assert!(!t.contains("panicked"), "{t}");
}

#[test]
fn truncated_and_crlf_damaged_vibs_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(esxi_iso::vib(
        dir.path(),
        &VibSpec::driver("net-test", "1.0-1"),
    ))
    .unwrap();
    let cut = dir.path().join("cut.vib");
    std::fs::write(&cut, &good[..good.len() - 1000]).unwrap();
    let out = esxforge(&["vib", "inspect"], &cut);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("cut.vib") && text(&out).contains("truncated"),
        "{}",
        text(&out)
    );
    let crlf = dir.path().join("crlf.vib");
    std::fs::write(&crlf, [&b"!<arch>\r\n"[..], &good[8..]].concat()).unwrap();
    let out = esxforge(&["vib", "inspect"], &crlf);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("binary mode"), "{}", text(&out));
}

#[test]
fn esxi8_refusal_is_reported_for_sha1_only_vibs() {
    let dir = tempfile::tempdir().unwrap();
    let spec = VibSpec {
        sha256_gunzip: false,
        platform: "6.0.0".into(),
        ..VibSpec::driver("net-six", "1.0-1")
    };
    let out = esxforge(
        &["vib", "inspect", "--format", "json"],
        &esxi_iso::vib(dir.path(), &spec),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let why = json["vibs"][0]["esxi8_refusal"].as_str().unwrap();
    assert!(why.contains("sha-256") && why.contains("gunzip"), "{why}");
}

#[test]
fn bundles_are_read_through_their_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let spec = VibSpec::driver("net-test", "1.0-1");
    let vib = esxi_iso::vib(dir.path(), &spec);
    let member = format!("vib20/net-test/{}.vib", spec.id());
    let zip = esxi_iso::bundle(
        dir.path(),
        "net-test-offline-bundle.zip",
        &[(&vib, &spec, member.clone())],
    );
    let out = esxforge(&["vib", "inspect", "--format", "json"], &zip);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["kind"], "bundle");
    assert_eq!(json["vibs"][0]["member"], member.as_str());
    assert_eq!(json["ok"], true);
}

#[test]
fn bundles_with_escaping_paths_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let spec = VibSpec::driver("net-test", "1.0-1");
    let vib = esxi_iso::vib(dir.path(), &spec);
    let zip = esxi_iso::bundle(
        dir.path(),
        "evil.zip",
        &[(&vib, &spec, "vib20/../../evil.vib".to_string())],
    );
    let out = esxforge(&["vib", "inspect"], &zip);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("evil.zip") && t.contains("escapes"), "{t}");
}
