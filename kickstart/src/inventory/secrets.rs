//! Reading clear root passwords from the environment or from files the inventory names, once
//! per source however many hosts share it. Errors name the source, never the value.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::rootpw::{Secret, SecretSource};

/// A password file larger than this is not a password file.
const MAX_SECRET_FILE: u64 = 4096;

pub(crate) struct Secrets {
    /// Relative `file:` paths are resolved against the inventory's folder.
    base: PathBuf,
    cache: HashMap<SecretSource, Result<Secret, String>>,
}

impl Secrets {
    pub(crate) fn new(base: &Path) -> Secrets {
        Secrets {
            base: base.to_path_buf(),
            cache: HashMap::new(),
        }
    }

    /// The secret behind `source`, or why it cannot be read (without its content).
    pub(crate) fn get(&mut self, source: &SecretSource) -> Result<Secret, String> {
        if let Some(hit) = self.cache.get(source) {
            return hit.clone();
        }
        let read = self.read(source);
        self.cache.insert(source.clone(), read.clone());
        read
    }

    fn read(&self, source: &SecretSource) -> Result<Secret, String> {
        let text = match source {
            SecretSource::Env(var) => match std::env::var(var) {
                Ok(v) => v,
                Err(std::env::VarError::NotPresent) => {
                    return Err(format!("environment variable {var} is not set"));
                }
                Err(std::env::VarError::NotUnicode(_)) => {
                    return Err(format!("environment variable {var} is not valid UTF-8"));
                }
            },
            SecretSource::File(path) => {
                let full = self.base.join(path);
                let mut text = String::new();
                std::fs::File::open(&full)
                    .and_then(|f| f.take(MAX_SECRET_FILE + 1).read_to_string(&mut text))
                    .map_err(|e| format!("cannot read {}: {e}", full.display()))?;
                if text.len() as u64 > MAX_SECRET_FILE {
                    return Err(format!(
                        "{} is larger than {MAX_SECRET_FILE} bytes: not a password file",
                        full.display()
                    ));
                }
                let trimmed = text
                    .strip_suffix("\r\n")
                    .or_else(|| text.strip_suffix('\n'))
                    .unwrap_or(&text);
                trimmed.to_string()
            }
        };
        if text.is_empty() {
            return Err(format!("the password from {source} is empty"));
        }
        if !text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            return Err(format!(
                "the password from {source} holds a character that is not printable ASCII"
            ));
        }
        Ok(Secret::new(&text))
    }
}
