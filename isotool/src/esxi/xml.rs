//! A small element tree over quick-xml for the VMware metadata files (VIB descriptors, image
//! profiles, depot indexes): names, attributes, text and the byte span of every element, so a
//! caller can read fields and also splice an edit into the original text without re-serialising
//! what it did not touch.

use std::ops::Range;

use quick_xml::XmlVersion;
use quick_xml::events::Event;
use quick_xml::reader::Reader;

use super::Error;

/// Nesting deeper than this is not a VMware metadata file; stopping bounds recursion and memory.
const MAX_DEPTH: usize = 64;
/// More elements than any real image profile or metadata file holds (an 8.x profile has ~250).
const MAX_ELEMENTS: usize = 200_000;

#[derive(Clone, Debug, Default)]
pub(crate) struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    /// The element's own text (entities resolved, trimmed), children's text excluded.
    pub text: String,
    pub children: Vec<Element>,
    /// From `<` of the start tag to `>` of the end tag (or of the empty tag).
    pub span: Range<usize>,
}

impl Element {
    /// Parses `text` (named `file` in errors) and returns its root element.
    pub fn parse(file: &str, text: &str) -> Result<Element, Error> {
        let bad = |what: String| Error::Format {
            file: file.to_string(),
            what,
        };
        let mut reader = Reader::from_str(text);
        let mut stack: Vec<Element> = Vec::new();
        let mut root: Option<Element> = None;
        let mut count = 0usize;
        loop {
            let start = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
            let event = reader.read_event().map_err(|e| {
                bad(format!(
                    "XML error at byte {}: {e}",
                    reader.error_position()
                ))
            })?;
            let end = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
            let empty = matches!(event, Event::Empty(_));
            match event {
                Event::Start(tag) | Event::Empty(tag) => {
                    count += 1;
                    if count > MAX_ELEMENTS || stack.len() >= MAX_DEPTH {
                        return Err(bad("XML nests too deep or holds too many elements".into()));
                    }
                    let mut element = Element {
                        name: tag.name().as_ref().to_string(),
                        span: start..end,
                        ..Element::default()
                    };
                    for attr in tag.attributes() {
                        let attr = attr.map_err(|e| bad(format!("XML attribute error: {e}")))?;
                        let value = attr
                            .normalized_value(XmlVersion::Implicit1_0)
                            .map_err(|e| bad(format!("XML attribute error: {e}")))?;
                        element
                            .attrs
                            .push((attr.key.as_ref().to_string(), value.into_owned()));
                    }
                    if empty {
                        attach(&mut stack, &mut root, element);
                    } else {
                        stack.push(element);
                    }
                }
                Event::End(tag) => {
                    let mut element = stack.pop().ok_or_else(|| {
                        bad(format!(
                            "XML end tag </{}> without a start",
                            tag.name().as_ref()
                        ))
                    })?;
                    element.span.end = end;
                    element.text = element.text.trim().to_string();
                    attach(&mut stack, &mut root, element);
                }
                Event::Text(t) => {
                    if let Some(top) = stack.last_mut() {
                        top.text.push_str(&t.xml_content(XmlVersion::Implicit1_0));
                    }
                }
                Event::CData(t) => {
                    if let Some(top) = stack.last_mut() {
                        top.text.push_str(&t.xml_content(XmlVersion::Implicit1_0));
                    }
                }
                Event::GeneralRef(r) => {
                    let resolved = match r.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        _ => quick_xml::escape::resolve_predefined_entity(&r)
                            .ok_or_else(|| bad(format!("XML entity &{}; is not defined", &*r)))?
                            .to_string(),
                    };
                    if let Some(top) = stack.last_mut() {
                        top.text.push_str(&resolved);
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        if let Some(open) = stack.last() {
            return Err(bad(format!("XML ends inside <{}>", open.name)));
        }
        root.ok_or_else(|| bad("no XML element found".into()))
    }

    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The text of child `name`, or `""`.
    pub fn child_text(&self, name: &str) -> &str {
        self.child(name).map_or("", |c| c.text.as_str())
    }

    /// The first element named `name` at any depth (depth-first, document order), the name
    /// compared without ASCII case: VMware's tools spell some names both ways (`vibList` in
    /// depot metadata, `viblist` in the image database's profile).
    pub fn find_ignore_case(&self, name: &str) -> Option<&Element> {
        if self.name.eq_ignore_ascii_case(name) {
            return Some(self);
        }
        self.children.iter().find_map(|c| c.find_ignore_case(name))
    }

    /// The first child named `name`, compared without ASCII case.
    pub fn child_ignore_case(&self, name: &str) -> Option<&Element> {
        self.children
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }
}

fn attach(stack: &mut [Element], root: &mut Option<Element>, element: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(element),
        None => {
            if root.is_none() {
                *root = Some(element);
            }
        }
    }
}

/// `text` with `&`, `<`, `>`, `"` escaped, for values we write into XML.
pub(crate) fn escape(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_and_text() {
        let s = "<?xml version=\"1.0\"?>\n<a x=\"1\"><b>t&amp;u</b><c/>  <b>v</b></a>";
        let root = Element::parse("f", s).unwrap();
        assert_eq!(root.name, "a");
        assert_eq!(root.attr("x"), Some("1"));
        assert_eq!(root.child_text("b"), "t&u");
        assert_eq!(root.children_named("b").count(), 2);
        let c = root.child("c").unwrap();
        assert_eq!(&s[c.span.clone()], "<c/>");
        assert_eq!(&s[root.span.clone()], &s[22..]);
    }

    #[test]
    fn malformed_is_an_error_naming_the_file() {
        for bad in ["<a><b></a>", "<a>", "", "</a>", "<a>&bogus;</a>"] {
            let err = Element::parse("descriptor.xml", bad)
                .unwrap_err()
                .to_string();
            assert!(err.starts_with("descriptor.xml"), "{bad}: {err}");
        }
    }

    #[test]
    fn names_can_be_found_without_case() {
        let root = Element::parse(
            "f",
            "<p><vibList><vib/></vibList><AcceptanceLevel>x</AcceptanceLevel></p>",
        )
        .unwrap();
        assert_eq!(root.find_ignore_case("viblist").unwrap().name, "vibList");
        assert_eq!(root.child_ignore_case("acceptancelevel").unwrap().text, "x");
        assert!(root.child_ignore_case("vib").is_none(), "children only");
    }

    #[test]
    fn deep_nesting_is_refused() {
        let s = "<a>".repeat(100) + &"</a>".repeat(100);
        assert!(Element::parse("f", &s).is_err());
    }
}
