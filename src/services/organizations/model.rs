//! The records Organizations keeps, the tables they live in, and how they render in the model's
//! shapes (members in model order, timestamps as epoch seconds).
//!
//! Keys are designed for the scans the operations need:
//!
//! | table | key | value |
//! | --- | --- | --- |
//! | `org.orgs` | org id | [`Org`] |
//! | `org.members` | account id | [`Member`] |
//! | `org.accounts` | `org/joined ms/account` | [`Member`] (same record: ListAccounts order) |
//! | `org.children` | `org/parent/A\|O/child` | empty |
//! | `org.ous` | OU id | [`Ou`] |
//! | `org.handshakes` | handshake id | [`Handshake`] |
//! | `org.handshakes_by_org` | `org/requested ms/id` | empty |
//! | `org.handshakes_by_account` | `account/requested ms/id` | empty |
//! | `org.create_requests` | car id | [`CreateRequest`] |
//! | `org.create_requests_by_org` | `org/requested ms/id` | empty |
//! | `org.create_requests_due` | `due ms/id` | empty |
//! | `org.service_access` | `org/principal` | [`Enabled`] |
//! | `org.delegated` | `org/account/principal` | [`Delegation`] |
//! | `org.delegated_by_service` | `org/principal/account` | [`Delegation`] |
//! | `org.tags` | `resource/key` | value |
//! | `org.policies` | policy id | [`PolicyRecord`] |
//! | `org.policies_by_org` | `org/type/id` | empty |
//! | `org.attachments` | `org/target/policy` | empty |
//! | `org.attachments_by_policy` | `org/policy/target` | empty |
//! | `org.resource_policies` | org id | [`ResourcePolicy`] |
//! | `org.history` | `org/seq` | [`MembershipEvent`] |
//! | `org.account_history` | `account/seq` | [`MembershipEvent`] |
//! | `org.meta` | `seq` | last sequence number |

use super::ids;
use crate::store::{Reader, ReaderExt, StoreResult, Table, Writer, WriterExt};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::ops::Bound;

pub const ORGS: Table = Table("org.orgs");
pub const MEMBERS: Table = Table("org.members");
pub const ACCOUNTS: Table = Table("org.accounts");
pub const CHILDREN: Table = Table("org.children");
pub const OUS: Table = Table("org.ous");
pub const HANDSHAKES: Table = Table("org.handshakes");
pub const HANDSHAKES_BY_ORG: Table = Table("org.handshakes_by_org");
pub const HANDSHAKES_BY_ACCOUNT: Table = Table("org.handshakes_by_account");
pub const CREATE_REQUESTS: Table = Table("org.create_requests");
pub const CREATE_REQUESTS_BY_ORG: Table = Table("org.create_requests_by_org");
pub const CREATE_REQUESTS_DUE: Table = Table("org.create_requests_due");
pub const SERVICE_ACCESS: Table = Table("org.service_access");
pub const DELEGATED: Table = Table("org.delegated");
pub const DELEGATED_BY_SERVICE: Table = Table("org.delegated_by_service");
pub const TAGS: Table = Table("org.tags");
pub const POLICIES: Table = Table("org.policies");
pub const POLICIES_BY_ORG: Table = Table("org.policies_by_org");
pub const ATTACHMENTS: Table = Table("org.attachments");
pub const ATTACHMENTS_BY_POLICY: Table = Table("org.attachments_by_policy");
pub const RESOURCE_POLICIES: Table = Table("org.resource_policies");
pub const HISTORY: Table = Table("org.history");
pub const ACCOUNT_HISTORY: Table = Table("org.account_history");
pub const META: Table = Table("org.meta");

pub const ALL: &str = "ALL";
pub const CONSOLIDATED_BILLING: &str = "CONSOLIDATED_BILLING";
pub const SCP: &str = "SERVICE_CONTROL_POLICY";
pub const RCP: &str = "RESOURCE_CONTROL_POLICY";

/// Every key segment is fixed-width where it orders, so byte order is time order.
pub fn ms_key(ms: i64) -> String {
    format!("{:016}", ms.max(0))
}

pub fn key(parts: &[&str]) -> Vec<u8> {
    parts.join("/").into_bytes()
}

