//! Backup, restore and the fault knobs, with OpenSSH's ssh, sftp and scp and GNU tar (tools we
//! did not write): a real configBundle, restore rules and the simulated reboot, failing and slow
//! commands, downloads cut off midway, corrupt bundles.

mod common;

use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::sshd::{Corruption, DropRule, FailRule, Faults, SimHost, SimOptions, SlowRule};

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `sftp -b` with the host's key and known_hosts.
fn sftp(host: &SimHost, batch: &str) -> Output {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("batch");
    fs::write(&file, batch).expect("batch file");
    Command::new("sftp")
        .args(["-P", &host.port().to_string(), "-i"])
        .arg(host.identity())
        .arg("-o")
        .arg(format!(
            "UserKnownHostsFile={}",
            host.known_hosts().display()
        ))
        .args([
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "LogLevel=ERROR",
            "-b",
        ])
        .arg(&file)
        .arg("root@127.0.0.1")
        .stdin(Stdio::null())
        .output()
        .expect("run sftp")
}

/// Runs backup_config and returns the bundle's path on the host.
fn backup(host: &SimHost) -> String {
    let out =
        host.ssh("vim-cmd hostsvc/firmware/sync_config && vim-cmd hostsvc/firmware/backup_config");
    assert!(out.status.success(), "{}", stderr(&out));
    let line = stdout(&out);
    let url = line
        .trim_end()
        .strip_prefix("Bundle can be downloaded at : http://*/downloads/")
        .unwrap_or_else(|| panic!("backup_config printed {line:?}"));
    let (id, name) = url.split_once('/').expect("<uuid>/<file>");
    assert_eq!(id.len(), 36, "a UUID directory: {id}");
    assert_eq!(
        name,
        format!("configBundle-{}.tgz", host.state().host.fqdn())
    );
    format!("/scratch/downloads/{url}")
}

fn tar_list(path: &Path) -> Output {
    Command::new("tar")
        .arg("tzvf")
        .arg(path)
        .output()
        .expect("run tar")
}

#[test]
fn backup_writes_a_real_bundle_that_sftp_fetches() {
    let host = SimHost::start(SimOptions::default()).expect("start");
    let remote = backup(&host);
    let dir = tempfile::tempdir().expect("temp dir");
    let local = dir.path().join("bundle.tgz");
    let get = sftp(&host, &format!("get {remote} {}\n", local.display()));
    assert!(get.status.success(), "{}", stderr(&get));
    assert_eq!(
        fs::read(&local).expect("downloaded"),
        fs::read(host.host_path(&remote)).expect("on the host")
    );
    let list = stdout(&tar_list(&local));
    for member in ["Manifest.txt", "state.tgz", "jumpstrt.gz"] {
        assert!(list.contains(member), "{list}");
    }
    // Manifest.txt names this host; state.tgz holds local.tgz holding /etc.
    let x = dir.path().join("x");
    fs::create_dir(&x).expect("mkdir");
    let untar = |archive: &Path| {
        let out = Command::new("tar")
            .arg("xzf")
            .arg(archive)
            .arg("-C")
            .arg(&x)
            .output()
            .expect("tar");
        assert!(out.status.success(), "{}", stderr(&out));
    };
    untar(&local);
    let manifest = fs::read_to_string(x.join("Manifest.txt")).expect("Manifest.txt");
    let st = host.state();
    assert!(manifest.contains(&format!("UUID={}\n", st.host.uuid)));
    assert!(manifest.contains(&format!("BUILD={}\n", st.host.version.build)));
    untar(&x.join("state.tgz"));
    untar(&x.join("local.tgz"));
    let esx_conf = fs::read_to_string(x.join("etc/vmware/esx.conf")).expect("esx.conf");
    assert!(esx_conf.contains("/adv/Misc/HostName = \"esx01\""));
    // A failed transfer of nothing: a missing file is an sftp error, not a hang.
    let missing = sftp(&host, "get /scratch/downloads/nope.tgz /dev/null\n");
    assert!(!missing.status.success());
}

