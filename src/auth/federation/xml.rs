//! A small XML tree for SAML: elements with their namespaces resolved, attributes, text,
//! comments and processing instructions, in document order, read with quick-xml.
//!
//! It keeps what exclusive canonicalization needs (each element's prefix, its namespace and
//! the namespaces in scope) and normalizes as an XML processor must before anything is
//! canonicalized or compared: line endings become `\n`, white space in attribute values
//! becomes spaces, and character and predefined entity references are resolved. Document type
//! declarations are refused (no entities of a sender's own, no expansion), as is anything
//! that is not well-formed.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use std::collections::BTreeMap;
use std::rc::Rc;

pub const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// SAML documents nest a dozen elements deep; far deeper nesting is refused, so that nothing
/// that walks the tree (canonicalization, dropping it) runs out of stack.
const MAX_DEPTH: usize = 128;

/// Prefix → namespace URI in scope at an element; `""` is the default namespace, and an empty
/// URI means none.
pub type Scope = BTreeMap<String, String>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attr {
    /// Empty when the attribute has none.
    pub prefix: String,
    pub local: String,
    /// The attribute's namespace: empty for an unprefixed attribute.
    pub ns: String,
    pub value: String,
}

#[derive(Debug, Clone)]
pub enum Node {
    Element(Element),
    Text(String),
    Comment(String),
    Pi { target: String, data: String },
}

#[derive(Debug, Clone)]
pub struct Element {
    /// Empty when the element has none.
    pub prefix: String,
    pub local: String,
    /// The element's namespace URI; empty when it has none.
    pub ns: String,
    /// Attributes other than namespace declarations, in document order.
    pub attrs: Vec<Attr>,
    /// The namespaces in scope here (declared on this element or its ancestors).
    pub scope: Rc<Scope>,
    pub children: Vec<Node>,
}

#[derive(Debug, PartialEq, Eq)]
pub struct XmlError(pub String);

impl std::fmt::Display for XmlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn err(m: impl Into<String>) -> XmlError {
    XmlError(m.into())
}

impl Element {
    /// The value of the unprefixed attribute `local`.
    pub fn attr(&self, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns.is_empty() && a.local == local)
            .map(|a| a.value.as_str())
    }

    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.ns == ns && self.local == local
    }

    /// Child elements, in order.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            _ => None,
        })
    }

    /// Child elements named `{ns}local`.
    pub fn children_named<'a>(
        &'a self,
        ns: &'a str,
        local: &'a str,
    ) -> impl Iterator<Item = &'a Element> + 'a {
        self.elements().filter(move |e| e.is(ns, local))
    }

    /// The first child element named `{ns}local`.
    pub fn child(&self, ns: &str, local: &str) -> Option<&Element> {
        self.elements().find(|e| e.is(ns, local))
    }

    /// The text directly inside the element (its text children joined).
    pub fn text(&self) -> String {
        let mut s = String::new();
        for n in &self.children {
            if let Node::Text(t) = n {
                s.push_str(t);
            }
        }
        s
    }

    /// Every element of the subtree (this one first), depth first in document order.
    pub fn descendants(&self) -> Vec<&Element> {
        let mut out = Vec::new();
        let mut stack = vec![self];
        while let Some(e) = stack.pop() {
            out.push(e);
            let kids: Vec<&Element> = e.elements().collect();
            stack.extend(kids.into_iter().rev());
        }
        out
    }
}

/// Parses `text` into its document element.
pub fn parse(text: &str) -> Result<Element, XmlError> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| err(format!("not well-formed: {e}")))?;
        match event {
            Event::Start(s) => {
                if root.is_some() {
                    return Err(err("content after the document element"));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(err("elements nest too deeply"));
                }
                let parent = stack.last().map(|e| e.scope.clone());
                stack.push(open(&s, parent)?);
            }
            Event::Empty(s) => {
                if root.is_some() {
                    return Err(err("content after the document element"));
                }
                let parent = stack.last().map(|e| e.scope.clone());
                let e = open(&s, parent)?;
                match stack.last_mut() {
                    Some(p) => p.children.push(Node::Element(e)),
                    None => root = Some(e),
                }
            }
            Event::End(_) => {
                let e = stack.pop().ok_or_else(|| err("unexpected end tag"))?;
                match stack.last_mut() {
                    Some(p) => p.children.push(Node::Element(e)),
                    None => root = Some(e),
                }
            }
            Event::Text(t) => {
                let raw = std::str::from_utf8(t.as_ref()).map_err(|_| err("not UTF-8"))?;
                let value = unescape(&normalize_newlines(raw))?;
                match stack.last_mut() {
                    Some(p) => p.children.push(Node::Text(value)),
                    None if value.chars().all(|c| " \t\r\n".contains(c)) => {}
                    None => return Err(err("text outside the document element")),
                }
            }
            Event::CData(t) => {
                let raw = std::str::from_utf8(t.as_ref()).map_err(|_| err("not UTF-8"))?;
                let value = normalize_newlines(raw);
                match stack.last_mut() {
                    Some(p) => p.children.push(Node::Text(value)),
                    None => return Err(err("text outside the document element")),
                }
            }
            Event::Comment(t) => {
                if let Some(p) = stack.last_mut() {
                    let raw = std::str::from_utf8(t.as_ref()).map_err(|_| err("not UTF-8"))?;
                    p.children.push(Node::Comment(normalize_newlines(raw)));
                }
            }
            Event::PI(pi) => {
                if let Some(p) = stack.last_mut() {
                    let target = std::str::from_utf8(pi.target())
                        .map_err(|_| err("not UTF-8"))?
                        .to_string();
                    let data = std::str::from_utf8(pi.content())
                        .map_err(|_| err("not UTF-8"))?
                        .trim_start()
                        .to_string();
                    p.children.push(Node::Pi {
                        target,
                        data: normalize_newlines(&data),
                    });
                }
            }
            Event::Decl(_) => {}
            Event::DocType(_) => return Err(err("document type declarations are not accepted")),
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(err("unclosed element"));
    }
    root.ok_or_else(|| err("no document element"))
}

