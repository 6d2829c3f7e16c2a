//! The state file, shared by concurrent commands on one host.
//!
//! Readers take a shared lock and writers an exclusive one on `<state>.lock`; a writer puts the
//! new document in a temporary file beside the state and renames it into place, so a reader
//! never sees half a file and a crash leaves the old state.
//!
//! Before 7.0 U1, NTP servers live in `/etc/ntp.conf` ([`crate::state::Paths::ntp_conf`]), which
//! an admin (or esxforge) edits directly; the store reads it into the state on every load and
//! writes it back when the state's servers change, so both views agree.

use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::Error;
use crate::state::State;

/// A host's state file.
#[derive(Debug, Clone)]
pub struct Store {
    path: PathBuf,
    root: Option<PathBuf>,
}

impl Store {
    pub fn new(path: impl Into<PathBuf>) -> Store {
        Store {
            path: path.into(),
            root: None,
        }
    }

    /// A store used from outside the simulated host, whose `/` is the overlay's upper
    /// directory `root`: the host's own files (ntp.conf) are reached through it, and written in
    /// place rather than renamed over (an overlay does not notice a file replaced under it).
    pub fn with_root(mut self, root: impl Into<PathBuf>) -> Store {
        self.root = Some(root.into());
        self
    }

    /// A path of the host, as this process reaches it.
    fn host_file(&self, path: &str) -> PathBuf {
        match &self.root {
            Some(root) => root.join(path.trim_start_matches('/')),
            None => PathBuf::from(path),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self, exclusive: bool) -> Result<File, Error> {
        let mut name = self.path.as_os_str().to_owned();
        name.push(".lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&name)
            .map_err(|e| Error::io(&PathBuf::from(&name), e))?;
        flock(&file, exclusive).map_err(|e| Error::io(&PathBuf::from(&name), e))?;
        Ok(file)
    }

    /// The current state.
    pub fn read(&self) -> Result<State, Error> {
        let _lock = self.lock(false)?;
        self.load()
    }

    /// Runs `f` on the state under the exclusive lock and saves the result when it changed.
    pub fn update<T>(&self, f: impl FnOnce(&mut State) -> T) -> Result<T, Error> {
        let _lock = self.lock(true)?;
        let before = self.load()?;
        let mut state = before.clone();
        let result = f(&mut state);
        if state != before {
            self.save(&state, Some(&before))?;
        }
        Ok(result)
    }

    /// Replaces the state (a new host, or a test's own document).
    pub fn write(&self, state: &State) -> Result<(), Error> {
        let _lock = self.lock(true)?;
        self.save(state, None)
    }

    fn load(&self) -> Result<State, Error> {
        let text = fs::read_to_string(&self.path).map_err(|e| Error::io(&self.path, e))?;
        let mut state: State =
            serde_json::from_str(&text).map_err(|e| Error::State(self.path.clone(), e))?;
        if !state.host.version.has_esxcli_ntp() {
            // A missing file is a host with no servers configured.
            let conf =
                fs::read_to_string(self.host_file(&state.paths.ntp_conf)).unwrap_or_default();
            state.ntp.servers = ntp_conf_servers(&conf);
        }
        Ok(state)
    }

    /// Saves `state`; `before` (absent for a new host) tells whether ntp.conf must be written.
    fn save(&self, state: &State, before: Option<&State>) -> Result<(), Error> {
        let ntp_changed = before.is_none_or(|b| {
            state.ntp.servers != b.ntp.servers || state.paths.ntp_conf != b.paths.ntp_conf
        });
        if !state.host.version.has_esxcli_ntp() && ntp_changed && !state.paths.ntp_conf.is_empty() {
            let path = self.host_file(&state.paths.ntp_conf);
            let conf = render_ntp_conf(&state.ntp.servers);
            if self.root.is_some() {
                fs::write(&path, conf).map_err(|e| Error::io(&path, e))?;
            } else {
                write_atomically(&path, conf.as_bytes())?;
            }
        }
        let mut text =
            serde_json::to_string_pretty(state).map_err(|e| Error::Encode(e.to_string()))?;
        text.push('\n');
        write_atomically(&self.path, text.as_bytes())
    }
}

/// Locks `file` (released when it is closed); `File::lock` is newer than our MSRV.
fn flock(file: &File, exclusive: bool) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let op = if exclusive {
        libc::LOCK_EX
    } else {
        libc::LOCK_SH
    };
    loop {
        // SAFETY: flock(2) on a descriptor this function borrows; no memory is involved.
        if unsafe { libc::flock(file.as_raw_fd(), op) } == 0 {
            return Ok(());
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Writes `bytes` to a temporary file beside `path` and renames it over `path`.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let mut file = File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
    file.write_all(bytes).map_err(|e| Error::io(&tmp, e))?;
    drop(file);
    fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

/// The `server` lines of an ntp.conf, in order.
pub fn ntp_conf_servers(conf: &str) -> Vec<String> {
    conf.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            match words.next() {
                Some("server") => words.next().map(str::to_string),
                _ => None,
            }
        })
        .collect()
}

/// ntp.conf as ESXi 6.7 writes it.
pub fn render_ntp_conf(servers: &[String]) -> String {
    let mut conf =
        String::from("restrict default kod nomodify notrap nopeer\nrestrict 127.0.0.1\n");
    for s in servers {
        conf.push_str("server ");
        conf.push_str(s);
        conf.push('\n');
    }
    conf.push_str("driftfile /etc/ntp.drift\n");
    conf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ntp_conf_round_trip() {
        let servers = vec!["10.0.0.1".to_string(), "pool.ntp.org".to_string()];
        assert_eq!(ntp_conf_servers(&render_ntp_conf(&servers)), servers);
        assert_eq!(
            ntp_conf_servers("# server x\n  server  a iburst\n"),
            vec!["a"]
        );
    }
}
