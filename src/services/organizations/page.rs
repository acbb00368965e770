//! Pagination: `MaxResults` and `NextToken`. A token names the last item of the page it ends
//! and the listing it belongs to, so a token always moves forward (never repeats) and a token
//! from another listing is refused with INVALID_NEXT_TOKEN.

use super::errors::invalid_input;
use super::validate::{max_results, Input};
use crate::error::AwsError;
use crate::store::{prefix_end, Reader, Table};
use base64::Engine;
use std::ops::Bound;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// What the caller asked for: a page size, and where to resume.
pub struct Page {
    pub max: usize,
    scope: String,
    after: Option<String>,
}

impl Page {
    /// `scope` names the listing (the operation and whatever narrows it, e.g. the parent).
    pub fn new(input: &Input, scope: &str) -> Result<Page, AwsError> {
        let max = max_results(input)?;
        Self::with_max(input, scope, max)
    }

    /// For operations without MaxResults.
    pub fn with_max(input: &Input, scope: &str, max: usize) -> Result<Page, AwsError> {
        let after = match input.opt_str("NextToken")? {
            None => None,
            Some(t) => Some(decode(t, scope).ok_or_else(|| invalid_input("INVALID_NEXT_TOKEN"))?),
        };
        Ok(Page {
            max,
            scope: scope.to_string(),
            after,
        })
    }

    fn token(&self, last: &str) -> String {
        B64.encode(format!("{}\n{}", self.scope, last))
    }

    /// Pages through items already in key order.
    pub fn of<T>(&self, items: impl IntoIterator<Item = (String, T)>) -> (Vec<T>, Option<String>) {
        let mut out = Vec::new();
        let mut last = String::new();
        for (k, item) in items {
            if self
                .after
                .as_ref()
                .is_some_and(|a| k.as_str() <= a.as_str())
            {
                continue;
            }
            if out.len() == self.max {
                return (out, Some(self.token(&last)));
            }
            last = k;
            out.push(item);
        }
        (out, None)
    }

    /// Pages through the rows of `table` under `prefix`, in key order, keeping those `f` maps to
    /// an item. The key handed to `f` is the part after the prefix.
    pub fn scan<T>(
        &self,
        r: &dyn Reader,
        table: Table,
        prefix: &[u8],
        mut f: impl FnMut(&str, &[u8]) -> Result<Option<T>, AwsError>,
    ) -> Result<(Vec<T>, Option<String>), AwsError> {
        const BATCH: usize = 64;
        let end = prefix_end(prefix);
        let to = match &end {
            Some(e) => Bound::Excluded(e.as_slice()),
            None => Bound::Unbounded,
        };
        let mut from: Vec<u8> = match &self.after {
            Some(a) => {
                let mut k = prefix.to_vec();
                k.extend_from_slice(a.as_bytes());
                k
            }
            None => prefix.to_vec(),
        };
        let mut inclusive = self.after.is_none();
        let mut out = Vec::new();
        let mut last = String::new();
        loop {
            let lower = if inclusive {
                Bound::Included(from.as_slice())
            } else {
                Bound::Excluded(from.as_slice())
            };
            // Read one more than the page needs, so a full last page gets no token.
            let want = if self.max < BATCH {
                self.max + 1
            } else {
                BATCH
            };
            let rows = r.scan(table, lower, to, want, false)?;
            let n = rows.len();
            for (k, v) in &rows {
                let rest = String::from_utf8_lossy(&k[prefix.len()..]).into_owned();
                if let Some(item) = f(&rest, v)? {
                    if out.len() == self.max {
                        return Ok((out, Some(self.token(&last))));
                    }
                    out.push(item);
                    last = rest;
                }
            }
            if n < want {
                return Ok((out, None));
            }
            from = rows.last().map(|(k, _)| k.clone()).unwrap_or_default();
            inclusive = false;
        }
    }
}

fn decode(token: &str, scope: &str) -> Option<String> {
    let bytes = B64.decode(token).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (s, last) = text.split_once('\n')?;
    (s == scope).then(|| last.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::JsonInput;

    fn input(json: &str) -> JsonInput {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn pages_in_memory_items_without_repeating_tokens() {
        let items: Vec<(String, u32)> = (0..5).map(|i| (format!("k{i}"), i)).collect();
        let i = input(r#"{"MaxResults":2}"#);
        let p = Page::new(&Input(&i), "L").unwrap();
        let (a, t1) = p.of(items.clone());
        assert_eq!(a, vec![0, 1]);
        let t1 = t1.unwrap();
        let i = input(&format!(r#"{{"MaxResults":2,"NextToken":"{t1}"}}"#));
        let (b, t2) = Page::new(&Input(&i), "L").unwrap().of(items.clone());
        assert_eq!(b, vec![2, 3]);
        let t2 = t2.unwrap();
        assert_ne!(t1, t2);
        let i = input(&format!(r#"{{"MaxResults":2,"NextToken":"{t2}"}}"#));
        let (c, t3) = Page::new(&Input(&i), "L").unwrap().of(items.clone());
        assert_eq!(c, vec![4]);
        assert!(t3.is_none());
        // Exactly a full page left: no token.
        let i = input(r#"{"MaxResults":5}"#);
        assert!(Page::new(&Input(&i), "L").unwrap().of(items).1.is_none());
    }

    #[test]
    fn refuses_foreign_and_garbage_tokens() {
        let items: Vec<(String, u32)> = (0..3).map(|i| (format!("k{i}"), i)).collect();
        let i = input(r#"{"MaxResults":1}"#);
        let t = Page::new(&Input(&i), "A").unwrap().of(items).1.unwrap();
        for bad in [t.as_str(), "garbage!", ""] {
            let i = input(&format!(r#"{{"NextToken":"{bad}"}}"#));
            let e = Page::new(&Input(&i), "B").err().unwrap();
            assert_eq!(e.fields, vec![("Reason", "INVALID_NEXT_TOKEN".to_string())]);
        }
        let i = input(r#"{"MaxResults":21}"#);
        let e = Page::new(&Input(&i), "B").err().unwrap();
        assert_eq!(e.fields, vec![("Reason", "MAX_VALUE_EXCEEDED".to_string())]);
        let i = input(r#"{"MaxResults":0}"#);
        let e = Page::new(&Input(&i), "B").err().unwrap();
        assert_eq!(e.fields, vec![("Reason", "MIN_VALUE_EXCEEDED".to_string())]);
    }
}
