//! Many read-only commands in one exec: one round trip instead of one per command.
//!
//! The remote shell runs each command with its output captured to a private temporary folder,
//! then prints a header `MARK index status stdout-bytes stderr-bytes` followed by exactly those
//! bytes. Lengths, not delimiters, frame the results, so no output can forge a boundary.
//! Each command runs in a subshell, so not even an `exit` in it can end the batch early.
//! Plain POSIX sh (ESXi's busybox ash): `mkdir`, `wc -c`, `cat`, `rm`.

use crate::transport::{ExecOutput, Transport, TransportError};

const MARK: &str = "@@esxforge-batch@@";

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

/// The shell script that runs `commands` in order.
pub fn script(commands: &[String]) -> String {
    let mut s = String::new();
    s.push_str("d=/tmp/esxforge.$$; rm -rf \"$d\"; mkdir -m 700 \"$d\" || exit 97\n");
    s.push_str(&format!(
        "r() {{ printf '{MARK} %s %s %s %s\\n' \"$1\" \"$2\" $(wc -c <\"$d/o\") $(wc -c <\"$d/e\"); cat \"$d/o\" \"$d/e\"; }}\n"
    ));
    for (i, command) in commands.iter().enumerate() {
        s.push_str(&format!(
            "( {command}\n) >\"$d/o\" 2>\"$d/e\" </dev/null; r {i} $?\n"
        ));
    }
    s.push_str("rm -rf \"$d\"\n");
    s
}

/// Runs `commands` in one exec and returns one output per command, in order.
pub fn run(transport: &dyn Transport, commands: &[String]) -> Result<Vec<ExecOutput>, BatchError> {
    if commands.is_empty() {
        return Ok(Vec::new());
    }
    let out = transport.exec(&script(commands))?;
    split(&out.stdout, commands.len()).map_err(|problem| BatchError::Framing {
        target: transport.describe(),
        expected: commands.len(),
        problem,
        status: out.status,
        detail: out.first_error_line(),
    })
}

/// Cuts the framed stream into per-command outputs.
pub fn split(stream: &[u8], expected: usize) -> Result<Vec<ExecOutput>, String> {
    let mark = MARK.as_bytes();
    // Login noise (a banner, a profile's echo) may precede the first header.
    let mut pos = find(stream, mark).ok_or_else(|| "printed no results".to_string())?;
    let mut results = Vec::with_capacity(expected);
    while results.len() < expected {
        let rest = stream.get(pos..).unwrap_or_default();
        if !rest.starts_with(mark) {
            return Err(format!("stopped after {} results", results.len()));
        }
        let line_end = rest
            .iter()
            .position(|b| *b == b'\n')
            .ok_or_else(|| format!("ended inside header {}", results.len()))?;
        let header = String::from_utf8_lossy(rest.get(..line_end).unwrap_or_default());
        let fields: Vec<&str> = header.split_whitespace().collect();
        let [_, index, status, out_len, err_len] = fields.as_slice() else {
            return Err(format!("printed a malformed header `{header}`"));
        };
        let number = |s: &str| -> Result<usize, String> {
            s.parse()
                .map_err(|_| format!("printed a malformed header `{header}`"))
        };
        if number(index)? != results.len() {
            return Err(format!("printed results out of order at `{header}`"));
        }
        let status: i32 = status
            .parse()
            .map_err(|_| format!("printed a malformed header `{header}`"))?;
        let out_len = number(out_len)?;
        let err_len = number(err_len)?;
        let body = line_end.saturating_add(1);
        let out_end = body.saturating_add(out_len);
        let err_end = out_end.saturating_add(err_len);
        let (Some(stdout), Some(stderr)) = (rest.get(body..out_end), rest.get(out_end..err_end))
        else {
            return Err(format!("was cut short in result {}", results.len()));
        };
        results.push(ExecOutput {
            status,
            stdout: stdout.to_vec(),
            stderr: stderr.to_vec(),
        });
        pos = pos.saturating_add(err_end);
    }
    Ok(results)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
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

    /// Runs the script with the local /bin/sh, as the remote shell would.
    fn run_locally(commands: &[String]) -> Vec<ExecOutput> {
        let out = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(script(commands))
            .output()
            .unwrap();
        split(&out.stdout, commands.len()).unwrap()
    }

    #[test]
    fn frames_outputs_statuses_and_binary_data_exactly() {
        let commands = vec![
            "printf 'a\\nb'".to_string(),
            format!("echo {MARK} 9 9 9 9; echo oops >&2; exit 3"),
            "printf '\\000\\377'".to_string(),
            format!("printf %s {}", quote("it's  spaced")),
        ];
        let r = run_locally(&commands);
        assert_eq!(r[0].stdout, b"a\nb");
        assert_eq!(r[0].status, 0);
        assert_eq!(r[1].status, 3);
        assert_eq!(r[1].stdout, format!("{MARK} 9 9 9 9\n").as_bytes());
        assert_eq!(r[1].stderr, b"oops\n");
        assert_eq!(r[2].stdout, [0u8, 255]);
        assert_eq!(r[3].stdout, b"it's  spaced");
    }

    #[test]
    fn short_or_garbled_streams_are_errors() {
        assert!(split(b"", 1).is_err());
        assert!(split(format!("{MARK} 0 0 10 0\nabc").as_bytes(), 1).is_err());
        assert!(split(format!("{MARK} 1 0 0 0\n").as_bytes(), 1).is_err());
        assert!(split(format!("{MARK} 0 0 0 0\n").as_bytes(), 2).is_err());
        assert!(split(format!("{MARK} x y\n").as_bytes(), 1).is_err());
        let ok = split(format!("motd\n{MARK} 0 0 2 0\nhi").as_bytes(), 1).unwrap();
        assert_eq!(ok[0].stdout, b"hi");
    }
}
