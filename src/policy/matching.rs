//! Wildcard patterns (`*` any run including the empty one, `?` exactly one character) and the
//! six-part ARN comparison of the Arn* condition operators.
//!
//! Patterns are token lists rather than strings because a policy variable escape such as `${*}`
//! must produce a literal `*` that no longer acts as a wildcard.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tok {
    Lit(char),
    Star,
    Quest,
}

/// `*` and `?` are wildcards, every other character is literal.
pub(super) fn tokenize(s: &str) -> Vec<Tok> {
    s.chars()
        .map(|c| match c {
            '*' => Tok::Star,
            '?' => Tok::Quest,
            c => Tok::Lit(c),
        })
        .collect()
}

/// Every character literal.
pub(super) fn literal(s: &str) -> impl Iterator<Item = Tok> + '_ {
    s.chars().map(Tok::Lit)
}

/// The pattern as plain text, for operators where wildcards have no meaning (StringEquals).
pub(super) fn to_text(pat: &[Tok]) -> String {
    pat.iter()
        .map(|t| match t {
            Tok::Lit(c) => *c,
            Tok::Star => '*',
            Tok::Quest => '?',
        })
        .collect()
}

/// Whether the pattern, as plain text, is `text`: [`to_text`] compared, without making it.
pub(super) fn is_text(pat: &[Tok], text: &str) -> bool {
    let mut chars = text.chars();
    pat.iter().all(|t| {
        let c = match t {
            Tok::Lit(c) => *c,
            Tok::Star => '*',
            Tok::Quest => '?',
        };
        chars.next() == Some(c)
    }) && chars.next().is_none()
}

pub(super) fn lowercase(pat: &[Tok]) -> Vec<Tok> {
    let mut out = Vec::with_capacity(pat.len());
    for t in pat {
        match t {
            Tok::Lit(c) => out.extend(c.to_lowercase().map(Tok::Lit)),
            other => out.push(*other),
        }
    }
    out
}

/// Case-sensitive match of the whole `text`.
pub(super) fn glob(pat: &[Tok], text: &str) -> bool {
    // Every request asks this of many patterns: ASCII text (ARNs, action names, nearly every
    // condition value) is matched in place, one byte a character, without collecting it.
    if text.is_ascii() {
        return glob_units(pat, text.as_bytes(), |c, b| c == char::from(*b));
    }
    let chars: Vec<char> = text.chars().collect();
    glob_units(pat, &chars, |c, t| c == *t)
}

/// Case-insensitive match; `pat` must already be lower-case (see [`lowercase`]).
pub(super) fn glob_ci(lower_pat: &[Tok], text: &str) -> bool {
    glob(lower_pat, &text.to_lowercase())
}

fn glob_units<T>(pat: &[Tok], text: &[T], same: impl Fn(char, &T) -> bool) -> bool {
    // Greedy scan that, on mismatch, lets the most recent `*` absorb one more character. Only
    // the latest star needs revisiting, which keeps this linear in practice and never
    // exponential.
    let (mut p, mut t) = (0usize, 0usize);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pat.len() {
            match pat[p] {
                Tok::Star => {
                    backtrack = Some((p, t));
                    p += 1;
                    continue;
                }
                Tok::Quest => {
                    p += 1;
                    t += 1;
                    continue;
                }
                Tok::Lit(c) if same(c, &text[t]) => {
                    p += 1;
                    t += 1;
                    continue;
                }
                Tok::Lit(_) => {}
            }
        }
        match backtrack {
            Some((sp, st)) => {
                backtrack = Some((sp, st + 1));
                p = sp + 1;
                t = st + 1;
            }
            None => return false,
        }
    }
    pat[p..].iter().all(|t| *t == Tok::Star)
}

/// True if some string that starts with `prefix` matches `pat`. Used to decide at PutBucketPolicy
/// time whether a resource pattern can reach any object of the bucket (`prefix` =
/// `arn:aws:s3:::bucket/`).
pub(super) fn can_match_with_prefix(pat: &[Tok], prefix: &str) -> bool {
    // NFA simulation over pattern positions: whatever pattern remains after the prefix is
    // consumed can always be satisfied by some suffix, so any live position means "yes".
    let n = pat.len();
    let mut live = vec![false; n + 1];
    live[0] = true;
    close_over_stars(pat, &mut live);
    for c in prefix.chars() {
        let mut next = vec![false; n + 1];
        for i in 0..n {
            if !live[i] {
                continue;
            }
            match pat[i] {
                Tok::Star => next[i] = true,
                Tok::Quest => next[i + 1] = true,
                Tok::Lit(l) if l == c => next[i + 1] = true,
                Tok::Lit(_) => {}
            }
        }
        close_over_stars(pat, &mut next);
        if !next.iter().any(|&b| b) {
            return false;
        }
        live = next;
    }
    live.iter().any(|&b| b)
}

fn close_over_stars(pat: &[Tok], live: &mut [bool]) {
    for i in 0..pat.len() {
        if live[i] && pat[i] == Tok::Star {
            live[i + 1] = true;
        }
    }
}

/// ArnEquals/ArnLike: both sides split into the six `:`-separated parts (the resource part keeps
/// any further `:` and `/`), each part matched on its own, case-sensitively, so a `*` cannot
/// swallow a separator. A pattern that is just `*` matches any value.
pub(super) fn arn_match(pat: &[Tok], value: &str) -> bool {
    if pat == [Tok::Star] {
        return true;
    }
    let value_parts: Vec<&str> = value.splitn(6, ':').collect();
    if value_parts.len() != 6 {
        return false;
    }
    let mut pat_parts: Vec<&[Tok]> = Vec::with_capacity(6);
    let mut start = 0;
    for (i, t) in pat.iter().enumerate() {
        if pat_parts.len() == 5 {
            break;
        }
        if *t == Tok::Lit(':') {
            pat_parts.push(&pat[start..i]);
            start = i + 1;
        }
    }
    if pat_parts.len() != 5 {
        return false;
    }
    pat_parts.push(&pat[start..]);
    pat_parts
        .iter()
        .zip(value_parts.iter())
        .all(|(p, v)| glob(p, v))
}
