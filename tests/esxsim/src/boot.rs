//! `esxsim boot`: gives a simulated host its own root and becomes its sshd.
//!
//! In a new mount namespace (private propagation), an overlay of `/` with the host's upper
//! directory becomes the host's root: whatever the host writes (`/etc/passwd`, `/etc/ntp.conf`,
//! `/scratch`, `/tmp`) lands in the upper directory, never on the machine. Kernel filesystems
//! and `/run` are bound in recursively, and the directories that must stay the machine's (the
//! host's run directory with its state, the simulator binary, the shared keys) are bound at the
//! same paths. Then `chroot` and `exec sshd -D -e -f <config>`, so the process the test harness
//! started *is* the listener. Done with system calls rather than `unshare`/`mount`/`chroot`
//! commands: eight fewer processes per host start.

use std::ffi::CString;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// What to mount and run.
pub struct Boot {
    /// The overlay's mount point, upper and work directories.
    pub merged: PathBuf,
    pub upper: PathBuf,
    pub work: PathBuf,
    /// Directories bound into the new root at their own paths.
    pub binds: Vec<PathBuf>,
    pub sshd_config: PathBuf,
}

fn c(s: &str) -> io::Result<CString> {
    CString::new(s).map_err(|_| io::Error::other(format!("{s:?} holds a NUL byte")))
}

fn cpath(p: &Path) -> io::Result<CString> {
    c(&p.display().to_string())
}

fn check(rc: libc::c_int, what: &str) -> io::Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        let e = io::Error::last_os_error();
        Err(io::Error::new(e.kind(), format!("{what}: {e}")))
    }
}

fn mount(
    source: Option<&CString>,
    target: &CString,
    fstype: Option<&CString>,
    flags: libc::c_ulong,
    data: Option<&CString>,
    what: &str,
) -> io::Result<()> {
    let ptr = |c: Option<&CString>| c.map_or(std::ptr::null(), |c| c.as_ptr());
    // SAFETY: every pointer is null or a NUL-terminated string that outlives the call.
    let rc = unsafe {
        libc::mount(
            ptr(source),
            target.as_ptr(),
            ptr(fstype),
            flags,
            ptr(data).cast(),
        )
    };
    check(rc, what)
}

/// Inside `merged`, the path `p` has in the machine's root.
fn inside(merged: &Path, p: &Path) -> PathBuf {
    merged.join(p.strip_prefix("/").unwrap_or(p))
}

impl Boot {
    /// Sets up the namespace and execs sshd; returns only on failure.
    pub fn run(&self) -> io::Error {
        match self.prepare() {
            Ok(()) => self.exec(),
            Err(e) => e,
        }
    }

    fn prepare(&self) -> io::Result<()> {
        for p in [&self.upper, &self.work] {
            if p.display().to_string().contains([',', ':']) {
                return Err(io::Error::other(format!(
                    "{}: overlay directories cannot hold ',' or ':'",
                    p.display()
                )));
            }
        }
        // SAFETY: unshare(2) only changes this process's namespaces.
        check(unsafe { libc::unshare(libc::CLONE_NEWNS) }, "unshare")?;
        let root = c("/")?;
        mount(
            None,
            &root,
            None,
            libc::MS_REC | libc::MS_PRIVATE,
            None,
            "make / private",
        )?;
        let merged = cpath(&self.merged)?;
        let options = c(&format!(
            "lowerdir=/,upperdir={},workdir={}",
            self.upper.display(),
            self.work.display()
        ))?;
        let overlay = c("overlay")?;
        mount(
            Some(&overlay),
            &merged,
            Some(&overlay),
            0,
            Some(&options),
            "mount the overlay",
        )?;
        for fs in ["/proc", "/sys", "/dev", "/run"] {
            let src = c(fs)?;
            let dst = cpath(&inside(&self.merged, Path::new(fs)))?;
            mount(
                Some(&src),
                &dst,
                None,
                libc::MS_BIND | libc::MS_REC,
                None,
                &format!("bind {fs}"),
            )?;
        }
        for p in &self.binds {
            let dst = inside(&self.merged, p);
            fs::create_dir_all(&dst)?;
            mount(
                Some(&cpath(p)?),
                &cpath(&dst)?,
                None,
                libc::MS_BIND,
                None,
                &format!("bind {}", p.display()),
            )?;
        }
        // SAFETY: chroot(2)/chdir(2) with valid NUL-terminated paths.
        check(unsafe { libc::chroot(merged.as_ptr()) }, "chroot")?;
        check(unsafe { libc::chdir(root.as_ptr()) }, "chdir /")
    }

    fn exec(&self) -> io::Error {
        use std::os::unix::process::CommandExt;
        std::process::Command::new("/usr/sbin/sshd")
            .arg("-D")
            .arg("-e")
            .arg("-f")
            .arg(&self.sshd_config)
            .exec()
    }
}