fn power_off_and_enter_maintenance(host: &SimHost) {
    let out = host.ssh(
        "vim-cmd vmsvc/power.off 1 && vim-cmd vmsvc/power.off 2 && esxcli system maintenanceMode set -e true",
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

/// One command over SSH that gives up connecting after a second (the host may be rebooting).
fn ssh_quick(host: &SimHost, command: &str) -> Output {
    host.ssh_command_within(1)
        .arg(command)
        .output()
        .expect("ssh")
}

#[test]
fn restore_needs_maintenance_mode_and_a_matching_bundle_then_reboots() {
    let host = SimHost::start(SimOptions::default()).expect("start");
    host.modify(|st| st.knobs.reboot_ms = 2000);
    let remote = backup(&host);
    // Upload it where admins put it, over SFTP.
    let dir = tempfile::tempdir().expect("temp dir");
    let local = dir.path().join("b.tgz");
    assert!(
        sftp(
            &host,
            &format!(
                "get {remote} {}\nput {} /tmp/configBundle.tgz\n",
                local.display(),
                local.display()
            )
        )
        .status
        .success()
    );
    // Change something the restore must undo.
    assert!(
        host.ssh("esxcli network ip dns server add -s 10.6.6.6")
            .status
            .success()
    );

    let refused = host.ssh("vim-cmd hostsvc/firmware/restore_config /tmp/configBundle.tgz");
    assert_eq!(refused.status.code(), Some(1));
    assert!(stdout(&refused).starts_with("(vim.fault.InvalidState) {"));

    power_off_and_enter_maintenance(&host);
    let restored = host.ssh("vim-cmd hostsvc/firmware/restore_config /tmp/configBundle.tgz");
    assert!(restored.status.success(), "{}", stdout(&restored));
    let gone = Instant::now();

    // The host reboots: sessions drop and new ones cannot get in for a while.
    std::thread::sleep(Duration::from_millis(400));
    let during = ssh_quick(&host, "true");
    assert!(
        !during.status.success(),
        "the host answered during its reboot"
    );
    let mut back = None;
    while gone.elapsed() < Duration::from_secs(20) {
        if ssh_quick(&host, "true").status.success() {
            back = Some(gone.elapsed());
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let back = back.expect("the host came back");
    assert!(back >= Duration::from_millis(1500), "back after {back:?}");

    let st = host.state();
    assert_eq!(st.host.reboots, 1);
    assert!(
        !st.dns.servers.contains(&"10.6.6.6".to_string()),
        "restored config"
    );
    assert!(st.maintenance_mode);
    assert!(st.vms.iter().all(|v| !v.powered_on));
    assert!(
        st.changes
            .iter()
            .any(|c| c.starts_with("vim-cmd hostsvc/firmware/restore_config"))
    );
}

#[test]
fn restore_refuses_another_hosts_or_builds_bundle_unless_forced() {
    let host = SimHost::start(SimOptions::default()).expect("start");
    host.modify(|st| st.faults.corrupt_bundle = Some(Corruption::WrongUuid));
    let wrong_uuid = backup(&host);
    host.modify(|st| st.faults.corrupt_bundle = Some(Corruption::WrongBuild));
    let wrong_build = backup(&host);
    host.modify(|st| {
        st.faults.corrupt_bundle = None;
        st.knobs.reboot_ms = 100;
    });
    power_off_and_enter_maintenance(&host);
    for bundle in [&wrong_uuid, &wrong_build] {
        let out = host.ssh(&format!("vim-cmd hostsvc/firmware/restore_config {bundle}"));
        assert_eq!(out.status.code(), Some(1));
        assert!(
            stdout(&out).starts_with("(vim.fault.MismatchedBundle) {"),
            "{}",
            stdout(&out)
        );
    }
    // Hosts that do not check the build (one public test found 6.7–8.0 don't) take it.
    host.modify(|st| st.knobs.restore_checks_build = false);
    let out = host.ssh(&format!(
        "vim-cmd hostsvc/firmware/restore_config {wrong_build}"
    ));
    assert!(out.status.success(), "{}", stdout(&out));
    std::thread::sleep(Duration::from_millis(800));
    // `1` forces past a UUID mismatch.
    let out = host.ssh(&format!(
        "vim-cmd hostsvc/firmware/restore_config 1 {wrong_uuid}"
    ));
    assert!(out.status.success(), "{}", stdout(&out));
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(host.state().host.reboots, 2);
}

#[test]
fn corrupt_bundles_are_what_tar_and_restore_reject() {
    let host = SimHost::start(SimOptions::default()).expect("start");
    power_off_and_enter_maintenance(&host);
    for (corruption, tar_says) in [
        (Corruption::BadGzip, "not in gzip format"),
        (Corruption::TruncatedTar, "Unexpected EOF"),
    ] {
        host.modify(|st| st.faults.corrupt_bundle = Some(corruption));
        let remote = backup(&host);
        let listed = tar_list(&host.host_path(&remote));
        assert!(!listed.status.success(), "{corruption:?}");
        assert!(
            stderr(&listed).contains(tar_says),
            "{corruption:?}: {}",
            stderr(&listed)
        );
        let out = host.ssh(&format!(
            "vim-cmd hostsvc/firmware/restore_config 1 {remote}"
        ));
        assert_eq!(out.status.code(), Some(1));
        assert!(
            stdout(&out).starts_with("(vim.fault.InvalidBundle) {"),
            "{}",
            stdout(&out)
        );
    }
    host.modify(|st| st.faults.corrupt_bundle = None);
    let good = backup(&host);
    assert!(tar_list(&host.host_path(&good)).status.success());
}

#[test]
fn a_failing_command_fails_as_told_and_only_as_often_as_told() {
    let host = SimHost::start(SimOptions {
        faults: Faults {
            fail: vec![
                FailRule {
                    command: "esxcli network ip dns server add".into(),
                    exit_code: 3,
                    stderr: "Error: Sysinfo error: Busy".into(),
                    times: Some(2),
                    formatter: None,
                },
                FailRule {
                    command: "vim-cmd hostsvc/firmware/backup_config".into(),
                    ..FailRule::default()
                },
            ],
            ..Faults::default()
        },
        ..SimOptions::default()
    })
    .expect("start");
    for _ in 0..2 {
        let out = host.ssh("esxcli network ip dns server add -s 10.1.2.3");
        assert_eq!(out.status.code(), Some(3));
        assert_eq!(stderr(&out), "Error: Sysinfo error: Busy\n");
    }
    assert!(
        host.ssh("esxcli network ip dns server add -s 10.1.2.3")
            .status
            .success()
    );
    assert!(host.state().dns.servers.contains(&"10.1.2.3".to_string()));
    // Other commands are not affected; the second rule always fails, with exit 1.
    assert!(
        host.ssh("esxcli network ip dns server list")
            .status
            .success()
    );
    let out = host.ssh("vim-cmd hostsvc/firmware/backup_config");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("simulated failure"));
}

#[test]
fn a_slow_command_is_slow() {
    let host = SimHost::start(SimOptions {
        faults: Faults {
            slow: vec![SlowRule {
                command: "esxcli storage core device list".into(),
                ms: 1500,
            }],
            ..Faults::default()
        },
        ..SimOptions::default()
    })
    .expect("start");
    let t = Instant::now();
    assert!(host.ssh("esxcli storage core device list").status.success());
    assert!(t.elapsed() >= Duration::from_millis(1500));
    // The host stays usable meanwhile: a slow command holds no lock.
    std::thread::scope(|s| {
        let slow = s.spawn(|| host.ssh("esxcli storage core device list"));
        std::thread::sleep(Duration::from_millis(300));
        let out = host.ssh("esxcli network ip dns server add -s 10.7.7.7");
        assert!(out.status.success());
        assert!(
            !slow.is_finished(),
            "the other command did not wait for the slow one"
        );
        assert!(slow.join().expect("slow command").status.success());
    });
}

fn drop_rule(host: &SimHost, after_bytes: u64, times: Option<u32>) {
    host.modify(|st| {
        st.faults.drop_transfer = Some(DropRule {
            path_contains: "configBundle".into(),
            after_bytes,
            times,
        })
    });
}

/// A bundle big enough to cross several SFTP packets: many VMs with notes that do not
/// compress.
fn big_bundle(host: &SimHost) -> String {
    host.modify(|st| {
        let vm = st.vms[0].clone();
        let mut x: u64 = 0x9e37_79b9;
        for i in 0..600 {
            let mut v = vm.clone();
            v.vmid = 100 + i;
            v.name = format!("filler-{i:03}");
            v.annotation = (0..16)
                .map(|_| {
                    x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    format!("{:016x}", x)
                })
                .collect();
            st.vms.push(v);
        }
    });
    backup(host)
}

#[test]
fn an_sftp_download_is_cut_off_midway() {
    let host = SimHost::start(SimOptions::default()).expect("start");
    let remote = big_bundle(&host);
    let size = fs::metadata(host.host_path(&remote)).expect("bundle").len();
    assert!(size > 100_000, "bundle is {size} bytes");
    drop_rule(&host, 65_536, Some(1));
    let dir = tempfile::tempdir().expect("temp dir");
    let local = dir.path().join("b.tgz");
    let cut = sftp(&host, &format!("get {remote} {}\n", local.display()));
    assert!(!cut.status.success(), "the download should have failed");
    let got = fs::metadata(&local).map(|m| m.len()).unwrap_or(0);
    assert!(
        got > 0 && got < size,
        "got {got} of {size} bytes: a partial download"
    );
    assert!(
        host.log().contains("Connection closed") || host.log().contains("Disconnected"),
        "{}",
        host.log()
    );
    // The rule fired once; the next download is whole.
    assert_eq!(
        host.state().faults.drop_transfer.and_then(|r| r.times),
        Some(0)
    );
    let whole = sftp(&host, &format!("get {remote} {}\n", local.display()));
    assert!(whole.status.success(), "{}", stderr(&whole));
    assert_eq!(fs::metadata(&local).expect("whole").len(), size);
}

#[test]
fn scp_and_cat_downloads_are_cut_off_too() {
    let host = SimHost::start(SimOptions::default()).expect("start");
    let remote = big_bundle(&host);
    let size = fs::metadata(host.host_path(&remote)).expect("bundle").len();
    drop_rule(&host, 65_536, None);
    let dir = tempfile::tempdir().expect("temp dir");
    let local = dir.path().join("b.tgz");
    // The legacy scp protocol (-O) runs `scp -f` on the host: what libssh2's scp_recv does.
    let scp = Command::new("scp")
        .args(["-O", "-P", &host.port().to_string(), "-i"])
        .arg(host.identity())
        .arg("-o")
        .arg(format!(
            "UserKnownHostsFile={}",
            host.known_hosts().display()
        ))
        .args(["-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes"])
        .arg(format!("root@127.0.0.1:{remote}"))
        .arg(&local)
        .stdin(Stdio::null())
        .output()
        .expect("scp");
    assert!(!scp.status.success());
    assert!(fs::metadata(&local).map(|m| m.len()).unwrap_or(0) < size);
    // `cat | base64`, the fallback of tools without SFTP.
    let cat = host.ssh(&format!("cat {remote} | base64"));
    assert_eq!(
        cat.status.code(),
        Some(255),
        "ssh reports the lost connection"
    );
    assert!(cat.stdout.len() < (size as usize) * 4 / 3);
    // Files the rule does not name still come through.
    let other = host.ssh("cat /etc/ntp.conf /etc/hostname 2>/dev/null; echo done");
    assert!(stdout(&other).ends_with("done\n"));
}
