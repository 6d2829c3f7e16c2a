//! Helpers for the `host_*` end-to-end tests: an inventory for simulated hosts, and running
//! the esxforge binary with the SSH flags that reach them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::sshd::{SimHost, inventory_yaml};

/// The inventory entry of one simulated host ([`SimHost::inventory_entry`]), plus `extra`
/// YAML lines indented under it.
pub fn host_entry(host: &SimHost, extra: &str) -> String {
    host.inventory_entry(extra)
}

/// Writes `dir/inventory.yaml` with the given host entries and `defaults` lines.
pub fn inventory(dir: &Path, defaults: &str, entries: &[String]) -> PathBuf {
    let path = dir.join("inventory.yaml");
    std::fs::write(&path, inventory_yaml(defaults, entries)).unwrap();
    path
}

/// `esxforge host <args>` with key authentication and the host's known_hosts.
pub fn esxforge(known_hosts: &Path, identity: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_esxforge"));
    cmd.arg("host")
        .args(args)
        .arg("--known-hosts")
        .arg(known_hosts)
        .arg("--identity")
        .arg(identity)
        .env_remove("ESXFORGE_SSH_PASSWORD")
        .env_remove("SSH_AUTH_SOCK");
    cmd.output().unwrap()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The JSON array a `--format json` host command prints.
pub fn json(out: &Output) -> Vec<serde_json::Value> {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", stdout(out), stderr(out)))
}

/// `host facts --format json` of one simulated host: its facts and notes (the run must
/// succeed).
pub fn facts(host: &SimHost) -> (esxforge_hostcfg::facts::HostFacts, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let inv = inventory(dir.path(), "", &[host_entry(host, "")]);
    let out = esxforge(
        &host.known_hosts(),
        &host.identity(),
        &["facts", "-i", inv.to_str().unwrap(), "--format", "json"],
    );
    assert_exit(&out, 0);
    let report = json(&out);
    (
        serde_json::from_value(report[0]["facts"].clone()).unwrap(),
        serde_json::from_value(report[0]["notes"].clone()).unwrap(),
    )
}

/// Asserts how esxforge exited, showing what it printed when that is not it.
pub fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        stdout(out),
        stderr(out)
    );
}
