//! The fixture as scripts use it: `esxsim fleet` (hosts started outside `cargo test`, an
//! inventory esxforge reads, everything stopped when stdin closes or on a signal), and the
//! command log a benchmark replays.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use common::sshd::{SimHost, SimOptions, State, esxsim_binary};
use esxforge_esxsim::cmdlog::Entry;

/// `esxsim fleet …` with piped stdin and stdout.
fn start_fleet(args: &[&str]) -> (Child, BufReader<ChildStdout>) {
    let mut child = Command::new(esxsim_binary().expect("the simulator binary"))
        .arg("fleet")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run esxsim fleet");
    let out = BufReader::new(child.stdout.take().expect("stdout"));
    (child, out)
}

/// The ready line, as JSON.
fn ready(out: &mut BufReader<ChildStdout>) -> serde_json::Value {
    let mut line = String::new();
    out.read_line(&mut line).expect("read the ready line");
    serde_json::from_str(&line).unwrap_or_else(|e| panic!("ready line {line:?}: {e}"))
}

fn alive(pid: u64) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Waits for the fleet process to exit; its status and stderr.
fn finish(mut child: Child) -> (Option<i32>, String) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().expect("wait").is_none() {
        assert!(Instant::now() < deadline, "esxsim fleet did not stop");
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn sshd_pids(fleet_json: &serde_json::Value) -> Vec<u64> {
    fleet_json["hosts"]
        .as_array()
        .expect("hosts")
        .iter()
        .map(|h| h["sshd_pid"].as_u64().expect("sshd_pid"))
        .collect()
}

#[test]
fn esxsim_fleet_serves_an_inventory_until_stdin_closes() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, mut out) = start_fleet(&[
        "--hosts",
        "3",
        "--dir",
        dir.path().to_str().unwrap(),
        "--version",
        "7.0",
        "--command-log",
    ]);
    let r = ready(&mut out);
    assert_eq!(r["ready"], 3);
    let inventory = r["inventory"].as_str().unwrap();
    let known_hosts = r["known_hosts"].as_str().unwrap();
    let identity = r["identity"].as_str().unwrap();
    let info: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("fleet.json")).unwrap()).unwrap();
    let pids = sshd_pids(&info);
    assert_eq!(pids.len(), 3);
    assert!(pids.iter().all(|p| alive(*p)));

    // esxforge reads the inventory and reaches every host with the identity and known_hosts.
    let esxforge = env!("CARGO_BIN_EXE_esxforge");
    let check = Command::new(esxforge)
        .args(["inventory", "check", inventory])
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let facts = Command::new(esxforge)
        .args(["host", "facts", "-i", inventory, "--format", "json"])
        .args(["--known-hosts", known_hosts, "--identity", identity])
        .env_remove("SSH_AUTH_SOCK")
        .env_remove("ESXFORGE_SSH_PASSWORD")
        .output()
        .unwrap();
    assert!(
        facts.status.success(),
        "{}",
        String::from_utf8_lossy(&facts.stderr)
    );
    let report: Vec<serde_json::Value> = serde_json::from_slice(&facts.stdout).unwrap();
    let names: Vec<&str> = report
        .iter()
        .map(|h| h["facts"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["esx01", "esx02", "esx03"]);
    assert!(
        report
            .iter()
            .all(|h| h["facts"]["version"]["version"] == "7.0.3")
    );

    // Each host logged what esxforge ran on it.
    for host in info["hosts"].as_array().unwrap() {
        let log = std::fs::read_to_string(host["command_log"].as_str().unwrap()).unwrap();
        let entries: Vec<Entry> = log
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert!(entries.iter().any(|e| matches!(e, Entry::Exec(_))));
        assert!(
            entries.contains(&Entry::Command(
                "esxcli --formatter=xml system version get".into()
            )),
            "{log}"
        );
    }

    // Closing stdin stops every host.
    drop(child.stdin.take());
    let (code, stderr) = finish(child);
    assert_eq!(code, Some(0), "{stderr}");
    for pid in pids {
        assert!(!alive(pid), "sshd {pid} left running");
    }
}

