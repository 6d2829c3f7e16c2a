//! `esxforge ks lint` as a user runs it: output formats, `--strict`, exit codes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/kickstarts")
        .join(name)
}

fn lint(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_esxforge"))
        .args(["ks", "lint"])
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn text_output_is_one_line_per_finding_sorted_by_line_with_hints() {
    let file = corpus("s-dash-command-line.ks");
    let out = lint(&[file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let findings: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with("    hint: "))
        .collect();
    assert_eq!(findings.len(), 9, "{text}");
    let mut last = 0;
    for line in &findings {
        let rest = line
            .strip_prefix(&format!("{}:", file.display()))
            .unwrap_or_else(|| panic!("{line}"));
        let (number, rest) = rest.split_once(": ").unwrap();
        let number: usize = number.parse().unwrap();
        assert!(number >= last);
        last = number;
        assert!(
            rest.starts_with("error[") || rest.starts_with("warning["),
            "{rest}"
        );
    }
    assert!(
        text.contains(
            "error[E-NETWORK-DHCP-STATIC]: bootproto was set to DHCP but \"--ip=\" was set"
        )
    );
    assert!(text.contains("    hint: did you mean `--bootproto=static`?"));
}

#[test]
fn json_has_the_documented_shape() {
    let file = corpus("w-no-network.ks");
    let out = lint(&["--format", "json", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["errors"], 0);
    assert_eq!(doc["warnings"], 1);
    assert_eq!(doc["notes"], 0);
    let f = &doc["findings"][0];
    let mut keys: Vec<&str> = f.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "code", "file", "hint", "line", "message", "origin", "severity"
        ]
    );
    assert_eq!(f["line"], serde_json::Value::Null);
    assert_eq!(f["code"], "W-NO-NETWORK");
    assert_eq!(f["severity"], "warning");
    assert_eq!(f["origin"], "installer");
    // Our stricter checks say so: a real file the installer accepts has no installer error.
    let ours = corpus("s-crlf.ks");
    let out = lint(&["--format", "json", ours.to_str().unwrap()]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let origins: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["origin"].as_str().unwrap())
        .collect();
    assert_eq!(origins, ["esxforge"]);
}

#[test]
fn strict_fails_on_warnings_and_clean_files_pass() {
    let warn = corpus("w-no-network.ks");
    assert_eq!(lint(&[warn.to_str().unwrap()]).status.code(), Some(0));
    assert_eq!(
        lint(&["--strict", warn.to_str().unwrap()]).status.code(),
        Some(1)
    );
    let clean = corpus("clean-minimal.ks");
    let out = lint(&["--strict", clean.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
}

#[test]
fn unreadable_input_is_exit_2_naming_the_file() {
    let out = lint(&["/nonexistent/ks.cfg"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("/nonexistent/ks.cfg: cannot read the kickstart"),
        "{err}"
    );
    let out = lint(&[
        "--esxi",
        "3.5",
        corpus("clean-minimal.ks").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("unsupported ESXi version")
    );
}

#[test]
fn several_files_in_one_run() {
    let a = corpus("clean-minimal.ks");
    let b = corpus("e-no-rootpw.ks");
    let out = lint(&["--format", "json", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["findings"].as_array().unwrap().len(), 1);
    assert_eq!(doc["findings"][0]["file"], b.display().to_string());
}