pub fn prefix(parts: &[&str]) -> Vec<u8> {
    let mut k = parts.join("/");
    k.push('/');
    k.into_bytes()
}

/// Epoch milliseconds as the JSON protocol's timestamp: epoch seconds with a fraction.
pub fn ts(ms: i64) -> Value {
    json!(ms as f64 / 1000.0)
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Org {
    pub id: String,
    pub management: String,
    pub management_email: String,
    pub feature_set: String,
    pub root: String,
    pub created_ms: i64,
    /// Policy types enabled in the root.
    pub policy_types: Vec<String>,
    /// The ENABLE_ALL_FEATURES handshake of a migration in progress.
    pub all_features: Option<String>,
}

impl Org {
    pub fn arn(&self) -> String {
        ids::organization_arn(&self.management, &self.id)
    }

    pub fn root_path(&self) -> String {
        format!("{}/{}/", self.id, self.root)
    }

    pub fn json(&self) -> Value {
        let available = if self.feature_set == ALL {
            json!([{"Type": SCP, "Status": "ENABLED"}])
        } else {
            json!([])
        };
        json!({
            "Id": self.id,
            "Arn": self.arn(),
            "FeatureSet": self.feature_set,
            "MasterAccountArn": ids::account_arn(&self.management, &self.id, &self.management),
            "MasterAccountId": self.management,
            "MasterAccountEmail": self.management_email,
            "AvailablePolicyTypes": available,
        })
    }

    pub fn root_json(&self) -> Value {
        let types: Vec<Value> = self
            .policy_types
            .iter()
            .map(|t| json!({"Type": t, "Status": "ENABLED"}))
            .collect();
        json!({
            "Id": self.root,
            "Arn": ids::root_arn(&self.management, &self.id, &self.root),
            "Name": "Root",
            "PolicyTypes": types,
        })
    }

    pub fn has_policy_type(&self, t: &str) -> bool {
        self.policy_types.iter().any(|x| x == t)
    }
}

pub fn org(r: &dyn Reader, id: &str) -> StoreResult<Option<Org>> {
    r.get_json(ORGS, id.as_bytes())
}

pub fn save_org(w: &mut dyn Writer, o: &Org) -> StoreResult<()> {
    w.put_json(ORGS, o.id.as_bytes(), o)?;
    // Policy types and membership bear on what every member may do.
    crate::auth::directory::touch(w)
}

/// An account's membership of an organization.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Member {
    pub org: String,
    pub id: String,
    pub name: String,
    pub email: String,
    /// INVITED | CREATED
    pub joined_method: String,
    pub joined_ms: i64,
    pub parent: String,
    /// `o-x/r-y/ou-.../<id>/`
    pub path: String,
    /// ACTIVE | PENDING_CLOSURE | SUSPENDED | CLOSED
    pub state: String,
    /// When CloseAccount was called.
    pub closing_ms: Option<i64>,
}

/// How long a closing account stays PENDING_CLOSURE before it is SUSPENDED (State CLOSED).
pub const CLOSURE_MS: i64 = 1_000;

impl Member {
    /// The state at `now`: a closure completes lazily.
    pub fn state_at(&self, now: i64) -> &str {
        match self.closing_ms {
            Some(t) if now >= t + CLOSURE_MS => "CLOSED",
            Some(_) => "PENDING_CLOSURE",
            None => &self.state,
        }
    }

    pub fn arn(&self, management: &str) -> String {
        ids::account_arn(management, &self.org, &self.id)
    }

    fn status_of(state: &str) -> &'static str {
        match state {
            "SUSPENDED" | "CLOSED" => "SUSPENDED",
            "PENDING_CLOSURE" => "PENDING_CLOSURE",
            _ => "ACTIVE",
        }
    }

    pub fn json(&self, management: &str, now: i64) -> Value {
        let state = self.state_at(now);
        json!({
            "Id": self.id,
            "Arn": self.arn(management),
            "Email": self.email,
            "Name": self.name,
            "Status": Self::status_of(state),
            "State": state,
            "Paths": [self.path],
            "JoinedMethod": self.joined_method,
            "JoinedTimestamp": ts(self.joined_ms),
        })
    }

    /// The DelegatedAdministrator shape: the account without Paths, and the delegation date.
    pub fn delegated_json(&self, management: &str, now: i64, since_ms: i64) -> Value {
        let state = self.state_at(now);
        json!({
            "Id": self.id,
            "Arn": self.arn(management),
            "Email": self.email,
            "Name": self.name,
            "Status": Self::status_of(state),
            "State": state,
            "JoinedMethod": self.joined_method,
            "JoinedTimestamp": ts(self.joined_ms),
            "DelegationEnabledDate": ts(since_ms),
        })
    }

    fn list_key(&self) -> Vec<u8> {
        key(&[&self.org, &ms_key(self.joined_ms), &self.id])
    }
}

