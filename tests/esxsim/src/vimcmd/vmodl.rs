//! VMODL pretty-print, the way `vim-cmd` writes data objects.
//!
//! ```text
//! (vim.vm.device.VirtualDisk) {
//!    key = 2000,
//!    backing = (vim.vm.device.VirtualDisk.FlatVer2BackingInfo) {
//!       fileName = "[datastore1] vm/vm.vmdk",
//!       datastore = 'vim.Datastore:5e0026d9-a647150e-d8a8-4cedfb76e9d5',
//!       parent = (vim.vm.device.VirtualDisk.FlatVer2BackingInfo) null,
//!       eagerlyScrub = <unset>
//!    },
//!    device = (int) [
//!       3002
//!    ]
//! }
//! ```
//!
//! Three spaces per level; a comma after every member but the last; strings in double quotes
//! and printed raw (a quote inside is not escaped: `msg = "… to "2""`); managed object references
//! in single quotes; `<unset>` for unset optionals and `(T) null` for unset objects; empty arrays
//! as `(T) []`. A member the host leaves out still leaves its comma behind (`busNumber = 0,` and
//! then `}`), which real output shows. Old builds end lines with `, ` and print
//! `dynamicType = <unset>` first in every object ([`Style::legacy`]).

use std::fmt::Write as _;

/// A VMODL value.
#[derive(Debug, Clone, PartialEq)]
pub enum V {
    Str(String),
    Int(i64),
    Bool(bool),
    /// `<unset>`.
    Unset,
    /// `(type) null`.
    Null(&'static str),
    /// `'vim.Datastore:…'`.
    MoRef(&'static str, String),
    Obj(&'static str, Vec<(&'static str, V)>),
    Arr(&'static str, Vec<V>),
    /// A member the host does not print; its predecessor keeps its comma.
    Omit,
}

pub fn s(v: impl Into<String>) -> V {
    V::Str(v.into())
}

pub fn i(v: impl Into<i64>) -> V {
    V::Int(v.into())
}

/// A u64 that may not fit VMODL's long: clamped.
pub fn u(v: u64) -> V {
    V::Int(i64::try_from(v).unwrap_or(i64::MAX))
}

pub fn b(v: bool) -> V {
    V::Bool(v)
}

/// A string, or `<unset>` when empty.
pub fn opt_s(v: &str) -> V {
    if v.is_empty() { V::Unset } else { s(v) }
}

/// How a build prints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Style {
    pub legacy: bool,
}

/// The rendering of `v` at the top level, with a trailing newline.
pub fn render(v: &V, style: Style) -> String {
    let mut out = String::new();
    value(&mut out, v, 0, style);
    out.push('\n');
    out
}

fn value(out: &mut String, v: &V, indent: usize, style: Style) {
    match v {
        V::Str(x) => {
            let _ = write!(out, "\"{x}\"");
        }
        V::Int(x) => {
            let _ = write!(out, "{x}");
        }
        V::Bool(x) => {
            let _ = write!(out, "{x}");
        }
        V::Unset | V::Omit => out.push_str("<unset>"),
        V::Null(t) => {
            let _ = write!(out, "({t}) null");
        }
        V::MoRef(t, id) => {
            let _ = write!(out, "'{t}:{id}'");
        }
        V::Obj(t, members) => {
            let _ = writeln!(out, "({t}) {{");
            let dynamic = [("dynamicType", V::Unset)];
            let all: Vec<&(&str, V)> = if style.legacy {
                dynamic.iter().chain(members.iter()).collect()
            } else {
                members.iter().collect()
            };
            let n = all.len();
            for (k, (name, member)) in all.into_iter().enumerate() {
                if *member == V::Omit {
                    continue;
                }
                let _ = write!(out, "{}{name} = ", pad(indent + 3));
                value(out, member, indent + 3, style);
                end_line(out, k + 1 < n, style);
            }
            let _ = write!(out, "{}}}", pad(indent));
        }
        V::Arr(t, items) if items.is_empty() => {
            let _ = write!(out, "({t}) []");
        }
        V::Arr(t, items) => {
            let _ = writeln!(out, "({t}) [");
            let n = items.len();
            for (k, item) in items.iter().enumerate() {
                out.push_str(&pad(indent + 3));
                value(out, item, indent + 3, style);
                end_line(out, k + 1 < n, style);
            }
            let _ = write!(out, "{}]", pad(indent));
        }
    }
}

fn end_line(out: &mut String, more: bool, style: Style) {
    if more {
        out.push(',');
        if style.legacy {
            out.push(' ');
        }
    }
    out.push('\n');
}

fn pad(n: usize) -> String {
    " ".repeat(n)
}

/// A fault, printed the way vim-cmd prints one.
pub fn fault(kind: &str, message: &str) -> String {
    format!(
        "(vim.fault.{kind}) {{\n   faultCause = (vmodl.MethodFault) null,\n   faultMessage = <unset>\n   msg = \"{message}\"\n}}\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_real_output() {
        let v = V::Obj(
            "vim.vm.device.VirtualIDEController",
            vec![
                ("key", i(200)),
                (
                    "backing",
                    V::Null("vim.vm.device.VirtualDevice.BackingInfo"),
                ),
                ("controllerKey", V::Unset),
                ("busNumber", i(0)),
                ("device", V::Omit),
            ],
        );
        assert_eq!(
            render(&v, Style::default()),
            "(vim.vm.device.VirtualIDEController) {\n   key = 200,\n   backing = (vim.vm.device.VirtualDevice.BackingInfo) null,\n   controllerKey = <unset>,\n   busNumber = 0,\n}\n"
        );
        let a = V::Arr("int", vec![i(3002), i(7)]);
        assert_eq!(render(&a, Style::default()), "(int) [\n   3002,\n   7\n]\n");
        assert_eq!(
            render(&V::Arr("vim.vm.SnapshotTree", vec![]), Style::default()),
            "(vim.vm.SnapshotTree) []\n"
        );
    }

    #[test]
    fn legacy_style() {
        let v = V::Obj(
            "vim.Description",
            vec![("label", s("IDE 0")), ("summary", s("IDE 0"))],
        );
        assert_eq!(
            render(&v, Style { legacy: true }),
            "(vim.Description) {\n   dynamicType = <unset>, \n   label = \"IDE 0\", \n   summary = \"IDE 0\"\n}\n"
        );
    }
}
