//! File transfers off the simulated host, and the fault that cuts one off midway.
//!
//! sshd runs `esxsim-sftp` as its SFTP subsystem, and the host's `PATH` has `scp` and `cat`
//! shims. Without a [`crate::state::DropRule`] they become the real programs (`exec`). With one,
//! they relay the real program's output and, once `after_bytes` of a file whose path contains
//! `path_contains` went out, kill the session's sshd: the client sees the connection drop in the
//! middle of the download, as when a host reboots or a link fails.

use std::io::{self, Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::sessions;
use crate::state::DropRule;
use crate::store::Store;

const SFTP_SERVER: &str = "/usr/lib/openssh/sftp-server";
const SSH_FXP_OPEN: u8 = 3;
const SSH_FXP_READ: u8 = 5;
/// Reads are capped to this while a drop rule is armed, so a file comes back in several DATA
/// packets (clients ask for up to 255 KiB at once) and the cut lands between two of them.
const READ_CAP: u32 = 16 * 1024;
const SSH_FXP_DATA: u8 = 103;

/// The live drop rule and the sshd pid file, if the state has one.
fn armed(store: Option<&Store>) -> Option<(DropRule, String)> {
    let st = store?.read().ok()?;
    let rule = st.faults.drop_transfer?;
    (rule.times != Some(0) && !rule.path_contains.is_empty())
        .then_some((rule, st.paths.sshd_pid_file))
}

/// How long the relay waits, after its last bytes, for sshd to get them onto the wire before
/// the connection is cut (so the client really has a partial download).
const DRAIN: std::time::Duration = std::time::Duration::from_millis(200);

/// Counts the rule down and drops this connection.
fn fire(store: Option<&Store>, pid_file: &str) {
    std::thread::sleep(DRAIN);
    if let Some(store) = store {
        let _ = store.update(|st| {
            if let Some(n) = st
                .faults
                .drop_transfer
                .as_mut()
                .and_then(|r| r.times.as_mut())
            {
                *n = n.saturating_sub(1);
            }
        });
    }
    sessions::drop_own_connection(pid_file);
}

/// The real program for a shim, outside the simulator's own bin directory.
fn real(name: &str) -> Option<String> {
    ["/usr/bin", "/bin", "/usr/sbin", "/sbin"]
        .iter()
        .map(|d| format!("{d}/{name}"))
        .find(|p| std::path::Path::new(p).is_file())
}

fn exec(program: &str, argv0: &str, args: &[String]) -> ExitCode {
    let err = Command::new(program).arg0(argv0).args(args).exec();
    eprintln!("{argv0}: cannot run {program}: {err}");
    ExitCode::from(127)
}

/// `esxsim-sftp`: the SFTP subsystem.
pub fn sftp(store: Option<&Store>) -> ExitCode {
    let Some((rule, pid_file)) = armed(store) else {
        return exec(SFTP_SERVER, "sftp-server", &[]);
    };
    let Ok(mut child) = Command::new(SFTP_SERVER)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
    else {
        return ExitCode::from(127);
    };
    let (Some(mut to_server), Some(mut from_server)) = (child.stdin.take(), child.stdout.take())
    else {
        return ExitCode::from(127);
    };
    let watching = Arc::new(AtomicBool::new(false));
    let watch = Arc::clone(&watching);
    let pattern = rule.path_contains.clone();
    // Client → server: forward packet by packet, noticing the OPEN of a matching file and
    // capping READ lengths.
    std::thread::spawn(move || {
        let mut input = io::stdin().lock();
        let mut packets = Packets::default();
        let mut buf = [0u8; 32 * 1024];
        while let Ok(n) = input.read(&mut buf) {
            let Some(chunk) = buf.get(..n).filter(|c| !c.is_empty()) else {
                break;
            };
            for (kind, mut body) in packets.feed(chunk) {
                if kind == SSH_FXP_OPEN && open_path(&body).is_some_and(|p| p.contains(&pattern)) {
                    watch.store(true, Ordering::SeqCst);
                }
                if kind == SSH_FXP_READ {
                    cap_read(&mut body);
                }
                if write_packet(&mut to_server, kind, &body).is_err() {
                    return;
                }
            }
        }
    });
    // Server → client: forward whole packets, counting file data once a match was opened.
    let mut out = io::stdout().lock();
    let mut packets = Packets::default();
    let mut sent: u64 = 0;
    let mut buf = [0u8; 32 * 1024];
    while let Ok(n) = from_server.read(&mut buf) {
        let Some(chunk) = buf.get(..n).filter(|c| !c.is_empty()) else {
            break;
        };
        for (kind, body) in packets.feed(chunk) {
            if kind == SSH_FXP_DATA && watching.load(Ordering::SeqCst) {
                sent = sent.saturating_add(body.len() as u64);
                if sent > rule.after_bytes {
                    let _ = out.flush();
                    let _ = child.kill();
                    fire(store, &pid_file);
                    return ExitCode::from(1);
                }
            }
            if write_packet(&mut out, kind, &body).is_err() {
                let _ = child.kill();
                return ExitCode::from(1);
            }
        }
        let _ = out.flush();
    }
    let code = child.wait().ok().and_then(|s| s.code()).unwrap_or(1);
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

fn write_packet(w: &mut impl Write, kind: u8, body: &[u8]) -> io::Result<()> {
    let len = u32::try_from(body.len() + 1).unwrap_or(u32::MAX);
    w.write_all(&len.to_be_bytes())?;
    w.write_all(&[kind])?;
    w.write_all(body)?;
    w.flush()
}

/// Lowers the length of an SSH_FXP_READ body (`uint32 id, string handle, uint64 offset,
/// uint32 len`) to [`READ_CAP`]; servers may always return less than asked.
fn cap_read(body: &mut [u8]) {
    let Some(handle_len) = body
        .get(4..8)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(|b| u32::from_be_bytes(b) as usize)
    else {
        return;
    };
    let Some(at) = handle_len.checked_add(8 + 8) else {
        return;
    };
    let Some(field) = at.checked_add(4).and_then(|end| body.get_mut(at..end)) else {
        return;
    };
    if let Ok(asked) = <[u8; 4]>::try_from(&*field) {
        let capped = u32::from_be_bytes(asked).min(READ_CAP);
        field.copy_from_slice(&capped.to_be_bytes());
    }
}

/// The file name of an SSH_FXP_OPEN body (`uint32 id, string filename, …`).
fn open_path(body: &[u8]) -> Option<String> {
    let len = u32::from_be_bytes(body.get(4..8)?.try_into().ok()?) as usize;
    let name = body.get(8..8usize.checked_add(len)?)?;
    Some(String::from_utf8_lossy(name).into_owned())
}

/// Splits an SFTP byte stream into (type, body) packets.
#[derive(Default)]
struct Packets {
    pending: Vec<u8>,
}

impl Packets {
    fn feed(&mut self, bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
        self.pending.extend_from_slice(bytes);
        let mut out = Vec::new();
        while let Some(len) = self
            .pending
            .get(..4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(|b| u32::from_be_bytes(b) as usize)
        {
            let Some(total) = len.checked_add(4) else {
                break;
            };
            if len == 0 || self.pending.len() < total {
                break;
            }
            let packet: Vec<u8> = self.pending.drain(..total).collect();
            if let (Some(kind), Some(body)) = (packet.get(4), packet.get(5..)) {
                out.push((*kind, body.to_vec()));
            }
        }
        out
    }
}

/// Relays a real program's stdout and drops the connection after `after_bytes`.
fn relay_and_cut(
    program: &str,
    argv0: &str,
    args: &[String],
    rule: &DropRule,
    store: Option<&Store>,
    pid_file: &str,
) -> ExitCode {
    let Ok(mut child) = Command::new(program)
        .arg0(argv0)
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
    else {
        return ExitCode::from(127);
    };
    let Some(mut from) = child.stdout.take() else {
        return ExitCode::from(127);
    };
    let mut out = io::stdout().lock();
    let mut left = rule.after_bytes;
    let mut buf = [0u8; 16 * 1024];
    while let Ok(n) = from.read(&mut buf) {
        let Some(chunk) = buf.get(..n).filter(|c| !c.is_empty()) else {
            break;
        };
        let take = usize::try_from(left).unwrap_or(usize::MAX).min(chunk.len());
        let _ = out.write_all(chunk.get(..take).unwrap_or_default());
        let _ = out.flush();
        left -= take as u64;
        if take < chunk.len() {
            let _ = child.kill();
            fire(store, pid_file);
            return ExitCode::from(1);
        }
    }
    let code = child.wait().ok().and_then(|s| s.code()).unwrap_or(1);
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// The `scp` shim (`scp -f <path>` is how a client pulls a file).
pub fn scp(args: &[String], store: Option<&Store>) -> ExitCode {
    let Some(program) = real("scp") else {
        eprintln!("scp: not installed");
        return ExitCode::from(127);
    };
    match armed(store) {
        Some((rule, pid_file))
            if args.iter().any(|a| a == "-f")
                && args.iter().any(|a| a.contains(&rule.path_contains)) =>
        {
            relay_and_cut(&program, "scp", args, &rule, store, &pid_file)
        }
        _ => exec(&program, "scp", args),
    }
}

/// The `cat` shim (`cat <bundle> | base64` is the download of last resort).
pub fn cat(args: &[String], store: Option<&Store>) -> ExitCode {
    let Some(program) = real("cat") else {
        eprintln!("cat: not installed");
        return ExitCode::from(127);
    };
    match armed(store) {
        Some((rule, pid_file)) if args.iter().any(|a| a.contains(&rule.path_contains)) => {
            relay_and_cut(&program, "cat", args, &rule, store, &pid_file)
        }
        _ => exec(&program, "cat", args),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_are_split_across_reads() {
        let mut p = Packets::default();
        let mut open = vec![0, 0, 0, 20, SSH_FXP_OPEN, 0, 0, 0, 1, 0, 0, 0, 6];
        open.extend_from_slice(b"/a/b.t");
        open.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0]);
        // 4 + 20 bytes: the header says 20 = 1 type + 19 body.
        open.truncate(24);
        let (a, b) = open.split_at(7);
        assert!(p.feed(a).is_empty());
        let got = p.feed(b);
        assert_eq!(got.len(), 1);
        assert_eq!(open_path(&got[0].1).as_deref(), Some("/a/b.t"));
    }
}
