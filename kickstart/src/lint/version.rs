//! Which installer dialect to lint against.

/// The ESXi installer generations whose kickstart grammars differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum EsxiVersion {
    /// 4.0 and 4.1: `autopart`, `install <media>`, `--unsupported` on sections.
    V4,
    /// 5.0 to 5.5: disk-targeting `install`, `upgrade`, `installorupgrade`.
    V5,
    /// 6.0 to 6.7: adds `--overwritevsan`.
    V6,
    /// 7.0: adds `--ignoreprereq*` and `--forcemigrate` (the installer sources we follow).
    V7,
    /// 8.0 and later: adds `install --dpupcislots=` and `--forceunsupportedinstall`.
    #[default]
    V8,
}

/// `--esxi` could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unsupported ESXi version \"{0}\": give 4.x, 5.x, 6.x, 7.x or 8.x (for example 4.1, 6.7, 7.0U3, 8)"
)]
pub struct VersionError(pub String);

impl std::str::FromStr for EsxiVersion {
    type Err = VersionError;

    /// Accepts `8`, `8.0`, `8.x`, `7.0U3`, `6.7.0`, `4.1`: only the major version matters.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let major = s.trim().split(['.', 'u', 'U']).next().unwrap_or_default();
        match major {
            "4" => Ok(EsxiVersion::V4),
            "5" => Ok(EsxiVersion::V5),
            "6" => Ok(EsxiVersion::V6),
            "7" => Ok(EsxiVersion::V7),
            "8" | "9" => Ok(EsxiVersion::V8),
            _ => Err(VersionError(s.to_owned())),
        }
    }
}

impl std::fmt::Display for EsxiVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            EsxiVersion::V4 => "4.x",
            EsxiVersion::V5 => "5.x",
            EsxiVersion::V6 => "6.x",
            EsxiVersion::V7 => "7.x",
            EsxiVersion::V8 => "8.x",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_people_write() {
        assert_eq!("4.1".parse(), Ok(EsxiVersion::V4));
        assert_eq!("7.0U3".parse(), Ok(EsxiVersion::V7));
        assert_eq!("6.7.0".parse(), Ok(EsxiVersion::V6));
        assert_eq!("8".parse(), Ok(EsxiVersion::V8));
        assert_eq!("8.x".parse(), Ok(EsxiVersion::V8));
        assert!("3.5".parse::<EsxiVersion>().is_err());
        assert!("".parse::<EsxiVersion>().is_err());
    }
}