pub fn member(r: &dyn Reader, account: &str) -> StoreResult<Option<Member>> {
    r.get_json(MEMBERS, account.as_bytes())
}

/// The member record of `account` if it belongs to `org`.
pub fn member_of(r: &dyn Reader, org: &str, account: &str) -> StoreResult<Option<Member>> {
    Ok(member(r, account)?.filter(|m| m.org == org))
}

/// Writes both copies of a member record.
pub fn save_member(w: &mut dyn Writer, m: &Member) -> StoreResult<()> {
    w.put_json(MEMBERS, m.id.as_bytes(), m)?;
    w.put_json(ACCOUNTS, &m.list_key(), m)?;
    crate::auth::directory::touch(w)
}

pub fn delete_member(w: &mut dyn Writer, m: &Member) -> StoreResult<()> {
    w.delete(MEMBERS, m.id.as_bytes())?;
    w.delete(ACCOUNTS, &m.list_key())?;
    crate::auth::directory::touch(w)
}

pub const CHILD_ACCOUNT: &str = "A";
pub const CHILD_OU: &str = "O";

pub fn add_child(
    w: &mut dyn Writer,
    org: &str,
    parent: &str,
    kind: &str,
    child: &str,
) -> StoreResult<()> {
    w.put(CHILDREN, &key(&[org, parent, kind, child]), b"")
}

pub fn remove_child(
    w: &mut dyn Writer,
    org: &str,
    parent: &str,
    kind: &str,
    child: &str,
) -> StoreResult<()> {
    w.delete(CHILDREN, &key(&[org, parent, kind, child]))?;
    Ok(())
}

/// The rest of every key under `parts/`, in key order.
pub fn keys_under(r: &dyn Reader, table: Table, parts: &[&str]) -> StoreResult<Vec<String>> {
    let p = prefix(parts);
    let end = crate::store::prefix_end(&p);
    let to = match &end {
        Some(e) => Bound::Excluded(e.as_slice()),
        None => Bound::Unbounded,
    };
    Ok(r.scan(table, Bound::Included(&p), to, usize::MAX, false)?
        .into_iter()
        .map(|(k, _)| String::from_utf8_lossy(&k[p.len()..]).into_owned())
        .collect())
}

