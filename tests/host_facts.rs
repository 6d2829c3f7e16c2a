//! `esxforge host facts` end to end: a real sshd, the ESXi simulator behind it.

mod common;

use common::hostops::{esxforge, host_entry, inventory, json, stderr, stdout};
use common::sshd::{SimHost, SimOptions};
use esxforge_hostcfg::facts::HostFacts;

#[test]
fn facts_match_the_simulated_host_and_are_saved_for_offline_use() {
    let host = SimHost::start(SimOptions::default()).unwrap();
    let st = host.state();
    let dir = tempfile::tempdir().unwrap();
    let inv = inventory(dir.path(), "", &[host_entry(&host, "")]);
    let save = dir.path().join("facts");
    let out = esxforge(
        &host.known_hosts(),
        &host.identity(),
        &[
            "facts",
            "-i",
            inv.to_str().unwrap(),
            "--format",
            "json",
            "--save",
            save.to_str().unwrap(),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let report = json(&out);
    assert_eq!(report.len(), 1);
    assert_eq!(report[0]["ok"], true);
    let facts: HostFacts = serde_json::from_value(report[0]["facts"].clone()).unwrap();
    assert_eq!(facts.name, st.host.hostname);
    assert_eq!(facts.uuid, st.host.uuid);
    assert_eq!(facts.version.version, st.host.version.version);
    assert!(!facts.version.build.starts_with("Releasebuild-"));
    assert_eq!(facts.maintenance_mode, st.maintenance_mode);
    let names = |v: Vec<String>| {
        let mut v = v;
        v.sort();
        v
    };
    assert_eq!(
        names(facts.vswitches.iter().map(|v| v.name.clone()).collect()),
        names(st.vswitches.iter().map(|v| v.name.clone()).collect())
    );
    assert_eq!(facts.nics.len(), st.nics.len());
    assert_eq!(facts.vmknics.len(), st.vmknics.len());
    assert!(
        facts
            .vmknics
            .iter()
            .any(|k| k.tags.iter().any(|t| t == "Management"))
    );
    assert_eq!(facts.datastores.len(), st.datastores.len());
    assert_eq!(facts.vms.len(), st.vms.len());
    assert!(facts.cpu.packages > 0 && !facts.cpu.pkgs.is_empty());
    assert!(
        facts.cpu.pkgs[0].family > 0,
        "family decoded from CPUID: {:?}",
        facts.cpu.pkgs[0]
    );
    assert!(
        facts.vms.iter().all(|vm| !vm.devices.is_empty()),
        "{:#?}",
        facts.vms
    );
    assert!(facts.services.iter().any(|s| s.key == "TSM-SSH"));

    // The saved file is the same facts, readable by the preflight's loader.
    let saved = HostFacts::read(&save.join(format!("{}.json", st.host.hostname))).unwrap();
    assert_eq!(saved, facts);
    let leftovers: Vec<_> = std::fs::read_dir(&save).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "only <host>.json, no temporary files");
}

#[test]
fn a_6_7_host_reports_ntp_from_ntp_conf_and_text_tables_print() {
    let host = SimHost::start(SimOptions::version("6.7")).unwrap();
    let st = host.state();
    let dir = tempfile::tempdir().unwrap();
    let inv = inventory(dir.path(), "", &[host_entry(&host, "")]);
    let out = esxforge(
        &host.known_hosts(),
        &host.identity(),
        &["facts", "-i", inv.to_str().unwrap(), "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let facts: HostFacts = serde_json::from_value(json(&out)[0]["facts"].clone()).unwrap();
    assert_eq!(facts.version.version, st.host.version.version);
    assert_eq!(facts.ntp.servers, st.ntp.servers);

    let out = esxforge(
        &host.known_hosts(),
        &host.identity(),
        &["facts", "-i", inv.to_str().unwrap()],
    );
    let text = stdout(&out);
    assert!(
        text.contains(&format!("build {}", facts.version.build)),
        "{text}"
    );
    assert!(text.contains("1 host(s): 1 ok, 0 failed"), "{text}");
}
