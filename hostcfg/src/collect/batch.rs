//! Many read-only commands in one exec: one round trip instead of one per command.
//!
//! The remote shell runs each command in a subshell (so not even an `exit` in it can end the
//! batch early) with its stdout going straight to the channel and its stderr to a private
//! temporary file, then prints a boundary line `MARK index status flag`; when the command wrote
//! to stderr (`flag` 1) those bytes follow, closed by `MARK index .`. A `MARK start` line opens
//! the results, so login noise (a banner, a profile's echo) is skipped. Every boundary starts on
//! a new line the script adds itself, so each output comes back byte for byte.
//!
//! The mark carries a random token made for each batch: no output, not even an earlier batch's
//! captured in a file, holds the boundaries of this one. Framing by boundaries rather than by
//! byte counts keeps a command's cost to the command itself: no `wc`/`cat` per command, which
//! on a busy host (or many simulated ones on one machine) was three of every four processes a
//! batch started. Plain POSIX sh (ESXi's busybox ash): `printf`, `[`, `mkdir`, `cat`, `rm`.

use std::hash::{BuildHasher, Hasher};

use crate::transport::{ExecOutput, Transport, TransportError};

/// Why a batch gave no per-command results.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("{target}: the batch of {expected} commands {problem} (exit {status}: {detail})")]
    Framing {
        target: String,
        expected: usize,
        problem: String,
        status: i32,
        detail: String,
    },
}

/// The boundary mark of one batch: a fixed prefix and 128 random bits (from the standard
/// library's randomly keyed hasher, enough that no output matches it by accident).
pub fn mark() -> String {
    let random = |salt: u64| {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(salt);
        h.finish()
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "@@esxforge-{:016x}{:016x}",
        random(u64::from(nanos)),
        random(u64::from(std::process::id()))
    )
}

/// The shell script that runs `commands` in order, framed by `mark`.
pub fn script(commands: &[String], mark: &str) -> String {
    let mut s = String::new();
    s.push_str("d=/tmp/esxforge.$$; rm -rf \"$d\"; mkdir -m 700 \"$d\" || exit 97\n");
    s.push_str(&format!(
        "r() {{ if [ -s \"$d/e\" ]; then printf '\\n{mark} %s %s 1\\n' \"$1\" \"$2\"; cat \"$d/e\"; printf '\\n{mark} %s .\\n' \"$1\"; else printf '\\n{mark} %s %s 0\\n' \"$1\" \"$2\"; fi; }}\n"
    ));
    s.push_str(&format!("printf '{mark} start\\n'\n"));
    for (i, command) in commands.iter().enumerate() {
        s.push_str(&format!("( {command}\n) 2>\"$d/e\" </dev/null; r {i} $?\n"));
    }
    s.push_str("rm -rf \"$d\"\n");
    s
}

/// Runs `commands` in one exec and returns one output per command, in order.
pub fn run(transport: &dyn Transport, commands: &[String]) -> Result<Vec<ExecOutput>, BatchError> {
    if commands.is_empty() {
        return Ok(Vec::new());
    }
    let mark = mark();
    let out = transport.exec(&script(commands, &mark))?;
    split(&out.stdout, &mark, commands.len()).map_err(|problem| BatchError::Framing {
        target: transport.describe(),
        expected: commands.len(),
        problem,
        status: out.status,
        detail: out.first_error_line(),
    })
}

/// Cuts the framed stream into per-command outputs.
pub fn split(stream: &[u8], mark: &str, expected: usize) -> Result<Vec<ExecOutput>, String> {
    let start = format!("{mark} start\n");
    let mut pos = find(stream, start.as_bytes(), 0)
        .map(|at| at.saturating_add(start.len()))
        .ok_or_else(|| "printed no results".to_string())?;
    let mut results = Vec::with_capacity(expected);
    while results.len() < expected {
        let i = results.len();
        let header = format!("\n{mark} {i} ");
        let at = find(stream, header.as_bytes(), pos)
            .ok_or_else(|| format!("stopped after {i} results"))?;
        let stdout = stream.get(pos..at).unwrap_or_default().to_vec();
        let fields_at = at.saturating_add(header.len());
        let line_end = find(stream, b"\n", fields_at)
            .ok_or_else(|| format!("ended inside the boundary of result {i}"))?;
        let fields = String::from_utf8_lossy(stream.get(fields_at..line_end).unwrap_or_default());
        let malformed = || format!("printed a malformed boundary `{mark} {i} {fields}`");
        let (status, has_stderr) = match fields.split_once(' ') {
            Some((status, "0")) => (status, false),
            Some((status, "1")) => (status, true),
            _ => return Err(malformed()),
        };
        let status: i32 = status.parse().map_err(|_| malformed())?;
        pos = line_end.saturating_add(1);
        let mut stderr = Vec::new();
        if has_stderr {
            let end = format!("\n{mark} {i} .\n");
            let at = find(stream, end.as_bytes(), pos)
                .ok_or_else(|| format!("was cut short in the errors of result {i}"))?;
            stderr = stream.get(pos..at).unwrap_or_default().to_vec();
            // The closing boundary's own newline is where the next output begins.
            pos = at.saturating_add(end.len());
        }
        results.push(ExecOutput {
            status,
            stdout,
            stderr,
        });
    }
    Ok(results)
}

/// Where `needle` first occurs in `haystack` at or after `from`.
fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p.saturating_add(from))
}

