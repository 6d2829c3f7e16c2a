//! The renderer: one kickstart per host from minijinja templates.
//!
//! The templates live in the repository's `templates/` folder and are compiled into the
//! binary; `--templates DIR` replaces any of them by a file of the same name in `DIR` (and
//! lets the replacements include further templates from `DIR`). One [`Renderer`] compiles
//! them once and renders any number of hosts, from any number of threads.
//!
//! Every kickstart is written in the dialect of its host's ESXi version (see
//! [`Dialect`](crate::version::Dialect)), checked to be ASCII with LF line ends, and is the
//! same bytes on every run: nothing in it depends on time, order of hashing, or randomness
//! (password salts are derived from the host name, see [`salt_for`](crate::inventory::salt_for)).
//!
//! ```
//! use esxforge_kickstart::{inventory::Inventory, render::Renderer};
//!
//! let inv = Inventory::load(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/lab.yaml").as_ref()).unwrap();
//! let renderer = Renderer::new();
//! let ks = renderer.render(&inv.hosts[0], &inv.salt_seed).unwrap();
//! assert!(ks.contains("\nvmaccepteula\n"));
//! assert!(ks.contains("--hostname=esx01.lab.example.com"));
//! ```

mod quote;
#[cfg(test)]
mod tests;
mod view;
mod write;

use std::path::{Path, PathBuf};

use minijinja::syntax::SyntaxConfig;
use minijinja::{Environment, UndefinedBehavior};

use crate::inventory::Host;

pub use quote::{ksq, shq};
pub use write::{RenderProgress, file_name, write_all, write_one};

/// The template every kickstart starts from.
pub const ENTRY: &str = "ks.cfg.j2";

/// The templates compiled into the binary, by name.
pub const TEMPLATES: [(&str, &str); 5] = [
    ("ks.cfg.j2", include_str!("../../../templates/ks.cfg.j2")),
    ("install.j2", include_str!("../../../templates/install.j2")),
    ("network.j2", include_str!("../../../templates/network.j2")),
    (
        "firstboot.sh.j2",
        include_str!("../../../templates/firstboot.sh.j2"),
    ),
    (
        "firstboot-4.1.sh.j2",
        include_str!("../../../templates/firstboot-4.1.sh.j2"),
    ),
];

/// A template file larger than this is not a kickstart template.
const MAX_TEMPLATE_BYTES: u64 = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("{}: cannot read the template", path.display())]
    ReadTemplate {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: larger than {MAX_TEMPLATE_BYTES} bytes, not a template", path.display())]
    TemplateTooLarge { path: PathBuf },
    #[error("template error: {0}")]
    Template(String),
    #[error(
        "{host}: the rendered kickstart has {what} on line {line}; kickstarts must be ASCII with LF line ends (check the templates)"
    )]
    NotAscii {
        host: String,
        line: usize,
        what: String,
    },
    #[error("{}: cannot write", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn template_error(e: &minijinja::Error) -> RenderError {
    let mut msg = e.to_string();
    if let Some(detail) = e.detail() {
        if !msg.contains(detail) {
            msg.push_str(": ");
            msg.push_str(detail);
        }
    }
    RenderError::Template(msg)
}

/// Compiled kickstart templates.
pub struct Renderer {
    env: Environment<'static>,
}

impl Default for Renderer {
    fn default() -> Self {
        Renderer::new()
    }
}

impl Renderer {
    /// The templates compiled into the binary.
    pub fn new() -> Renderer {
        let mut env = environment();
        for (name, source) in TEMPLATES {
            // The embedded templates are tested; a syntax error in them cannot ship.
            if let Err(e) = env.add_template(name, source) {
                unreachable!("embedded template {name} does not compile: {e}");
            }
        }
        Renderer { env }
    }

    /// The embedded templates, each replaced by `dir/<name>` where that file exists; other
    /// `*.j2` files in `dir` may be included by the replacements.
    pub fn with_templates(dir: &Path) -> Result<Renderer, RenderError> {
        let read_dir = |source| RenderError::ReadTemplate {
            path: dir.to_path_buf(),
            source,
        };
        let mut names: Vec<String> = TEMPLATES.iter().map(|(n, _)| n.to_string()).collect();
        for entry in std::fs::read_dir(dir).map_err(read_dir)? {
            let name = entry.map_err(read_dir)?.file_name();
            if let Some(name) = name.to_str().filter(|n| n.ends_with(".j2")) {
                if !names.iter().any(|n| n == name) {
                    names.push(name.to_string());
                }
            }
        }
        names.sort();
        let mut env = environment();
        for name in names {
            let path = dir.join(&name);
            let source = if path.is_file() {
                read_template(&path)?
            } else {
                let embedded = TEMPLATES.iter().find(|(n, _)| *n == name);
                match embedded {
                    Some((_, s)) => s.to_string(),
                    None => continue,
                }
            };
            env.add_template_owned(name, source)
                .map_err(|e| template_error(&e))?;
        }
        Ok(Renderer { env })
    }

    /// The kickstart of `host`; `salt_seed` is the inventory's (see
    /// [`Inventory::salt_seed`](crate::inventory::Inventory::salt_seed)).
    pub fn render(&self, host: &Host, salt_seed: &str) -> Result<String, RenderError> {
        let template = self
            .env
            .get_template(ENTRY)
            .map_err(|e| template_error(&e))?;
        let view = view::View::new(host, salt_seed);
        let mut out = template
            .render(minijinja::Value::from(minijinja::value::Serde(&view)))
            .map_err(|e| template_error(&e))?;
        if !out.ends_with('\n') {
            out.push('\n');
        }
        check_ascii(&host.name, &out)?;
        Ok(out)
    }
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    if let Ok(syntax) = SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(true)
        .build()
    {
        env.set_syntax(syntax);
    }
    // `esxcli network ip interface tag add --tagname=` by service key, shared by every render.
    let tags = crate::inventory::VmkService::ALL.map(|s| (s.key(), s.tag()));
    env.add_global("tags", minijinja::Value::from_pairs(tags));
    env.add_filter("ksq", |s: String| ksq(&s));
    env.add_filter("shq", |s: String| shq(&s));
    env
}

fn read_template(path: &Path) -> Result<String, RenderError> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_TEMPLATE_BYTES + 1).read_to_string(&mut text))
        .map_err(|source| RenderError::ReadTemplate {
            path: path.to_path_buf(),
            source,
        })?;
    if text.len() as u64 > MAX_TEMPLATE_BYTES {
        return Err(RenderError::TemplateTooLarge {
            path: path.to_path_buf(),
        });
    }
    Ok(text)
}

/// Kickstarts are ASCII with LF line ends: anything else is a template bug, refused here
/// rather than found by the installer.
fn check_ascii(host: &str, text: &str) -> Result<(), RenderError> {
    let bad = text
        .bytes()
        .position(|b| !(b == b'\n' || b == b'\t' || (0x20..0x7f).contains(&b)));
    let Some(at) = bad else { return Ok(()) };
    let line = text
        .as_bytes()
        .get(..at)
        .map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count())
        + 1;
    let what = match text.get(at..).and_then(|t| t.chars().next()) {
        Some('\r') => "a carriage return (CRLF)".to_string(),
        Some(c) => format!("{c:?}"),
        None => "a stray byte".to_string(),
    };
    Err(RenderError::NotAscii {
        host: host.to_string(),
        line,
        what,
    })
}
