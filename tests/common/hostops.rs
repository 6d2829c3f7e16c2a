//! Helpers for the `host_*` end-to-end tests: an inventory for simulated hosts, and running
//! the esxforge binary with the SSH flags that reach them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::sshd::SimHost;

/// The inventory entry of one simulated host (`address`, `ssh_port` from the harness; its
/// name, domain, IP and version from its state), plus `extra` YAML lines indented under it.
pub fn host_entry(host: &SimHost, extra: &str) -> String {
    let st = host.state();
    let ip = st
        .vmknics
        .first()
        .map(|k| k.ipv4.address.clone())
        .unwrap_or_else(|| "10.0.0.11".into());
    // The gateway is the .1 of the host's /24, as the seeds lay out their networks.
    let gateway = match ip.rsplit_once('.') {
        Some((net, _)) => format!("{net}.1"),
        None => ip.clone(),
    };
    let mut entry = format!(
        "  {name}:\n    esxi: \"{esxi}\"\n    network: {{ip: {ip}, gateway: {gateway}, domain: {domain}}}\n    address: {addr}\n    ssh_port: {port}\n",
        name = st.host.hostname,
        esxi = inventory_version(&st.host.version.version),
        domain = st.host.domain,
        addr = host.address(),
        port = host.port(),
    );
    for line in extra.lines() {
        entry.push_str("    ");
        entry.push_str(line);
        entry.push('\n');
    }
    entry
}

/// `8.0.2` → `8.0U2`, `7.0.0` → `7.0`, as inventories spell ESXi releases.
fn inventory_version(v: &str) -> String {
    let parts: Vec<&str> = v.split('.').collect();
    match parts.as_slice() {
        [major, minor, "0"] => format!("{major}.{minor}"),
        [major, minor, update] => format!("{major}.{minor}U{update}"),
        _ => v.to_string(),
    }
}

/// Writes `dir/inventory.yaml` with the given host entries and `defaults` lines.
pub fn inventory(dir: &Path, defaults: &str, entries: &[String]) -> PathBuf {
    let mut yaml = String::from(
        "defaults:\n  accept_eula: true\n  rootpw: {hash: \"$6$esxforgelab$3vPU8GSYxfmC4aYCOYrs.x9X5eNA4xVrlkLKGNJ2UPP.iygMFWuZtEij8pqqoQjxHWclOcrWr9XyZdvzFFjgg0\"}\n  network: {device: vmnic0, netmask: 255.255.255.0}\n",
    );
    for line in defaults.lines() {
        yaml.push_str("  ");
        yaml.push_str(line);
        yaml.push('\n');
    }
    yaml.push_str("hosts:\n");
    for e in entries {
        yaml.push_str(e);
    }
    let path = dir.join("inventory.yaml");
    std::fs::write(&path, yaml).unwrap();
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
