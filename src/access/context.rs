//! The condition keys every request carries (the IAM User Guide's "AWS global condition context
//! keys"), from the facts of the request and what the directory says of its principal. Keys a
//! service set for the request itself are left as it set them.

use super::sets::PolicySet;
use crate::auth::{Principal, PrincipalKind};
use crate::policy::Context;
use crate::services::RequestContext;
use chrono::{DateTime, Utc};
use std::net::IpAddr;

/// Who asks, from where, when, and in which region.
#[derive(Clone, Copy)]
pub struct Facts<'a> {
    pub principal: &'a Principal,
    /// None for requests AWS services make themselves.
    pub source_ip: Option<IpAddr>,
    pub secure: bool,
    pub time: DateTime<Utc>,
    /// `aws:RequestedRegion`: us-east-1 for the global services.
    pub region: &'a str,
}

impl<'a> Facts<'a> {
    pub fn of(ctx: &'a RequestContext) -> Self {
        Facts {
            principal: &ctx.principal,
            source_ip: Some(ctx.source_ip),
            secure: ctx.secure,
            time: ctx.time,
            region: &ctx.region,
        }
    }

    /// The same request, in another region (a global service's `us-east-1`).
    pub fn in_region(self, region: &'a str) -> Self {
        Facts { region, ..self }
    }
}

fn iso(t: DateTime<Utc>) -> String {
    use chrono::{Datelike, Timelike};
    // What `%Y-%m-%dT%H:%M:%SZ` writes, without parsing the format on every request (chrono
    // writes other years, and a leap second's 60, its own way).
    if (0..=9999).contains(&t.year()) && t.nanosecond() < 1_000_000_000 {
        return format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        );
    }
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub(super) fn add_request_keys(c: &mut Context, f: &Facts, set: &PolicySet) {
    // About a dozen keys follow: room for them at once, not as they come.
    c.reserve(16);
    let put = |c: &mut Context, k: &str, v: String| c.set_if_absent(k, v);
    put(
        c,
        "aws:SecureTransport",
        if f.secure { "true" } else { "false" }.into(),
    );
    if let Some(ip) = f.source_ip {
        put(c, "aws:SourceIp", ip.to_string());
    }
    put(c, "aws:CurrentTime", iso(f.time));
    put(c, "aws:EpochTime", f.time.timestamp().to_string());
    put(c, "aws:RequestedRegion", f.region.to_string());
    if let Some((org, path)) = &set.org {
        put(c, "aws:PrincipalOrgID", org.clone());
        if !c.contains("aws:PrincipalOrgPaths") {
            c.set_multi("aws:PrincipalOrgPaths", vec![path.clone()]);
        }
    }
    let p = f.principal;
    // Session tags take the place of the principal's own tags of the same key.
    let session_tags = p.session.as_ref().map(|s| s.tags.as_slice()).unwrap_or(&[]);
    for (k, v) in set.tags.iter().chain(session_tags) {
        c.set(&format!("aws:PrincipalTag/{k}"), v.clone());
    }
    let temporary = match &p.kind {
        PrincipalKind::AssumedRole { issued_at, .. } => Some(*issued_at),
        PrincipalKind::FederatedUser { .. } => {
            p.session.as_ref().and_then(|s| s.window).map(|w| w.0)
        }
        _ => p.session.as_ref().and_then(|s| s.window).map(|w| w.0),
    };
    if let Some(issued) = temporary {
        let mfa = p.session.as_ref().is_some_and(|s| s.mfa);
        put(
            c,
            "aws:MultiFactorAuthPresent",
            if mfa { "true" } else { "false" }.into(),
        );
        if mfa {
            put(
                c,
                "aws:MultiFactorAuthAge",
                (f.time.timestamp() - issued).max(0).to_string(),
            );
        }
        if let Some(t) = DateTime::from_timestamp(issued, 0) {
            put(c, "aws:TokenIssueTime", iso(t));
        }
    }
    if let Some(id) = p.session.as_ref().and_then(|s| s.source_identity.clone()) {
        put(c, "aws:SourceIdentity", id);
    }
    if let Some(f) = p.session.as_ref().and_then(|s| s.federation.as_ref()) {
        put(c, "aws:FederatedProvider", f.provider().to_string());
    }
    if !matches!(
        p.kind,
        PrincipalKind::Service { .. } | PrincipalKind::Anonymous
    ) {
        put(c, "aws:ViaAWSService", "false".into());
    }
}

#[cfg(test)]
mod tests {
    use super::iso;
    use chrono::{DateTime, NaiveDate, Utc};

    #[test]
    fn iso_writes_what_the_strftime_format_writes() {
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 1_500_000_000))
            .map(|t| t.and_utc());
        let times = [
            DateTime::from_timestamp(0, 0),
            DateTime::from_timestamp(1_700_000_000, 123_456_789),
            DateTime::from_timestamp(-70_000_000_000, 0),
            DateTime::from_timestamp(253_402_300_800, 0),
            leap,
        ];
        for t in times.into_iter().map(|t| t.expect("a time")) {
            let t: DateTime<Utc> = t;
            assert_eq!(iso(t), t.format("%Y-%m-%dT%H:%M:%SZ").to_string(), "{t:?}");
        }
    }
}
