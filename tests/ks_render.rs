//! `esxforge ks render` and `esxforge inventory check`, run as a user runs them.
//!
//! Golden files: every example in `examples/` is rendered in every dialect (4.1, 5.x-6.x,
//! 7.x, 8.x) and compared byte for byte with `tests/golden/<example>/<version>/`; where an
//! example cannot be rendered for a version, the expected error output is the golden file
//! (`errors.txt`). After a deliberate change, regenerate them with
//! `UPDATE_GOLDEN=1 cargo test --test ks_render` and review the diff.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// One ESXi version per dialect.
const DIALECTS: [&str; 4] = ["4.1", "6.7", "7.0U3", "8.0U2"];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_esxforge"));
    command
        .args(args)
        .current_dir(root())
        .env_remove("ESXFORGE_TEST_ROOTPW");
    command
}

fn esxforge(args: &[&str]) -> Output {
    command(args).output().unwrap()
}

/// `esxforge ks render -i INVENTORY --out OUT EXTRA…`, run from the repository root.
fn render_command(inventory: impl AsRef<Path>, out: &Path, extra: &[&str]) -> Command {
    let inventory = inventory.as_ref().to_str().unwrap();
    let out = out.to_str().unwrap();
    let mut args = vec!["ks", "render", "-i", inventory, "--out", out];
    args.extend_from_slice(extra);
    command(&args)
}

fn render(inventory: impl AsRef<Path>, out: &Path, extra: &[&str]) -> Output {
    render_command(inventory, out, extra).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Every file of `dir` by name.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().into_string().unwrap(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

fn examples() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("examples"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".yaml").map(str::to_string)
        })
        .collect();
    names.sort();
    names
}

/// Where `expected` and `actual` first differ, for a readable failure.
fn first_difference(expected: &[u8], actual: &[u8]) -> String {
    let (e, a) = (text(expected), text(actual));
    for (n, (le, la)) in e.lines().zip(a.lines()).enumerate() {
        if le != la {
            return format!("line {}:\n  golden: {le}\n  actual: {la}", n + 1);
        }
    }
    format!(
        "lengths differ: golden {} lines, actual {} lines",
        e.lines().count(),
        a.lines().count()
    )
}

/// How `actual` files differ from `expected` ones: missing or extra names, or the first
/// differing line of each file.
fn differences(
    expected: &BTreeMap<String, Vec<u8>>,
    actual: &BTreeMap<String, Vec<u8>>,
) -> Vec<String> {
    let names = |m: &BTreeMap<String, Vec<u8>>| m.keys().cloned().collect::<Vec<_>>();
    if names(expected) != names(actual) {
        return vec![format!(
            "files {:?}, golden {:?}",
            names(actual),
            names(expected)
        )];
    }
    actual
        .iter()
        .filter(|(name, bytes)| expected.get(*name) != Some(*bytes))
        .map(|(name, bytes)| {
            let golden = expected.get(name).map_or(&[][..], Vec::as_slice);
            format!("{name}: {}", first_difference(golden, bytes))
        })
        .collect()
}

#[test]
fn golden_comparison_reports_what_changed() {
    let golden = files(&root().join("tests/golden/lab/7.0U3"));
    assert_eq!(differences(&golden, &golden), Vec::<String>::new());
    let mut changed = golden.clone();
    let ks = text(&changed["esx02.ks.cfg"]).replace("--vlanid=10", "--vlanid=11");
    changed.insert("esx02.ks.cfg".into(), ks.into_bytes());
    let d = differences(&golden, &changed);
    assert_eq!(d.len(), 1);
    assert!(
        d[0].starts_with("esx02.ks.cfg: line 6:\n  golden: network "),
        "{}",
        d[0]
    );
    changed.remove("esx03.ks.cfg");
    assert_eq!(
        differences(&golden, &changed),
        [
            "files [\"esx01.ks.cfg\", \"esx02.ks.cfg\"], golden [\"esx01.ks.cfg\", \"esx02.ks.cfg\", \"esx03.ks.cfg\"]"
        ]
    );
}

