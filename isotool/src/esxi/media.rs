//! Which ESXi installer layout an ISO has, and which release it installs.

use std::fmt;

use serde::Serialize;

/// An ESXi release: `8.0.3` and, when known, the full build string (`8.0.3-0.35.24280767`) and
/// build number (`24280767`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EsxiVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
    /// The full string it was read from (`build=` of BOOT.CFG, a VIB version, a volume id).
    pub build: String,
    pub build_number: Option<u64>,
}

impl EsxiVersion {
    /// Reads `8.0.3-0.35.24280767`, `7.0.0-1.0.15843807`, `6.7.0`, `4.1.0-260247` and the like:
    /// `MAJOR.MINOR[.PATCH]`, optionally `-` and a release whose last dotted number is the build.
    pub fn parse(text: &str) -> Option<EsxiVersion> {
        let text = text.trim();
        let (release, rest) = match text.split_once('-') {
            Some((r, rest)) => (r, Some(rest)),
            None => (text, None),
        };
        let mut parts = release.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        let patch = match parts.next() {
            Some(p) => p.parse().ok()?,
            None => 0,
        };
        if parts.next().is_some() || !(3..=20).contains(&major) {
            return None;
        }
        let build_number = rest
            .and_then(|r| r.rsplit(['.', '-']).next())
            .and_then(|b| b.parse().ok());
        Some(EsxiVersion {
            major,
            minor,
            patch,
            build: text.to_string(),
            build_number,
        })
    }

    /// Finds a version inside a longer text such as a volume id (`ESXi-4.1.0-260247-custom`,
    /// `ESXI-7.0U3G-NUC`): the first `N.N[.N]` run, with the build number that follows it.
    pub fn find_in(text: &str) -> Option<EsxiVersion> {
        let bytes = text.as_bytes();
        (0..bytes.len()).find_map(|i| {
            let starts = bytes.get(i).is_some_and(u8::is_ascii_digit)
                && (i == 0 || !bytes.get(i - 1).is_some_and(u8::is_ascii_digit));
            if !starts {
                return None;
            }
            let tail = text.get(i..)?;
            let end = tail
                .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
                .unwrap_or(tail.len());
            let candidate = tail.get(..end)?.trim_end_matches(['-', '.']);
            EsxiVersion::parse(candidate)
                .or_else(|| EsxiVersion::parse(candidate.split('-').next()?))
        })
    }
}

impl fmt::Display for EsxiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ESXi {}.{}.{}", self.major, self.minor, self.patch)?;
        if let Some(b) = self.build_number {
            write!(f, " build {b}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_media_use() {
        let v = EsxiVersion::parse("8.0.3-0.35.24280767").unwrap();
        assert_eq!(
            (v.major, v.minor, v.patch, v.build_number),
            (8, 0, 3, Some(24280767))
        );
        assert_eq!(v.to_string(), "ESXi 8.0.3 build 24280767");
        let v = EsxiVersion::parse("7.0.0-1.0.15843807").unwrap();
        assert_eq!(v.build_number, Some(15843807));
        assert_eq!(EsxiVersion::parse("6.7").unwrap().patch, 0);
        assert!(EsxiVersion::parse("abc").is_none());
        assert!(EsxiVersion::parse("1.2.3").is_none());
        assert!(EsxiVersion::parse("").is_none());
    }

    #[test]
    fn finds_versions_in_volume_ids() {
        let v = EsxiVersion::find_in("ESXi-4.1.0-260247-custom").unwrap();
        assert_eq!((v.major, v.minor, v.build_number), (4, 1, Some(260247)));
        let v = EsxiVersion::find_in("ESXI-7.0U3G-NUC12").unwrap();
        assert_eq!((v.major, v.minor), (7, 0));
        assert!(EsxiVersion::find_in("ESXIMAGE").is_none());
        assert!(EsxiVersion::find_in("CDROM 2024").is_none());
    }
}
