//! `esxforge preflight` and `esxforge host cpu` as a user runs them: text and JSON, exit codes
//! (0 clean, 1 errors found, 2 bad input), error messages that name the file or field, and
//! inputs left untouched.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn cluster4() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/cluster4")
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_esxforge"))
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Copies cluster4 into a fresh folder to break it.
fn copy_cluster4() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(cluster4()).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, dir.path().join(p.file_name().unwrap())).unwrap();
    }
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn text_report_groups_by_vm_and_host_with_remedies_and_counts() {
    let dir = cluster4();
    let inv = dir.join("inventory.yaml");
    let out = run(&[
        "preflight",
        "vmotion",
        "-i",
        s(&inv),
        "--facts",
        s(&dir),
        "--vm",
        "db02",
        "--to",
        "esx04",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let t = text(&out.stdout);
    let lines: Vec<&str> = t.lines().collect();
    assert_eq!(lines[0], "VM db02, host esx04", "{t}");
    assert!(lines[1].starts_with("  error    CannotAccessVmDisk           [Hard disk 1] Hard disk 1 ([san-silver] db02/db02.vmdk)"), "{t}");
    assert!(
        lines[2]
            .starts_with("                                        fix: Storage vMotion the disk"),
        "{t}"
    );
    assert!(t.contains("\n  info     PrecopyEstimate              estimate (first-order pre-copy model, not a measurement)"), "{t}");
    assert_eq!(
        lines[lines.len() - 2..],
        [
            "4 errors, 1 warning, 1 info",
            "0 of 1 moves (VM to host) have no errors"
        ],
        "{t}"
    );
    // A clean move says so.
    let out = run(&[
        "preflight",
        "vmotion",
        "-i",
        s(&inv),
        "--facts",
        s(&dir),
        "--vm",
        "web01",
    ]);
    assert_eq!(out.status.code(), Some(1), "web01 cannot go to esx04");
    assert!(
        text(&out.stdout).ends_with("2 of 3 moves (VM to host) have no errors\n"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn json_is_a_stable_list_and_deterministic() {
    let dir = cluster4();
    let inv = dir.join("inventory.yaml");
    let args = [
        "preflight",
        "cluster",
        "-i",
        s(&inv),
        "--facts",
        s(&dir),
        "--format",
        "json",
    ];
    let a = run(&args);
    let b = run(&args);
    assert_eq!(a.stdout, b.stdout, "same inputs, same bytes");
    let v: serde_json::Value = serde_json::from_slice(&a.stdout).unwrap();
    for f in v.as_array().unwrap() {
        let keys: Vec<&str> = f.as_object().unwrap().keys().map(String::as_str).collect();
        let mut want = vec![
            "check", "code", "device", "host", "message", "remedy", "severity", "vm",
        ];
        want.sort_unstable();
        assert_eq!(keys, want);
        assert!(["error", "warning", "info"].contains(&f["severity"].as_str().unwrap()));
    }
    // Every host not in maintenance mode gets an evacuation plan without --maintenance.
    let plans = v
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "MaintenanceModePlan")
        .count();
    assert_eq!(plans, 4);
}

#[test]
fn usage_and_input_errors_exit_2_and_say_what_and_where() {
    let dir = cluster4();
    let inv = dir.join("inventory.yaml");
    let base = ["-i", s(&inv), "--facts", s(&dir)];
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["preflight", "vmotion", "--vm", "nope", "--to", "esx02"],
            "no VM named \"nope\" on any host",
        ),
        (
            vec!["preflight", "vmotion", "--vm", "web01", "--to", "esx09"],
            "no host named \"esx09\" in the facts",
        ),
        (
            vec!["preflight", "vmotion", "--vm", "web01", "--from", "esx02"],
            "no VM named \"web01\" on host \"esx02\"",
        ),
        (
            vec!["preflight", "cluster", "--maintenance", "esx9"],
            "no host named \"esx9\"",
        ),
        (
            vec!["host", "cpu", "--host", "esx9"],
            "no host named \"esx9\" in the facts",
        ),
    ];
    for (args, want) in cases {
        let mut all = args.clone();
        all.extend(base);
        let out = run(&all);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            text(&out.stderr).contains(want),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    // --all needs --from (clap's usage error).
    let mut all = vec!["preflight", "vmotion", "--all"];
    all.extend(base);
    assert_eq!(run(&all).status.code(), Some(2));
    // Neither an inventory nor saved facts: nothing to check.
    let out = run(&["preflight", "cluster"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("-i INV") && err.contains("--facts DIR"),
        "{err}"
    );
}

#[test]
fn live_collection_reports_unreachable_hosts_as_failures() {
    // Without --facts the preflight gathers facts over SSH from the inventory's addresses;
    // here every host points at a closed local port.
    let d = tempfile::tempdir().unwrap();
    let inv = d.path().join("inventory.yaml");
    let yaml = std::fs::read_to_string(cluster4().join("inventory.yaml")).unwrap();
    let yaml: Vec<String> = yaml
        .lines()
        .map(|l| match l.strip_suffix('}') {
            Some(head) if l.trim_start().starts_with("esx0") => {
                format!("{head}, address: 127.0.0.1, ssh_port: 1}}")
            }
            _ => l.to_string(),
        })
        .collect();
    std::fs::write(&inv, yaml.join("\n")).unwrap();
    let out = run(&[
        "preflight",
        "cluster",
        "-i",
        s(&inv),
        "--insecure",
        "--timeout",
        "5",
    ]);
    assert_eq!(out.status.code(), Some(1), "a host that failed exits 1");
    let err = text(&out.stderr);
    assert!(
        err.contains("could not gather facts from every host:"),
        "{err}"
    );
    for h in ["esx01", "esx02", "esx03", "esx04"] {
        assert!(
            err.contains(&format!("  {h}: root@127.0.0.1:1: cannot connect")),
            "{err}"
        );
    }
    let out = run(&["host", "cpu", "-i", s(&inv), "--insecure", "--timeout", "5"]);
    assert_eq!(out.status.code(), Some(1));
}

/// `preflight cluster` on a copied lab whose inputs a test has broken: it must exit 2; its
/// stderr says what and where.
fn cluster_input_error(d: &tempfile::TempDir) -> String {
    let inv = d.path().join("inventory.yaml");
    let out = run(&[
        "preflight",
        "cluster",
        "-i",
        s(&inv),
        "--facts",
        s(d.path()),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    text(&out.stderr)
}

#[test]
fn broken_facts_and_cluster_sections_name_the_file_and_field() {
    // A missing host file.
    let d = copy_cluster4();
    std::fs::remove_file(d.path().join("esx03.json")).unwrap();
    let err = cluster_input_error(&d);
    assert!(
        err.contains(
            "esx03.json: no facts for host \"esx03\": gather them with `esxforge host facts"
        ),
        "{err}"
    );

    // Facts that are not JSON facts: the file and the line.
    let d = copy_cluster4();
    std::fs::write(
        d.path().join("esx02.json"),
        "{\n  \"name\": \"esx02\",\n  \"colour\": 1\n}\n",
    )
    .unwrap();
    let err = cluster_input_error(&d);
    assert!(err.contains("esx02.json: not host facts (line 3"), "{err}");

    // Facts saved under another host's name.
    let d = copy_cluster4();
    std::fs::copy(d.path().join("esx01.json"), d.path().join("esx02.json")).unwrap();
    let err = cluster_input_error(&d);
    assert!(
        err.contains("esx02.json: holds the facts of host \"esx01\""),
        "{err}"
    );

    // A cluster section whose rule names a missing group: the inventory and the field path.
    let d = copy_cluster4();
    let inv = d.path().join("inventory.yaml");
    let yaml = std::fs::read_to_string(&inv)
        .unwrap()
        .replace("vm_group: db,", "vm_group: dbs,");
    std::fs::write(&inv, yaml).unwrap();
    let err = cluster_input_error(&d);
    assert!(err.contains("inventory.yaml: cluster.rules[1].vm_group: no VM group \"dbs\" under cluster.groups.vms"), "{err}");

    // A cluster section in its own file, with an unknown key.
    let d = copy_cluster4();
    let cluster = d.path().join("cluster.yaml");
    std::fs::write(&cluster, "ha: {admision_control: {policy: slots}}\n").unwrap();
    let out = run(&[
        "preflight",
        "cluster",
        "--cluster",
        s(&cluster),
        "--facts",
        s(d.path()),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("cluster.yaml: cluster section:") && err.contains("admision_control"),
        "{err}"
    );
}

fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    v.sort();
    v
}

#[test]
fn inputs_are_left_untouched() {
    let d = copy_cluster4();
    let before = snapshot(d.path());
    let inv = d.path().join("inventory.yaml");
    for args in [
        vec![
            "preflight",
            "cluster",
            "-i",
            s(&inv),
            "--facts",
            s(d.path()),
        ],
        vec![
            "preflight",
            "vmotion",
            "-i",
            s(&inv),
            "--facts",
            s(d.path()),
            "--all",
            "--from",
            "esx01",
        ],
        vec!["host", "cpu", "-i", s(&inv), "--facts", s(d.path())],
    ] {
        run(&args);
    }
    assert_eq!(snapshot(d.path()), before);
}

#[test]
fn host_cpu_text_for_one_host_and_for_the_cluster() {
    let dir = cluster4();
    let inv = dir.join("inventory.yaml");
    let out = run(&[
        "host",
        "cpu",
        "-i",
        s(&inv),
        "--facts",
        s(&dir),
        "--host",
        "esx04",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let t = text(&out.stdout);
    for line in [
        "host                        esx04",
        "vendor                      Intel",
        "family / model / stepping   0x6 / 0x2d / 7",
        "microarchitecture           Sandy Bridge",
        "packages / cores / threads  2 / 16 / 32",
        "SSE level                   SSE4.2",
        "NX/XD                       yes",
        "hardware virtualization     yes",
        "64-bit (long mode)          yes",
        "all CPUs identical          yes",
        "highest EVC mode            intel-sandybridge",
    ] {
        assert!(t.lines().any(|l| l == line), "missing {line:?} in\n{t}");
    }
    let out = run(&["host", "cpu", "-i", s(&inv), "--facts", s(&dir)]);
    let t = text(&out.stdout);
    assert!(t.starts_with("HOST   VENDOR  FAM  MODEL  STEP  MICROARCHITECTURE  PKG  CORES  THR  SSE     NX   VT   64   SAME  EVC\n"), "{t}");
    assert!(t.contains("\nesx04  Intel   0x6  0x2d   7     Sandy Bridge       2    16     32   SSE4.2  yes  yes  yes  yes   intel-sandybridge\n"), "{t}");
    assert!(t.contains("common EVC baseline: intel-sandybridge (Intel Sandy Bridge Generation); limited by esx04"), "{t}");
}

#[test]
fn codes_lists_every_check() {
    let out = run(&["preflight", "codes", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let codes: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    for want in [
        "VMotionNotConfigured",
        "VMOnVirtualIntranet",
        "AffinityConfigured",
        "CannotAccessVmDisk",
        "RDMPointsToInaccessibleDisk",
        "SharedBusControllerNotSupported",
        "CannotAccessVmDevice",
        "FeatureRequirementsNotMet",
        "VMotionLinkCapacityLow",
        "MismatchedVMotionNetworkNames",
        "SnapshotRevertIssue",
        "NoGuestHeartbeat",
        "InsufficientFailoverResourcesFault",
    ] {
        assert!(codes.contains(&want), "{want}");
    }
    let t = text(&run(&["preflight", "codes"]).stdout);
    assert!(
        t.lines()
            .any(|l| l.starts_with("DrsRuleConflict") && l.ends_with("(esxforge)")),
        "{t}"
    );
}

#[test]
fn synth_writes_a_cluster_the_preflight_and_the_inventory_checker_accept() {
    let d = tempfile::tempdir().unwrap();
    let out = run(&[
        "preflight",
        "synth",
        "--hosts",
        "3",
        "--vms",
        "30",
        "--out",
        s(d.path()),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let inv = d.path().join("inventory.yaml");
    assert_eq!(run(&["inventory", "check", s(&inv)]).status.code(), Some(0));
    let out = run(&[
        "preflight",
        "cluster",
        "-i",
        s(&inv),
        "--facts",
        s(d.path()),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    // Facts alone (no inventory) work too: every DIR/*.json is a host.
    let out = run(&[
        "preflight",
        "vmotion",
        "--facts",
        s(d.path()),
        "--all",
        "--from",
        "esx01",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}
