//! Simulated ESXi hosts behind real OpenSSH sshd processes, for end-to-end tests.
//!
//! [`SimHost::start`] gives a host: an `sshd -D -e` on a free loopback port, answering as root
//! with a key ([`SimHost::identity`]), a password ([`SimHost::password`]) or keyboard-interactive
//! (per [`Auth`]), whose sessions run the `esxsim` simulator as `esxcli` and `vim-cmd`. Its host
//! keys are in [`SimHost::known_hosts`]; its state is [`SimHost::state`] / [`SimHost::modify`].
//! [`Fleet::start`] starts many in parallel. Dropping a host kills its sshd and everything it
//! started, and waits for them (no zombies, nothing left running).
//!
//! Each host runs in a private mount namespace over an overlay of `/` (`esxsim boot`): the host
//! gets its own `/etc/passwd` and `/etc/shadow` (root's shell is `/bin/sh`, as on ESXi, which
//! also keeps logins fast), `/etc/ntp.conf`, `/scratch` and `/tmp`, and nothing it writes
//! reaches the machine. Paths the host sees map to [`SimHost::host_path`] outside. This needs
//! root and an overlay-capable filesystem under the temp directory (not overlayfs itself).
//!
//! Keys are made once into `target/esxsim-fixture/keys` and shared: the user's ed25519 and
//! PEM RSA keys, an RSA host key and a pool of ECDSA host keys handed out in turn. The simulator
//! binary is built on first use when missing or older than its sources ([`esxsim_binary`]).
//!
//! ```ignore
//! let host = SimHost::start(SimOptions::default())?;
//! let out = host.ssh("esxcli system version get");
//! assert!(String::from_utf8_lossy(&out.stdout).contains("Version: 8.0.2"));
//! host.modify(|st| st.maintenance_mode = true);
//! ```
#![allow(dead_code)] // each test binary uses part of the fixtures

use std::fs;
use std::io::{self, Read};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

// Re-exported for the tests that build hosts; each test file uses a different part.
#[allow(unused_imports)]
pub use esxforge_esxsim::seed::{Seed, SharedDatastore};
#[allow(unused_imports)]
pub use esxforge_esxsim::state::{Corruption, DropRule, FailRule, Faults, Knobs, SlowRule, State};
use esxforge_esxsim::store::Store;

/// The password every simulated host accepts for root (password and keyboard-interactive).
pub const PASSWORD: &str = "Esxsim-Pass-1!";

/// How clients may log in (public keys always work).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Auth {
    /// Public keys only.
    #[default]
    PublicKey,
    /// Also `password` (`PasswordAuthentication yes`).
    Password,
    /// Also keyboard-interactive through PAM (`UsePAM yes`): ESXi's default, prompt `Password: `.
    KeyboardInteractive,
}

/// What to start.
#[derive(Debug, Clone, Default)]
pub struct SimOptions {
    /// The host to generate; ignored when `state` is given.
    pub seed: Seed,
    /// A complete host instead of a generated one.
    pub state: Option<State>,
    pub auth: Auth,
    /// Faults to inject from the start (see [`Faults`]).
    pub faults: Faults,
    pub knobs: Option<Knobs>,
    /// A fixed port (e.g. to bring a host back with new keys where an old one was); free one if
    /// `None`.
    pub port: Option<u16>,
}

impl SimOptions {
    /// A default host of a release (`6.7`, `7.0`, `7.0.0`, `8.0`).
    pub fn version(version: &str) -> SimOptions {
        SimOptions {
            seed: Seed {
                version: version.into(),
                ..Seed::default()
            },
            ..SimOptions::default()
        }
    }
}

fn err(msg: impl Into<String>) -> io::Error {
    io::Error::other(msg.into())
}

