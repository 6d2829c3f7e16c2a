//! The root password: a crypt(3) hash from the inventory, or a clear password from an
//! environment variable or a file the inventory names, hashed at render time.
//!
//! The hash is SHA-512 crypt (`$6$`) with 5,000 rounds and no `rounds=` field, because the
//! installer accepts only `$6$<salt of ≤16>$<86 characters>`. Output must be the same bytes on
//! every run, so the salt is derived from the host's name and the inventory's optional
//! `salt_seed`, never from the password: two hosts with one password get different hashes, and
//! one host keeps its hash until its password or the seed changes.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use base64ct::{Base64ShaCrypt, Encoding};
use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};

/// A clear password held in memory. It prints as `[secret]` and never serializes its value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Arc<str>);

impl Secret {
    pub(crate) fn new(s: &str) -> Secret {
        Secret(Arc::from(s))
    }

    /// The clear text. Call it only to hash it or to hand it to a transport, never to print it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[secret]")
    }
}

/// Where a clear password comes from. Only the name of the source is ever shown.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SecretSource {
    /// An environment variable of the process that renders.
    Env(String),
    /// A file, resolved against the inventory's folder; one trailing newline is dropped.
    File(PathBuf),
}

impl fmt::Display for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSource::Env(var) => write!(f, "environment variable {var}"),
            SecretSource::File(path) => write!(f, "file {}", path.display()),
        }
    }
}

/// A crypt(3) hash in one of the forms `rootpw --iscrypted` accepts.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CryptHash(String);

impl CryptHash {
    /// The hash, if the installer would accept it: `$1$` (MD5) with 22–31 characters, or `$6$`
    /// (SHA-512) with a salt of at most 16 characters and an 86-character digest.
    pub fn new(s: &str) -> Option<CryptHash> {
        // The installer's rule is reproduced in the linter; of its forms, DES is left out.
        let ok = (s.starts_with("$1$") || s.starts_with("$6$"))
            && crate::lint::values::crypted_password(s);
        ok.then(|| CryptHash(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_md5(&self) -> bool {
        self.0.starts_with("$1$")
    }
}

impl fmt::Debug for CryptHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.is_md5() {
            "$1$[hash]"
        } else {
            "$6$[hash]"
        })
    }
}

impl Serialize for CryptHash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // A hash is not the password, but it is worth as much to an attacker offline.
        s.serialize_str(if self.is_md5() { "$1$…" } else { "$6$…" })
    }
}

/// The root password of one host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RootPassword {
    /// A hash given in the inventory, written as `rootpw --iscrypted`.
    Hash(CryptHash),
    /// A clear password read from `source`.
    Clear {
        source: SecretSource,
        #[serde(skip)]
        secret: Secret,
        /// Write the password in clear instead of hashing it (the user asked for it).
        clear_text_ok: bool,
    },
}

impl RootPassword {
    /// The hash to write for `host`: the given one, or the clear password hashed with the
    /// host's deterministic salt. `None` when the user asked for clear text.
    pub fn crypted(&self, host: &str, salt_seed: &str) -> Option<CryptHash> {
        match self {
            RootPassword::Hash(hash) => Some(hash.clone()),
            RootPassword::Clear {
                clear_text_ok: true,
                ..
            } => None,
            RootPassword::Clear { secret, .. } => {
                Some(sha512_crypt(secret.expose(), &salt_for(host, salt_seed)))
            }
        }
    }
}

/// The 16-character salt of `host`: the first bytes of SHA-256 over a fixed label, the seed and
/// the host name, mapped onto the crypt alphabet. Never derived from the password.
pub fn salt_for(host: &str, salt_seed: &str) -> String {
    const ALPHABET: &[u8; 64] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut h = Sha256::new();
    h.update(b"esxforge rootpw salt\0");
    h.update(salt_seed.as_bytes());
    h.update(b"\0");
    h.update(host.as_bytes());
    h.finalize()
        .iter()
        .take(16)
        .map(|b| char::from(ALPHABET[usize::from(b & 63)]))
        .collect()
}

/// SHA-512 crypt with the default 5,000 rounds, in the `$6$salt$digest` form without a
/// `rounds=` field (the installer refuses one). `salt` must be at most 16 crypt characters.
pub fn sha512_crypt(password: &str, salt: &str) -> CryptHash {
    // The byte order of the crypt encoding (glibc's sha512-crypt.c `b64_from_24bit` calls);
    // `sha-crypt` keeps its own copy private and always writes `rounds=`.
    const ORDER: [usize; 64] = [
        42, 21, 0, 1, 43, 22, 23, 2, 44, 45, 24, 3, 4, 46, 25, 26, 5, 47, 48, 27, 6, 7, 49, 28, 29,
        8, 50, 51, 30, 9, 10, 52, 31, 32, 11, 53, 54, 33, 12, 13, 55, 34, 35, 14, 56, 57, 36, 15,
        16, 58, 37, 38, 17, 59, 60, 39, 18, 19, 61, 40, 41, 20, 62, 63,
    ];
    let digest = sha_crypt::sha512_crypt(
        password.as_bytes(),
        salt.as_bytes(),
        sha_crypt::Params::RECOMMENDED,
    );
    let ordered: [u8; 64] = std::array::from_fn(|i| digest[ORDER[i]]);
    CryptHash(format!(
        "$6${salt}${}",
        Base64ShaCrypt::encode_string(&ordered)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha512_crypt_matches_the_glibc_test_vector() {
        // From glibc's crypt/sha512c-test.c (and Drepper's SHA-crypt specification).
        assert_eq!(
            sha512_crypt("Hello world!", "saltstring").as_str(),
            "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"
        );
    }

    #[test]
    fn salts_are_deterministic_short_and_independent_of_the_password() {
        let a = salt_for("esx01", "");
        assert_eq!(a, salt_for("esx01", ""));
        assert_eq!(a.len(), 16);
        assert_ne!(a, salt_for("esx02", ""));
        assert_ne!(a, salt_for("esx01", "site-b"));
        assert!(CryptHash::new(sha512_crypt("x", &a).as_str()).is_some());
    }

    #[test]
    fn only_installer_accepted_hashes_pass() {
        let good6 = sha512_crypt("VMware1!", "abcdefgh").0;
        assert!(CryptHash::new(&good6).is_some());
        assert!(CryptHash::new("$1$c96GcKtl$92iTqDRE901SJXEpkxrfj0").is_some());
        assert!(CryptHash::new(&good6.replace("$6$", "$6$rounds=5000$")).is_none());
        assert!(CryptHash::new(&good6.replace("$6$", "$5$")).is_none());
        assert!(CryptHash::new("$6$waytoolongsaltvalue1$x").is_none());
        assert!(CryptHash::new("plain").is_none());
        assert!(CryptHash::new("$y$j9T$abc").is_none());
    }

    #[test]
    fn secrets_never_print() {
        let pw = RootPassword::Clear {
            source: SecretSource::Env("ROOTPW".into()),
            secret: Secret::new("hunter2"),
            clear_text_ok: false,
        };
        let shown = format!("{pw:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        let json = serde_json::to_string(&pw).unwrap();
        assert!(!json.contains("hunter2"), "{json}");
    }
}
