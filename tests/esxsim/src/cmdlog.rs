//! What ran on a simulated host, as JSON lines: what a client really asked of it, for tests and
//! for the benchmark's OpenSSH loop (which replays a host's log instead of a hand-copied list).
//!
//! Two kinds of entry, in the order they happened:
//! - `{"exec": "<command line>"}`: a command line an SSH session asked for (an exec request, or
//!   the subsystem sshd starts for SFTP). Root's login shell is then `esxsim-shell`, which logs
//!   the line and `exec`s `/bin/sh` with the same arguments.
//! - `{"command": "<argv, shell-quoted>"}`: a simulated command (`esxcli …`, `vim-cmd …`,
//!   `vmware`, `chkconfig`, `/etc/init.d/ntpd`) that one of those ran.
//!
//! Logging is on when `ESXSIM_COMMAND_LOG` names the log file (sshd's `SetEnv`). Each entry is
//! one `write` to a file opened with `O_APPEND`, so concurrent sessions never interleave lines.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};

/// The environment variable naming the log file.
pub const LOG_ENV: &str = "ESXSIM_COMMAND_LOG";

/// One entry of the log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Entry {
    Exec(String),
    Command(String),
}

/// Appends `entry` to the log named by [`LOG_ENV`], if any. Best effort: a log that cannot be
/// written never fails the simulated command.
pub fn record(entry: &Entry) {
    let Some(path) = std::env::var_os(LOG_ENV).filter(|p| !p.is_empty()) else {
        return;
    };
    let Ok(mut line) = serde_json::to_vec(entry) else {
        return;
    };
    line.push(b'\n');
    if let Ok(mut file) = OpenOptions::new().create(true).append(true).open(path) {
        let _ = file.write_all(&line);
    }
}

/// A simulated command as a shell would have to be given it: `tool` then each argument,
/// quoted when it holds anything but plain word characters.
pub fn command_line(tool: &str, args: &[String]) -> String {
    std::iter::once(tool)
        .chain(args.iter().map(String::as_str))
        .map(quote)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The simulator does not borrow hostcfg's quoting: it must not share code with what it tests.
fn quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c))
    {
        return word.to_string();
    }
    format!("'{}'", word.replace('\'', "'\\''"))
}

/// `esxsim-shell`, root's login shell on a host that logs: records `-c <line>` and becomes
/// `/bin/sh` with the same arguments (a login shell when sshd asked for one).
pub fn shell(login: bool, args: &[String]) -> ExitCode {
    if let [flag, line, ..] = args {
        if flag == "-c" {
            record(&Entry::Exec(line.clone()));
        }
    }
    let err = Command::new("/bin/sh")
        .arg0(if login { "-sh" } else { "sh" })
        .args(args)
        .exec();
    eprintln!("esxsim-shell: cannot run /bin/sh: {err}");
    ExitCode::from(127)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_quote_what_a_shell_would_split() {
        let args: Vec<String> = [
            "network",
            "vswitch",
            "standard",
            "portgroup",
            "policy",
            "failover",
            "get",
            "-p",
            "Management Network",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            command_line("esxcli", &args),
            "esxcli network vswitch standard portgroup policy failover get -p 'Management Network'"
        );
        assert_eq!(
            command_line("vim-cmd", &["it's".to_string()]),
            "vim-cmd 'it'\\''s'"
        );
        assert_eq!(command_line("vmware", &[String::new()]), "vmware ''");
    }

    #[test]
    fn entries_are_one_json_object_a_line() {
        let e = Entry::Exec("printf 'a\nb'".into());
        let text = serde_json::to_string(&e).unwrap();
        assert_eq!(text, r#"{"exec":"printf 'a\nb'"}"#);
        assert_eq!(serde_json::from_str::<Entry>(&text).unwrap(), e);
        assert_eq!(
            serde_json::to_string(&Entry::Command("esxcli x".into())).unwrap(),
            r#"{"command":"esxcli x"}"#
        );
    }
}
