//! `rootpw:`: a hash, or where to read a clear password from.

use serde_yaml::Value;

use super::{Decoder, opt};
use crate::inventory::problem::Path;
use crate::inventory::rootpw::{CryptHash, RootPassword, SecretSource};

pub(super) fn rootpw(d: &mut Decoder<'_>, v: &Value, path: &Path<'_>) -> Option<RootPassword> {
    let mut f = d.fields(v, path)?;
    let hash = opt(
        &mut f,
        "hash",
        path,
        |d, v, p| {
            let s = d.str(v, p)?;
            let hash = CryptHash::new(s);
            if hash.is_none() {
                // Never echo the value: a mistyped hash may be a clear password.
                d.error(p, "is not a hash the installer accepts ($6$ with a salt of at most 16 characters and no rounds=, or $1$)");
            }
            hash
        },
        d,
    );
    let env = opt(
        &mut f,
        "env",
        path,
        |d, v, p| {
            d.parsed(v, p, |s| {
                if !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                    Ok(s.to_string())
                } else {
                    Err("is not an environment variable name".to_string())
                }
            })
        },
        d,
    );
    let file = opt(&mut f, "file", path, |d, v, p| d.text(v, p), d);
    let clear_text_ok =
        opt(&mut f, "clear_text_ok", path, |d, v, p| d.bool(v, p), d).unwrap_or(false);
    let given =
        usize::from(hash.is_some()) + usize::from(env.is_some()) + usize::from(file.is_some());
    d.finish(f, path);
    if given > 1 {
        d.error(path, "give one of hash, env or file");
        return None;
    }
    if !d.merged() {
        return None;
    }
    if let Some(hash) = hash {
        if clear_text_ok {
            d.error(
                &path.key("clear_text_ok"),
                "applies to env or file, not to a hash",
            );
        }
        return Some(RootPassword::Hash(hash));
    }
    let (source, at) = match (env, file) {
        (Some(var), _) => (SecretSource::Env(var), path.key("env")),
        (None, Some(file)) => (SecretSource::File(file.into()), path.key("file")),
        (None, None) => {
            d.error(path, "give one of hash, env or file");
            return None;
        }
    };
    let secret = match d.secrets.get(&source) {
        Ok(secret) => secret,
        Err(e) => {
            d.error(&at, e);
            return None;
        }
    };
    if clear_text_ok {
        d.problems.warning(
            path,
            "the root password is written to the kickstart in clear text (clear_text_ok: true)",
        );
    }
    Some(RootPassword::Clear {
        source,
        secret,
        clear_text_ok,
    })
}
