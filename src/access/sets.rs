//! What the directory and the organization say about a principal: its identity policies, its
//! permissions boundary, its tags, the SCPs above its account; and the RCPs above a resource's
//! account. Derived from the store and kept until the directory's version moves (every IAM and
//! Organizations change that bears on access moves it), so a call pays one point read.

use super::cache;
use crate::auth::directory::{self, Inline};
use crate::auth::{Principal, PrincipalKind};
use crate::error::AwsError;
use crate::policy::Policy;
use crate::services::organizations::view;
use crate::store::Reader;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

const SCP: &str = "SERVICE_CONTROL_POLICY";
const RCP: &str = "RESOURCE_CONTROL_POLICY";

/// Policy levels from the organization's root down to an account.
pub type Levels = Vec<Vec<Arc<Policy>>>;

#[derive(Default)]
pub struct PolicySet {
    /// The principal's own policies: inline and attached, and its groups'.
    pub identity: Vec<Arc<Policy>>,
    pub boundary: Option<Arc<Policy>>,
    /// Empty when SCPs do not restrict the principal.
    pub scps: Levels,
    /// The principal's tags (`aws:PrincipalTag/*`).
    pub tags: Vec<(String, String)>,
    /// `aws:PrincipalOrgID` and `aws:PrincipalOrgPaths`.
    pub org: Option<(String, String)>,
    pub service_linked: bool,
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum Key {
    Principal(String),
    Rcps(String),
}

enum Entry {
    Set(Arc<PolicySet>),
    Rcps(Arc<Levels>),
}

struct Cache {
    version: u64,
    entries: HashMap<Key, Entry>,
}

fn cache() -> &'static Mutex<Cache> {
    static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
    CACHE.get_or_init(|| {
        Mutex::new(Cache {
            version: u64::MAX,
            entries: HashMap::new(),
        })
    })
}

/// Looks `key` up for `version`, or derives it and keeps it.
fn cached(
    version: u64,
    key: Key,
    derive: impl FnOnce() -> Result<Entry, AwsError>,
) -> Result<Entry, AwsError> {
    {
        let c = cache().lock().expect("access cache");
        if c.version == version {
            match c.entries.get(&key) {
                Some(Entry::Set(s)) => return Ok(Entry::Set(s.clone())),
                Some(Entry::Rcps(l)) => return Ok(Entry::Rcps(l.clone())),
                None => {}
            }
        }
    }
    let entry = derive()?;
    let mut c = cache().lock().expect("access cache");
    if c.version != version {
        c.version = version;
        c.entries.clear();
    }
    if c.entries.len() >= 16_384 {
        c.entries.clear();
    }
    let copy = match &entry {
        Entry::Set(s) => Entry::Set(s.clone()),
        Entry::Rcps(l) => Entry::Rcps(l.clone()),
    };
    c.entries.insert(key, copy);
    Ok(entry)
}

fn principal_key(p: &Principal) -> Option<String> {
    Some(match &p.kind {
        PrincipalKind::Root => format!("{}/root", p.account),
        PrincipalKind::User { name, .. } => format!("{}/user/{}", p.account, name.to_lowercase()),
        PrincipalKind::AssumedRole { role_name, .. } => {
            format!("{}/role/{}", p.account, role_name.to_lowercase())
        }
        PrincipalKind::FederatedUser { user_name, .. } => {
            format!("{}/user/{}", p.account, user_name.to_lowercase())
        }
        PrincipalKind::Service { .. }
        | PrincipalKind::Anonymous
        | PrincipalKind::WebIdentityUser { .. }
        | PrincipalKind::SamlUser { .. } => return None,
    })
}

/// The policy set of `p` as of the snapshot `r`, and the directory's version when it was read
/// (a point read each call: [`rcps`] takes it rather than reading it again).
pub fn of(r: &dyn Reader, p: &Principal) -> Result<(Arc<PolicySet>, Option<u64>), AwsError> {
    let Some(key) = principal_key(p) else {
        return Ok((Arc::new(PolicySet::default()), None));
    };
    let version = directory::version(r)?;
    let set = match cached(version, Key::Principal(key), || {
        derive(r, p).map(|s| Entry::Set(Arc::new(s)))
    })? {
        Entry::Set(s) => s,
        Entry::Rcps(_) => Arc::new(PolicySet::default()),
    };
    Ok((set, Some(version)))
}

