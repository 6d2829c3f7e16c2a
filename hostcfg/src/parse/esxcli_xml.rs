//! `esxcli --formatter=xml`: `<output>` (optionally `<root>`) wrapping one value, where a value
//! is `<list type=…>`, `<structure typeName=…>` of `<field name=…>`, or a scalar element
//! (`<string>`, `<integer>`, `<boolean>`; any other leaf is kept as a string).
//!
//! Elements are matched by local name only: real hosts use the namespace
//! `http://www.vmware.com/Products/ESX/5.0/esxcli`, plugin scripts the same with a trailing slash
//! or an `esxcli:` prefix, and none of that changes the meaning.

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;
use quick_xml::{Reader, XmlVersion};

use super::{MAX_DEPTH, ParseError, Structure, Value, line_of};

enum Frame {
    /// `<output>` or `<root>`: collects whatever values it holds.
    Wrapper(Vec<Value>),
    List(Vec<Value>),
    Structure(Structure),
    Field(String, Option<Value>),
    Scalar(String, String),
}

/// Parses one esxcli XML document.
pub fn parse(input: &str) -> Result<Value, ParseError> {
    let mut reader = Reader::from_str(input);
    let mut stack: Vec<Frame> = Vec::new();
    let mut top: Vec<Value> = Vec::new();
    let err = |at: u64, message: String| ParseError {
        format: "esxcli XML",
        line: line_of(input, usize::try_from(at).unwrap_or(usize::MAX)),
        message,
    };
    loop {
        let at = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| err(reader.error_position(), e.to_string()))?;
        match event {
            Event::Start(_) | Event::Empty(_) => {
                let (e, empty) = match event {
                    Event::Empty(e) => (e, true),
                    Event::Start(e) => (e, false),
                    _ => continue,
                };
                if stack.len() >= MAX_DEPTH {
                    return Err(err(at, format!("nesting deeper than {MAX_DEPTH} elements")));
                }
                let name = e.local_name().as_ref().to_string();
                let attr = |key: &str| -> Result<String, ParseError> {
                    match e.try_get_attribute(key) {
                        Ok(Some(a)) => a
                            .normalized_value(XmlVersion::Implicit1_0)
                            .map(|v| v.into_owned())
                            .map_err(|x| err(at, x.to_string())),
                        Ok(None) => Ok(String::new()),
                        Err(x) => Err(err(at, x.to_string())),
                    }
                };
                let frame = match name.as_str() {
                    "output" | "root" => Frame::Wrapper(Vec::new()),
                    "list" => Frame::List(Vec::new()),
                    "structure" | "struct" => Frame::Structure(Structure {
                        type_name: {
                            let t = attr("typeName")?;
                            if t.is_empty() { attr("type")? } else { t }
                        },
                        fields: Vec::new(),
                    }),
                    "field" => Frame::Field(attr("name")?, None),
                    _ => Frame::Scalar(name, String::new()),
                };
                stack.push(frame);
                if empty {
                    close(&mut stack, &mut top).map_err(|m| err(at, m))?;
                }
            }
            Event::End(_) => {
                close(&mut stack, &mut top).map_err(|m| err(at, m))?;
            }
            Event::Text(t) => append_text(&mut stack, &t.xml10_content()),
            Event::CData(c) => append_text(&mut stack, &c),
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => match resolve_predefined_entity(&r) {
                        Some(s) => s.to_string(),
                        None => return Err(err(at, format!("unknown entity &{};", &*r))),
                    },
                    Err(e) => return Err(err(at, e.to_string())),
                };
                append_text(&mut stack, &resolved);
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(err(
            u64::try_from(input.len()).unwrap_or(u64::MAX),
            "the document ends inside an element (truncated output?)".to_string(),
        ));
    }
    match top.len() {
        0 => Err(err(0, "no <output> element".to_string())),
        1 => Ok(top.pop().unwrap_or(Value::List(Vec::new()))),
        _ => Ok(Value::List(top)),
    }
}

fn append_text(stack: &mut [Frame], text: &str) {
    if let Some(Frame::Scalar(_, buf)) = stack.last_mut() {
        buf.push_str(text);
    }
}

/// Pops the innermost frame and hands its value to the enclosing one.
fn close(stack: &mut Vec<Frame>, top: &mut Vec<Value>) -> Result<(), String> {
    let frame = stack
        .pop()
        .ok_or_else(|| "a closing tag without an opening one".to_string())?;
    let value = match frame {
        Frame::Wrapper(mut values) => match values.len() {
            0 => None,
            1 => values.pop(),
            _ => Some(Value::List(values)),
        },
        Frame::List(items) => Some(Value::List(items)),
        Frame::Structure(s) => Some(Value::Structure(s)),
        Frame::Field(name, value) => match stack.last_mut() {
            Some(Frame::Structure(s)) => {
                s.fields
                    .push((name, value.unwrap_or(Value::String(String::new()))));
                return Ok(());
            }
            _ => return Err(format!("<field name=\"{name}\"> outside a <structure>")),
        },
        Frame::Scalar(kind, text) => Some(scalar(&kind, text)),
    };
    let Some(value) = value else {
        return Ok(());
    };
    match stack.last_mut() {
        None => top.push(value),
        Some(Frame::Wrapper(values)) | Some(Frame::List(values)) => values.push(value),
        Some(Frame::Field(_, slot)) => *slot = Some(value),
        Some(Frame::Structure(s)) => {
            return Err(format!(
                "a value directly inside <structure typeName=\"{}\"> (expected <field>)",
                s.type_name
            ));
        }
        Some(Frame::Scalar(kind, _)) => return Err(format!("an element inside <{kind}>")),
    }
    Ok(())
}

