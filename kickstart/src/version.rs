//! ESXi releases and what each one can do.
//!
//! One [`EsxiVersion`] serves every part of the crate: the inventory's `esxi:` value, the
//! renderer's [`Dialect`], the linter's grammar, and the feature gates all of them ask
//! (`has_esxcli_ntp()`, `has_forcemigrate()`, …), so the inventory check, the kickstart written
//! and the linter reading it back can never disagree about what a release has.
//!
//! It is read from what people write: `4.1`, `6.7`, `7.0U3` (also `7.0 U3`, `7.0u3`, or
//! `7.0.3` as the builds spell it), and a whole family as `8` or `8.x`. A family stands for its
//! first release (`8.x` is 8.0, `4.x` is 4.1): what works there works on every release of it.
//!
//! ```
//! use esxforge_kickstart::version::{Dialect, EsxiVersion};
//!
//! let v: EsxiVersion = "7.0U3".parse().unwrap();
//! assert_eq!(v.dialect(), Dialect::V7);
//! assert!(v.has_esxcli_ntp());
//! assert!(!"7.x".parse::<EsxiVersion>().unwrap().has_esxcli_ntp());
//! assert_eq!("8".parse::<EsxiVersion>().unwrap().to_string(), "8.0");
//! assert!("4.0".parse::<EsxiVersion>().is_err());
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

/// An ESXi release esxforge knows, with its update (`7.0U3`: 7, 0, update 3).
///
/// The fields are private: every value is one of the [`RELEASES`](EsxiVersion::RELEASES) (with
/// any update), which is what lets the gates and the linter's grammars cover every value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EsxiVersion {
    major: u8,
    minor: u8,
    /// The update release: 3 for `7.0U3`; 0 for a GA release.
    update: u8,
}

/// The kickstart dialects the renderer writes, one per family of installers. Templates see it
/// as `dialect`, spelled as [`Dialect::as_str`] gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dialect {
    /// ESXi 4.1: `autopart` and `install <media>`, `esxcfg-*` and `vim-cmd` host commands.
    V41,
    /// ESXi 5.x and 6.x: `install --firstdisk`, `esxcli`, `ntp.conf`.
    V5,
    /// ESXi 7.x: `--forcemigrate`, components, `esxcli system ntp` from 7.0U1.
    V7,
    /// ESXi 8.x: as 7.x; Secure Boot skips `%firstboot`.
    V8,
}

