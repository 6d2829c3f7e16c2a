//! Property tests: every parser is total on arbitrary input, and VMODL round-trips.

use proptest::prelude::*;

use super::vmodl::{self, Vmodl};
use super::{esxcli_xml, nslookup, text, vimcmd};

fn vmodl_value() -> impl Strategy<Value = Vmodl> {
    let ident = "[a-z][a-zA-Z0-9]{0,8}";
    let type_name = "[a-z]{1,4}(\\.[A-Z][a-zA-Z]{0,6}){0,3}";
    let leaf = prop_oneof![
        "[^\\\\\"]{0,12}".prop_map(Vmodl::Str),
        any::<i64>().prop_map(|n| Vmodl::Number(n.to_string())),
        any::<bool>().prop_map(Vmodl::Bool),
        Just(Vmodl::Unset),
        type_name.prop_map(Vmodl::Null),
        "vim\\.[A-Z][a-z]{1,6}:[a-z0-9-]{1,12}".prop_map(Vmodl::MoRef),
    ];
    leaf.prop_recursive(5, 48, 6, move |inner| {
        prop_oneof![
            (
                type_name,
                prop::collection::vec((ident, inner.clone()), 0..5)
            )
                .prop_map(|(type_name, fields)| Vmodl::Object { type_name, fields }),
            (type_name, prop::collection::vec(inner, 0..5))
                .prop_map(|(type_name, items)| Vmodl::Array { type_name, items }),
        ]
    })
}

/// Wrap non-container values so the printed text starts with `(` like real output does.
fn wrapped(v: Vmodl) -> Vmodl {
    Vmodl::Object {
        type_name: "vim.Test".to_string(),
        fields: vec![("value".to_string(), v)],
    }
}

proptest! {
    #[test]
    fn vmodl_round_trips(v in vmodl_value()) {
        let v = wrapped(v);
        let printed = format!("Banner:\n\n{v}\n");
        prop_assert_eq!(vmodl::parse(&printed).unwrap(), v);
    }

    #[test]
    fn vmodl_never_panics(s in "\\PC{0,200}") {
        let _ = vmodl::parse(&s);
    }

    #[test]
    fn vmodl_never_panics_on_near_misses(v in vmodl_value(), cut in 0usize..400, junk in "[(){}\\[\\],=<>'\"a-z0-9 \n-]{0,6}") {
        let printed = wrapped(v).to_string();
        let at = cut.min(printed.len());
        let mut broken = printed.get(..at).unwrap_or("").to_string();
        broken.push_str(&junk);
        broken.push_str(printed.get(at..).unwrap_or(""));
        let _ = vmodl::parse(&broken);
    }

    #[test]
    fn esxcli_parsers_never_panic(s in "\\PC{0,300}") {
        let _ = esxcli_xml::parse(&s);
        let _ = text::parse(&s);
        let _ = vimcmd::getallvms(&s);
        let _ = vimcmd::unread_lines(&s);
        let _ = vimcmd::snapshots(&s);
        let _ = vimcmd::bundle_path(&s);
        let _ = nslookup::parse(&s);
    }

    #[test]
    fn xml_parser_never_panics_on_tag_soup(parts in prop::collection::vec(prop_oneof![
        Just("<output>"), Just("</output>"), Just("<root>"), Just("</root>"),
        Just("<list type=\"structure\">"), Just("</list>"), Just("<structure typeName=\"X\">"),
        Just("</structure>"), Just("<field name=\"F\">"), Just("</field>"), Just("<string>"),
        Just("</string>"), Just("<integer>"), Just("</integer>"), Just("12"), Just("a&amp;b"),
        Just("&bogus;"), Just("<string/>"),
    ], 0..40)) {
        let _ = esxcli_xml::parse(&parts.concat());
    }
}