fn run(cmd: &mut Command, what: &str) -> io::Result<Output> {
    let out = cmd
        .output()
        .map_err(|e| err(format!("{what}: cannot run: {e}")))?;
    if !out.status.success() {
        return Err(err(format!(
            "{what}: {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(out)
}

/// `target/<profile>` of the running test.
fn profile_dir() -> io::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    // target/<profile>/deps/<test binary>
    exe.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .ok_or_else(|| err(format!("cannot place {}", exe.display())))
}

fn newest_source(dir: &Path) -> Option<SystemTime> {
    let mut newest = None;
    for e in fs::read_dir(dir).ok()?.flatten() {
        let p = e.path();
        let t = if p.is_dir() {
            newest_source(&p)
        } else {
            e.metadata().and_then(|m| m.modified()).ok()
        };
        newest = newest.max(t);
    }
    newest
}

/// The simulator binary, built once per test process when it is missing or older than its
/// sources (`cargo build -p esxforge-esxsim`, into this test's own target directory).
pub fn esxsim_binary() -> io::Result<PathBuf> {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BIN.get_or_init(|| {
        let profile = profile_dir().map_err(|e| e.to_string())?;
        let bin = profile.join("esxsim");
        let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/esxsim");
        let built = fs::metadata(&bin).and_then(|m| m.modified()).ok();
        let stale = match (built, newest_source(&crate_dir)) {
            (Some(b), Some(src)) => src > b,
            (Some(_), None) => false,
            (None, _) => true,
        };
        if stale {
            let target = profile
                .parent()
                .ok_or("the profile directory has no parent")?
                .to_path_buf();
            let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
            cmd.args([
                "build",
                "--quiet",
                "-p",
                "esxforge-esxsim",
                "--bin",
                "esxsim",
            ])
            .env("CARGO_TARGET_DIR", &target)
            .current_dir(env!("CARGO_MANIFEST_DIR"));
            if profile.file_name().is_some_and(|n| n == "release") {
                cmd.arg("--release");
            }
            run(&mut cmd, "cargo build -p esxforge-esxsim").map_err(|e| e.to_string())?;
        }
        Ok(bin)
    })
    .clone()
    .map_err(err)
}

/// ECDSA host keys made ahead, handed out in turn so hosts started one after the other (even on
/// the same port) present different keys.
const HOST_KEYS: usize = 32;

/// Keys shared by every host of every test process: user keys, one RSA host key and a pool of
/// ECDSA host keys (slow to make under load), and root's password hash; generated once into
/// `target/esxsim-fixture/keys`.
struct Keys {
    dir: PathBuf,
    shadow_hash: String,
}

fn keys() -> io::Result<&'static Keys> {
    static KEYS: OnceLock<Result<Keys, String>> = OnceLock::new();
    KEYS.get_or_init(|| make_keys().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| err(e.clone()))
}

fn make_keys() -> io::Result<Keys> {
    let dir = profile_dir()?
        .parent()
        .ok_or_else(|| err("no target directory"))?
        .join("esxsim-fixture/keys");
    if !dir.join("complete").exists() {
        // Build in a private directory and rename it into place: concurrent test processes
        // never see half a key set.
        let parent = dir.parent().ok_or_else(|| err("no fixture directory"))?;
        fs::create_dir_all(parent)?;
        let tmp = tempfile::Builder::new()
            .prefix("keys.")
            .tempdir_in(parent)?;
        let t = tmp.path();
        let mut jobs: Vec<(String, &[&str])> = vec![
            ("id_ed25519".into(), &["-t", "ed25519"][..]),
            (
                "id_rsa".into(),
                &["-t", "rsa", "-b", "3072", "-m", "PEM"][..],
            ),
            ("ssh_host_rsa_key".into(), &["-t", "rsa", "-b", "3072"][..]),
        ];
        for i in 0..HOST_KEYS {
            jobs.push((format!("ssh_host_ecdsa_key.{i:02}"), &["-t", "ecdsa"][..]));
        }
        let children = jobs
            .iter()
            .map(|(file, args)| {
                Command::new("ssh-keygen")
                    .args(["-q", "-N", "", "-C", "esxsim"])
                    .args(*args)
                    .arg("-f")
                    .arg(t.join(file))
                    .stderr(Stdio::piped())
                    .spawn()
                    .map_err(|e| err(format!("ssh-keygen: {e}")))
            })
            .collect::<io::Result<Vec<_>>>()?;
        for child in children {
            let out = child.wait_with_output()?;
            if !out.status.success() {
                return Err(err(format!(
                    "ssh-keygen: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                )));
            }
        }
        let mut child = Command::new("openssl")
            .args(["passwd", "-6", "-stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| err(format!("openssl passwd: {e}")))?;
        if let Some(mut stdin) = child.stdin.take() {
            use std::io::Write;
            stdin.write_all(PASSWORD.as_bytes())?;
        }
        let out = child.wait_with_output()?;
        fs::write(t.join("shadow_hash"), &out.stdout)?;
        fs::write(t.join("complete"), b"")?;
        let kept = tmp.keep();
        if fs::rename(&kept, &dir).is_err() {
            // Another process won the race; use its keys.
            let _ = fs::remove_dir_all(&kept);
        }
    }
    let shadow_hash = fs::read_to_string(dir.join("shadow_hash"))?
        .trim()
        .to_string();
    if !shadow_hash.starts_with("$6$") {
        return Err(err(format!("{}: no password hash", dir.display())));
    }
    Ok(Keys { dir, shadow_hash })
}

fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A simulated ESXi host behind its own sshd.
pub struct SimHost {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
    store: Store,
    keys: PathBuf,
    /// This host's ECDSA key (its `.pub` goes into known_hosts).
    host_key: PathBuf,
    auth: Auth,
}

impl SimHost {
    /// Starts a host: writes its state, prepares its root overlay, starts sshd and waits until
    /// it answers with an SSH banner.
    pub fn start(opts: SimOptions) -> io::Result<SimHost> {
        let bin = esxsim_binary()?;
        let keys = keys()?;
        let dir = tempfile::Builder::new().prefix("esxsim.").tempdir()?;
        let d = dir.path();
        let run_dir = d.join("run");
        let upper = d.join("upper");
        for sub in ["bin", "home"] {
            fs::create_dir_all(run_dir.join(sub))?;
        }
        for sub in ["etc/init.d", "scratch/downloads", "tmp"] {
            fs::create_dir_all(upper.join(sub))?;
        }
        fs::create_dir_all(d.join("work"))?;
        fs::create_dir_all(d.join("merged"))?;
        fs::set_permissions(upper.join("tmp"), fs::Permissions::from_mode(0o1777))?;

        // The commands sessions find on their PATH.
        for name in [
            "esxcli",
            "vim-cmd",
            "vmware",
            "chkconfig",
            "esxsim-sftp",
            "scp",
            "cat",
            "esxsim",
        ] {
            symlink(&bin, run_dir.join("bin").join(name))?;
        }
        symlink(&bin, upper.join("etc/init.d/ntpd"))?;

        // root with /bin/sh and the known password, on this host only.
        let passwd = fs::read_to_string("/etc/passwd")?;
        let passwd: String = passwd
            .lines()
            .map(|l| {
                if l.starts_with("root:") {
                    "root:x:0:0:root:/:/bin/sh".to_string()
                } else {
                    l.to_string()
                }
            })
            .map(|l| l + "\n")
            .collect();
        fs::write(upper.join("etc/passwd"), passwd)?;
        let shadow = fs::read_to_string("/etc/shadow")?;
        let shadow: String = shadow
            .lines()
            .map(|l| match l.strip_prefix("root:") {
                Some(rest) => {
                    let tail = rest.split_once(':').map(|(_, t)| t).unwrap_or("");
                    format!("root:{}:{tail}", keys.shadow_hash)
                }
                None => l.to_string(),
            })
            .map(|l| l + "\n")
            .collect();
        fs::write(upper.join("etc/shadow"), shadow)?;
        fs::set_permissions(upper.join("etc/shadow"), fs::Permissions::from_mode(0o640))?;

        // Host keys as ESXi has them, ECDSA and RSA: the next ECDSA key of the pool (so two
        // hosts in a row never share one) and the shared RSA key.
        static NEXT_KEY: AtomicUsize = AtomicUsize::new(0);
        let k =
            (NEXT_KEY.fetch_add(1, Ordering::Relaxed) + std::process::id() as usize) % HOST_KEYS;
        let ecdsa = keys.dir.join(format!("ssh_host_ecdsa_key.{k:02}"));
        let mut authorized = fs::read_to_string(keys.dir.join("id_ed25519.pub"))?;
        authorized.push_str(&fs::read_to_string(keys.dir.join("id_rsa.pub"))?);
        fs::write(run_dir.join("authorized_keys"), authorized)?;

        // The simulated host.
        let mut state = match opts.state {
            Some(s) => s,
            None => esxforge_esxsim::seed::generate(&opts.seed).map_err(|e| err(e.to_string()))?,
        };
        state.faults = merge_faults(state.faults, opts.faults);
        if let Some(k) = opts.knobs {
            state.knobs = k;
        }
        state.paths.scratch = "/scratch".into();
        state.paths.ntp_conf = "/etc/ntp.conf".into();
        state.paths.sshd_pid_file = run_dir.join("sshd.pid").display().to_string();
        let state_file = run_dir.join("state.json");
        let store = Store::new(&state_file).with_root(&upper);
        store.write(&state).map_err(|e| err(e.to_string()))?;

        let mut last = String::new();
        for _ in 0..5 {
            let port = match opts.port {
                Some(p) => p,
                None => free_port()?,
            };
            write_config(&run_dir, &keys.dir, &ecdsa, port, opts.auth, &state_file)?;
            match launch(d, &run_dir, &bin, &keys.dir, port) {
                Ok(child) => {
                    let host = SimHost {
                        child,
                        dir,
                        port,
                        store,
                        keys: keys.dir.clone(),
                        host_key: ecdsa,
                        auth: opts.auth,
                    };
                    host.write_known_hosts()?;
                    return Ok(host);
                }
                Err(e) => {
                    last = e.to_string();
                    // Another process took the port between probing and binding: try another.
                    if opts.port.is_some() || !last.contains("Address already in use") {
                        break;
                    }
                }
            }
        }
        Err(err(last))
    }

    fn run_dir(&self) -> PathBuf {
        self.dir.path().join("run")
    }

    fn write_known_hosts(&self) -> io::Result<()> {
        let mut lines = String::new();
        for key in [
            self.host_key.with_extension(format!(
                "{}.pub",
                self.host_key
                    .extension()
                    .and_then(|e| e.to_str())
                    .unwrap_or("")
            )),
            self.keys.join("ssh_host_rsa_key.pub"),
        ] {
            let text = fs::read_to_string(&key)?;
            let mut words = text.split_whitespace();
            let (Some(kind), Some(b64)) = (words.next(), words.next()) else {
                return Err(err(format!("{}: not a public key", key.display())));
            };
            lines.push_str(&format!("[127.0.0.1]:{} {kind} {b64}\n", self.port));
        }
        fs::write(self.known_hosts(), lines)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn address(&self) -> &'static str {
        "127.0.0.1"
    }

    pub fn user(&self) -> &'static str {
        "root"
    }

    /// The sshd listener's pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn auth(&self) -> Auth {
        self.auth
    }

    /// An OpenSSH known_hosts file with this host's keys (ECDSA and RSA) as `[127.0.0.1]:port`.
    pub fn known_hosts(&self) -> PathBuf {
        self.run_dir().join("known_hosts")
    }

    /// The private key root logs in with (ed25519, OpenSSH format).
    pub fn identity(&self) -> PathBuf {
        self.keys.join("id_ed25519")
    }

    /// The same user as an RSA key in PEM format (what older libssh2 builds load).
    pub fn identity_rsa(&self) -> PathBuf {
        self.keys.join("id_rsa")
    }

    /// root's password (accepted when [`Auth::Password`] or [`Auth::KeyboardInteractive`]).
    pub fn password(&self) -> &'static str {
        PASSWORD
    }

    /// The state file (what the simulator reads and writes).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The host as it is now.
    pub fn state(&self) -> State {
        self.store
            .read()
            .unwrap_or_else(|e| panic!("simulated host on port {}: {e}", self.port))
    }

    /// Changes the host directly (not through SSH), e.g. to set up a fault or a VM.
    pub fn modify(&self, f: impl FnOnce(&mut State)) {
        self.store
            .update(f)
            .unwrap_or_else(|e| panic!("simulated host on port {}: {e}", self.port));
    }

    /// Where a path of the host (`/scratch/downloads/…`, `/tmp/x`) is on this machine.
    pub fn host_path(&self, path: &str) -> PathBuf {
        self.dir
            .path()
            .join("upper")
            .join(path.trim_start_matches('/'))
    }

    /// sshd's log (LogLevel VERBOSE).
    pub fn log(&self) -> String {
        fs::read_to_string(self.run_dir().join("sshd.log")).unwrap_or_default()
    }

    /// An OpenSSH client command logged in with [`SimHost::identity`] and checking the host key
    /// against [`SimHost::known_hosts`]; append the remote command.
    pub fn ssh_command(&self) -> Command {
        let mut c = Command::new("ssh");
        c.args(["-p", &self.port.to_string(), "-i"])
            .arg(self.identity())
            .arg("-o")
            .arg(format!(
                "UserKnownHostsFile={}",
                self.known_hosts().display()
            ))
            .args([
                "-o",
                "StrictHostKeyChecking=yes",
                "-o",
                "BatchMode=yes",
                "-o",
                "IdentitiesOnly=yes",
                "-o",
                "ConnectTimeout=10",
                "-o",
                "LogLevel=ERROR",
                "root@127.0.0.1",
            ])
            .stdin(Stdio::null());
        c
    }

    /// Runs one command over SSH with the OpenSSH client.
    pub fn ssh(&self, command: &str) -> Output {
        self.ssh_command()
            .arg(command)
            .output()
            .unwrap_or_else(|e| panic!("cannot run ssh: {e}"))
    }

    /// Every process of this host (sshd and whatever its sessions started), by mount namespace.
    pub fn processes(&self) -> Vec<u32> {
        let Some(ns) = mount_ns(self.child.id()) else {
            return Vec::new();
        };
        all_pids()
            .into_iter()
            .filter(|p| mount_ns(*p).as_deref() == Some(ns.as_str()))
            .collect()
    }

    /// Kills the host's processes, deepest first so their parents reap them, then sshd.
    fn shutdown(&mut self) {
        stop(&mut self.child);
    }
}

impl Drop for SimHost {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Starts sshd on `port` and waits for its banner; on failure stops it and returns its log.
fn launch(d: &Path, run_dir: &Path, bin: &Path, keys: &Path, port: u16) -> io::Result<Child> {
    let mut child = spawn(d, run_dir, bin, keys)?;
    let deadline = Instant::now() + Duration::from_secs(10);
    let failure = loop {
        if let Some(status) = child.try_wait()? {
            break format!("sshd exited with {status}");
        }
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            s.set_read_timeout(Some(Duration::from_secs(5)))?;
            let mut banner = [0u8; 8];
            if s.read_exact(&mut banner).is_ok() && banner.starts_with(b"SSH-2.0") {
                return Ok(child);
            }
        }
        if Instant::now() > deadline {
            break "sshd did not answer within 10 s".to_string();
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    stop(&mut child);
    let log = fs::read_to_string(run_dir.join("sshd.log")).unwrap_or_default();
    Err(err(format!("{failure}; sshd said: {}", log.trim())))
}

/// Kills everything in the listener's mount namespace, children before parents (so sshd reaps
/// its sessions), resuming a listener paused by a simulated reboot first; then sshd itself,
/// which we wait for.
fn stop(child: &mut Child) {
    let listener = child.id();
    if child.try_wait().ok().flatten().is_some() {
        return;
    }
    signal(listener, libc::SIGCONT);
    let Some(ns) = mount_ns(listener) else {
        let _ = child.kill();
        let _ = child.wait();
        return;
    };
    // One level at a time, deepest first, waiting for each level to be reaped by its (still
    // living) parents: no process is orphaned, so none lingers as a zombie.
    for _ in 0..64 {
        let others: Vec<u32> = all_pids()
            .into_iter()
            .filter(|p| *p != listener && mount_ns(*p).as_deref() == Some(ns.as_str()))
            .collect();
        let depths: Vec<(u32, u32)> = others.iter().map(|p| (depth(listener, *p), *p)).collect();
        let Some(deepest) = depths.iter().map(|(d, _)| *d).max() else {
            break;
        };
        let level: Vec<u32> = depths
            .iter()
            .filter(|(d, _)| *d == deepest)
            .map(|(_, p)| *p)
            .collect();
        for p in &level {
            signal(*p, libc::SIGKILL);
        }
        let deadline = Instant::now() + Duration::from_millis(500);
        while level
            .iter()
            .any(|p| Path::new(&format!("/proc/{p}")).exists())
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    signal(listener, libc::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match child.try_wait() {
            Ok(Some(_)) | Err(_) => break,
            Ok(None) if Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

fn merge_faults(mut a: Faults, b: Faults) -> Faults {
    a.fail.extend(b.fail);
    a.slow.extend(b.slow);
    if b.drop_transfer.is_some() {
        a.drop_transfer = b.drop_transfer;
    }
    if b.corrupt_bundle.is_some() {
        a.corrupt_bundle = b.corrupt_bundle;
    }
    a
}

fn write_config(
    run_dir: &Path,
    keys: &Path,
    ecdsa: &Path,
    port: u16,
    auth: Auth,
    state: &Path,
) -> io::Result<()> {
    let r = run_dir.display();
    let yes = |b: bool| if b { "yes" } else { "no" };
    let config = format!(
        "Port {port}\n\
         ListenAddress 127.0.0.1\n\
         HostKey {ecdsa}\n\
         HostKey {keys}/ssh_host_rsa_key\n\
         PidFile {r}/sshd.pid\n\
         AuthorizedKeysFile {r}/authorized_keys\n\
         StrictModes no\n\
         UsePAM {pam}\n\
         PermitRootLogin yes\n\
         PubkeyAuthentication yes\n\
         PasswordAuthentication {password}\n\
         KbdInteractiveAuthentication {kbd}\n\
         AllowTcpForwarding no\n\
         X11Forwarding no\n\
         PrintMotd no\n\
         PrintLastLog no\n\
         UseDNS no\n\
         KexAlgorithms curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,diffie-hellman-group14-sha256\n\
         MaxStartups 200:30:400\n\
         MaxSessions 100\n\
         SetEnv PATH={r}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin ESXSIM_STATE={state}\n\
         Subsystem sftp {r}/bin/esxsim-sftp\n\
         LogLevel VERBOSE\n",
        keys = keys.display(),
        ecdsa = ecdsa.display(),
        state = state.display(),
        pam = yes(auth == Auth::KeyboardInteractive),
        password = yes(auth == Auth::Password),
        kbd = yes(auth == Auth::KeyboardInteractive),
    );
    fs::write(run_dir.join("sshd_config"), config)
}

/// `esxsim boot`: a private mount namespace, an overlay of `/` as the host's root, then
/// `exec sshd -D -e` in it, so the spawned child *is* sshd.
fn spawn(d: &Path, run_dir: &Path, bin: &Path, keys: &Path) -> io::Result<Child> {
    use std::os::unix::process::CommandExt;
    // Paths that must be the real ones inside: the run directory (state, config, sshd.pid), the
    // simulator binary and the shared keys.
    let bin_dir = bin.parent().unwrap_or(Path::new("/"));
    let log = fs::File::create(run_dir.join("sshd.log"))?;
    Command::new(bin)
        .arg0("esxsim")
        .arg("boot")
        .args([d.join("merged"), d.join("upper"), d.join("work")])
        .arg(run_dir.join("sshd_config"))
        .args([run_dir, bin_dir, keys])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| err(format!("esxsim boot: {e}")))
}

fn all_pids() -> Vec<u32> {
    fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

fn mount_ns(pid: u32) -> Option<String> {
    fs::read_link(format!("/proc/{pid}/ns/mnt"))
        .ok()
        .map(|p| p.display().to_string())
}

fn parent_of(pid: u32) -> Option<u32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// How many parents `pid` has below `root` (processes not under it count as deepest).
fn depth(root: u32, mut pid: u32) -> u32 {
    let mut d = 0;
    while pid != root && d < 64 {
        match parent_of(pid) {
            Some(p) if p > 1 => pid = p,
            _ => return 64,
        }
        d += 1;
    }
    d
}

fn signal(pid: u32, sig: i32) {
    if let Some(pid) = i32::try_from(pid).ok().filter(|p| *p > 1) {
        // SAFETY: kill(2) only sends a signal to a process we started (or its descendants).
        unsafe {
            libc::kill(pid, sig);
        }
    }
}

/// Many hosts, started in parallel.
pub struct Fleet {
    hosts: Vec<SimHost>,
    dir: tempfile::TempDir,
}

impl Fleet {
    /// Starts `n` hosts; host `i` gets `options(i)`. [`Fleet::seed`] gives distinct defaults.
    pub fn start(n: usize, options: impl Fn(usize) -> SimOptions + Sync) -> io::Result<Fleet> {
        let results: Mutex<Vec<(usize, io::Result<SimHost>)>> = Mutex::new(Vec::new());
        let workers = n.clamp(1, 8);
        std::thread::scope(|s| {
            for w in 0..workers {
                let (results, options) = (&results, &options);
                s.spawn(move || {
                    for i in (w..n).step_by(workers) {
                        let r = SimHost::start(options(i));
                        if let Ok(mut all) = results.lock() {
                            all.push((i, r));
                        }
                    }
                });
            }
        });
        let mut all = results
            .into_inner()
            .map_err(|_| err("a fleet worker panicked"))?;
        all.sort_by_key(|(i, _)| *i);
        let hosts = all
            .into_iter()
            .map(|(_, r)| r)
            .collect::<io::Result<Vec<_>>>()?;
        let dir = tempfile::Builder::new().prefix("esxsim-fleet.").tempdir()?;
        let mut known = String::new();
        for h in &hosts {
            known.push_str(&fs::read_to_string(h.known_hosts())?);
        }
        fs::write(dir.path().join("known_hosts"), known)?;
        Ok(Fleet { hosts, dir })
    }

    /// Distinct default hosts: `esx01`, `esx02`, … with management IPs 10.0.0.11, .12, …, all
    /// sharing the default shared datastore.
    pub fn seed(i: usize) -> Seed {
        Seed {
            name: format!("esx{:02}", i + 1),
            management_ip: format!("10.0.{}.{}", 10 + i / 200, 11 + i % 200),
            ..Seed::default()
        }
    }

    pub fn hosts(&self) -> &[SimHost] {
        &self.hosts
    }

    /// One known_hosts file for every host of the fleet.
    pub fn known_hosts(&self) -> PathBuf {
        self.dir.path().join("known_hosts")
    }
}
