//! A writer of compact JSON objects straight into a byte buffer, for the records the audit room
//! writes on every call's request path.
//!
//! Fields come out in the order they are written, which is what CloudTrail's record layout
//! needs. Strings and embedded values are escaped by `serde_json`, so the bytes are exactly what
//! serializing the same `serde_json::Value` would give.

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde_json::Value;
use std::io::Write;

/// An open JSON object; `close` writes its closing brace.
pub struct Object<'a> {
    out: &'a mut Vec<u8>,
    empty: bool,
}

/// An open JSON array, written through `Object::array`.
pub struct Array<'a> {
    out: &'a mut Vec<u8>,
    empty: bool,
}

/// Whether JSON needs any byte of `s` escaped (a control character, `"` or `\\`).
fn needs_escape(s: &[u8]) -> bool {
    let special = |b: u8| (b < 0x20) | (b == b'"') | (b == b'\\');
    // Sixteen bytes at a time, without stopping at the first: the compiler turns each block
    // into a few vector instructions, where a byte-by-byte search took a quarter of the time
    // spent building a record.
    let mut blocks = s.chunks_exact(16);
    for block in &mut blocks {
        if block.iter().fold(false, |any, &b| any | special(b)) {
            return true;
        }
    }
    blocks.remainder().iter().any(|&b| special(b))
}

fn string(out: &mut Vec<u8>, s: &str) {
    // Nearly every string of a record needs no escape: copy those whole, and leave the rest to
    // serde_json's escaper (which writes byte by byte through its formatter).
    if !needs_escape(s.as_bytes()) {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
        return;
    }
    serde_json::to_writer(&mut *out, s).expect("writing to a Vec cannot fail");
}

