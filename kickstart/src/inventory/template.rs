//! Host-level templating of inventory values: `name: "{{ hostname }}-datastore01"`.
//!
//! Any string value holding `{{ … }}` or `{% … %}` is a minijinja template, rendered once per
//! host after the layers are merged, with `name` (the host's key), `hostname`, `domain`,
//! `fqdn`, `ip` (the static management address) and `vars` (the merged `vars:` map). Each
//! distinct template is compiled once, however many hosts use it.

use std::collections::HashSet;

use minijinja::{Environment, UndefinedBehavior};
use serde_yaml::Value;

/// Whether `s` is a template rather than a literal.
pub(crate) fn is_template(s: &str) -> bool {
    // Asked of every string of every host: one pass over the bytes, no searcher to set up.
    s.as_bytes()
        .windows(2)
        .any(|w| matches!(w, [b'{', b'{' | b'%']))
}

/// Whether any string under `v` is a template (most values have none: skip them).
pub(crate) fn has_template(v: &Value) -> bool {
    match v {
        Value::String(s) => is_template(s),
        Value::Mapping(m) => m.values().any(has_template),
        Value::Sequence(s) => s.iter().any(has_template),
        _ => false,
    }
}

pub(crate) struct ValueTemplates {
    env: Environment<'static>,
    compiled: HashSet<String>,
}

impl ValueTemplates {
    pub(crate) fn new() -> ValueTemplates {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        // An inventory value may be a loop or a long string, but never an endless one.
        env.set_recursion_limit(32);
        ValueTemplates {
            env,
            compiled: HashSet::new(),
        }
    }

    /// Compile `src` once; the error says what is wrong with its syntax.
    pub(crate) fn check(&mut self, src: &str) -> Result<(), String> {
        if self.compiled.contains(src) {
            return Ok(());
        }
        self.env
            .add_template_owned(src.to_string(), src.to_string())
            .map_err(|e| describe(&e))?;
        self.compiled.insert(src.to_string());
        Ok(())
    }

    /// Render `src` (compiled on first use) with `ctx`.
    pub(crate) fn render(&mut self, src: &str, ctx: &minijinja::Value) -> Result<String, String> {
        self.check(src)?;
        let template = self.env.get_template(src).map_err(|e| describe(&e))?;
        template.render(ctx).map_err(|e| describe(&e))
    }
}

/// One line about a template error, without the template's name (which is its whole text).
fn describe(err: &minijinja::Error) -> String {
    let mut msg = match err.detail() {
        Some(detail) => format!("template error: {detail}"),
        None => format!("template error: {}", err.kind()),
    };
    if let Some(line) = err.line().filter(|&l| l > 1) {
        msg.push_str(&format!(" (line {line} of the template)"));
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::context;

    #[test]
    fn renders_and_reports() {
        let mut t = ValueTemplates::new();
        let ctx = context!(hostname => "esx01");
        assert_eq!(
            t.render("{{ hostname }}-datastore01", &ctx).unwrap(),
            "esx01-datastore01"
        );
        assert!(
            t.check("{{ hostname ")
                .unwrap_err()
                .starts_with("template error: ")
        );
        let err = t.render("{{ hostnme }}", &ctx).unwrap_err();
        assert!(err.contains("undefined"), "{err}");
        assert!(is_template("a{{b}}") && is_template("{% if x %}") && !is_template("${x}"));
    }
}
