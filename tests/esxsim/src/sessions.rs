//! The sshd processes serving the simulated host, found through `/proc`, so the simulator can
//! drop a connection (kill the session's sshd) or play a reboot (pause the listener), and the
//! fixture can stop a host and everything it started.

use std::fs;

/// The parent of `pid`, from `/proc/<pid>/stat` (the field after the parenthesised command).
pub fn parent(pid: u32) -> Option<u32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rsplit_once(')')?.1;
    after.split_whitespace().nth(1)?.parse().ok()
}

/// When `pid` started, in clock ticks since boot: with the pid, it names one process even after
/// the pid is reused.
pub fn start_time(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rsplit_once(')')?.1;
    // Field 22 of stat; the 20th after the command name.
    after.split_whitespace().nth(19)?.parse().ok()
}

/// The command name of `pid` (`sshd`, `sh`, …).
pub fn comm(pid: u32) -> Option<String> {
    fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|s| s.trim().to_string())
}

/// Every process on the machine.
pub fn all() -> Vec<u32> {
    fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Processes whose parent is `pid`.
pub fn children(pid: u32) -> Vec<u32> {
    all()
        .into_iter()
        .filter(|p| parent(*p) == Some(pid))
        .collect()
}

/// The mount namespace of `pid` (`mnt:[4026532…]`): a simulated host's processes share one.
pub fn mount_ns(pid: u32) -> Option<String> {
    fs::read_link(format!("/proc/{pid}/ns/mnt"))
        .ok()
        .map(|p| p.display().to_string())
}

/// Every process below `pid`, deepest first (so parents outlive their children and reap them).
pub fn descendants(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for child in children(pid) {
        out.extend(descendants(child));
        out.push(child);
    }
    out
}

pub fn signal(pid: u32, sig: i32) {
    let Ok(pid) = i32::try_from(pid) else {
        return;
    };
    if pid > 1 {
        // SAFETY: kill(2) with a positive pid only sends a signal; no memory is involved.
        unsafe {
            libc::kill(pid, sig);
        }
    }
}

/// The listener's pid from its pid file, if it is a live sshd.
pub fn listener(pid_file: &str) -> Option<u32> {
    if pid_file.is_empty() {
        return None;
    }
    let pid: u32 = fs::read_to_string(pid_file).ok()?.trim().parse().ok()?;
    (comm(pid).as_deref() == Some("sshd")).then_some(pid)
}

/// Drops the SSH connection this process runs in: kills every sshd between it and the listener
/// (the privileged monitor and the network child), so the client sees the connection go.
pub fn drop_own_connection(pid_file: &str) {
    let top = listener(pid_file);
    let mut pid = std::process::id();
    let mut doomed = Vec::new();
    for _ in 0..64 {
        let Some(p) = parent(pid) else { break };
        if p <= 1 || Some(p) == top {
            break;
        }
        if comm(p).as_deref() == Some("sshd") {
            doomed.push(p);
        }
        pid = p;
    }
    // Without a known listener the topmost sshd is the listener: spare it.
    if top.is_none() {
        doomed.pop();
    }
    for p in doomed {
        signal(p, libc::SIGKILL);
    }
}