fn scalar(kind: &str, text: String) -> Value {
    match kind {
        "integer" | "int" | "long" => match text.trim().parse() {
            Ok(i) => Value::Integer(i),
            Err(_) => Value::String(text),
        },
        "boolean" | "bool" => match text.trim() {
            "true" => Value::Boolean(true),
            "false" => Value::Boolean(false),
            _ => Value::String(text),
        },
        _ => Value::String(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<output xmlns="http://www.vmware.com/Products/ESX/5.0/esxcli">"#;

    #[test]
    fn list_of_structures_with_typed_fields() {
        let doc = format!(
            r#"{HEAD}
<root>
   <list type="structure">
      <structure typeName="Nic">
         <field name="Name"><string>vmnic0</string></field>
         <field name="MTU"><integer>9000</integer></field>
         <field name="Link"><boolean>true</boolean></field>
         <field name="Description"><string>Intel &amp; Co &#x41;</string></field>
         <field name="Empty"><string/></field>
      </structure>
   </list>
</root>
</output>"#
        );
        let v = parse(&doc).unwrap();
        let nics = v.structures();
        assert_eq!(nics.len(), 1);
        assert_eq!(nics[0].type_name, "Nic");
        assert_eq!(nics[0].text("name"), "vmnic0");
        assert_eq!(nics[0].int("MTU"), Some(9000));
        assert_eq!(nics[0].flag("Link"), Some(true));
        assert_eq!(nics[0].text("Description"), "Intel & Co A");
        assert_eq!(nics[0].text("Empty"), "");
    }

    #[test]
    fn plugin_form_without_root_and_with_prefix() {
        let doc = r#"<?xml version="1.0"?>
<esxcli:output xmlns:esxcli="http://www.vmware.com/Products/ESX/5.0/esxcli/">
  <esxcli:list type="string"><esxcli:string>a</esxcli:string><esxcli:string><![CDATA[b c]]></esxcli:string></esxcli:list>
</esxcli:output>"#;
        assert_eq!(
            parse(doc).unwrap(),
            Value::List(vec![Value::String("a".into()), Value::String("b c".into())])
        );
    }

    #[test]
    fn single_structure_and_scalar_roots() {
        let doc = format!(
            r#"{HEAD}<root><structure typeName="VersionGet"><field name="Build"><string>Releasebuild-22380479</string></field></structure></root></output>"#
        );
        assert_eq!(
            parse(&doc).unwrap().structures()[0].text("Build"),
            "Releasebuild-22380479"
        );
        let doc = format!(r#"{HEAD}<root><string>5a1b-c</string></root></output>"#);
        assert_eq!(parse(&doc).unwrap(), Value::String("5a1b-c".into()));
    }

    #[test]
    fn empty_lists_in_both_spellings() {
        // A host with no VIBs of a kind, no DNS servers: an empty list, never an error.
        let doc = format!(r#"{HEAD}<root><list type="structure"></list></root></output>"#);
        assert!(parse(&doc).unwrap().structures().is_empty());
        let doc = format!(
            r#"{HEAD}<root><structure typeName="ServerList"><field name="DNSServers"><list type="string"/></field></structure></root></output>"#
        );
        let v = parse(&doc).unwrap();
        assert!(v.structures()[0].strings("DNS Servers").is_empty());
        let doc = format!(r#"{HEAD}<root><boolean>false</boolean></root></output>"#);
        assert_eq!(parse(&doc).unwrap(), Value::Boolean(false));
    }

    #[test]
    fn truncated_and_malformed_documents_are_errors() {
        let doc = format!(r#"{HEAD}<root><list type="string"><string>a</string>"#);
        let e = parse(&doc).unwrap_err();
        assert!(e.message.contains("truncated"), "{e}");
        assert!(parse("not xml at all").is_err());
        assert!(
            parse(&format!(
                "{HEAD}<root><structure><string>x</string></structure></root></output>"
            ))
            .is_err()
        );
        assert!(parse("").is_err());
    }

    #[test]
    fn deep_nesting_is_refused() {
        let doc = format!("{HEAD}{}", "<list>".repeat(200));
        let e = parse(&doc).unwrap_err();
        assert!(e.message.contains("nesting"), "{e}");
    }
}