#[test]
fn every_example_in_every_dialect_matches_its_golden_files() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut failures = Vec::new();
    for example in examples() {
        for version in DIALECTS {
            let golden = root().join("tests/golden").join(&example).join(version);
            let out = tempfile::tempdir().unwrap();
            let inv = format!("examples/{example}.yaml");
            let run = render(&inv, out.path(), &["--esxi", version, "--quiet"]);
            let mut actual = files(out.path());
            match run.status.code() {
                Some(0) => assert!(run.stderr.is_empty(), "{}", text(&run.stderr)),
                Some(2) => {
                    assert!(
                        actual.is_empty(),
                        "{example} {version}: failed but wrote files"
                    );
                    actual.insert("errors.txt".into(), run.stderr.clone());
                }
                other => panic!("{example} {version}: exit {other:?}: {}", text(&run.stderr)),
            }
            if update {
                let _ = std::fs::remove_dir_all(&golden);
                std::fs::create_dir_all(&golden).unwrap();
                for (name, bytes) in &actual {
                    std::fs::write(golden.join(name), bytes).unwrap();
                }
                continue;
            }
            let expected = if golden.is_dir() {
                files(&golden)
            } else {
                BTreeMap::new()
            };
            failures.extend(
                differences(&expected, &actual)
                    .into_iter()
                    .map(|d| format!("{example} {version} {d}")),
            );
        }
    }
    assert!(
        failures.is_empty(),
        "rendered kickstarts differ from tests/golden (regenerate with UPDATE_GOLDEN=1 if the change is meant):\n{}",
        failures.join("\n")
    );
}

