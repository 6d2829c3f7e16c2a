//! ESXi versions and what each one can do. Every version gate of the inventory check and the
//! renderer asks [`EsxiVersion`], so the two can never disagree about a feature.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

/// An ESXi release: `4.1`, `6.7`, `7.0U3` (also written `7.0.3` or `7.0 U3`), `8.0U2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EsxiVersion {
    pub major: u8,
    pub minor: u8,
    /// The update release: 3 for `7.0U3`; 0 for a GA release.
    pub update: u8,
}

/// The kickstart dialects the renderer writes, one per family of installers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Dialect {
    /// ESXi 4.1: `autopart` and `install <media>`, `esxcfg-*` and `vim-cmd` host commands.
    #[serde(rename = "4.1")]
    V41,
    /// ESXi 5.x and 6.x: `install --firstdisk`, `esxcli`, `ntp.conf`.
    #[serde(rename = "5.x-6.x")]
    V5,
    /// ESXi 7.x: `--forcemigrate`, components, `esxcli system ntp` from 7.0U1.
    #[serde(rename = "7.x")]
    V7,
    /// ESXi 8.x: as 7.x; Secure Boot skips `%firstboot`.
    #[serde(rename = "8.x")]
    V8,
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Dialect::V41 => "4.1",
            Dialect::V5 => "5.x-6.x",
            Dialect::V7 => "7.x",
            Dialect::V8 => "8.x",
        })
    }
}

/// Why a version string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    #[error("is not an ESXi version (write it as 6.7, 7.0U3 or 8.0.2)")]
    Syntax,
    #[error("is not an ESXi release esxforge knows (4.1, 5.0, 5.1, 5.5, 6.0, 6.5, 6.7, 7.0, 8.0)")]
    Unknown,
    #[error("has no scripted install: ESXi kickstarts start with 4.1")]
    TooOld,
}

impl EsxiVersion {
    pub const fn new(major: u8, minor: u8, update: u8) -> EsxiVersion {
        EsxiVersion {
            major,
            minor,
            update,
        }
    }

    pub fn dialect(self) -> Dialect {
        match self.major {
            ..=4 => Dialect::V41,
            5 | 6 => Dialect::V5,
            7 => Dialect::V7,
            _ => Dialect::V8,
        }
    }

    fn at_least(self, major: u8, minor: u8, update: u8) -> bool {
        self >= EsxiVersion::new(major, minor, update)
    }

    /// `install`/`upgrade`/`installorupgrade` with disk selection (5.0 replaced `autopart`).
    pub fn has_install_command(self) -> bool {
        self.at_least(5, 0, 0)
    }

    /// `upgrade` and `installorupgrade` (new in 5.0).
    pub fn has_upgrade(self) -> bool {
        self.at_least(5, 0, 0)
    }

    /// `upgrade --forcemigrate` (7.x grammar).
    pub fn has_forcemigrate(self) -> bool {
        self.at_least(7, 0, 0)
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

    /// UEFI Secure Boot for ESXi (6.5).
    pub fn has_secure_boot(self) -> bool {
        self.at_least(6, 5, 0)
    }

    /// `esxcli` namespaces for the host configuration (5.0); 4.1 uses `esxcfg-*` and `vim-cmd`.
    pub fn has_esxcli(self) -> bool {
        self.at_least(5, 0, 0)
    }
}

impl FromStr for EsxiVersion {
    type Err = VersionError;

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
        let minor = number(parts.next().ok_or(VersionError::Syntax)?)?;
        let patch = parts.next().map(number).transpose()?;
        if parts.next().is_some() || (patch.is_some() && update.is_some()) {
            return Err(VersionError::Syntax);
        }
        let v = EsxiVersion::new(major, minor, update.or(patch).unwrap_or(0));
        match (major, minor) {
            (0..=3, _) | (4, 0) => Err(VersionError::TooOld),
            (4, 1) | (5, 0 | 1 | 5) | (6, 0 | 5 | 7) | (7, 0) | (8, 0) => Ok(v),
            _ => Err(VersionError::Unknown),
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

    #[test]
    fn versions_parse_in_every_spelling() {
        assert_eq!(v("7.0U3"), EsxiVersion::new(7, 0, 3));
        assert_eq!(v("7.0 U3"), EsxiVersion::new(7, 0, 3));
        assert_eq!(v("7.0u3"), EsxiVersion::new(7, 0, 3));
        assert_eq!(v("7.0.3"), EsxiVersion::new(7, 0, 3));
        assert_eq!(v("4.1"), EsxiVersion::new(4, 1, 0));
        assert_eq!(v("8.0U2").to_string(), "8.0U2");
        assert_eq!(v("6.7").to_string(), "6.7");
    }

    #[test]
    fn bad_versions_say_why() {
        assert_eq!("4.0".parse::<EsxiVersion>(), Err(VersionError::TooOld));
        assert_eq!("9.0".parse::<EsxiVersion>(), Err(VersionError::Unknown));
        assert_eq!("6.3".parse::<EsxiVersion>(), Err(VersionError::Unknown));
        for bad in [
            "", "7", "7.x", "7.0U", "7.0.1U2", "7.0.1.2", "7.0U999", "seven",
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
        assert!(!v("7.0").has_esxcli_ntp());
        assert!(v("7.0U1").has_esxcli_ntp());
        assert!(!v("6.7").has_forcemigrate());
        assert!(v("7.0").has_forcemigrate());
        assert!(!v("4.1").has_upgrade());
    }
}
