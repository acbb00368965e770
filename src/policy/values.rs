//! Typed condition values: numbers, dates and CIDR blocks, parsed with std only.

use crate::clock::{days_from_civil, days_in_month};
use std::net::IpAddr;

/// Numbers in Numeric* conditions. Rust's float parser also takes `inf` and `NaN`, which no
/// policy means, so the character set is checked first.
pub(super) fn parse_number(s: &str) -> Option<f64> {
    let s = s.trim();
    if s.is_empty()
        || !s
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | 'e' | 'E'))
    {
        return None;
    }
    s.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// Dates in Date* conditions, as nanoseconds since the Unix epoch: either epoch seconds
/// (`aws:EpochTime`, optionally with a fraction) or ISO 8601 (`2019-07-16`,
/// `2019-07-16T12:00:00Z`, fractions, `±hh:mm` offsets; no zone means UTC).
pub(super) fn parse_date(s: &str) -> Option<i128> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let digits_only = s
        .strip_prefix('-')
        .unwrap_or(s)
        .chars()
        .all(|c| c.is_ascii_digit() || c == '.');
    if digits_only {
        return parse_epoch(s);
    }
    parse_iso8601(s)
}

const NANOS: i128 = 1_000_000_000;

fn parse_epoch(s: &str) -> Option<i128> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if int.is_empty() || int.len() > 18 {
        return None;
    }
    let secs: i128 = int.parse().ok()?;
    let nanos = parse_fraction(frac)?;
    let total = secs * NANOS + nanos;
    Some(if neg { -total } else { total })
}

/// Up to nine fractional digits become nanoseconds; further digits are below resolution.
fn parse_fraction(frac: &str) -> Option<i128> {
    if !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut nanos: i128 = 0;
    for (i, c) in frac.chars().take(9).enumerate() {
        nanos += i128::from(c.to_digit(10)?) * 10i128.pow(8 - i as u32);
    }
    Some(nanos)
}

fn parse_iso8601(s: &str) -> Option<i128> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = s.get(from..from + len)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut secs_of_day = 0i64;
    let mut nanos = 0i128;
    let mut offset = 0i64;
    let mut rest = &s[10..];
    if let Some(time) = rest
        .strip_prefix('T')
        .or_else(|| rest.strip_prefix('t'))
        .or_else(|| rest.strip_prefix(' '))
    {
        let tb = time.as_bytes();
        if tb.len() < 5 || tb[2] != b':' {
            return None;
        }
        let two = |from: usize| -> Option<i64> {
            let part = time.get(from..from + 2)?;
            if !part.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            part.parse().ok()
        };
        let (hour, minute) = (two(0)?, two(3)?);
        let mut second = 0;
        let mut idx = 5;
        if tb.get(5) == Some(&b':') {
            second = two(6)?;
            idx = 8;
            if tb.get(8) == Some(&b'.') || tb.get(8) == Some(&b',') {
                let frac_len = time[9..].bytes().take_while(u8::is_ascii_digit).count();
                if frac_len == 0 {
                    return None;
                }
                nanos = parse_fraction(&time[9..9 + frac_len])?;
                idx = 9 + frac_len;
            }
        }
        // 24:00:00 and leap seconds are accepted by ISO 8601 but never produced by AWS.
        if hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        secs_of_day = hour * 3600 + minute * 60 + second;
        rest = &time[idx..];
    }
    match rest {
        "" | "Z" | "z" => {}
        zone => {
            let sign = match zone.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let z = zone[1..].replace(':', "");
            if (z.len() != 2 && z.len() != 4) || !z.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let h: i64 = z[..2].parse().ok()?;
            let m: i64 = if z.len() == 4 {
                z[2..].parse().ok()?
            } else {
                0
            };
            if h > 23 || m > 59 {
                return None;
            }
            offset = sign * (h * 3600 + m * 60);
        }
    }
    let secs = days_from_civil(year, month, day) * 86_400 + secs_of_day - offset;
    Some(i128::from(secs) * NANOS + nanos)
}

/// An IpAddress/NotIpAddress block. A bare address is a /32 (or /128).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cidr {
    V4 { net: u32, prefix: u8 },
    V6 { net: u128, prefix: u8 },
}

impl Cidr {
    pub fn parse(s: &str) -> Option<Cidr> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => {
                if p.is_empty() || !p.bytes().all(|c| c.is_ascii_digit()) {
                    return None;
                }
                (a, Some(p.parse::<u8>().ok()?))
            }
            None => (s, None),
        };
        match addr.parse::<IpAddr>().ok()? {
            IpAddr::V4(a) => {
                let prefix = prefix.unwrap_or(32);
                (prefix <= 32).then(|| Cidr::V4 {
                    net: u32::from(a) & mask32(prefix),
                    prefix,
                })
            }
            IpAddr::V6(a) => {
                let prefix = prefix.unwrap_or(128);
                (prefix <= 128).then(|| Cidr::V6 {
                    net: u128::from(a) & mask128(prefix),
                    prefix,
                })
            }
        }
    }

    /// Whether the request address `ip` (as found in aws:SourceIp) lies in this block.
    /// IPv4-mapped IPv6 addresses are compared as IPv4, since a dual-stack listener reports
    /// IPv4 clients that way.
    pub fn contains(&self, ip: &str) -> bool {
        let Ok(addr) = ip.trim().parse::<IpAddr>() else {
            return false;
        };
        let addr = match addr {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => IpAddr::V6(v6),
            },
            v4 => v4,
        };
        match (self, addr) {
            (Cidr::V4 { net, prefix }, IpAddr::V4(a)) => u32::from(a) & mask32(*prefix) == *net,
            (Cidr::V6 { net, prefix }, IpAddr::V6(a)) => u128::from(a) & mask128(*prefix) == *net,
            _ => false,
        }
    }
}

fn mask32(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix))
    }
}

fn mask128(prefix: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(prefix))
    }
}
