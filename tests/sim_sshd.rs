//! The sshd fixture harness: a real OpenSSH sshd per simulated host, reached with the OpenSSH
//! client.

mod common;

use common::sshd::{SimHost, SimOptions};

#[test]
fn openssh_client_runs_esxcli_on_the_simulated_host() {
    let host = SimHost::start(SimOptions::default()).expect("start a simulated host");
    let out = host.ssh("esxcli system version get");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "   Product: VMware ESXi\n   Version: 8.0.2\n   Build: Releasebuild-22380479\n   Update: 2\n   Patch: 0\n"
    );
}