#[test]
fn esxsim_fleet_stops_on_sigterm_and_sigint() {
    for signal in [libc::SIGTERM, libc::SIGINT] {
        let dir = tempfile::tempdir().unwrap();
        let (child, mut out) = start_fleet(&[
            "--hosts",
            "2",
            "--dir",
            dir.path().to_str().unwrap(),
            "--latency-ms",
            "40",
        ]);
        assert_eq!(ready(&mut out)["ready"], 2);
        let info: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("fleet.json")).unwrap()).unwrap();
        assert!(info["hosts"][0]["command_log"].is_null());
        // --latency-ms: every esxcli and vim-cmd of every host is slowed.
        for host in info["hosts"].as_array().unwrap() {
            let state: State =
                serde_json::from_slice(&std::fs::read(host["state"].as_str().unwrap()).unwrap())
                    .unwrap();
            let slow: Vec<(&str, u64)> = state
                .faults
                .slow
                .iter()
                .map(|r| (r.command.as_str(), r.ms))
                .collect();
            assert_eq!(slow, [("esxcli", 40), ("vim-cmd", 40)]);
        }
        let pids = sshd_pids(&info);
        // SAFETY: kill(2) on the child this test started.
        unsafe {
            libc::kill(child.id() as i32, signal);
        }
        let (code, stderr) = finish(child);
        assert_eq!(code, Some(0), "signal {signal}: {stderr}");
        for pid in pids {
            assert!(!alive(pid), "signal {signal}: sshd {pid} left running");
        }
    }
}

#[test]
fn esxsim_fleet_refuses_bad_arguments() {
    for (args, says) in [
        (&["--hosts", "0", "--dir", "/tmp/x"][..], "--hosts 0"),
        (&["--dir", "/tmp/x"][..], "--hosts is required"),
        (&["--hosts", "1", "--dir", "/tmp/x", "--now"][..], "--now"),
    ] {
        let (child, _) = start_fleet(args);
        let (code, stderr) = finish(child);
        assert_eq!(code, Some(2), "{args:?}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}

#[test]
fn the_command_log_holds_what_sessions_asked_and_what_ran() {
    let host = SimHost::start(SimOptions {
        command_log: true,
        ..SimOptions::default()
    })
    .expect("start");
    let line = "esxcli system version get; vmware -v; esxcli network vswitch standard portgroup policy failover get -p 'Management Network'";
    assert!(host.ssh(line).status.success());
    assert_eq!(
        host.commands(),
        [
            Entry::Exec(line.into()),
            Entry::Command("esxcli system version get".into()),
            Entry::Command("vmware -v".into()),
            Entry::Command(
                "esxcli network vswitch standard portgroup policy failover get -p 'Management Network'"
                    .into()
            ),
        ]
    );
    // An SFTP session is logged as the subsystem sshd started.
    let sftp = Command::new("sftp")
        .args(["-P", &host.port().to_string(), "-i"])
        .arg(host.identity())
        .arg("-o")
        .arg(format!(
            "UserKnownHostsFile={}",
            host.known_hosts().display()
        ))
        .args(["-o", "BatchMode=yes", "-b", "-", "root@127.0.0.1"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        sftp.status.success(),
        "{}",
        String::from_utf8_lossy(&sftp.stderr)
    );
    let last = host.commands().pop();
    assert!(
        matches!(&last, Some(Entry::Exec(l)) if l.ends_with("/esxsim-sftp")),
        "{last:?}"
    );

    // Without the option nothing is logged.
    let quiet = SimHost::start(SimOptions::default()).expect("start");
    assert!(quiet.ssh("esxcli system version get").status.success());
    assert!(quiet.commands().is_empty());
    assert!(!quiet.command_log().exists());
}
