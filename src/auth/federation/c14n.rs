//! XML canonicalization of an element's subtree, as XML signatures use it: Exclusive XML
//! Canonicalization 1.0 (`xml-exc-c14n#`, with its InclusiveNamespaces PrefixList) and
//! Canonical XML 1.0 (`REC-xml-c14n-20010315`), each with or without comments.
//!
//! The subset canonicalized is always a whole subtree, optionally minus one element of it (the
//! enveloped signature), which is what SAML signatures reference; so the rules the
//! specifications give for arbitrary node-sets reduce to these:
//! - an element is written `<qname` + namespace declarations + attributes + `>`, its content,
//!   and `</qname>`, empty elements included;
//! - namespace declarations come first, sorted by prefix (the default namespace first), then
//!   attributes sorted by namespace URI and then local name;
//! - exclusive: a namespace is declared where it is *visibly used* (by the element's own name
//!   or one of its attributes, or named in the PrefixList) and an output ancestor has not
//!   declared it with the same value; inclusive: every namespace in scope that the output
//!   parent did not declare with the same value. `xmlns=""` is written only to undo a default
//!   namespace an output ancestor declared;
//! - text escapes `&`, `<`, `>` and `\r`; attribute values `&`, `<`, `"`, `\t`, `\n`, `\r`;
//!   comments are dropped unless kept, processing instructions are written as they were.

use super::xml::{Element, Node};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Method {
    pub exclusive: bool,
    pub comments: bool,
    /// Exclusive only: prefixes treated as inclusive (`#default` is the default namespace).
    pub inclusive_prefixes: Vec<String>,
}

pub const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
pub const EXC_C14N_COMMENTS: &str = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments";
pub const C14N: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
pub const C14N_COMMENTS: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments";

impl Method {
    /// The canonicalization an algorithm URI names.
    pub fn from_uri(uri: &str, inclusive_prefixes: Vec<String>) -> Option<Method> {
        let (exclusive, comments) = match uri {
            EXC_C14N => (true, false),
            EXC_C14N_COMMENTS => (true, true),
            C14N => (false, false),
            C14N_COMMENTS => (false, true),
            _ => return None,
        };
        Some(Method {
            exclusive,
            comments,
            inclusive_prefixes: if exclusive {
                inclusive_prefixes
            } else {
                Vec::new()
            },
        })
    }
}

/// The canonical form of `root`'s subtree, without `exclude` (compared by identity) and its
/// descendants.
pub fn canonicalize(root: &Element, method: &Method, exclude: Option<&Element>) -> Vec<u8> {
    let mut out = Vec::new();
    let rendered = BTreeMap::new();
    write_element(&mut out, root, method, exclude, &rendered);
    out
}

fn write_element(
    out: &mut Vec<u8>,
    e: &Element,
    m: &Method,
    exclude: Option<&Element>,
    rendered: &BTreeMap<String, String>,
) {
    if exclude.is_some_and(|x| std::ptr::eq(x, e)) {
        return;
    }
    // Which prefixes to consider declaring here.
    let mut candidates: Vec<String> = Vec::new();
    if m.exclusive {
        candidates.push(e.prefix.clone());
        for a in &e.attrs {
            if !a.prefix.is_empty() {
                candidates.push(a.prefix.clone());
            }
        }
        for p in &m.inclusive_prefixes {
            let p = if p == "#default" { "" } else { p.as_str() };
            if p.is_empty() || e.scope.contains_key(p) {
                candidates.push(p.to_string());
            }
        }
    } else {
        candidates.extend(e.scope.keys().cloned());
        candidates.push(String::new());
    }
    candidates.sort();
    candidates.dedup();
    let mut mine = rendered.clone();
    let mut decls: Vec<(String, String)> = Vec::new();
    for p in candidates {
        if p == "xml" {
            continue;
        }
        let uri = e.scope.get(&p).cloned().unwrap_or_default();
        let before = rendered.get(&p);
        let needed = if p.is_empty() && uri.is_empty() {
            before.is_some_and(|v| !v.is_empty())
        } else {
            before != Some(&uri)
        };
        if needed {
            mine.insert(p.clone(), uri.clone());
            decls.push((p, uri));
        }
    }
    out.push(b'<');
    write_qname(out, &e.prefix, &e.local);
    for (p, uri) in &decls {
        if p.is_empty() {
            out.extend_from_slice(b" xmlns=\"");
        } else {
            out.extend_from_slice(b" xmlns:");
            out.extend_from_slice(p.as_bytes());
            out.extend_from_slice(b"=\"");
        }
        escape_attr(out, uri);
        out.push(b'"');
    }
    let mut attrs: Vec<_> = e.attrs.iter().collect();
    attrs.sort_by(|a, b| (a.ns.as_str(), a.local.as_str()).cmp(&(b.ns.as_str(), b.local.as_str())));
    for a in attrs {
        out.push(b' ');
        write_qname(out, &a.prefix, &a.local);
        out.extend_from_slice(b"=\"");
        escape_attr(out, &a.value);
        out.push(b'"');
    }
    out.push(b'>');
    for n in &e.children {
        match n {
            Node::Element(c) => write_element(out, c, m, exclude, &mine),
            Node::Text(t) => escape_text(out, t),
            Node::Comment(c) if m.comments => {
                out.extend_from_slice(b"<!--");
                out.extend_from_slice(c.as_bytes());
                out.extend_from_slice(b"-->");
            }
            Node::Comment(_) => {}
            Node::Pi { target, data } => {
                out.extend_from_slice(b"<?");
                out.extend_from_slice(target.as_bytes());
                if !data.is_empty() {
                    out.push(b' ');
                    out.extend_from_slice(data.as_bytes());
                }
                out.extend_from_slice(b"?>");
            }
        }
    }
    out.extend_from_slice(b"</");
    write_qname(out, &e.prefix, &e.local);
    out.push(b'>');
}

