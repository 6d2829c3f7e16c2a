//! The sshd fixture harness: a real OpenSSH sshd per simulated host, checked with the OpenSSH
//! client (not our code): logins, host keys, state shared between SSH and the test, isolation,
//! fleets, and that nothing is left running afterwards.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::sshd::{Auth, Fleet, SimHost, SimOptions};

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn openssh_client_runs_esxcli_on_the_simulated_host() {
    let host = SimHost::start(SimOptions::default()).expect("start a simulated host");
    let out = host.ssh("esxcli system version get");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        text(&out),
        "   Product: VMware ESXi\n   Version: 8.0.2\n   Build: Releasebuild-22380479\n   Update: 2\n   Patch: 0\n"
    );
    let bad = host.ssh("esxcli system versoin get");
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("Unknown command or namespace system versoin get"));
}

#[test]
fn each_release_answers_as_itself() {
    for (release, version, build) in [
        ("6.7", "6.7.0", "14320388"),
        ("7.0", "7.0.3", "21930508"),
        ("8.0", "8.0.2", "22380479"),
    ] {
        let host = SimHost::start(SimOptions::version(release)).expect("start");
        let out = host.ssh("vmware -v; esxcli --formatter=xml system version get");
        let t = text(&out);
        assert!(
            t.starts_with(&format!("VMware ESXi {version} build-{build}\n")),
            "{t}"
        );
        assert!(
            t.contains(&format!("<string>Releasebuild-{build}</string>")),
            "{t}"
        );
    }
}

/// A script that prints the password, for OpenSSH's SSH_ASKPASS (no password on argv).
fn askpass(dir: &Path, password: &str) -> PathBuf {
    let p = dir.join("askpass");
    fs::write(&p, format!("#!/bin/sh\necho '{password}'\n")).expect("write askpass");
    fs::set_permissions(&p, fs::Permissions::from_mode(0o700)).expect("chmod askpass");
    p
}

fn login(host: &SimHost, method: &str, password: &str) -> Output {
    let dir = tempfile::tempdir().expect("temp dir");
    Command::new("ssh")
        .args(["-p", &host.port().to_string()])
        .arg("-o")
        .arg(format!(
            "UserKnownHostsFile={}",
            host.known_hosts().display()
        ))
        .args([
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            &format!("PreferredAuthentications={method}"),
            "-o",
            "PubkeyAuthentication=no",
            "-o",
            "NumberOfPasswordPrompts=1",
            "-o",
            "LogLevel=ERROR",
            "root@127.0.0.1",
            "esxcli system hostname get",
        ])
        .env("SSH_ASKPASS", askpass(dir.path(), password))
        .env("SSH_ASKPASS_REQUIRE", "force")
        .env("DISPLAY", ":0")
        .stdin(Stdio::null())
        .output()
        .expect("run ssh")
}

#[test]
fn password_and_keyboard_interactive_logins() {
    let pw = SimHost::start(SimOptions {
        auth: Auth::Password,
        ..SimOptions::default()
    })
    .expect("start");
    let ok = login(&pw, "password", pw.password());
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(text(&ok).contains("Host Name: esx01"));
    let wrong = login(&pw, "password", "not-the-password");
    assert!(!wrong.status.success());
    assert!(
        stderr(&wrong).contains("Permission denied"),
        "{}",
        stderr(&wrong)
    );

    let kbd = SimHost::start(SimOptions {
        auth: Auth::KeyboardInteractive,
        ..SimOptions::default()
    })
    .expect("start");
    let ok = login(&kbd, "keyboard-interactive", kbd.password());
    assert!(ok.status.success(), "{}", stderr(&ok));
    let wrong = login(&kbd, "keyboard-interactive", "nope");
    assert!(!wrong.status.success());
    // ESXi's default: keyboard-interactive only, so plain `password` is refused.
    let plain = login(&kbd, "password", kbd.password());
    assert!(!plain.status.success());
    // And a key-only host refuses passwords.
    let key_only = SimHost::start(SimOptions::default()).expect("start");
    assert!(
        !login(&key_only, "password", key_only.password())
            .status
            .success()
    );
}

