//! Properties of the kickstart tokenizer, parser and linter.
//!
//! - The tokenizer agrees with the real thing: every generated line is also split by Python's own
//!   `shlex.split(line, comments=True)` (a `python3` process started by the test), and the words —
//!   or the error message — must be identical.
//! - The parser and the linter never panic, on any bytes.
//! - Linting is deterministic: the same input gives the same findings, in the same order.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Mutex, OnceLock};

use esxforge_kickstart::lint::{LintOptions, lint_text};
use esxforge_kickstart::parse::{Kickstart, shlex};
use esxforge_kickstart::version::EsxiVersion;
use proptest::prelude::*;

/// One long-lived `python3` answering one JSON line per JSON line.
struct Python {
    _child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

const PY: &str = r#"
import json, shlex, sys
for line in sys.stdin:
    s = json.loads(line)
    try:
        out = {"ok": shlex.split(s, comments=True)}
    except ValueError as e:
        out = {"err": str(e)}
    print(json.dumps(out), flush=True)
"#;

fn python() -> &'static Mutex<Python> {
    static PYTHON: OnceLock<Mutex<Python>> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let mut child = Command::new("python3")
            .args(["-c", PY])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 is needed for the tokenizer property test (scripts/test installs it)");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Mutex::new(Python {
            _child: child,
            stdin,
            stdout,
        })
    })
}

fn python_split(line: &str) -> Result<Vec<String>, String> {
    let mut py = python().lock().unwrap();
    let request = serde_json::to_string(line).unwrap();
    writeln!(py.stdin, "{request}").unwrap();
    py.stdin.flush().unwrap();
    let mut answer = String::new();
    py.stdout.read_line(&mut answer).unwrap();
    let v: serde_json::Value = serde_json::from_str(&answer).unwrap();
    match v.get("ok") {
        Some(words) => Ok(words
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w.as_str().unwrap().to_owned())
            .collect()),
        None => Err(v["err"].as_str().unwrap().to_owned()),
    }
}

fn rust_split(line: &str) -> Result<Vec<String>, String> {
    shlex::split(line)
        .map(|t| t.words.into_iter().map(|w| w.text).collect())
        .map_err(|e| e.to_string())
}

/// Lines made of what matters to shlex: quotes, backslashes, `#`, blanks, `=` and dashes, some
/// non-ASCII, and sometimes the trailing newline the installer keeps.
fn line() -> impl Strategy<Value = String> {
    "[a-z0-9 =\\-'\"\\\\#\t\r\u{e9}\u{2013}\u{201c}]{0,40}\n?"
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn tokenizer_matches_python_shlex(line in line()) {
        prop_assert_eq!(rust_split(&line), python_split(&line), "line {:?}", line);
    }
}

#[test]
fn tokenizer_matches_python_shlex_on_known_traps() {
    for line in [
        "rootpw pa#ss\n",
        "keyboard 'US Default'\n",
        "network --nameserver=\"1.1.1.1,8.8.8.8\" # two\n",
        "a \\\n",
        "a \\",
        "a \"b\\\"c\\\\d\\e\"\n",
        "a 'b\n",
        "x=\"\" '' \"\"\n",
        "a\\#b #c\n",
        "\u{2013}bootproto=static\n",
    ] {
        assert_eq!(rust_split(line), python_split(line), "line {line:?}");
    }
}

/// Kickstart-shaped noise: keywords, flags and section headers mixed with arbitrary bytes.
fn kickstart_bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"%pre".to_vec()),
        Just(b"%post --interpreter=busybox".to_vec()),
        Just(b"%firstboot".to_vec()),
        Just(b"%include ./x.cfg".to_vec()),
        Just(b"include".to_vec()),
        Just(b"network --bootproto=static --ip=10.0.0.1".to_vec()),
        Just(b"rootpw --iscrypted $6$x$y".to_vec()),
        Just(b"install --firstdisk --disk=x".to_vec()),
        Just(b"paranoid".to_vec()),
        Just(b"{{ x }}".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"'".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"\\".to_vec()),
        Just(b"#".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..16),
    ];
    proptest::collection::vec(piece, 0..60).prop_map(|v| v.concat())
}

fn options() -> impl Strategy<Value = LintOptions> {
    (
        prop::sample::select(&EsxiVersion::RELEASES[..]),
        any::<bool>(),
    )
        .prop_map(|(version, secure_boot)| LintOptions {
            version,
            secure_boot,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn parser_and_linter_never_panic_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2000), opts in options()) {
        let ks = Kickstart::parse_bytes(&bytes);
        prop_assert!(ks.line_count <= bytes.len() + 1);
        let _ = lint_text("fuzz.ks", &bytes, &opts);
    }

    #[test]
    fn linting_is_deterministic(bytes in kickstart_bytes(), opts in options()) {
        let a = lint_text("a.ks", &bytes, &opts);
        let b = lint_text("a.ks", &bytes, &opts);
        prop_assert_eq!(serde_json::to_string(&a).unwrap(), serde_json::to_string(&b).unwrap());
        // Every finding points into the file.
        let lines = Kickstart::parse_bytes(&bytes).line_count;
        for f in &a.findings {
            prop_assert!(f.line.is_none_or(|l| l >= 1 && l <= lines), "{f:?} outside 1..={lines}");
        }
    }
}
