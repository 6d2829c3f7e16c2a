//! SSH faults through the binary: a changed host key, passwords right and wrong, --accept-new.

mod common;

use std::process::Command;

use common::hostops::{assert_exit, host_entry, inventory, stderr, stdout};
use common::sshd::{Auth, SimHost, SimOptions};

fn facts(
    inv: &str,
    known: &std::path::Path,
    password: Option<&str>,
    extra: &[&str],
) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_esxforge"));
    cmd.args(["host", "facts", "-i", inv, "--known-hosts"])
        .arg(known)
        .args(extra);
    cmd.env_remove("SSH_AUTH_SOCK");
    match password {
        Some(p) => cmd.env("ESXFORGE_SSH_PASSWORD", p),
        None => cmd.env_remove("ESXFORGE_SSH_PASSWORD"),
    };
    cmd.output().unwrap()
}

#[test]
fn keyboard_interactive_password_right_and_wrong() {
    let host = SimHost::start(SimOptions {
        auth: Auth::KeyboardInteractive,
        ..SimOptions::default()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let inv = inventory(dir.path(), "", &[host_entry(&host, "")]);
    let inv = inv.to_str().unwrap();
    let out = facts(inv, &host.known_hosts(), Some("not-the-password"), &[]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("authentication failed") && text.contains("wrong password"),
        "{text}"
    );
    assert!(!text.contains("not-the-password") && !stderr(&out).contains("not-the-password"));

    let out = facts(inv, &host.known_hosts(), Some(host.password()), &[]);
    assert_exit(&out, 0);

    // The same secret from a file.
    let file = dir.path().join("pw");
    std::fs::write(&file, format!("{}\n", host.password())).unwrap();
    let out = facts(
        inv,
        &host.known_hosts(),
        None,
        &["--password-file", file.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn changed_host_keys_are_refused_and_new_ones_recorded_only_when_asked() {
    let host = SimHost::start(SimOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let inv = inventory(dir.path(), "", &[host_entry(&host, "")]);
    let inv = inv.to_str().unwrap();
    let identity = host.identity();
    let id = ["--identity", identity.to_str().unwrap()];

    // Unknown host: refused by default, recorded with --accept-new, then known.
    let known = dir.path().join("known_hosts");
    let out = facts(inv, &known, None, &id);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("unknown host key"),
        "{}",
        stdout(&out)
    );
    let out = facts(inv, &known, None, &[&id[..], &["--accept-new"]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let out = facts(inv, &known, None, &id);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));

    // Another key recorded for the host: refused, naming file and line, even with --accept-new.
    let other = dir.path().join("other");
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", ""])
        .arg("-f")
        .arg(&other)
        .status()
        .unwrap();
    assert!(status.success());
    let pubkey = std::fs::read_to_string(other.with_extension("pub")).unwrap();
    let mut words = pubkey.split_whitespace();
    let line = format!(
        "# first line\n[{}]:{} {} {}\n",
        host.address(),
        host.port(),
        words.next().unwrap(),
        words.next().unwrap()
    );
    let bad = dir.path().join("bad_known_hosts");
    std::fs::write(&bad, line).unwrap();
    for extra in [&[][..], &["--accept-new"][..]] {
        let out = facts(inv, &bad, None, &[&id[..], extra].concat());
        assert_eq!(out.status.code(), Some(1));
        let text = stdout(&out);
        assert!(text.contains("HOST KEY CHANGED"), "{text}");
        assert!(
            text.contains(&format!("{}:2", bad.display())),
            "names file and line: {text}"
        );
    }
}