impl<'a> Object<'a> {
    pub fn open(out: &'a mut Vec<u8>) -> Object<'a> {
        out.push(b'{');
        Object { out, empty: true }
    }

    pub fn close(self) {
        self.out.push(b'}');
    }

    /// Writes `"name":`. Names are the record's own ASCII field names, never input.
    fn key(&mut self, name: &str) {
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        self.out.push(b'"');
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    pub fn str(&mut self, name: &str, v: &str) {
        self.key(name);
        string(self.out, v);
    }

    /// A string field holding an address as `Display` shows it. Every record has one, so an
    /// IPv4 address is written digit by digit rather than through the formatter.
    pub fn ip(&mut self, name: &str, ip: &std::net::IpAddr) {
        let std::net::IpAddr::V4(v4) = ip else {
            return self.str(name, &ip.to_string());
        };
        self.key(name);
        self.out.push(b'"');
        for (i, octet) in v4.octets().into_iter().enumerate() {
            if i > 0 {
                self.out.push(b'.');
            }
            if octet >= 100 {
                self.out.push(b'0' + octet / 100);
            }
            if octet >= 10 {
                self.out.push(b'0' + octet / 10 % 10);
            }
            self.out.push(b'0' + octet % 10);
        }
        self.out.push(b'"');
    }

    pub fn bool(&mut self, name: &str, v: bool) {
        self.key(name);
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
    }

    pub fn null(&mut self, name: &str) {
        self.key(name);
        self.out.extend_from_slice(b"null");
    }

    /// `2024-01-15T10:20:30Z`: CloudTrail's timestamps, whole seconds in UTC.
    pub fn time(&mut self, name: &str, t: DateTime<Utc>) {
        self.key(name);
        let (y, mo, d) = (t.year(), t.month(), t.day());
        let (h, mi, s) = (t.hour(), t.minute(), t.second().min(59));
        if (0..=9999).contains(&y) {
            let mut b = *b"\"0000-00-00T00:00:00Z\"";
            let y = y as u32;
            for (i, digit) in [y / 1000, y / 100 % 10, y / 10 % 10, y % 10]
                .into_iter()
                .enumerate()
            {
                b[1 + i] = b'0' + digit as u8;
            }
            for (at, v) in [(6, mo), (9, d), (12, h), (15, mi), (18, s)] {
                b[at] = b'0' + (v / 10) as u8;
                b[at + 1] = b'0' + (v % 10) as u8;
            }
            self.out.extend_from_slice(&b);
        } else {
            string(self.out, &t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        }
    }

    pub fn value(&mut self, name: &str, v: &Value) {
        self.key(name);
        serde_json::to_writer(&mut *self.out, v).expect("writing to a Vec cannot fail");
    }

    /// A parameters object as CloudTrail shows it: `null` when absent, and a note with the
    /// original size in place of one whose JSON exceeds `PARAMETERS_LIMIT` bytes.
    pub fn capped(&mut self, name: &str, v: Option<&Value>) {
        let Some(v) = v else {
            return self.null(name);
        };
        self.key(name);
        let start = self.out.len();
        serde_json::to_writer(&mut *self.out, v).expect("writing to a Vec cannot fail");
        let size = self.out.len() - start;
        if size > super::record::PARAMETERS_LIMIT {
            self.out.truncate(start);
            write!(self.out, "{{\"truncated\":true,\"originalSize\":{size}}}")
                .expect("writing to a Vec cannot fail");
        }
    }

    pub fn object(&mut self, name: &str, fill: impl FnOnce(&mut Object)) {
        self.key(name);
        let mut o = Object::open(self.out);
        fill(&mut o);
        o.close();
    }

    pub fn array(&mut self, name: &str, fill: impl FnOnce(&mut Array)) {
        self.key(name);
        self.out.push(b'[');
        let mut a = Array {
            out: self.out,
            empty: true,
        };
        fill(&mut a);
        a.out.push(b']');
    }
}

impl Array<'_> {
    pub fn object(&mut self, fill: impl FnOnce(&mut Object)) {
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        let mut o = Object::open(self.out);
        fill(&mut o);
        o.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn same_bytes_as_serde_json() {
        let mut out = Vec::new();
        let mut o = Object::open(&mut out);
        o.str("a", "quote \" and \\ and \u{1} and é");
        o.bool("b", false);
        o.null("c");
        o.value("d", &json!({"x": [1, 2.5, "y"], "z": null}));
        o.array("e", |a| {
            a.object(|m| m.str("k", "v"));
            a.object(|_| {});
        });
        o.object("f", |_| {});
        o.capped("g", None);
        o.capped("h", Some(&json!({"n": 1})));
        o.time(
            "t",
            DateTime::from_timestamp(1_705_314_030, 999_000_000).unwrap(),
        );
        o.ip("ip", &"::1".parse().unwrap());
        o.ip("ip4", &"10.0.100.255".parse().unwrap());
        o.ip("ip0", &"0.9.10.99".parse().unwrap());
        o.close();
        let expected = json!({
            "a": "quote \" and \\ and \u{1} and é", "b": false, "c": null,
            "d": {"x": [1, 2.5, "y"], "z": null}, "e": [{"k": "v"}, {}], "f": {},
            "g": null, "h": {"n": 1}, "t": "2024-01-15T10:20:30Z", "ip": "::1",
            "ip4": "10.0.100.255", "ip0": "0.9.10.99"
        });
        assert_eq!(
            String::from_utf8(out).unwrap(),
            serde_json::to_string(&expected).unwrap()
        );
    }

    #[test]
    fn a_special_byte_anywhere_in_a_long_string_is_escaped() {
        for special in ['"', '\\', '\n', '\u{1f}', '\u{0}'] {
            for len in [1, 15, 16, 17, 40] {
                for at in 0..len {
                    let mut v: Vec<char> = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN"[..len]
                        .chars()
                        .collect();
                    v[at] = special;
                    let text: String = v.into_iter().collect();
                    let mut out = Vec::new();
                    string(&mut out, &text);
                    assert_eq!(out, serde_json::to_vec(&text).unwrap(), "{text:?}");
                }
            }
        }
        assert!(!needs_escape(
            "plain é ascii, 40 bytes and more than 16 ..".as_bytes()
        ));
    }

    #[test]
    fn oversized_parameters_become_a_note() {
        let big = json!({ "policy": "x".repeat(super::super::record::PARAMETERS_LIMIT) });
        let size = serde_json::to_vec(&big).unwrap().len();
        let mut out = Vec::new();
        let mut o = Object::open(&mut out);
        o.capped("requestParameters", Some(&big));
        o.close();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("{{\"requestParameters\":{{\"truncated\":true,\"originalSize\":{size}}}}}")
        );
    }

    #[test]
    fn years_outside_four_digits_still_format() {
        let mut out = Vec::new();
        let mut o = Object::open(&mut out);
        o.time("t", DateTime::from_timestamp(-62_198_755_200, 0).unwrap());
        o.close();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("{\"t\":\"") && text.ends_with("Z\"}"),
            "{text}"
        );
    }
}
