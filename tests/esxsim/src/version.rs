//! ESXi releases the simulator can be, and what changes between them.

use serde::{Deserialize, Serialize};

/// `esxcli system version get`, minus the product name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Version {
    /// `8.0.2`.
    pub version: String,
    /// The build number (`22380479`); esxcli prints it as `Releasebuild-22380479`.
    pub build: String,
    pub update: String,
    pub patch: String,
}

/// The releases a seed can name, with real build numbers.
const RELEASES: &[(&str, &str, &str, &str, &str)] = &[
    // name, version, build, update, patch
    ("6.7", "6.7.0", "14320388", "3", "73"),
    ("7.0.0", "7.0.0", "15843807", "0", "0"),
    ("7.0", "7.0.3", "21930508", "3", "95"),
    ("8.0", "8.0.2", "22380479", "2", "0"),
];

impl Version {
    /// `6.7`, `7.0` (U3), `7.0.0` (GA, before `esxcli system ntp`), `8.0` (U2), or any
    /// `X.Y.Z` (then with build 0 unless set).
    pub fn named(name: &str) -> Option<Version> {
        if let Some((_, version, build, update, patch)) = RELEASES.iter().find(|(n, ..)| *n == name)
        {
            return Some(Version {
                version: version.to_string(),
                build: build.to_string(),
                update: update.to_string(),
                patch: patch.to_string(),
            });
        }
        let parts = parse_triplet(name)?;
        Some(Version {
            version: name.to_string(),
            build: "0".into(),
            update: parts.1.to_string(),
            patch: "0".into(),
        })
    }

    /// (major, minor, update) from `version`; (0, 0, 0) when unreadable.
    pub fn triplet(&self) -> (u32, u32, u32) {
        parse_triplet(&self.version).unwrap_or((0, 0, 0))
    }

    pub fn major(&self) -> u32 {
        self.triplet().0
    }

    /// `esxcli system ntp` exists from 7.0 U1 (7.0.1) on; before, `/etc/ntp.conf` is the way.
    pub fn has_esxcli_ntp(&self) -> bool {
        self.triplet() >= (7, 0, 1)
    }
}

fn parse_triplet(s: &str) -> Option<(u32, u32, u32)> {
    let mut it = s.split('.').map(|p| p.parse::<u32>());
    let major = it.next()?.ok()?;
    let minor = it.next()?.ok()?;
    let update = match it.next() {
        Some(p) => p.ok()?,
        None => 0,
    };
    Some((major, minor, update))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_releases() {
        let v = Version::named("8.0").unwrap_or_default();
        assert_eq!(
            (v.version.as_str(), v.build.as_str()),
            ("8.0.2", "22380479")
        );
        assert!(v.has_esxcli_ntp());
        assert!(!Version::named("6.7").unwrap_or_default().has_esxcli_ntp());
        assert!(!Version::named("7.0.0").unwrap_or_default().has_esxcli_ntp());
        assert!(Version::named("7.0.1").unwrap_or_default().has_esxcli_ntp());
        assert!(Version::named("eight").is_none());
    }
}
