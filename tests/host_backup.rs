//! `esxforge host backup` and `host restore` end to end, faults included.

mod common;

use std::path::Path;

use common::hostops::{assert_exit, esxforge, host_entry, inventory, json, stderr, stdout};
use common::sshd::{Corruption, DropRule, Faults, Seed, SimHost, SimOptions};
use esxforge_hostcfg::backup::{self, BundleManifest};

/// Every file under `dir` (recursively), relative, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

fn no_vms() -> SimOptions {
    SimOptions {
        seed: Seed {
            vms: 0,
            ..Seed::default()
        },
        ..SimOptions::default()
    }
}

#[test]
fn backups_are_verified_and_retention_keeps_the_newest() {
    let host = SimHost::start(SimOptions::default()).unwrap();
    let st = host.state();
    let dir = tempfile::tempdir().unwrap();
    let inv = inventory(dir.path(), "", &[host_entry(&host, "")]);
    let dest = dir.path().join("backups");
    let mut taken = Vec::new();
    for _ in 0..3 {
        let out = esxforge(
            &host.known_hosts(),
            &host.identity(),
            &[
                "backup",
                "-i",
                inv.to_str().unwrap(),
                "--dest",
                dest.to_str().unwrap(),
                "--keep",
                "2",
                "--format",
                "json",
            ],
        );
        assert_exit(&out, 0);
        let m: BundleManifest =
            serde_json::from_value(json(&out)[0]["result"]["manifest"].clone()).unwrap();
        taken.push(m);
        // Bundle names carry a second-resolution time stamp; keep them distinct and ordered.
        std::thread::sleep(std::time::Duration::from_millis(1100));
    }
    let host_dir = dest.join(&st.host.hostname);
    let mut kept = backup::list(&host_dir).unwrap();
    kept.sort_by(|a, b| a.taken_at.cmp(&b.taken_at));
    assert_eq!(kept, taken[1..], "the two newest remain");
    for m in &kept {
        assert_eq!(m.uuid, st.host.uuid);
        assert_eq!(m.build, st.host.version.build);
        assert_eq!(m.version, st.host.version.version);
        let i = backup::inspect(&host_dir.join(&m.file), "kept").unwrap();
        assert_eq!((i.size, i.sha256.as_str()), (m.size, m.sha256.as_str()));
    }
    let mut expected: Vec<String> = kept
        .iter()
        .flat_map(|m| {
            [
                format!("{}/{}", st.host.hostname, m.file),
                format!("{}/{}.json", st.host.hostname, m.file),
            ]
        })
        .collect();
    expected.sort();
    assert_eq!(files(&dest), expected, "nothing but bundles and manifests");
}

#[test]
fn a_connection_dropped_mid_download_leaves_no_partial_file_and_keeps_older_backups() {
    let host = SimHost::start(SimOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let inv = inventory(dir.path(), "", &[host_entry(&host, "")]);
    let dest = dir.path().join("backups");
    let args = [
        "backup",
        "-i",
        inv.to_str().unwrap(),
        "--dest",
        dest.to_str().unwrap(),
        "--keep",
        "1",
    ];
    let out = esxforge(&host.known_hosts(), &host.identity(), &args);
    assert_exit(&out, 0);
    let before = files(&dest);
    assert_eq!(before.len(), 2);

    host.modify(|st| {
        st.faults.drop_transfer = Some(DropRule {
            path_contains: "configBundle".into(),
            after_bytes: 512,
            times: None,
        })
    });
    let out = esxforge(&host.known_hosts(), &host.identity(), &args);
    assert_exit(&out, 1);
    assert!(stdout(&out).contains("FAILED"), "{}", stdout(&out));
    assert_eq!(
        files(&dest),
        before,
        "the old backup stays, no partial file appears"
    );
}

#[test]
fn corrupt_bundles_are_detected_and_never_stored() {
    for corruption in [
        Corruption::BadGzip,
        Corruption::TruncatedTar,
        Corruption::WrongUuid,
    ] {
        let host = SimHost::start(SimOptions {
            faults: Faults {
                corrupt_bundle: Some(corruption),
                ..Faults::default()
            },
            ..SimOptions::default()
        })
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let inv = inventory(dir.path(), "", &[host_entry(&host, "")]);
        let dest = dir.path().join("backups");
        let out = esxforge(
            &host.known_hosts(),
            &host.identity(),
            &[
                "backup",
                "-i",
                inv.to_str().unwrap(),
                "--dest",
                dest.to_str().unwrap(),
            ],
        );
        assert_eq!(
            out.status.code(),
            Some(1),
            "{corruption:?}: {}",
            stderr(&out)
        );
        assert!(
            stdout(&out).contains("not a valid configuration bundle"),
            "{corruption:?}: {}",
            stdout(&out)
        );
        assert!(
            files(&dest).is_empty(),
            "{corruption:?}: {:?}",
            files(&dest)
        );
    }
}

#[test]
fn restore_refuses_another_hosts_bundle_unless_forced_and_verifies_the_reboot() {
    let a = SimHost::start(no_vms()).unwrap();
    let b = SimHost::start(SimOptions {
        seed: Seed {
            name: "esx02".into(),
            management_ip: "10.0.0.12".into(),
            vms: 0,
            ..Seed::default()
        },
        ..SimOptions::default()
    })
    .unwrap();
    for h in [&a, &b] {
        h.modify(|st| st.knobs.reboot_ms = 300);
    }
    let dir = tempfile::tempdir().unwrap();
    let known = dir.path().join("known_hosts");
    let both = [
        std::fs::read_to_string(a.known_hosts()).unwrap(),
        std::fs::read_to_string(b.known_hosts()).unwrap(),
    ]
    .concat();
    std::fs::write(&known, both).unwrap();
    let inv = inventory(dir.path(), "", &[host_entry(&a, ""), host_entry(&b, "")]);
    let inv = inv.to_str().unwrap();
    let dest = dir.path().join("backups");
    let out = esxforge(
        &known,
        &a.identity(),
        &[
            "backup",
            "-i",
            inv,
            "--host",
            "esx01",
            "--dest",
            dest.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_exit(&out, 0);
    let bundle = json(&out)[0]["result"]["path"]
        .as_str()
        .unwrap()
        .to_string();

    // esx01's bundle onto esx02: refused, nothing uploaded or rebooted.
    let restore = |host: &str, extra: &[&str]| {
        let mut args = vec![
            "restore",
            "-i",
            inv,
            "--host",
            host,
            "--bundle",
            &bundle,
            "--reboot-timeout",
            "30",
        ];
        args.extend_from_slice(extra);
        esxforge(&known, &a.identity(), &args)
    };
    let out = restore("esx02", &["--enter-maintenance"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("pass --force if you mean it"),
        "{}",
        stdout(&out)
    );
    assert_eq!(b.state().host.reboots, 0);

    // Its own bundle, but not in maintenance mode and not asked to enter it: refused.
    let out = restore("esx01", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("not in maintenance mode"),
        "{}",
        stdout(&out)
    );

    // Its own bundle with --enter-maintenance: restored, rebooted, verified.
    let out = restore("esx01", &["--enter-maintenance"]);
    assert_exit(&out, 0);
    assert_eq!(a.state().host.reboots, 1);

    // --force restores esx01's bundle onto esx02.
    let out = restore("esx02", &["--enter-maintenance", "--force"]);
    assert_exit(&out, 0);
    assert_eq!(b.state().host.reboots, 1);
}
