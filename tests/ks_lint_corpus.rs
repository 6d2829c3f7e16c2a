//! Runs every kickstart of `tests/kickstarts/` through the `esxforge` binary and compares its
//! findings with the file's own `# expect:` header, exactly (no finding missing, none extra).
//!
//! Header lines (comments, so the installer ignores them):
//! - `# lint: --esxi 4.1 --secure-boot`: extra arguments for `esxforge ks lint`;
//! - `# expect: CODE @LINE [severity]`: one finding; `@-` for a finding about the whole file,
//!   `@other.cfg:LINE` for one in an included file; the severity is checked when given;
//! - `# expect: clean`: no finding at all.
//!
//! The exit code must be 1 exactly when an error is expected.

use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Clone)]
struct Expected {
    code: String,
    at: String,
    severity: Option<String>,
}

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kickstarts");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ks"))
        .collect();
    files.sort();
    files
}

fn header(path: &Path) -> (Vec<String>, Vec<Expected>, bool) {
    let text = String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned();
    // A file that starts with a byte-order mark still has its header on the first lines.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut args = Vec::new();
    let mut expected = Vec::new();
    let mut clean = false;
    for line in text.lines().take_while(|l| l.starts_with('#')) {
        if let Some(rest) = line.strip_prefix("# lint:") {
            args.extend(rest.split_whitespace().map(str::to_owned));
        } else if let Some(rest) = line.strip_prefix("# expect:") {
            let mut words = rest.split_whitespace();
            let code = words.next().unwrap().to_owned();
            if code == "clean" {
                clean = true;
                continue;
            }
            let at = words.next().unwrap().trim_start_matches('@').to_owned();
            expected.push(Expected {
                code,
                at,
                severity: words.next().map(str::to_owned),
            });
        }
    }
    (args, expected, clean)
}

#[test]
fn every_corpus_file_lints_as_its_header_says() {
    let files = corpus();
    assert!(
        files.len() >= 70,
        "the corpus is missing: {} files",
        files.len()
    );
    let mut failures = Vec::new();
    for path in &files {
        let (args, mut expected, clean) = header(path);
        assert!(
            clean || !expected.is_empty(),
            "{}: no `# expect:` header",
            path.display()
        );
        let output = Command::new(env!("CARGO_BIN_EXE_esxforge"))
            .args(["ks", "lint", "--format", "json"])
            .args(&args)
            .arg(path)
            .output()
            .unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            panic!(
                "{}: not JSON ({e}): {}",
                path.display(),
                String::from_utf8_lossy(&output.stderr)
            )
        });
        let main = path.display().to_string();
        let mut got: Vec<Expected> = doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let file = f["file"].as_str().unwrap();
                let line = f["line"].as_u64().map_or("-".to_owned(), |l| l.to_string());
                let at = if file == main {
                    line
                } else {
                    let name = Path::new(file).file_name().unwrap().to_string_lossy();
                    format!("{name}:{line}")
                };
                Expected {
                    code: f["code"].as_str().unwrap().to_owned(),
                    at,
                    severity: f["severity"].as_str().map(str::to_owned),
                }
            })
            .collect();
        // Compare severities only where the header names one.
        let mut got_cmp: Vec<Expected> = got
            .iter()
            .map(|g| {
                let keep = expected
                    .iter()
                    .any(|e| e.code == g.code && e.at == g.at && e.severity.is_some());
                Expected {
                    severity: if keep { g.severity.clone() } else { None },
                    ..g.clone()
                }
            })
            .collect();
        got_cmp.sort();
        expected.sort();
        if got_cmp != expected {
            failures.push(format!(
                "{}:\n  expected {:?}\n  got      {:?}",
                path.display(),
                expected,
                got_cmp
            ));
        }
        let error_expected = got.iter().any(|g| g.severity.as_deref() == Some("error"));
        got.clear();
        let code = output.status.code();
        if code != Some(i32::from(error_expected)) {
            failures.push(format!(
                "{}: exit {code:?}, expected {}",
                path.display(),
                i32::from(error_expected)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} corpus files differ:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}