impl Dialect {
    /// The templates' spelling: `4.1`, `5` (5.x and 6.x), `7`, `8`.
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::V41 => "4.1",
            Dialect::V5 => "5",
            Dialect::V7 => "7",
            Dialect::V8 => "8",
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Dialect {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Why a version string was refused. Each message completes the sentence `"<text>" <message>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    #[error("is not an ESXi version (write it as 4.1, 6.7, 7.0U3, 8.0.2, 8 or 8.x)")]
    Syntax,
    #[error("is not an ESXi release esxforge knows (4.1, 5.0, 5.1, 5.5, 6.0, 6.5, 6.7, 7.0, 8.0)")]
    Unknown,
    #[error("has no scripted install: ESXi kickstarts start with 4.1")]
    TooOld,
}

impl EsxiVersion {
    /// Every release esxforge knows, GA (update 0), oldest first.
    pub const RELEASES: [EsxiVersion; 9] = [
        EsxiVersion::ga(4, 1),
        EsxiVersion::ga(5, 0),
        EsxiVersion::ga(5, 1),
        EsxiVersion::ga(5, 5),
        EsxiVersion::ga(6, 0),
        EsxiVersion::ga(6, 5),
        EsxiVersion::ga(6, 7),
        EsxiVersion::ga(7, 0),
        EsxiVersion::ga(8, 0),
    ];

    /// The newest release: what `ks lint` reads a kickstart as unless told otherwise.
    pub const NEWEST: EsxiVersion = EsxiVersion::ga(8, 0);

    const fn ga(major: u8, minor: u8) -> EsxiVersion {
        EsxiVersion {
            major,
            minor,
            update: 0,
        }
    }

    /// `major.minor` with an update, if it is a release esxforge knows.
    pub fn new(major: u8, minor: u8, update: u8) -> Result<EsxiVersion, VersionError> {
        match (major, minor) {
            (0..=3, _) | (4, 0) => Err(VersionError::TooOld),
            (4, 1) | (5, 0 | 1 | 5) | (6, 0 | 5 | 7) | (7, 0) | (8, 0) => Ok(EsxiVersion {
                major,
                minor,
                update,
            }),
            _ => Err(VersionError::Unknown),
        }
    }

    pub fn major(self) -> u8 {
        self.major
    }

    pub fn minor(self) -> u8 {
        self.minor
    }

    pub fn update(self) -> u8 {
        self.update
    }

    /// The dialect the renderer writes for this release.
    pub fn dialect(self) -> Dialect {
        match self.major {
            ..=4 => Dialect::V41,
            5 | 6 => Dialect::V5,
            7 => Dialect::V7,
            _ => Dialect::V8,
        }
    }

    /// The installer generation, 4 to 8: the linter builds one grammar per generation, which
    /// holds because every grammar gate below starts at an `N.0` release.
    pub fn generation(self) -> u8 {
        self.major
    }

    fn at_least(self, major: u8, minor: u8, update: u8) -> bool {
        self >= EsxiVersion {
            major,
            minor,
            update,
        }
    }

    /// `install`/`upgrade`/`installorupgrade` choose the disk (5.0 replaced `autopart` and
    /// `install <media>`).
    pub fn has_install_command(self) -> bool {
        self.at_least(5, 0, 0)
    }

    /// `upgrade` and `installorupgrade` (new in 5.0).
    pub fn has_upgrade(self) -> bool {
        self.at_least(5, 0, 0)
    }

    /// `--overwritevsan` on `install`/`installorupgrade` (the 6.x grammar).
    pub fn has_overwritevsan(self) -> bool {
        self.at_least(6, 0, 0)
    }

    /// `--ignoreprereqwarnings`/`--ignoreprereqerrors` (the 7.x grammar).
    pub fn has_prereq_overrides(self) -> bool {
        self.at_least(7, 0, 0)
    }

    /// `upgrade --forcemigrate` (the 7.x grammar).
    pub fn has_forcemigrate(self) -> bool {
        self.at_least(7, 0, 0)
    }

    /// `install --dpupcislots=` and `--forceunsupportedinstall` (8.0).
    pub fn has_dpu_install(self) -> bool {
        self.at_least(8, 0, 0)
    }

    /// The installer's clear-password rule asks for three character classes (6.7: the 7.x
    /// installer runs `pwqcheck`); before it, any 7 to 40 printable characters. Public Packer
    /// templates installed 6.0 and 6.5 with `rootpw vagrant` and logged in with it, and each
    /// switched to a stronger password exactly when it added 6.7 (arrjay/esxi-packer-templates
    /// "add 6.7.0", akaer/esxi-packer-templates `6.7/`, NORDUnet/packer-esxi on 6.0U3a).
    pub fn has_password_classes(self) -> bool {
        self.at_least(6, 7, 0)
    }

    /// `esxcli system ntp set` (7.0 Update 1); before it, `/etc/ntp.conf` and `chkconfig`.
    pub fn has_esxcli_ntp(self) -> bool {
        self.at_least(7, 0, 1)
    }

    /// `esxcli network ip interface tag add` (5.1); before it only vMotion, through `vim-cmd`.
    pub fn has_vmk_tags(self) -> bool {
        self.at_least(5, 1, 0)
    }

    /// vSAN (5.5).
    pub fn has_vsan(self) -> bool {
        self.at_least(5, 5, 0)
    }

    /// The `VSAN` VMkernel tag (6.0); on 5.5 `esxcli vsan network ipv4 add`.
    pub fn has_vsan_tag(self) -> bool {
        self.at_least(6, 0, 0)
    }

    /// The vSphere Provisioning and Replication VMkernel tags (6.0).
    pub fn has_provisioning_tags(self) -> bool {
        self.at_least(6, 0, 0)
    }

    /// `esxcli software component apply` (7.0).
    pub fn has_components(self) -> bool {
        self.at_least(7, 0, 0)
    }

    /// UEFI Secure Boot for ESXi (6.5), which skips `%firstboot`.
    pub fn has_secure_boot(self) -> bool {
        self.at_least(6, 5, 0)
    }

    /// `esxcli` namespaces for the host configuration (5.0); 4.1 uses `esxcfg-*` and `vim-cmd`.
    pub fn has_esxcli(self) -> bool {
        self.at_least(5, 0, 0)
    }
}

impl Default for EsxiVersion {
    /// [`EsxiVersion::NEWEST`].
    fn default() -> EsxiVersion {
        EsxiVersion::NEWEST
    }
}

impl FromStr for EsxiVersion {
    type Err = VersionError;

    /// `4.1`, `6.7`, `7.0U3`, `7.0 U3`, `7.0.3`, `8`, `8.x`.
    fn from_str(s: &str) -> Result<EsxiVersion, VersionError> {
        let s = s.trim();
        let (base, update) = match s.find(['U', 'u']) {
            Some(at) => {
                let (base, rest) = s.split_at(at);
                let update = rest.get(1..).ok_or(VersionError::Syntax)?;
                (base.trim_end(), Some(number(update)?))
            }
            None => (s, None),
        };
        let mut parts = base.split('.');
        let major = number(parts.next().ok_or(VersionError::Syntax)?)?;
        let (minor, patch) = (parts.next(), parts.next());
        if parts.next().is_some() {
            return Err(VersionError::Syntax);
        }
        match (minor, patch, update) {
            // A whole family (`8`, `8.x`) is its first release.
            (None | Some("x" | "X"), None, None) => {
                EsxiVersion::new(major, if major == 4 { 1 } else { 0 }, 0)
            }
            (Some(minor), None, update) => {
                EsxiVersion::new(major, number(minor)?, update.unwrap_or(0))
            }
            (Some(minor), Some(patch), None) => {
                EsxiVersion::new(major, number(minor)?, number(patch)?)
            }
            _ => Err(VersionError::Syntax),
        }
    }
}

fn number(s: &str) -> Result<u8, VersionError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(VersionError::Syntax);
    }
    s.parse().map_err(|_| VersionError::Syntax)
}

impl fmt::Display for EsxiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)?;
        if self.update > 0 {
            write!(f, "U{}", self.update)?;
        }
        Ok(())
    }
}

impl Serialize for EsxiVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> EsxiVersion {
        s.parse().unwrap()
    }

    fn release(major: u8, minor: u8, update: u8) -> EsxiVersion {
        EsxiVersion::new(major, minor, update).unwrap()
    }

    #[test]
    fn versions_parse_in_every_spelling() {
        assert_eq!(v("7.0U3"), release(7, 0, 3));
        assert_eq!(v("7.0 U3"), release(7, 0, 3));
        assert_eq!(v("7.0u3"), release(7, 0, 3));
        assert_eq!(v("7.0.3"), release(7, 0, 3));
        assert_eq!(v(" 6.7.0 "), release(6, 7, 0));
        assert_eq!(v("4.1"), release(4, 1, 0));
        assert_eq!(v("8.0U2").to_string(), "8.0U2");
        assert_eq!(v("6.7").to_string(), "6.7");
    }

    #[test]
    fn a_family_is_its_first_release() {
        assert_eq!(v("8"), release(8, 0, 0));
        assert_eq!(v("8.x"), release(8, 0, 0));
        assert_eq!(v("7.X"), release(7, 0, 0));
        assert_eq!(v("6"), release(6, 0, 0));
        assert_eq!(v("4"), release(4, 1, 0));
        assert_eq!(v("4.x").to_string(), "4.1");
    }

    #[test]
    fn bad_versions_say_why() {
        assert_eq!("4.0".parse::<EsxiVersion>(), Err(VersionError::TooOld));
        assert_eq!("3.5".parse::<EsxiVersion>(), Err(VersionError::TooOld));
        assert_eq!("3".parse::<EsxiVersion>(), Err(VersionError::TooOld));
        assert_eq!("9.0".parse::<EsxiVersion>(), Err(VersionError::Unknown));
        assert_eq!("9".parse::<EsxiVersion>(), Err(VersionError::Unknown));
        assert_eq!("6.3".parse::<EsxiVersion>(), Err(VersionError::Unknown));
        for bad in [
            "", "7.", "7.xU3", "7U3", "7.x.1", "7.0U", "7.0.1U2", "7.0.1.2", "7.0U999", "seven",
        ] {
            assert_eq!(
                bad.parse::<EsxiVersion>(),
                Err(VersionError::Syntax),
                "{bad}"
            );
        }
    }

    #[test]
    fn dialects_and_gates() {
        assert_eq!(v("4.1").dialect(), Dialect::V41);
        assert_eq!(v("5.5").dialect(), Dialect::V5);
        assert_eq!(v("6.7").dialect(), Dialect::V5);
        assert_eq!(v("7.0U3").dialect(), Dialect::V7);
        assert_eq!(v("8.0").dialect(), Dialect::V8);
        assert_eq!(Dialect::V5.to_string(), "5");
        assert!(!v("7.0").has_esxcli_ntp());
        assert!(v("7.0U1").has_esxcli_ntp());
        assert!(!v("6.7").has_forcemigrate());
        assert!(v("7.0").has_forcemigrate());
        assert!(!v("4.1").has_upgrade());
        assert!(!v("6.0").has_secure_boot() && v("6.5").has_secure_boot());
        assert_eq!(EsxiVersion::default(), EsxiVersion::NEWEST);
    }

    #[test]
    fn every_release_is_known_and_one_generation_per_major() {
        for r in EsxiVersion::RELEASES {
            assert_eq!(v(&r.to_string()), r);
            assert!((4..=8).contains(&r.generation()));
        }
        // The grammar gates hold for a whole generation: none starts inside one.
        for gate in [
            EsxiVersion::has_install_command,
            EsxiVersion::has_upgrade,
            EsxiVersion::has_overwritevsan,
            EsxiVersion::has_prereq_overrides,
            EsxiVersion::has_forcemigrate,
            EsxiVersion::has_dpu_install,
        ] {
            for r in EsxiVersion::RELEASES {
                let first = EsxiVersion::RELEASES
                    .into_iter()
                    .find(|f| f.generation() == r.generation())
                    .unwrap();
                assert_eq!(gate(r), gate(first), "{r}");
            }
        }
    }
}