fn write_qname(out: &mut Vec<u8>, prefix: &str, local: &str) {
    if !prefix.is_empty() {
        out.extend_from_slice(prefix.as_bytes());
        out.push(b':');
    }
    out.extend_from_slice(local.as_bytes());
}

fn escape_text(out: &mut Vec<u8>, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.extend_from_slice(b"&amp;"),
            '<' => out.extend_from_slice(b"&lt;"),
            '>' => out.extend_from_slice(b"&gt;"),
            '\r' => out.extend_from_slice(b"&#xD;"),
            c => {
                let mut b = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            }
        }
    }
}

fn escape_attr(out: &mut Vec<u8>, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.extend_from_slice(b"&amp;"),
            '<' => out.extend_from_slice(b"&lt;"),
            '"' => out.extend_from_slice(b"&quot;"),
            '\t' => out.extend_from_slice(b"&#x9;"),
            '\n' => out.extend_from_slice(b"&#xA;"),
            '\r' => out.extend_from_slice(b"&#xD;"),
            c => {
                let mut b = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::xml::parse;
    use super::*;

    fn exc(doc: &str, path: &[usize]) -> String {
        let root = parse(doc).unwrap();
        let mut e = &root;
        for i in path {
            e = e.elements().nth(*i).unwrap();
        }
        String::from_utf8(canonicalize(
            e,
            &Method::from_uri(EXC_C14N, vec![]).unwrap(),
            None,
        ))
        .unwrap()
    }

    #[test]
    fn exclusive_declares_only_what_is_used() {
        // From the Exclusive XML Canonicalization spec's motivating example: the subtree keeps
        // only the namespaces its names use, wherever they were declared.
        let doc = r#"<n0:local xmlns:n0="foo:bar" xmlns:n3="ftp://example.org"><n1:elem2 xmlns:n1="http://example.net" xml:lang="en"><n3:stuff xmlns:n3="ftp://example.org"/></n1:elem2></n0:local>"#;
        assert_eq!(
            exc(doc, &[0]),
            r#"<n1:elem2 xmlns:n1="http://example.net" xml:lang="en"><n3:stuff xmlns:n3="ftp://example.org"></n3:stuff></n1:elem2>"#
        );
    }

    #[test]
    fn sorting_escaping_and_defaults() {
        let doc = "<r xmlns=\"urn:d\" xmlns:b=\"urn:b\" xmlns:a=\"urn:a\"><e z=\"1\" b:y=\"2\" a:x=\"&quot;\t\" c=\"3\">a&amp;b &gt; \r<i xmlns=\"\"/></e></r>";
        assert_eq!(
            exc(doc, &[0]),
            "<e xmlns=\"urn:d\" xmlns:a=\"urn:a\" xmlns:b=\"urn:b\" c=\"3\" z=\"1\" a:x=\"&quot; \" b:y=\"2\">a&amp;b &gt; \n<i xmlns=\"\"></i></e>"
        );
    }

    #[test]
    fn inclusive_keeps_every_namespace_in_scope() {
        let root =
            parse(r#"<r xmlns:a="urn:a" xmlns:b="urn:b"><a:e><!--c--><a:f/></a:e></r>"#).unwrap();
        let e = root.elements().next().unwrap();
        let m = Method::from_uri(C14N_COMMENTS, vec![]).unwrap();
        assert_eq!(
            String::from_utf8(canonicalize(e, &m, None)).unwrap(),
            r#"<a:e xmlns:a="urn:a" xmlns:b="urn:b"><!--c--><a:f></a:f></a:e>"#
        );
        let m = Method::from_uri(EXC_C14N, vec!["b".into()]).unwrap();
        assert_eq!(
            String::from_utf8(canonicalize(e, &m, None)).unwrap(),
            r#"<a:e xmlns:a="urn:a" xmlns:b="urn:b"><a:f></a:f></a:e>"#
        );
    }

    #[test]
    fn an_excluded_element_is_left_out() {
        let root = parse(r#"<r><s/><t/></r>"#).unwrap();
        let s = root.elements().next().unwrap();
        let m = Method::from_uri(EXC_C14N, vec![]).unwrap();
        assert_eq!(
            String::from_utf8(canonicalize(&root, &m, Some(s))).unwrap(),
            "<r><t></t></r>"
        );
    }
}
