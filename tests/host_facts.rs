//! `esxforge host facts` end to end: a real sshd, the ESXi simulator behind it.

mod common;

use common::hostops::{assert_exit, esxforge, facts, host_entry, inventory, json, stdout};
use common::sshd::{FailRule, Faults, SimHost, SimOptions};
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
    assert_exit(&out, 0);
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
    assert_exit(&out, 0);
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

/// A host whose `esxcli --formatter=xml` breaks while the text form answers gives the same
/// facts, read from text, and the notes say so; a command failing in both forms is a note of
/// its own and leaves only its facts empty (a failing `getallvms` too).
#[test]
fn xml_formatter_failing_falls_back_to_text_with_the_same_facts() {
    for version in ["8.0", "6.7"] {
        let healthy = SimHost::start(SimOptions::version(version)).unwrap();
        let xml_broken = SimHost::start(SimOptions {
            faults: Faults {
                fail: vec![FailRule {
                    command: "esxcli".into(),
                    formatter: Some("xml".into()),
                    stderr: "Error: Unable to format output: XML formatter failed".into(),
                    ..FailRule::default()
                }],
                ..Faults::default()
            },
            ..SimOptions::version(version)
        })
        .unwrap();
        let (want, want_notes) = facts(&healthy);
        let (got, notes) = facts(&xml_broken);
        assert!(want_notes.is_empty(), "{want_notes:?}");
        assert_eq!(got, want, "{version}: text gives what XML gives");
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].starts_with("esxcli --formatter=xml failed for ")
                && notes[0].contains("XML formatter failed"),
            "{notes:?}"
        );
    }

    let syslog_down = SimHost::start(SimOptions {
        faults: Faults {
            fail: vec![
                FailRule {
                    command: "esxcli system syslog config get".into(),
                    stderr: "Error: vmsyslogd is not running".into(),
                    ..FailRule::default()
                },
                FailRule {
                    command: "vim-cmd vmsvc/getallvms".into(),
                    stderr: "Failed to login: hostd busy".into(),
                    ..FailRule::default()
                },
            ],
            ..Faults::default()
        },
        ..SimOptions::default()
    })
    .unwrap();
    let (f, notes) = facts(&syslog_down);
    assert!(f.syslog.logdir.is_empty());
    assert!(f.vms.is_empty());
    assert!(
        notes
            .iter()
            .any(|n| n
                == "vim-cmd vmsvc/getallvms (exit 1): Failed to login: hostd busy; no VMs listed"),
        "{notes:?}"
    );
    assert!(!f.vswitches.is_empty(), "the rest still gathered");
    assert!(
        notes
            .iter()
            .any(|n| n == "esxcli system syslog config get: Error: vmsyslogd is not running"),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.contains("failed for 1 command(s)") && n.contains("text form of 0")),
        "{notes:?}"
    );
}

/// The host's own name and management address are looked up on the host (busybox
/// `nslookup`, both layouts): forward and reverse agree on a healthy host, and a missing A
/// record or a wrong PTR record shows as it is.
#[test]
fn dns_lookups_of_the_host_name_and_management_address() {
    for version in ["8.0", "6.7"] {
        let host = SimHost::start(SimOptions::version(version)).unwrap();
        let st = host.state();
        let fqdn = st.host.fqdn();
        let mgmt = st
            .vmknics
            .iter()
            .find(|k| k.tags.iter().any(|t| t == "Management"))
            .map(|k| k.ipv4.address.clone())
            .unwrap();
        let (f, _) = facts(&host);
        let lookups = f.dns.lookups.expect("gathered");
        assert_eq!(lookups.forward, [mgmt.as_str()], "{version}");
        assert_eq!(
            lookups.reverse.len(),
            1,
            "management addresses only: {lookups:?}"
        );
        assert_eq!(lookups.reverse[0].address, mgmt);
        assert_eq!(lookups.reverse[0].names, [fqdn.as_str()]);

        host.modify(|st| {
            st.dns.forward.clear();
            st.dns
                .reverse
                .insert(mgmt.clone(), vec!["esx99.elsewhere.example".into()]);
        });
        let (f, notes) = facts(&host);
        let lookups = f.dns.lookups.expect("a failed lookup is an answer");
        assert!(lookups.forward.is_empty(), "{version}: {lookups:?}");
        assert_eq!(lookups.reverse[0].names, ["esx99.elsewhere.example"]);
        assert!(notes.is_empty(), "{notes:?}");

        host.modify(|st| {
            st.dns.reverse.clear();
        });
        let (f, _) = facts(&host);
        assert!(f.dns.lookups.unwrap().reverse[0].names.is_empty());
    }
}