/// Quotes one word for the remote shell: `'…'` with embedded quotes spliced.
pub fn quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c))
    {
        return word.to_string();
    }
    format!("'{}'", word.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy;

    /// Runs the script with the local /bin/sh, as the remote shell would.
    fn run_locally(commands: &[String]) -> Vec<ExecOutput> {
        let mark = mark();
        let out = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(script(commands, &mark))
            .output()
            .unwrap();
        split(&out.stdout, &mark, commands.len()).unwrap()
    }

    #[test]
    fn frames_outputs_statuses_and_binary_data_exactly() {
        let commands = vec![
            "printf 'a\\nb'".to_string(),
            // Boundaries without this batch's token are output like any other.
            "printf '\\n@@esxforge-0123 1 0 0\\n'; echo oops >&2; exit 3".to_string(),
            "printf '\\000\\377'".to_string(),
            format!("printf %s {}", quote("it's  spaced")),
            "printf 'line\\n\\n'; printf 'no newline' >&2".to_string(),
            "true".to_string(),
            "exit 7".to_string(),
            "echo after".to_string(),
        ];
        let r = run_locally(&commands);
        assert_eq!(r.len(), commands.len());
        assert_eq!((r[0].status, r[0].stdout.as_slice()), (0, &b"a\nb"[..]));
        assert_eq!(r[1].status, 3);
        assert_eq!(r[1].stdout, b"\n@@esxforge-0123 1 0 0\n");
        assert_eq!(r[1].stderr, b"oops\n");
        assert_eq!(r[2].stdout, [0u8, 255]);
        assert_eq!(r[3].stdout, b"it's  spaced");
        assert_eq!(r[4].stdout, b"line\n\n");
        assert_eq!(r[4].stderr, b"no newline");
        assert_eq!(
            (r[5].status, r[5].stdout.len(), r[5].stderr.len()),
            (0, 0, 0)
        );
        assert_eq!(r[6].status, 7, "an exit ends only its own subshell");
        assert_eq!(r[7].stdout, b"after\n");
    }

    #[test]
    fn every_batch_has_its_own_mark() {
        let (a, b) = (mark(), mark());
        assert_ne!(a, b);
        assert!(a.starts_with("@@esxforge-") && a.len() == "@@esxforge-".len() + 32);
    }

    #[test]
    fn short_or_garbled_streams_are_errors() {
        let m = "@@esxforge-t";
        let split = |s: String, n| split(s.as_bytes(), m, n);
        assert!(split(String::new(), 1).is_err());
        assert!(split(format!("{m} start\nabc"), 1).is_err(), "no boundary");
        assert!(split(format!("abc\n{m} 0 0 0\n"), 1).is_err(), "no start");
        assert!(
            split(format!("{m} start\n\n{m} 1 0 0\n"), 1).is_err(),
            "index"
        );
        assert!(
            split(format!("{m} start\n\n{m} 0 0 0\n"), 2).is_err(),
            "too few"
        );
        assert!(
            split(format!("{m} start\n\n{m} 0 x 0\n"), 1).is_err(),
            "status"
        );
        assert!(
            split(format!("{m} start\n\n{m} 0 0 2\n"), 1).is_err(),
            "flag"
        );
        assert!(split(format!("{m} start\n\n{m} 0 0"), 1).is_err(), "cut");
        assert!(
            split(format!("{m} start\n\n{m} 0 1 1\nerr"), 1).is_err(),
            "errors cut short"
        );
        let ok = split(
            format!("motd\n{m} start\nhi\n{m} 0 1 1\nerr\n{m} 0 .\n\n{m} 1 0 0\n"),
            2,
        )
        .unwrap();
        assert_eq!(
            (
                ok[0].stdout.as_slice(),
                ok[0].stderr.as_slice(),
                ok[0].status
            ),
            (&b"hi"[..], &b"err"[..], 1)
        );
        assert_eq!(ok[1].stdout, b"");
    }

    /// The stream the script prints for these results (what `r` writes), after `noise`.
    fn framed(mark: &str, noise: &[u8], results: &[ExecOutput]) -> Vec<u8> {
        let mut s = noise.to_vec();
        s.extend_from_slice(format!("{mark} start\n").as_bytes());
        for (i, r) in results.iter().enumerate() {
            s.extend_from_slice(&r.stdout);
            let flag = u8::from(!r.stderr.is_empty());
            s.extend_from_slice(format!("\n{mark} {i} {} {flag}\n", r.status).as_bytes());
            if flag == 1 {
                s.extend_from_slice(&r.stderr);
                s.extend_from_slice(format!("\n{mark} {i} .\n").as_bytes());
            }
        }
        s
    }

    proptest::proptest! {
        #[test]
        fn any_outputs_come_back_exactly(
            results in proptest::collection::vec(
                (proptest::collection::vec(proptest::num::u8::ANY, 0..64),
                 proptest::collection::vec(proptest::num::u8::ANY, 0..16),
                 0i32..256)
                    .prop_map(|(stdout, stderr, status)| ExecOutput { status, stdout, stderr }),
                0..8,
            ),
            noise in proptest::collection::vec(proptest::num::u8::ANY, 0..32),
        ) {
            let m = mark();
            let back = split(&framed(&m, &noise, &results), &m, results.len()).unwrap();
            proptest::prop_assert_eq!(back, results);
        }

        #[test]
        fn garbage_never_panics(stream in proptest::collection::vec(proptest::num::u8::ANY, 0..256), n in 0usize..4) {
            let _ = split(&stream, "@@esxforge-t", n);
        }
    }
}