#[test]
fn the_readme_command_renders_the_lab_with_no_environment() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("out");
    let run = render("examples/lab.yaml", &dir, &[]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    assert_eq!(
        text(&run.stderr),
        format!("wrote 3 kickstarts to {}\n", dir.display())
    );
    let names: Vec<String> = files(&dir).into_keys().collect();
    assert_eq!(names, ["esx01.ks.cfg", "esx02.ks.cfg", "esx03.ks.cfg"]);
    for name in names {
        let mode = std::fs::metadata(dir.join(&name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{name}");
    }
}

/// An inventory in a temp folder whose root password comes from `ESXFORGE_TEST_ROOTPW`.
fn clear_password_inventory(dir: &Path, seed: &str) -> PathBuf {
    let lab = std::fs::read_to_string(root().join("examples/lab.yaml")).unwrap();
    let hash_line = lab
        .lines()
        .find(|l| l.trim_start().starts_with("hash: "))
        .unwrap();
    let inv = lab
        .replace(hash_line, "    env: ESXFORGE_TEST_ROOTPW")
        .replace("salt_seed: lab-2024", &format!("salt_seed: {seed}"));
    let path = dir.join("inv.yaml");
    std::fs::write(&path, inv).unwrap();
    path
}

fn render_with_password(inv: &Path, out: &Path, password: &str) -> BTreeMap<String, Vec<u8>> {
    let run = render_command(inv, out, &["--quiet"])
        .env("ESXFORGE_TEST_ROOTPW", password)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    files(out)
}

#[test]
fn output_is_byte_identical_on_every_run_even_when_it_hashes_a_password() {
    let dir = tempfile::tempdir().unwrap();
    let inv = clear_password_inventory(dir.path(), "site-a");
    let first = render_with_password(&inv, &dir.path().join("a"), "Corr3ct horse#");
    let second = render_with_password(&inv, &dir.path().join("b"), "Corr3ct horse#");
    assert_eq!(first, second);
    let ks = text(&first["esx01.ks.cfg"]);
    assert!(
        !ks.contains("Corr3ct"),
        "the clear password is in the kickstart"
    );
    let rootpw = |ks: &str| {
        ks.lines()
            .find(|l| l.starts_with("rootpw"))
            .unwrap()
            .to_string()
    };
    assert!(rootpw(&ks).starts_with("rootpw --iscrypted $6$"));
    // Hosts get their own salts; the seed changes them all.
    assert_ne!(rootpw(&ks), rootpw(&text(&first["esx02.ks.cfg"])));
    let reseeded = clear_password_inventory(dir.path(), "site-b");
    let other = render_with_password(&reseeded, &dir.path().join("c"), "Corr3ct horse#");
    assert_ne!(rootpw(&ks), rootpw(&text(&other["esx01.ks.cfg"])));
    // Only the rootpw line changed.
    let strip = |ks: &str| {
        ks.lines()
            .filter(|l| !l.starts_with("rootpw"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&ks), strip(&text(&other["esx01.ks.cfg"])));
}

#[test]
fn hosts_are_selected_and_unknown_ones_refused() {
    let out = tempfile::tempdir().unwrap();
    let run = render(
        "examples/lab.yaml",
        out.path(),
        &["--host", "esx02", "--quiet"],
    );
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    assert_eq!(
        files(out.path()).into_keys().collect::<Vec<_>>(),
        ["esx02.ks.cfg"]
    );

    let run = render("examples/lab.yaml", out.path(), &["--host", "esx2"]);
    assert_eq!(run.status.code(), Some(2));
    assert_eq!(
        text(&run.stderr),
        "esxforge: error: examples/lab.yaml: no host named \"esx2\" (did you mean \"esx02\"?)\n"
    );
}

#[test]
fn an_invalid_inventory_stops_render_with_every_error() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("bad.yaml");
    let lab = std::fs::read_to_string(root().join("examples/lab.yaml")).unwrap();
    std::fs::write(
        &inv,
        lab.replace("vlan: 20\n", "vlan: 5000\n")
            .replace("network: {ip: 10.0.10.12}", "network: {ip: 10.0.10.11}"),
    )
    .unwrap();
    let out = dir.path().join("out");
    let run = render(&inv, &out, &[]);
    assert_eq!(run.status.code(), Some(2));
    let stderr = text(&run.stderr);
    let file = inv.display();
    assert!(
        stderr.contains(&format!(
            "{file}:49: defaults.portgroups[1].vlan: 5000 is not a VLAN ID (0 to 4094)\n"
        )),
        "{stderr}"
    );
    assert!(stderr.ends_with(&format!("esxforge: error: {file}: the inventory has errors (listed above; `esxforge inventory check {file}` shows warnings too)\n")), "{stderr}");
    assert!(
        !out.exists(),
        "nothing is written from an invalid inventory"
    );

    // The duplicate address shows once the VLAN is fixed.
    std::fs::write(
        &inv,
        lab.replace("network: {ip: 10.0.10.12}", "network: {ip: 10.0.10.11}"),
    )
    .unwrap();
    let run = esxforge(&["inventory", "check", inv.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(1));
    assert_eq!(
        text(&run.stdout),
        format!(
            "{file}:108: hosts.esx02.network.ip: 10.0.10.11 is also used by hosts.esx01.network.ip\n"
        )
    );
    assert_eq!(
        text(&run.stderr),
        format!("{file}: 3 hosts, 1 error, 0 warnings\n")
    );
}

#[test]
fn inventory_check_exit_codes_and_json() {
    let run = esxforge(&["inventory", "check", "examples/lab.yaml"]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stdout));
    assert!(run.stdout.is_empty());

    let run = esxforge(&[
        "inventory",
        "check",
        "examples/lab.yaml",
        "--format",
        "json",
    ]);
    assert_eq!(run.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(json["hosts"], 3);
    assert_eq!(json["errors"], 0);
    assert_eq!(json["problems"], serde_json::json!([]));

    let run = esxforge(&["inventory", "check", "examples/missing.yaml"]);
    assert_eq!(run.status.code(), Some(2));
    assert_eq!(
        text(&run.stderr),
        "esxforge: error: examples/missing.yaml: cannot read\n  caused by: No such file or directory (os error 2)\n"
    );

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "defaults: {esxi: 7.0, accept_eula: tru}\nhosts: [esx01]\n",
    )
    .unwrap();
    let run = esxforge(&[
        "inventory",
        "check",
        bad.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(run.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(
        json["problems"],
        serde_json::json!([
            {"severity": "error", "path": "defaults.accept_eula", "line": 1, "message": "expected true or false, found a string"},
            {"severity": "error", "path": "hosts", "line": 2, "message": "expected a mapping of host names to their values, found a list"},
        ])
    );

    std::fs::write(&bad, "hosts: {esx01: [unclosed\n").unwrap();
    let run = esxforge(&["inventory", "check", bad.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(2));
    assert!(
        text(&run.stderr).starts_with(&format!(
            "esxforge: error: {}:2: not valid YAML: ",
            bad.display()
        )),
        "{}",
        text(&run.stderr)
    );
}

#[test]
fn a_template_folder_overrides_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let tpl = dir.path().join("templates");
    std::fs::create_dir(&tpl).unwrap();
    std::fs::write(
        tpl.join("ks.cfg.j2"),
        "# site header for {{ host.name }}\n{% include \"site-extra.j2\" %}",
    )
    .unwrap();
    std::fs::write(
        tpl.join("site-extra.j2"),
        "vmaccepteula\nrootpw {{ rootpw }}\n{% include \"network.j2\" %}",
    )
    .unwrap();
    let out = dir.path().join("out");
    let run = render(
        "examples/lab.yaml",
        &out,
        &[
            "--templates",
            tpl.to_str().unwrap(),
            "--host",
            "esx01",
            "--quiet",
        ],
    );
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let ks = text(&files(&out)["esx01.ks.cfg"]);
    let lines: Vec<&str> = ks.lines().collect();
    assert_eq!(lines[0], "# site header for esx01");
    assert_eq!(lines[1], "vmaccepteula");
    assert!(lines[3].starts_with("network --bootproto=static --device=vmnic0 --ip=10.0.10.11 "));
    assert_eq!(lines.len(), 4);
}