/// The RCPs above `account`'s resources; empty when none apply (no organization, the type not
/// enabled, or the management account). `version` is the directory's in `r`, when known.
pub fn rcps(r: &dyn Reader, version: Option<u64>, account: &str) -> Result<Arc<Levels>, AwsError> {
    let version = match version {
        Some(v) => v,
        None => directory::version(r)?,
    };
    match cached(version, Key::Rcps(account.to_string()), || {
        Ok(Entry::Rcps(Arc::new(
            org_levels(r, account, RCP)?.unwrap_or_default(),
        )))
    })? {
        Entry::Rcps(l) => Ok(l),
        Entry::Set(_) => Ok(Arc::new(Vec::new())),
    }
}

fn push_inline(out: &mut Vec<Arc<Policy>>, inline: &Inline) {
    out.extend(inline.values().filter_map(|t| cache::parsed(t)));
}

fn push_attached(
    r: &dyn Reader,
    out: &mut Vec<Arc<Policy>>,
    arns: &[String],
) -> Result<(), AwsError> {
    for arn in arns {
        if let Some(text) = directory::policy_document(r, arn)? {
            if let Some(p) = cache::parsed(&text) {
                out.push(p);
            }
        }
    }
    Ok(())
}

fn boundary(r: &dyn Reader, arn: Option<&String>) -> Result<Option<Arc<Policy>>, AwsError> {
    let Some(arn) = arn else {
        return Ok(None);
    };
    // A boundary whose policy is gone allows nothing.
    let text = directory::policy_document(r, arn)?.unwrap_or_else(|| cache::NOTHING.into());
    Ok(cache::parsed(&text).or_else(|| cache::parsed(cache::NOTHING)))
}

fn derive(r: &dyn Reader, p: &Principal) -> Result<PolicySet, AwsError> {
    let mut set = PolicySet::default();
    match &p.kind {
        PrincipalKind::User { name, .. }
        | PrincipalKind::FederatedUser {
            user_name: name, ..
        } => {
            if let Some(u) = directory::user(r, &p.account, name)? {
                push_inline(&mut set.identity, &u.inline);
                push_attached(r, &mut set.identity, &u.attached)?;
                for g in &u.groups {
                    if let Some(g) = directory::group(r, &p.account, g)? {
                        push_inline(&mut set.identity, &g.inline);
                        push_attached(r, &mut set.identity, &g.attached)?;
                    }
                }
                set.boundary = boundary(r, u.boundary.as_ref())?;
                set.tags = u
                    .tags
                    .iter()
                    .map(|t| (t.key.clone(), t.value.clone()))
                    .collect();
            }
        }
        PrincipalKind::AssumedRole { role_name, .. } => {
            if let Some(role) = directory::role(r, &p.account, role_name)? {
                push_inline(&mut set.identity, &role.inline);
                push_attached(r, &mut set.identity, &role.attached)?;
                set.boundary = boundary(r, role.boundary.as_ref())?;
                set.tags = role
                    .tags
                    .iter()
                    .map(|t| (t.key.clone(), t.value.clone()))
                    .collect();
                set.service_linked = role.is_service_linked();
            }
        }
        _ => {}
    }
    if let Some(place) = view::place(r, &p.account)? {
        set.org = Some((place.org.id.clone(), place.org_path.clone()));
    }
    // SCPs never restrict the management account or service-linked roles.
    if !set.service_linked {
        set.scps = org_levels(r, &p.account, SCP)?.unwrap_or_default();
    }
    Ok(set)
}

/// The policies of `policy_type` on the path root → OUs → `account`, when the type is enabled
/// and the account is a member (not the management account) of an organization.
fn org_levels(
    r: &dyn Reader,
    account: &str,
    policy_type: &str,
) -> Result<Option<Levels>, AwsError> {
    let Some(place) = view::place(r, account)? else {
        return Ok(None);
    };
    if place.org.management_account == account
        || !place.policy_types.iter().any(|t| t == policy_type)
    {
        return Ok(None);
    }
    let mut levels = Vec::with_capacity(place.targets.len());
    for target in &place.targets {
        let docs = view::attached_documents(r, &place.org.id, target, policy_type)?;
        let parse = |t: &String| {
            if policy_type == RCP {
                cache::parsed_rcp(t)
            } else {
                cache::parsed(t)
            }
        };
        levels.push(docs.iter().filter_map(parse).collect());
    }
    Ok(Some(levels))
}
