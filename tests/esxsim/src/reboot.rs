//! The simulated reboot after `restore_config`.
//!
//! A detached helper (`esxsim reboot <pid-file> <ms>`) waits a moment so the command's own reply
//! gets out, then pauses the sshd listener (SIGSTOP: new connections hang, as with a host that
//! is down) and kills every session it serves (existing connections drop), and after `ms`
//! resumes the listener. The state was already replaced before; the host "comes back" with it.

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::sessions;

/// How long the helper waits before taking the host down, so the restore command's exit status
/// reaches the client first.
const GRACE: Duration = Duration::from_millis(150);

/// Starts the helper, detached from this session (its own process group, no stdio).
pub fn schedule(pid_file: &str, ms: u64) {
    if pid_file.is_empty() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let _ = Command::new(exe)
        .arg0("esxsim")
        .args(["reboot", pid_file, &ms.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn();
}

/// The helper's body.
pub fn run(pid_file: &str, ms: u64) {
    std::thread::sleep(GRACE);
    let Some(listener) = sessions::listener(pid_file) else {
        return;
    };
    sessions::signal(listener, libc::SIGSTOP);
    let me = std::process::id();
    for p in sessions::descendants(listener)
        .into_iter()
        .filter(|p| *p != me)
    {
        sessions::signal(p, libc::SIGKILL);
    }
    std::thread::sleep(Duration::from_millis(ms));
    // Only resume the process we paused (the pid may not have been reused while stopped).
    if sessions::listener(pid_file) == Some(listener) {
        sessions::signal(listener, libc::SIGCONT);
    }
}
