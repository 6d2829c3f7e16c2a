//! A fleet of simulated hosts: bounded concurrency, one failing host, shards.

mod common;

use common::hostops::{esxforge, host_entry, inventory, json, stderr, stdout};
use common::sshd::{FailRule, Faults, Fleet, SimOptions};

#[test]
fn twenty_one_hosts_one_failing_the_others_complete() {
    let fleet = Fleet::start(21, |i| SimOptions {
        seed: Fleet::seed(i),
        faults: if i == 7 {
            Faults {
                fail: vec![FailRule {
                    command: "esxcli system version get".into(),
                    exit_code: 1,
                    stderr: "hostd is not responding".into(),
                    times: None,
                    formatter: None,
                }],
                ..Faults::default()
            }
        } else {
            Faults::default()
        },
        ..SimOptions::default()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let entries: Vec<String> = fleet.hosts().iter().map(|h| host_entry(h, "")).collect();
    let inv = inventory(dir.path(), "", &entries);
    let save = dir.path().join("facts");
    let identity = fleet.hosts()[0].identity();
    let out = esxforge(
        &fleet.known_hosts(),
        &identity,
        &[
            "facts",
            "-i",
            inv.to_str().unwrap(),
            "--forks",
            "8",
            "--save",
            save.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "one host failed: {}",
        stderr(&out)
    );
    let report = json(&out);
    assert_eq!(report.len(), 21);
    let failed: Vec<&str> = report
        .iter()
        .filter(|r| r["ok"] == false)
        .map(|r| r["host"].as_str().unwrap())
        .collect();
    let bad = fleet.hosts()[7].state().host.hostname;
    assert_eq!(failed, [bad.as_str()]);
    let error = report.iter().find(|r| r["ok"] == false).unwrap()["error"].to_string();
    assert!(error.contains("hostd is not responding"), "{error}");
    for (h, r) in fleet.hosts().iter().zip(&report) {
        let st = h.state();
        assert_eq!(
            r["host"],
            st.host.hostname.as_str(),
            "results keep the inventory's order"
        );
        if r["ok"] == true {
            assert_eq!(
                r["facts"]["uuid"],
                st.host.uuid.as_str(),
                "no host's facts mixed with another's"
            );
        }
    }
    assert_eq!(std::fs::read_dir(&save).unwrap().count(), 20);

    // Shards: the sorted names dealt round-robin, together exactly the whole fleet.
    let mut seen = Vec::new();
    for i in 0..3 {
        let shard = format!("{i}/3");
        let out = esxforge(
            &fleet.known_hosts(),
            &identity,
            &[
                "facts",
                "-i",
                inv.to_str().unwrap(),
                "--shard",
                &shard,
                "--forks",
                "8",
                "--format",
                "json",
            ],
        );
        let hosts: Vec<String> = json(&out)
            .iter()
            .map(|r| r["host"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(hosts.len(), 7, "{shard}: {}", stdout(&out));
        seen.extend(hosts);
    }
    seen.sort();
    let mut all: Vec<String> = fleet
        .hosts()
        .iter()
        .map(|h| h.state().host.hostname)
        .collect();
    all.sort();
    assert_eq!(seen, all);
}
