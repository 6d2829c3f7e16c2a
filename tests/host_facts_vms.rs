//! `esxforge host facts` asks per VM only what it needs: devices from `get.config`, the power
//! state and tools status from `get.summary`, and `device.getdevices` / `power.getstate` /
//! `get.guest` only for a VM those left short. Checked on the simulator's command log (what
//! really ran on the host).

mod common;

use common::hostops::{esxforge, host_entry, inventory, json, stderr};
use common::sshd::{FailRule, Faults, SimHost, SimOptions};
use esxforge_esxsim::cmdlog::Entry;
use esxforge_hostcfg::facts::{Device, HostFacts};

/// Facts of `host` as `host facts --format json` reports them, and its notes.
fn facts(host: &SimHost) -> (HostFacts, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let inv = inventory(dir.path(), "", &[host_entry(host, "")]);
    let out = esxforge(
        &host.known_hosts(),
        &host.identity(),
        &["facts", "-i", inv.to_str().unwrap(), "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report = json(&out);
    let notes = serde_json::from_value(report[0]["notes"].clone()).unwrap();
    (
        serde_json::from_value(report[0]["facts"].clone()).unwrap(),
        notes,
    )
}

/// How many times the host ran `vim-cmd vmsvc/<cmd> …`.
fn ran(host: &SimHost, cmd: &str) -> usize {
    let prefix = format!("vim-cmd vmsvc/{cmd} ");
    host.commands()
        .iter()
        .filter(|e| matches!(e, Entry::Command(c) if c.starts_with(&prefix)))
        .count()
}

/// What the fallbacks stand in for: devices, CPUs, memory, power state and tools, per VM.
fn vm_hardware(f: &HostFacts) -> Vec<String> {
    f.vms
        .iter()
        .map(|v| {
            format!(
                "{} on={} cpu={} mem={} tools={} {:?}",
                v.name, v.powered_on, v.num_cpu, v.memory_mb, v.tools_running_status, v.devices
            )
        })
        .collect()
}

#[test]
fn config_and_summary_answer_for_devices_power_state_and_tools() {
    let host = SimHost::start(SimOptions {
        command_log: true,
        ..SimOptions::default()
    })
    .unwrap();
    let st = host.state();
    let (f, notes) = facts(&host);
    assert!(st.vms.len() >= 2, "the seed has VMs");
    assert_eq!(f.vms.len(), st.vms.len());
    for want in &st.vms {
        let got = f
            .vms
            .iter()
            .find(|v| v.vmid == want.vmid.to_string())
            .unwrap();
        assert_eq!(got.powered_on, want.powered_on, "{}", want.name);
        assert_eq!(got.num_cpu, want.num_cpu);
        assert_eq!(got.memory_mb, want.memory_mb);
        assert_eq!(got.tools_running_status, want.tools_running);
        assert!(!got.devices.is_empty(), "{} has devices", want.name);
        assert!(got.devices.iter().any(|d| matches!(d, Device::Disk { .. })));
    }
    assert!(st.vms.iter().any(|v| v.powered_on) && st.vms.iter().any(|v| !v.powered_on));
    assert!(notes.iter().all(|n| !n.contains("vmsvc")), "{notes:?}");
    assert_eq!(ran(&host, "get.config"), st.vms.len());
    assert_eq!(ran(&host, "get.summary"), st.vms.len());
    for fallback in ["device.getdevices", "power.getstate", "get.guest"] {
        assert_eq!(ran(&host, fallback), 0, "{fallback}");
    }
}

#[test]
fn getdevices_getstate_and_get_guest_fill_in_when_config_and_summary_fail() {
    let fails = |command: &str| FailRule {
        command: command.into(),
        exit_code: 1,
        stderr: "vim.fault.NotFound".into(),
        times: None,
        formatter: None,
    };
    let healthy = SimHost::start(SimOptions::default()).unwrap();
    let broken = SimHost::start(SimOptions {
        command_log: true,
        faults: Faults {
            fail: vec![
                fails("vim-cmd vmsvc/get.config"),
                fails("vim-cmd vmsvc/get.summary"),
            ],
            ..Faults::default()
        },
        ..SimOptions::default()
    })
    .unwrap();
    let (want, _) = facts(&healthy);
    let (got, notes) = facts(&broken);
    assert_eq!(vm_hardware(&got), vm_hardware(&want));
    let vms = want.vms.len();
    for fallback in ["device.getdevices", "power.getstate", "get.guest"] {
        assert_eq!(ran(&broken, fallback), vms, "{fallback}");
    }
    for cmd in ["get.config", "get.summary"] {
        assert_eq!(
            notes.iter().filter(|n| n.contains(cmd)).count(),
            vms,
            "{notes:?}"
        );
    }
    // Without the fallbacks these would be gone: the comparison above would see it.
    assert!(
        want.vms
            .iter()
            .all(|v| !v.devices.is_empty() && !v.tools_running_status.is_empty())
    );
    assert!(want.vms.iter().any(|v| v.powered_on));
}