#[test]
fn host_keys_are_checked_and_a_changed_key_is_refused() {
    let a = SimHost::start(SimOptions::default()).expect("start");
    let port = a.port();
    let old_known_hosts = fs::read_to_string(a.known_hosts()).expect("known_hosts");
    assert!(old_known_hosts.contains(&format!("[127.0.0.1]:{port} ecdsa-sha2-nistp256 ")));
    assert!(old_known_hosts.contains(&format!("[127.0.0.1]:{port} ssh-rsa ")));
    assert!(a.ssh("true").status.success());
    drop(a);

    // The same address comes back with a new key.
    let b = SimHost::start(SimOptions {
        port: Some(port),
        ..SimOptions::default()
    })
    .expect("restart on the same port");
    let dir = tempfile::tempdir().expect("temp dir");
    let stale = dir.path().join("known_hosts");
    fs::write(&stale, old_known_hosts).expect("write");
    let out = Command::new("ssh")
        .args(["-p", &port.to_string(), "-i"])
        .arg(b.identity())
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", stale.display()))
        .args(["-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes"])
        .args(["root@127.0.0.1", "true"])
        .stdin(Stdio::null())
        .output()
        .expect("ssh");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("REMOTE HOST IDENTIFICATION HAS CHANGED"),
        "{}",
        stderr(&out)
    );
    assert!(b.ssh("true").status.success());
}

#[test]
fn state_is_shared_between_ssh_commands_and_the_test() {
    let host = SimHost::start(SimOptions::default()).expect("start");
    let add = host.ssh("esxcli network ip dns server add --server=10.9.9.9");
    assert!(add.status.success(), "{}", stderr(&add));
    assert_eq!(text(&add), "");
    assert_eq!(
        text(&host.ssh("esxcli network ip dns server list")),
        "   DNSServers: 10.0.0.2, 10.9.9.9\n"
    );
    let st = host.state();
    assert_eq!(st.dns.servers, ["10.0.0.2", "10.9.9.9"]);
    assert_eq!(
        st.changes,
        ["esxcli network ip dns server add --server=10.9.9.9"]
    );
    host.modify(|st| st.maintenance_mode = true);
    assert_eq!(
        text(&host.ssh("esxcli system maintenanceMode get")),
        "Enabled\n"
    );
    // A read changes nothing and is not logged.
    assert_eq!(host.state().changes.len(), 1);
}

#[test]
fn concurrent_commands_on_one_host_lose_no_change() {
    let host = SimHost::start(SimOptions::default()).expect("start");
    std::thread::scope(|s| {
        for i in 0..12 {
            let host = &host;
            s.spawn(move || {
                let out = host.ssh(&format!("esxcli network ip dns search add -d d{i}.lab"));
                assert!(out.status.success(), "{}", stderr(&out));
            });
        }
    });
    let search = host.state().dns.search;
    assert_eq!(search.len(), 13, "{search:?}");
    for i in 0..12 {
        assert!(search.contains(&format!("d{i}.lab")));
    }
}

#[test]
fn each_host_has_its_own_root_and_nothing_reaches_the_machine() {
    let host = SimHost::start(SimOptions::default()).expect("start");
    let marker = format!("/tmp/esxsim-probe-{}", host.port());
    let out = host.ssh(&format!(
        "grep ^root: /etc/passwd; echo $SHELL; echo written > {marker}; cat {marker}"
    ));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(text(&out), "root:x:0:0:root:/:/bin/sh\n/bin/sh\nwritten\n");
    assert!(
        !Path::new(&marker).exists(),
        "the host wrote to the machine's /tmp"
    );
    assert_eq!(
        fs::read_to_string(host.host_path(&marker)).expect("the host's /tmp"),
        "written\n"
    );
}

fn processes_named(name: &str, needle: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for e in fs::read_dir("/proc").expect("/proc").flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        let comm = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if comm.trim() == name && String::from_utf8_lossy(&cmdline).contains(needle) {
            found.push(pid);
        }
    }
    found
}

