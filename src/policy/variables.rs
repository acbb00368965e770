//! Policy variables: `${aws:username}`, `${aws:username, 'default'}` and the escapes `${*}`,
//! `${?}`, `${$}`. They are recognised only in Version 2012-10-17 documents; in older documents
//! the same text is taken literally, which is what AWS does.

use super::context::Env;
use super::matching::{literal, tokenize, Tok};
use std::borrow::Cow;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    /// Plain text; `*` and `?` in it are wildcards where the element allows them.
    Text(String),
    /// An escape: the character is always literal.
    Escaped(char),
    Var {
        /// Lower-case, because condition keys are case-insensitive.
        key: String,
        default: Option<String>,
    },
}

/// A Resource/NotResource entry or a String*/Arn* condition value, pre-split into its variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Template {
    parts: Vec<Part>,
    /// The pattern, when no variable is in it: what [`Template::resolve`] gives every request,
    /// made once.
    fixed: Option<Vec<Tok>>,
}

impl Template {
    pub fn parse(raw: &str, expand_variables: bool) -> Template {
        let parts = Self::parts(raw, expand_variables);
        let fixed = (!parts.iter().any(|p| matches!(p, Part::Var { .. }))).then(|| {
            let mut out = Vec::new();
            for part in &parts {
                match part {
                    Part::Text(t) => out.extend(tokenize(t)),
                    Part::Escaped(c) => out.push(Tok::Lit(*c)),
                    Part::Var { .. } => {}
                }
            }
            out
        });
        Template { parts, fixed }
    }

    fn parts(raw: &str, expand_variables: bool) -> Vec<Part> {
        if !expand_variables || !raw.contains("${") {
            return vec![Part::Text(raw.to_string())];
        }
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut rest = raw;
        while let Some(start) = rest.find("${") {
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                break;
            };
            match parse_variable(&after[..end]) {
                Some(part) => {
                    text.push_str(&rest[..start]);
                    if !text.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut text)));
                    }
                    parts.push(part);
                }
                // Not a well-formed variable: keep the characters as ordinary text.
                None => text.push_str(&rest[..start + 2 + end + 1]),
            }
            rest = &after[end + 1..];
        }
        text.push_str(rest);
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        parts
    }

    /// The pattern for this request, or None when a variable has neither a value nor a default:
    /// such an entry matches nothing. Borrowed when the entry has no variable.
    pub fn resolve(&self, env: &Env) -> Option<Cow<'_, [Tok]>> {
        if let Some(fixed) = &self.fixed {
            return Some(Cow::Borrowed(fixed));
        }
        let mut out = Vec::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.extend(tokenize(t)),
                Part::Escaped(c) => out.push(Tok::Lit(*c)),
                Part::Var { key, default } => match env.variable(key) {
                    Some(v) => out.extend(literal(&v)),
                    None => out.extend(literal(default.as_deref()?)),
                },
            }
        }
        Some(Cow::Owned(out))
    }

    /// The pattern with every variable widened to `*`: what the entry could match for some
    /// caller. Used for validation, where the caller is unknown.
    pub fn widest(&self) -> Vec<Tok> {
        let mut out = Vec::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.extend(tokenize(t)),
                Part::Escaped(c) => out.push(Tok::Lit(*c)),
                Part::Var { .. } => out.push(Tok::Star),
            }
        }
        out
    }
}

fn parse_variable(inner: &str) -> Option<Part> {
    let inner = inner.trim();
    match inner {
        "*" => return Some(Part::Escaped('*')),
        "?" => return Some(Part::Escaped('?')),
        "$" => return Some(Part::Escaped('$')),
        _ => {}
    }
    let (key, default) = match inner.split_once(',') {
        Some((key, default)) => {
            let d = default.trim();
            let quoted = d.len() >= 2 && d.starts_with('\'') && d.ends_with('\'');
            if !quoted {
                return None;
            }
            (key.trim(), Some(d[1..d.len() - 1].to_string()))
        }
        None => (inner, None),
    };
    // Tag keys (`aws:PrincipalTag/cost-center`) allow many characters; reject only what cannot
    // be a key at all so that a stray `${ }` stays literal text.
    let valid_key = !key.is_empty()
        && key
            .chars()
            .all(|c| !c.is_whitespace() && !"{}'$".contains(c));
    if !valid_key {
        return None;
    }
    Some(Part::Var {
        key: key.to_ascii_lowercase(),
        default,
    })
}