fn split_qname(q: &str) -> (&str, &str) {
    match q.split_once(':') {
        Some((p, l)) => (p, l),
        None => ("", q),
    }
}

fn open(s: &BytesStart, parent: Option<Rc<Scope>>) -> Result<Element, XmlError> {
    let name = std::str::from_utf8(s.name().as_ref())
        .map_err(|_| err("not UTF-8"))?
        .to_string();
    let mut declared: Vec<(String, String)> = Vec::new();
    let mut raw_attrs: Vec<(String, String)> = Vec::new();
    for a in s.attributes().with_checks(true) {
        let a = a.map_err(|e| err(format!("bad attribute: {e}")))?;
        let key = std::str::from_utf8(a.key.as_ref())
            .map_err(|_| err("not UTF-8"))?
            .to_string();
        let raw = std::str::from_utf8(&a.value).map_err(|_| err("not UTF-8"))?;
        let value = unescape(&normalize_attribute(raw))?;
        if key == "xmlns" {
            declared.push((String::new(), value));
        } else if let Some(p) = key.strip_prefix("xmlns:") {
            if value.is_empty() {
                return Err(err("a prefix cannot be undeclared"));
            }
            declared.push((p.to_string(), value));
        } else {
            raw_attrs.push((key, value));
        }
    }
    let scope = if declared.is_empty() {
        parent.unwrap_or_default()
    } else {
        let mut s: Scope = parent.as_deref().cloned().unwrap_or_default();
        for (p, v) in declared {
            s.insert(p, v);
        }
        Rc::new(s)
    };
    let resolve = |prefix: &str| -> Result<String, XmlError> {
        match prefix {
            "xml" => Ok(XML_NS.to_string()),
            _ => match scope.get(prefix) {
                Some(uri) => Ok(uri.clone()),
                None if prefix.is_empty() => Ok(String::new()),
                None => Err(err(format!("undeclared prefix {prefix}"))),
            },
        }
    };
    let (prefix, local) = split_qname(&name);
    let ns = resolve(prefix)?;
    let mut attrs = Vec::with_capacity(raw_attrs.len());
    for (key, value) in raw_attrs {
        let (p, l) = split_qname(&key);
        let ans = if p.is_empty() {
            String::new()
        } else {
            resolve(p)?
        };
        if attrs
            .iter()
            .any(|a: &Attr| a.ns == ans && a.local == l && !ans.is_empty())
        {
            return Err(err("duplicate attribute"));
        }
        attrs.push(Attr {
            prefix: p.to_string(),
            local: l.to_string(),
            ns: ans,
            value,
        });
    }
    Ok(Element {
        prefix: prefix.to_string(),
        local: local.to_string(),
        ns,
        attrs,
        scope,
        children: Vec::new(),
    })
}

/// XML 1.0 §2.11: `\r\n` and a lone `\r` become `\n`.
fn normalize_newlines(s: &str) -> String {
    if !s.contains('\r') {
        return s.to_string();
    }
    s.replace("\r\n", "\n").replace('\r', "\n")
}

/// XML 1.0 §3.3.3 for CDATA attributes: every literal white-space character becomes a space
/// (references such as `&#xA;` are resolved afterwards and stay what they are).
fn normalize_attribute(s: &str) -> String {
    normalize_newlines(s).replace(['\n', '\t'], " ")
}

fn unescape(s: &str) -> Result<String, XmlError> {
    quick_xml::escape::unescape(s)
        .map(|c| c.into_owned())
        .map_err(|e| err(format!("bad reference: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_attributes_and_text() {
        let doc = parse(
            "<?xml version=\"1.0\"?>\r\n<a:r xmlns:a=\"urn:a\" xmlns=\"urn:d\" id=\"x&amp;y\" a:k=\"1\r\n2\">\
             <c>t&lt;1&#xD;</c><a:e/><!--n--><![CDATA[<raw>]]></a:r>",
        )
        .unwrap();
        assert_eq!(
            (doc.prefix.as_str(), doc.local.as_str(), doc.ns.as_str()),
            ("a", "r", "urn:a")
        );
        assert_eq!(doc.attr("id"), Some("x&y"));
        assert_eq!(doc.attrs[1].ns, "urn:a");
        assert_eq!(doc.attrs[1].value, "1 2");
        let c = doc.child("urn:d", "c").unwrap();
        assert_eq!(c.text(), "t<1\r");
        assert!(doc.child("urn:a", "e").is_some());
        assert!(matches!(doc.children[2], Node::Comment(_)));
        assert_eq!(doc.text(), "<raw>");
    }

    #[test]
    fn refuses_what_is_not_plain_well_formed_xml() {
        for bad in [
            "<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>",
            "<a><b></a>",
            "<a>&unknown;</a>",
            "<p:a/>",
            "<a/><b/>",
            "<a x=\"1\" x=\"2\"/>",
            "",
            &"<a>".repeat(200),
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
