//! `esxforge host apply` end to end: check mode, apply, a second run with nothing to do.

mod common;

use common::hostops::{assert_exit, esxforge, host_entry, inventory, json, stdout};
use common::sshd::{SimHost, SimOptions};
use esxforge_hostcfg::facts::HostFacts;

const DESIRED: &str = "\
dns: {servers: [10.0.0.53, 10.0.0.54], search: [lab.local, example.com]}
ntp: [ntp1.lab.local, ntp2.lab.local]
ssh: true
vswitches:
  - name: vSwitch1
    uplinks: [vmnic2, vmnic3]
    mtu: 9000
    teaming: {policy: explicit, active: [vmnic2, vmnic3]}
portgroups:
  - {name: iSCSI-A, vswitch: vSwitch1, vlan: 30, failover: {active: [vmnic2]}}
  - {name: vMotion net, vswitch: vSwitch1, vlan: 20}
vmkernel:
  - {name: vmk1, portgroup: vMotion net, ip: 10.0.20.11, prefix: 24, services: [vmotion]}
  - {name: vmk2, portgroup: iSCSI-A, ip: 10.0.30.11, prefix: 24, mtu: 9000}
iscsi: {bind: [vmk2], targets: [\"10.0.30.100:3260\"]}
syslog: {remote: [\"udp://10.0.0.60:514\"]}
";

#[test]
fn check_changes_nothing_apply_converges_and_a_second_run_is_clean() {
    let host = SimHost::start(SimOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let inv = inventory(dir.path(), "", &[host_entry(&host, DESIRED)]);
    let inv = inv.to_str().unwrap();
    let run = |args: &[&str]| esxforge(&host.known_hosts(), &host.identity(), args);

    // Check mode: a plan, and not one change on the host.
    let before = host.state();
    let out = run(&["apply", "-i", inv, "--check", "--diff"]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(text.contains("would change vswitch vSwitch1"), "{text}");
    assert!(
        text.contains("+ 10.0.0.53, 10.0.0.54"),
        "--diff shows the wanted value: {text}"
    );
    assert_eq!(
        host.state().changes,
        before.changes,
        "check mode changed the host"
    );

    // Apply: every item changed and verified.
    let out = run(&["apply", "-i", inv, "--format", "json"]);
    assert_exit(&out, 0);
    let report = &json(&out)[0];
    assert_eq!(report["ok"], true);
    let items = report["result"]["items"].as_array().unwrap();
    assert!(
        items
            .iter()
            .all(|i| i["status"] == "ok" || i["status"] == "changed"),
        "{items:#?}"
    );
    assert!(items.iter().any(|i| i["status"] == "changed"));
    let changes = host.state().changes.len();
    assert!(changes > before.changes.len());

    // Second run: zero changes, and the host's change log did not grow.
    let out = run(&["apply", "-i", inv, "--format", "json"]);
    assert_exit(&out, 0);
    let items = json(&out)[0]["result"]["items"].as_array().unwrap().clone();
    let changed: Vec<_> = items.iter().filter(|i| i["status"] != "ok").collect();
    assert!(changed.is_empty(), "second run changed {changed:#?}");
    assert_eq!(host.state().changes.len(), changes);

    // Facts show the new configuration.
    let out = run(&["facts", "-i", inv, "--format", "json"]);
    let facts: HostFacts = serde_json::from_value(json(&out)[0]["facts"].clone()).unwrap();
    assert_eq!(facts.dns.servers, ["10.0.0.53", "10.0.0.54"]);
    assert_eq!(facts.ntp.servers, ["ntp1.lab.local", "ntp2.lab.local"]);
    let vs1 = facts
        .vswitches
        .iter()
        .find(|v| v.name == "vSwitch1")
        .unwrap();
    assert_eq!(vs1.mtu, 9000);
    let vmk1 = facts.vmknics.iter().find(|k| k.name == "vmk1").unwrap();
    assert_eq!(vmk1.ip, "10.0.20.11");
    assert_eq!(vmk1.tags, ["VMotion"]);
    let pg = facts
        .portgroups
        .iter()
        .find(|p| p.name == "iSCSI-A")
        .unwrap();
    assert_eq!(pg.vlan, 30);
    assert_eq!(pg.teaming.as_ref().unwrap().active, ["vmnic2"]);
    let iscsi = facts.iscsi.unwrap();
    assert!(iscsi.enabled);
    assert_eq!(iscsi.bound_vmknics, ["vmk2"]);
    assert_eq!(iscsi.send_targets, ["10.0.30.100:3260"]);
    assert_eq!(facts.syslog.loghosts, ["udp://10.0.0.60:514"]);
}

#[test]
fn a_failing_command_stops_the_host_and_says_what_was_not_applied() {
    use common::sshd::{FailRule, Faults};
    let host = SimHost::start(SimOptions {
        faults: Faults {
            fail: vec![FailRule {
                command: "esxcli network vswitch standard portgroup add".into(),
                exit_code: 1,
                stderr: "Unable to add port group: out of ports".into(),
                times: None,
                formatter: None,
            }],
            ..Faults::default()
        },
        ..SimOptions::default()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let inv = inventory(dir.path(), "", &[host_entry(&host, DESIRED)]);
    let out = esxforge(
        &host.known_hosts(),
        &host.identity(),
        &["apply", "-i", inv.to_str().unwrap()],
    );
    assert_exit(&out, 1);
    let text = stdout(&out);
    assert!(text.contains("changed      dns.servers"), "{text}");
    assert!(
        text.contains("FAILED       portgroup \"iSCSI-A\": `esxcli network vswitch standard portgroup add -p iSCSI-A -v vSwitch1` exited 1: Unable to add port group"),
        "{text}"
    );
    assert!(
        text.contains("not run      portgroup \"iSCSI-A\" vlan"),
        "{text}"
    );
    assert!(text.contains("not run      vmknic vmk2"), "{text}");
    assert!(
        !host.state().changes.iter().any(|c| c.contains("vmk2")),
        "nothing after the failure ran"
    );
}