/// Child ids of one kind under `parent`, in id order.
pub fn children(r: &dyn Reader, org: &str, parent: &str, kind: &str) -> StoreResult<Vec<String>> {
    keys_under(r, CHILDREN, &[org, parent, kind])
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Ou {
    pub org: String,
    pub id: String,
    pub name: String,
    pub parent: String,
    pub path: String,
    /// 1 for an OU directly under the root.
    pub depth: u32,
}

impl Ou {
    pub fn json(&self, management: &str) -> Value {
        json!({
            "Id": self.id,
            "Arn": ids::ou_arn(management, &self.org, &self.id),
            "Name": self.name,
            "Path": self.path,
        })
    }
}

pub fn ou(r: &dyn Reader, id: &str) -> StoreResult<Option<Ou>> {
    r.get_json(OUS, id.as_bytes())
}

pub fn ou_of(r: &dyn Reader, org: &str, id: &str) -> StoreResult<Option<Ou>> {
    Ok(ou(r, id)?.filter(|o| o.org == org))
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Party {
    pub id: String,
    pub kind: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct HsResource {
    pub value: Option<String>,
    pub kind: String,
    pub resources: Vec<HsResource>,
}

impl HsResource {
    pub fn new(kind: &str, value: Option<&str>) -> Self {
        HsResource {
            value: value.map(str::to_string),
            kind: kind.into(),
            resources: Vec::new(),
        }
    }

    fn json(&self) -> Value {
        let mut m = Map::new();
        if let Some(v) = &self.value {
            m.insert("Value".into(), json!(v));
        }
        m.insert("Type".into(), json!(self.kind));
        if !self.resources.is_empty() {
            m.insert(
                "Resources".into(),
                Value::Array(self.resources.iter().map(HsResource::json).collect()),
            );
        }
        Value::Object(m)
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Handshake {
    pub id: String,
    pub org: String,
    pub management: String,
    pub action: String,
    /// REQUESTED | OPEN | CANCELED | ACCEPTED | DECLINED (EXPIRED is worked out when read)
    pub state: String,
    pub parties: Vec<Party>,
    pub resources: Vec<HsResource>,
    pub requested_ms: i64,
    pub expires_ms: i64,
    pub closed_ms: Option<i64>,
    /// The account that may accept or decline (None: the organization's own handshake).
    pub recipient: Option<String>,
    /// For the handshakes of an all-features migration: the ENABLE_ALL_FEATURES parent.
    pub parent: Option<String>,
    /// Tags the invited account gets when it joins.
    pub tags: Vec<Tag>,
}

pub const INVITE_DAYS: i64 = 15;
pub const ALL_FEATURES_DAYS: i64 = 90;
pub const DAY_MS: i64 = 86_400_000;
/// Closed handshakes stay listed this long.
pub const CLOSED_KEPT_MS: i64 = 30 * DAY_MS;

impl Handshake {
    pub fn state_at(&self, now: i64) -> &str {
        match self.state.as_str() {
            "OPEN" | "REQUESTED" if now >= self.expires_ms => "EXPIRED",
            s => s,
        }
    }

    pub fn is_active(&self, now: i64) -> bool {
        matches!(self.state_at(now), "OPEN" | "REQUESTED")
    }

    /// When it stopped being active (accepted, declined, canceled or expired).
    pub fn closed_at(&self, now: i64) -> Option<i64> {
        match self.state_at(now) {
            "EXPIRED" => Some(self.expires_ms),
            "OPEN" | "REQUESTED" => None,
            _ => self.closed_ms,
        }
    }

    pub fn arn(&self) -> String {
        ids::handshake_arn(&self.management, &self.org, &self.action, &self.id)
    }

    pub fn json(&self, now: i64) -> Value {
        json!({
            "Id": self.id,
            "Arn": self.arn(),
            "Parties": self.parties.iter().map(|p| json!({"Id": p.id, "Type": p.kind})).collect::<Vec<_>>(),
            "State": self.state_at(now),
            "RequestedTimestamp": ts(self.requested_ms),
            "ExpirationTimestamp": ts(self.expires_ms),
            "Action": self.action,
            "Resources": self.resources.iter().map(HsResource::json).collect::<Vec<_>>(),
        })
    }
}

pub fn handshake(r: &dyn Reader, id: &str) -> StoreResult<Option<Handshake>> {
    r.get_json(HANDSHAKES, id.as_bytes())
}

/// Stores a handshake; `new` also indexes it for its organization and its recipient.
pub fn save_handshake(w: &mut dyn Writer, h: &Handshake, new: bool) -> StoreResult<()> {
    w.put_json(HANDSHAKES, h.id.as_bytes(), h)?;
    if new {
        let at = ms_key(h.requested_ms);
        w.put(HANDSHAKES_BY_ORG, &key(&[&h.org, &at, &h.id]), b"")?;
        if let Some(acct) = &h.recipient {
            w.put(HANDSHAKES_BY_ACCOUNT, &key(&[acct, &at, &h.id]), b"")?;
        }
    }
    Ok(())
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CreateRequest {
    pub id: String,
    pub org: String,
    pub account_name: String,
    pub email: String,
    pub role_name: String,
    pub tags: Vec<Tag>,
    /// IN_PROGRESS | SUCCEEDED | FAILED
    pub state: String,
    pub requested_ms: i64,
    pub due_ms: i64,
    pub completed_ms: Option<i64>,
    pub account_id: Option<String>,
    pub failure: Option<String>,
    /// Another request for the same email and name was in flight when this one arrived.
    pub concurrent: bool,
}

impl CreateRequest {
    pub fn json(&self) -> Value {
        let mut m = Map::new();
        m.insert("Id".into(), json!(self.id));
        m.insert("AccountName".into(), json!(self.account_name));
        m.insert("State".into(), json!(self.state));
        m.insert("RequestedTimestamp".into(), ts(self.requested_ms));
        if let Some(t) = self.completed_ms {
            m.insert("CompletedTimestamp".into(), ts(t));
        }
        if let Some(a) = &self.account_id {
            m.insert("AccountId".into(), json!(a));
        }
        if let Some(f) = &self.failure {
            m.insert("FailureReason".into(), json!(f));
        }
        Value::Object(m)
    }
}

pub fn create_request(r: &dyn Reader, id: &str) -> StoreResult<Option<CreateRequest>> {
    r.get_json(CREATE_REQUESTS, id.as_bytes())
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Enabled {
    pub principal: String,
    pub since_ms: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Delegation {
    pub org: String,
    pub account: String,
    pub principal: String,
    pub since_ms: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PolicyRecord {
    pub id: String,
    pub org: String,
    pub management: String,
    pub name: String,
    pub description: String,
    pub kind: String,
    pub content: String,
    pub aws_managed: bool,
}

impl PolicyRecord {
    pub fn arn(&self) -> String {
        if self.aws_managed {
            ids::managed_policy_arn(&self.kind, &self.id)
        } else {
            ids::policy_arn(&self.management, &self.org, &self.kind, &self.id)
        }
    }

    pub fn summary_json(&self) -> Value {
        json!({
            "Id": self.id,
            "Arn": self.arn(),
            "Name": self.name,
            "Description": self.description,
            "Type": self.kind,
            "AwsManaged": self.aws_managed,
        })
    }

    pub fn json(&self) -> Value {
        json!({"PolicySummary": self.summary_json(), "Content": self.content})
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ResourcePolicy {
    pub id: String,
    pub org: String,
    pub management: String,
    pub content: String,
}

impl ResourcePolicy {
    pub fn json(&self) -> Value {
        json!({
            "ResourcePolicySummary": {
                "Id": self.id,
                "Arn": ids::resource_policy_arn(&self.management, &self.org, &self.id),
            },
            "Content": self.content,
        })
    }
}

/// An account joining or leaving an organization.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct MembershipEvent {
    pub seq: u64,
    pub org: String,
    pub account: String,
    /// true: joined; false: left.
    pub joined: bool,
    pub at_ms: i64,
}

fn next_seq(w: &mut dyn Writer) -> StoreResult<u64> {
    let n = w
        .get(META, b"seq")?
        .and_then(|v| String::from_utf8(v).ok())
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(0)
        + 1;
    w.put(META, b"seq", n.to_string().as_bytes())?;
    Ok(n)
}

pub fn seq_key(seq: u64) -> String {
    format!("{seq:020}")
}

/// Records that `account` joined (or left) `org` at `at_ms`.
pub fn record_membership(
    w: &mut dyn Writer,
    org: &str,
    account: &str,
    joined: bool,
    at_ms: i64,
) -> StoreResult<()> {
    let seq = next_seq(w)?;
    let e = MembershipEvent {
        seq,
        org: org.into(),
        account: account.into(),
        joined,
        at_ms,
    };
    w.put_json(HISTORY, &key(&[org, &seq_key(seq)]), &e)?;
    w.put_json(ACCOUNT_HISTORY, &key(&[account, &seq_key(seq)]), &e)
}

/// Tags of a resource, in key order.
pub fn tags_of(r: &dyn Reader, resource: &str) -> StoreResult<Vec<Tag>> {
    let p = prefix(&[resource]);
    Ok(r.scan_prefix_json::<String>(TAGS, &p, usize::MAX)?
        .into_iter()
        .map(|(k, value)| Tag {
            key: String::from_utf8_lossy(&k[p.len()..]).into_owned(),
            value,
        })
        .collect())
}

pub fn put_tags(w: &mut dyn Writer, resource: &str, tags: &[Tag]) -> StoreResult<()> {
    for t in tags {
        let mut k = prefix(&[resource]);
        k.extend_from_slice(t.key.as_bytes());
        w.put_json(TAGS, &k, &t.value)?;
    }
    Ok(())
}

pub fn delete_tags(w: &mut dyn Writer, resource: &str) -> StoreResult<()> {
    w.delete_prefix(TAGS, &prefix(&[resource]))?;
    Ok(())
}
