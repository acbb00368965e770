//! The S3 XML documents: a small element tree for the request bodies S3 accepts
//! (CreateBucketConfiguration, CompleteMultipartUpload, Delete, AccessControlPolicy,
//! OwnershipControls), and a writer for the response documents. Anything that is not
//! well-formed XML, or lacks what the document needs, is `MalformedXML`.

use super::malformed_xml;
use crate::error::AwsError;
use quick_xml::escape::escape;
use quick_xml::events::Event;
use quick_xml::Reader;

/// Largest XML request body S3 operations here accept (a Delete of 1000 keys of 1024 bytes fits).
pub const MAX_XML_BODY: usize = 2 * 1024 * 1024;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    /// Local name, without any namespace prefix.
    pub name: String,
    /// Attributes as (local name, value); `xsi:type` is kept as `type`.
    pub attributes: Vec<(String, String)>,
    pub children: Vec<Element>,
    pub text: String,
}

impl Element {
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// Text of a child element, trimmed.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.trim())
    }

    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn local(name: &[u8]) -> String {
    let name = match name.iter().position(|&b| b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    };
    String::from_utf8_lossy(name).into_owned()
}

/// Parses a whole document into its root element.
pub fn parse(body: &[u8]) -> Result<Element, AwsError> {
    let mut reader = Reader::from_reader(body);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut buf = Vec::new();
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|_| malformed_xml())?;
        match event {
            Event::Start(e) | Event::Empty(e) if root.is_some() => {
                let _ = e;
                // A second root element.
                return Err(malformed_xml());
            }
            Event::Start(e) => {
                stack.push(open(&e)?);
            }
            Event::Empty(e) => {
                let el = open(&e)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::End(_) => {
                let el = stack.pop().ok_or_else(malformed_xml)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::Text(t) => {
                let text = t.unescape().map_err(|_| malformed_xml())?;
                match stack.last_mut() {
                    Some(el) => el.text.push_str(&text),
                    None if text.trim().is_empty() => {}
                    None => return Err(malformed_xml()),
                }
            }
            Event::CData(t) => {
                if let Some(el) = stack.last_mut() {
                    el.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
        buf.clear();
    }
    if !stack.is_empty() {
        return Err(malformed_xml());
    }
    root.ok_or_else(malformed_xml)
}

fn open(e: &quick_xml::events::BytesStart) -> Result<Element, AwsError> {
    let mut el = Element {
        name: local(e.name().as_ref()),
        ..Default::default()
    };
    for a in e.attributes() {
        let a = a.map_err(|_| malformed_xml())?;
        let value = a.unescape_value().map_err(|_| malformed_xml())?;
        el.attributes
            .push((local(a.key.as_ref()), value.into_owned()));
    }
    Ok(el)
}

/// Builds a response document.
pub struct Writer {
    out: String,
}

impl Writer {
    /// Starts a document whose root element carries the S3 namespace.
    pub fn document(root: &str) -> Writer {
        let mut out = String::with_capacity(512);
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<");
        out.push_str(root);
        out.push_str(" xmlns=\"");
        out.push_str(super::NAMESPACE);
        out.push_str("\">");
        Writer { out }
    }

    pub fn open(&mut self, name: &str) -> &mut Self {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
        self
    }

    /// An opening tag with raw (already escaped) attributes.
    pub fn open_with(&mut self, name: &str, attributes: &str) -> &mut Self {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push(' ');
        self.out.push_str(attributes);
        self.out.push('>');
        self
    }

    pub fn close(&mut self, name: &str) -> &mut Self {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
        self
    }

    /// `<name>escaped text</name>`.
    pub fn elem(&mut self, name: &str, text: &str) -> &mut Self {
        self.open(name);
        self.out.push_str(&escape(text));
        self.close(name)
    }

    /// Escaped text inside the current element.
    pub fn elem_text(&mut self, text: &str) -> &mut Self {
        self.out.push_str(&escape(text));
        self
    }

    pub fn opt(&mut self, name: &str, text: Option<&str>) -> &mut Self {
        if let Some(t) = text {
            self.elem(name, t);
        }
        self
    }

    pub fn finish(mut self, root: &str) -> String {
        self.close(root);
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_documents() {
        let doc = br#"<?xml version="1.0" encoding="UTF-8"?>
<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Part><ETag>&quot;abc&quot;</ETag><PartNumber>1</PartNumber></Part>
  <Part><ETag>"def"</ETag><PartNumber>2</PartNumber></Part>
</CompleteMultipartUpload>"#;
        let root = parse(doc).unwrap();
        assert_eq!(root.name, "CompleteMultipartUpload");
        let parts: Vec<_> = root.children("Part").collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].child_text("ETag"), Some("\"abc\""));
        assert_eq!(parts[1].child_text("PartNumber"), Some("2"));

        let acl = parse(br#"<AccessControlPolicy><AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>u</URI></Grantee></Grant></AccessControlList></AccessControlPolicy>"#).unwrap();
        let grantee = acl
            .child("AccessControlList")
            .and_then(|l| l.child("Grant"))
            .and_then(|g| g.child("Grantee"))
            .unwrap();
        assert_eq!(grantee.attribute("type"), Some("Group"));
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            &b"<a><b></a>"[..],
            b"<a>",
            b"not xml",
            b"",
            b"<a/><b/>",
            b"<a></a>trailing",
        ] {
            let e = parse(bad).unwrap_err();
            assert_eq!(e.code, "MalformedXML", "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn writes_documents() {
        let mut w = Writer::document("LocationConstraint");
        w.elem("X", "a<b");
        assert_eq!(
            w.finish("LocationConstraint"),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><X>a&lt;b</X></LocationConstraint>"
        );
    }
}
