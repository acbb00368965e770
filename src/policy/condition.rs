//! The Condition element: operator table, parsing, and evaluation against the request context.

use serde_json::Value;

use super::context::Env;
use super::matching::{arn_match, glob, is_text, to_text};
use super::values::{parse_date, parse_number, Cidr};
use super::variables::Template;
use super::PolicyError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    fn holds<T: PartialOrd>(self, request: T, policy: T) -> bool {
        match self {
            Cmp::Eq => request == policy,
            Cmp::Lt => request < policy,
            Cmp::Le => request <= policy,
            Cmp::Gt => request > policy,
            Cmp::Ge => request >= policy,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    Numeric(Cmp),
    Date(Cmp),
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

/// (name, family, negated). A negated operator is the complement of its positive family for each
/// request value: "the request value must differ from all policy values".
const OPERATORS: &[(&str, Family, bool)] = &[
    ("StringEquals", Family::StringEquals, false),
    ("StringNotEquals", Family::StringEquals, true),
    (
        "StringEqualsIgnoreCase",
        Family::StringEqualsIgnoreCase,
        false,
    ),
    (
        "StringNotEqualsIgnoreCase",
        Family::StringEqualsIgnoreCase,
        true,
    ),
    ("StringLike", Family::StringLike, false),
    ("StringNotLike", Family::StringLike, true),
    ("NumericEquals", Family::Numeric(Cmp::Eq), false),
    ("NumericNotEquals", Family::Numeric(Cmp::Eq), true),
    ("NumericLessThan", Family::Numeric(Cmp::Lt), false),
    ("NumericLessThanEquals", Family::Numeric(Cmp::Le), false),
    ("NumericGreaterThan", Family::Numeric(Cmp::Gt), false),
    ("NumericGreaterThanEquals", Family::Numeric(Cmp::Ge), false),
    ("DateEquals", Family::Date(Cmp::Eq), false),
    ("DateNotEquals", Family::Date(Cmp::Eq), true),
    ("DateLessThan", Family::Date(Cmp::Lt), false),
    ("DateLessThanEquals", Family::Date(Cmp::Le), false),
    ("DateGreaterThan", Family::Date(Cmp::Gt), false),
    ("DateGreaterThanEquals", Family::Date(Cmp::Ge), false),
    ("Bool", Family::Bool, false),
    ("BinaryEquals", Family::Binary, false),
    ("IpAddress", Family::Ip, false),
    ("NotIpAddress", Family::Ip, true),
    ("ArnEquals", Family::Arn, false),
    ("ArnLike", Family::Arn, false),
    ("ArnNotEquals", Family::Arn, true),
    ("ArnNotLike", Family::Arn, true),
    ("Null", Family::Null, false),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Qualifier {
    ForAnyValue,
    ForAllValues,
}

#[derive(Debug, Clone)]
enum Values {
    /// String* and Arn* values, the only ones that take policy variables.
    Patterns(Vec<Template>),
    Numbers(Vec<f64>),
    Dates(Vec<i128>),
    Cidrs(Vec<Cidr>),
    /// Bool (compared ignoring ASCII case, as JSON `true` and `"True"` both occur) and
    /// BinaryEquals (base64, compared verbatim).
    Plain(Vec<String>),
    /// Null: `true` means "the key must be absent".
    Nulls(Vec<bool>),
}

/// One (operator, key) pair. All conditions of a statement must hold.
#[derive(Debug, Clone)]
pub(super) struct Condition {
    family: Family,
    negated: bool,
    qualifier: Option<Qualifier>,
    if_exists: bool,
    /// Lower-case: condition keys are case-insensitive.
    key: String,
    values: Values,
}

struct Operator {
    family: Family,
    negated: bool,
    qualifier: Option<Qualifier>,
    if_exists: bool,
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

fn strip_suffix_ci<'a>(s: &'a str, suffix: &str) -> Option<&'a str> {
    let cut = s.len().checked_sub(suffix.len())?;
    let tail = s.get(cut..)?;
    tail.eq_ignore_ascii_case(suffix).then(|| &s[..cut])
}

/// Operator names are matched without regard to case: AWS's own examples are consistent, and
/// rejecting `stringEquals` would fail documents that AWS evaluates.
fn parse_operator(name: &str) -> Option<Operator> {
    let (qualifier, rest) = if let Some(r) = strip_prefix_ci(name, "ForAnyValue:") {
        (Some(Qualifier::ForAnyValue), r)
    } else if let Some(r) = strip_prefix_ci(name, "ForAllValues:") {
        (Some(Qualifier::ForAllValues), r)
    } else {
        (None, name)
    };
    let lookup = |n: &str| {
        OPERATORS
            .iter()
            .find(|(op, _, _)| op.eq_ignore_ascii_case(n))
            .map(|&(_, family, negated)| (family, negated))
    };
    if let Some((family, negated)) = lookup(rest) {
        return Some(Operator {
            family,
            negated,
            qualifier,
            if_exists: false,
        });
    }
    let base = strip_suffix_ci(rest, "IfExists")?;
    match lookup(base)? {
        // Null already is the existence test, so AWS allows no IfExists form of it.
        (Family::Null, _) => None,
        (family, negated) => Some(Operator {
            family,
            negated,
            qualifier,
            if_exists: true,
        }),
    }
}

fn syntax_error() -> PolicyError {
    PolicyError::new("Syntax errors in policy.")
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn valid_key(key: &str) -> bool {
    match key.split_once(':') {
        Some((vendor, name)) => {
            // Federation keys are prefixed by the provider's host and path
            // (`token.actions.githubusercontent.com:sub`, `oidc.eks.../id/EXAMPLE:aud`).
            !vendor.is_empty()
                && vendor
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-._/".contains(c))
                && !name.is_empty()
        }
        None => false,
    }
}

/// Parses a statement's Condition block. `expand_variables` is true for Version 2012-10-17;
/// `s3_wording` selects S3's error wording over IAM's.
pub(super) fn parse_block(
    block: &Value,
    expand_variables: bool,
    s3_wording: bool,
) -> Result<Vec<Condition>, PolicyError> {
    let Value::Object(ops) = block else {
        return Err(syntax_error());
    };
    let mut out = Vec::new();
    for (op_name, keys) in ops {
        let op = parse_operator(op_name)
            .ok_or_else(|| PolicyError::new(format!("Invalid Condition type : {op_name}")))?;
        let Value::Object(keys) = keys else {
            return Err(syntax_error());
        };
        for (key, raw) in keys {
            if !valid_key(key) {
                return Err(PolicyError::new(if s3_wording {
                    "Policy has an invalid condition key"
                } else {
                    "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
                }));
            }
            let strings: Vec<String> = match raw {
                Value::Array(items) => items
                    .iter()
                    .map(scalar)
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(syntax_error)?,
                other => vec![scalar(other).ok_or_else(syntax_error)?],
            };
            let values = typed_values(op_name, op.family, strings, expand_variables)?;
            out.push(Condition {
                family: op.family,
                negated: op.negated,
                qualifier: op.qualifier,
                if_exists: op.if_exists,
                key: key.to_ascii_lowercase(),
                values,
            });
        }
    }
    Ok(out)
}

fn typed_values(
    op_name: &str,
    family: Family,
    strings: Vec<String>,
    expand_variables: bool,
) -> Result<Values, PolicyError> {
    let invalid =
        |v: &str| PolicyError::new(format!("Invalid Condition value for {op_name} : {v}"));
    fn all<T>(
        strings: &[String],
        parse: impl Fn(&str) -> Option<T>,
        invalid: impl Fn(&str) -> PolicyError,
    ) -> Result<Vec<T>, PolicyError> {
        strings
            .iter()
            .map(|s| parse(s).ok_or_else(|| invalid(s)))
            .collect()
    }
    Ok(match family {
        Family::StringEquals
        | Family::StringEqualsIgnoreCase
        | Family::StringLike
        | Family::Arn => Values::Patterns(
            strings
                .iter()
                // ARN values of every partition compare as the `aws` partition Cairn keeps.
                .map(|s| Template::parse(&crate::arn::canonical(s), expand_variables))
                .collect(),
        ),
        Family::Numeric(_) => Values::Numbers(all(&strings, parse_number, invalid)?),
        Family::Date(_) => Values::Dates(all(&strings, parse_date, invalid)?),
        Family::Ip => Values::Cidrs(all(&strings, Cidr::parse, invalid)?),
        Family::Bool | Family::Binary => Values::Plain(strings),
        Family::Null => Values::Nulls(all(
            &strings,
            |s| match s.to_ascii_lowercase().as_str() {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            },
            invalid,
        )?),
    })
}

/// A policy value after variables are resolved, ready to compare with request values.
enum Resolved<'p> {
    Pattern(std::borrow::Cow<'p, [super::matching::Tok]>),
    Number(f64),
    Date(i128),
    Cidr(&'p Cidr),
    Plain(&'p str),
}

impl Condition {
    pub fn holds(&self, env: &Env) -> bool {
        let request = env.get(&self.key);
        if let Values::Nulls(expect_absent) = &self.values {
            let absent = request.is_none();
            return expect_absent.contains(&absent);
        }
        let Some(request) = request else {
            if self.if_exists {
                return true;
            }
            return match self.qualifier {
                Some(Qualifier::ForAllValues) => true,
                Some(Qualifier::ForAnyValue) => false,
                None => self.negated,
            };
        };
        let policy = self.resolve(env);
        let per_value = |r: &String| {
            let hit = policy.iter().any(|p| self.matches(p, r));
            hit != self.negated
        };
        match self.qualifier {
            Some(Qualifier::ForAnyValue) => request.iter().any(per_value),
            Some(Qualifier::ForAllValues) => request.iter().all(per_value),
            // Unqualified, a multivalued key acts like ForAnyValue for positive operators; the
            // negated forms then mean "no request value matches any policy value".
            None if self.negated => request.iter().all(per_value),
            None => request.iter().any(per_value),
        }
    }

    /// Entries whose variables cannot be resolved are dropped: they match nothing.
    fn resolve(&self, env: &Env) -> Vec<Resolved<'_>> {
        match &self.values {
            Values::Patterns(ts) => ts
                .iter()
                .filter_map(|t| t.resolve(env))
                .map(Resolved::Pattern)
                .collect(),
            Values::Numbers(ns) => ns.iter().copied().map(Resolved::Number).collect(),
            Values::Dates(ds) => ds.iter().copied().map(Resolved::Date).collect(),
            Values::Cidrs(cs) => cs.iter().map(Resolved::Cidr).collect(),
            Values::Plain(ps) => ps.iter().map(|p| Resolved::Plain(p.as_str())).collect(),
            Values::Nulls(_) => Vec::new(),
        }
    }

    fn matches(&self, policy: &Resolved, request: &str) -> bool {
        match (self.family, policy) {
            (Family::StringEquals, Resolved::Pattern(p)) => is_text(p, request),
            (Family::StringEqualsIgnoreCase, Resolved::Pattern(p)) => {
                to_text(p).to_lowercase() == request.to_lowercase()
            }
            (Family::StringLike, Resolved::Pattern(p)) => glob(p, request),
            (Family::Arn, Resolved::Pattern(p)) => arn_match(p, request),
            (Family::Numeric(cmp), Resolved::Number(n)) => {
                parse_number(request).is_some_and(|r| cmp.holds(r, *n))
            }
            (Family::Date(cmp), Resolved::Date(d)) => {
                parse_date(request).is_some_and(|r| cmp.holds(r, *d))
            }
            (Family::Ip, Resolved::Cidr(c)) => c.contains(request),
            (Family::Bool, Resolved::Plain(p)) => request.eq_ignore_ascii_case(p),
            (Family::Binary, Resolved::Plain(p)) => request == *p,
            _ => false,
        }
    }
}