#[test]
fn dropping_a_host_leaves_no_process_and_no_zombie() {
    let host = SimHost::start(SimOptions::default()).expect("start");
    // A session still running when the host goes.
    let mut client = host
        .ssh_command()
        .arg("sleep 60")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ssh");
    let deadline = Instant::now() + Duration::from_secs(10);
    while host.processes().len() < 4 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let pids = host.processes();
    assert!(pids.len() >= 4, "sshd, its session and sleep: {pids:?}");
    let config = host.known_hosts().with_file_name("sshd_config");
    let needle = config.display().to_string();
    assert_eq!(processes_named("sshd", &needle), [host.pid()]);
    drop(host);
    for pid in &pids {
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "process {pid} is still there (running or a zombie)"
        );
    }
    assert!(processes_named("sshd", &needle).is_empty());
    let status = client.wait().expect("ssh client");
    assert!(!status.success(), "the session was cut");
}

#[test]
fn a_fleet_of_twenty_starts_in_parallel() {
    let t = Instant::now();
    let fleet = Fleet::start(20, |i| SimOptions {
        seed: Fleet::seed(i),
        ..SimOptions::default()
    })
    .expect("start 20 hosts");
    eprintln!("20 hosts started in {:?}", t.elapsed());
    let known = fs::read_to_string(fleet.known_hosts()).expect("known_hosts");
    assert_eq!(known.lines().count(), 40);
    std::thread::scope(|s| {
        for (i, host) in fleet.hosts().iter().enumerate() {
            s.spawn(move || {
                let out = host.ssh("esxcli system hostname get");
                assert!(
                    text(&out).contains(&format!("Host Name: esx{:02}\n", i + 1)),
                    "{}",
                    stderr(&out)
                );
            });
        }
    });
    let mut ports: Vec<u16> = fleet.hosts().iter().map(|h| h.port()).collect();
    ports.sort_unstable();
    ports.dedup();
    assert_eq!(ports.len(), 20);
    // Dropping the fleet stops every sshd it started.
    let configs: Vec<String> = fleet
        .hosts()
        .iter()
        .map(|h| {
            h.known_hosts()
                .with_file_name("sshd_config")
                .display()
                .to_string()
        })
        .collect();
    let pids: Vec<u32> = fleet.hosts().iter().flat_map(|h| h.processes()).collect();
    assert!(pids.len() >= 20);
    drop(fleet);
    for c in &configs {
        assert!(processes_named("sshd", c).is_empty(), "{c} still served");
    }
    for pid in pids {
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "{pid} left behind"
        );
    }
}

#[test]
fn one_host_starts_quickly() {
    // Not a timing assertion: the number goes to the report and the benchmark notes.
    let _warm = SimHost::start(SimOptions::default()).expect("start");
    let t = Instant::now();
    let host = SimHost::start(SimOptions::default()).expect("start");
    eprintln!("one host started in {:?}", t.elapsed());
    let t = Instant::now();
    assert!(host.ssh("true").status.success());
    eprintln!("one `ssh true` in {:?}", t.elapsed());
}

fn esxsim_seed(seed: &str) -> Output {
    use std::io::Write;
    let bin = common::sshd::esxsim_binary().expect("the simulator binary");
    let mut child = Command::new(bin)
        .arg("seed")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run esxsim seed");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(seed.as_bytes())
        .expect("write the seed");
    child.wait_with_output().expect("esxsim seed")
}

#[test]
fn esxsim_seed_prints_the_host_a_seed_describes() {
    let out = esxsim_seed(r#"{"name": "lab07", "version": "6.7", "cpu": "zen3", "vms": 0}"#);
    assert!(out.status.success(), "{}", stderr(&out));
    let st: common::sshd::State = serde_json::from_slice(&out.stdout).expect("a state");
    assert_eq!(st.host.hostname, "lab07");
    assert_eq!(st.host.version.version, "6.7.0");
    assert_eq!(st.cpu.model, "zen3");
    assert!(st.vms.is_empty());
    let bad = esxsim_seed(r#"{"cpu": "pentium"}"#);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("cpu \"pentium\" is not one of"),
        "{}",
        stderr(&bad)
    );
    let garbage = esxsim_seed("{not json");
    assert_eq!(garbage.status.code(), Some(2));
    assert!(stderr(&garbage).contains("stdin"));
}
