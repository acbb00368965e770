//! Management policies: policy types in the root, policies, and their attachments to the root,
//! OUs and accounts. SCPs and RCPs carry AWS's managed full-access policy on every target
//! while their type is enabled, as on AWS.

use super::accounts::listing;
use super::errors::{
    constraint, duplicate_policy, duplicate_policy_attachment, invalid_input, malformed_policy,
    policy_in_use, policy_not_attached, policy_not_found, policy_type_already_enabled,
    policy_type_not_available, policy_type_not_enabled, root_not_found, target_not_found,
};
use super::model::{self, Org, PolicyRecord, ALL, RCP, SCP};
use super::page::Page;
use super::validate::{self, one_of};
use super::{ids, Call};
use crate::auth::directory;
use crate::error::AwsError;
use crate::policy::{Policy, PolicyKind};
use crate::store::{Reader, ReaderExt, Writer, WriterExt};
use serde_json::{json, Value};

pub const POLICY_TYPES: &[&str] = &[
    "SERVICE_CONTROL_POLICY",
    "RESOURCE_CONTROL_POLICY",
    "TAG_POLICY",
    "BACKUP_POLICY",
    "AISERVICES_OPT_OUT_POLICY",
    "CHATBOT_POLICY",
    "DECLARATIVE_POLICY_EC2",
    "SECURITYHUB_POLICY",
    "INSPECTOR_POLICY",
    "UPGRADE_ROLLOUT_POLICY",
    "BEDROCK_POLICY",
    "S3_POLICY",
    "NETWORK_SECURITY_DIRECTOR_POLICY",
];

pub const FULL_AWS_ACCESS: &str = "p-FullAWSAccess";
pub const RCP_FULL_AWS_ACCESS: &str = "p-RCPFullAWSAccess";
const MAX_POLICIES_PER_TYPE: usize = 1000;
const MAX_TAGS: usize = 50;

/// AWS's managed policies.
pub fn managed(id: &str) -> Option<PolicyRecord> {
    let (kind, name, description, content) = match id {
        FULL_AWS_ACCESS => (
            SCP,
            "FullAWSAccess",
            "Allows access to every operation",
            "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n      \"Action\": \"*\",\n      \"Resource\": \"*\"\n    }\n  ]\n}",
        ),
        RCP_FULL_AWS_ACCESS => (
            RCP,
            "RCPFullAWSAccess",
            "Allows access to every resource",
            "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n      \"Principal\": \"*\",\n      \"Action\": \"*\",\n      \"Resource\": \"*\"\n    }\n  ]\n}",
        ),
        _ => return None,
    };
    Some(PolicyRecord {
        id: id.into(),
        org: String::new(),
        management: String::new(),
        name: name.into(),
        description: description.into(),
        kind: kind.into(),
        content: content.into(),
        aws_managed: true,
    })
}

/// The managed policy every target of a type carries while the type is enabled.
fn default_policy(policy_type: &str) -> Option<&'static str> {
    match policy_type {
        SCP => Some(FULL_AWS_ACCESS),
        RCP => Some(RCP_FULL_AWS_ACCESS),
        _ => None,
    }
}

pub fn customer_policy(
    r: &dyn Reader,
    org: &str,
    id: &str,
) -> Result<Option<PolicyRecord>, AwsError> {
    Ok(r.get_json::<PolicyRecord>(model::POLICIES, id.as_bytes())?
        .filter(|p| p.org == org))
}

fn find(r: &dyn Reader, org: &str, id: &str) -> Result<PolicyRecord, AwsError> {
    if let Some(p) = managed(id) {
        return Ok(p);
    }
    customer_policy(r, org, id)?.ok_or_else(policy_not_found)
}

fn policy_id<'a>(c: &Call<'a>) -> Result<&'a str, AwsError> {
    let id = c.input.str("PolicyId")?;
    if !validate::is_policy_id(id) {
        return Err(invalid_input("INVALID_SYNTAX_POLICY_ID"));
    }
    Ok(id)
}

fn target_id<'a>(c: &Call<'a>) -> Result<&'a str, AwsError> {
    let id = c.input.str("TargetId")?;
    if !validate::is_target_id(id) {
        return Err(invalid_input("INVALID_PATTERN_TARGET_ID"));
    }
    Ok(id)
}

fn policy_type<'a>(c: &Call<'a>, name: &str) -> Result<&'a str, AwsError> {
    let t = c.input.str(name)?;
    if !POLICY_TYPES.contains(&t) {
        return Err(invalid_input("INVALID_ENUM_POLICY_TYPE"));
    }
    Ok(t)
}

/// A target of `org` (root, OU or account): its name and type.
fn target(r: &dyn Reader, org: &Org, id: &str) -> Result<Option<(String, &'static str)>, AwsError> {
    Ok(if id == org.root {
        Some(("Root".into(), "ROOT"))
    } else if validate::is_account_id(id) {
        model::member_of(r, &org.id, id)?.map(|m| (m.name, "ACCOUNT"))
    } else if validate::is_ou_id(id) {
        model::ou_of(r, &org.id, id)?.map(|o| (o.name, "ORGANIZATIONAL_UNIT"))
    } else {
        None
    })
}

fn target_arn(org: &Org, id: &str, kind: &str) -> String {
    match kind {
        "ROOT" => ids::root_arn(&org.management, &org.id, id),
        "ACCOUNT" => ids::account_arn(&org.management, &org.id, id),
        _ => ids::ou_arn(&org.management, &org.id, id),
    }
}

fn attach_raw(w: &mut dyn Writer, org: &str, target: &str, policy: &str) -> Result<(), AwsError> {
    directory::touch(w)?;
    w.put(model::ATTACHMENTS, &model::key(&[org, target, policy]), b"")?;
    w.put(
        model::ATTACHMENTS_BY_POLICY,
        &model::key(&[org, policy, target]),
        b"",
    )?;
    Ok(())
}

fn detach_raw(w: &mut dyn Writer, org: &str, target: &str, policy: &str) -> Result<bool, AwsError> {
    directory::touch(w)?;
    let was = w.delete(model::ATTACHMENTS, &model::key(&[org, target, policy]))?;
    w.delete(
        model::ATTACHMENTS_BY_POLICY,
        &model::key(&[org, policy, target]),
    )?;
    Ok(was)
}

/// Policies attached to `target`.
fn attached_to(r: &dyn Reader, org: &str, target: &str) -> Result<Vec<PolicyRecord>, AwsError> {
    let mut out = Vec::new();
    for id in model::keys_under(r, model::ATTACHMENTS, &[org, target])? {
        if let Ok(p) = find(r, org, &id) {
            out.push(p);
        }
    }
    Ok(out)
}

/// A new root, OU or account gets the default policy of every enabled type.
pub fn attach_defaults(w: &mut dyn Writer, org: &Org, target: &str) -> Result<(), AwsError> {
    for t in &org.policy_types {
        if let Some(p) = default_policy(t) {
            attach_raw(w, &org.id, target, p)?;
        }
    }
    Ok(())
}

/// A target is going away: its attachments go with it.
pub fn detach_all_from(w: &mut dyn Writer, org: &str, target: &str) -> Result<(), AwsError> {
    for policy in model::keys_under(w, model::ATTACHMENTS, &[org, target])? {
        detach_raw(w, org, target, &policy)?;
    }
    Ok(())
}

/// Every target of `org`: the root, then each OU and account.
fn all_targets(r: &dyn Reader, org: &Org) -> Result<Vec<String>, AwsError> {
    let mut out = vec![org.root.clone()];
    for k in model::keys_under(r, model::CHILDREN, &[&org.id])? {
        if let Some(child) = k.split('/').nth(2) {
            out.push(child.to_string());
        }
    }
    Ok(out)
}

/// Enables a policy type in the root (the caller saves `org`).
pub fn enable_policy_type(
    w: &mut dyn Writer,
    org: &mut Org,
    policy_type: &str,
) -> Result<(), AwsError> {
    org.policy_types.push(policy_type.into());
    if let Some(p) = default_policy(policy_type) {
        for t in all_targets(w, org)? {
            attach_raw(w, &org.id, &t, p)?;
        }
    }
    Ok(())
}

/// The organization is deleted: its policies, their tags and every attachment go.
pub fn delete_all(w: &mut dyn Writer, org: &str) -> Result<(), AwsError> {
    for k in model::keys_under(w, model::POLICIES_BY_ORG, &[org])? {
        if let Some(id) = k.split('/').nth(1) {
            w.delete(model::POLICIES, id.as_bytes())?;
            model::delete_tags(w, id)?;
        }
    }
    w.delete_prefix(model::POLICIES_BY_ORG, &model::prefix(&[org]))?;
    w.delete_prefix(model::ATTACHMENTS, &model::prefix(&[org]))?;
    w.delete_prefix(model::ATTACHMENTS_BY_POLICY, &model::prefix(&[org]))?;
    Ok(())
}

fn content_limit(policy_type: &str) -> usize {
    match policy_type {
        SCP | RCP => 5_120,
        "AISERVICES_OPT_OUT_POLICY" => 2_500,
        _ => 10_000,
    }
}

fn check_content(policy_type: &str, content: &str) -> Result<(), AwsError> {
    if content.chars().count() > content_limit(policy_type) {
        return Err(constraint("POLICY_CONTENT_LIMIT_EXCEEDED"));
    }
    let ok = match policy_type {
        SCP => Policy::parse(content, &PolicyKind::Identity).is_ok(),
        RCP => Policy::parse(content, &PolicyKind::Trust).is_ok(),
        _ => matches!(serde_json::from_str::<Value>(content), Ok(Value::Object(_))),
    };
    if !ok {
        return Err(malformed_policy());
    }
    Ok(())
}

fn name_taken(
    r: &dyn Reader,
    org: &str,
    policy_type: &str,
    name: &str,
    except: &str,
) -> Result<bool, AwsError> {
    for k in model::keys_under(r, model::POLICIES_BY_ORG, &[org, policy_type])? {
        if k != except {
            if let Some(p) = customer_policy(r, org, &k)? {
                if p.name == name {
                    return Ok(true);
                }
            }
        }
    }
    Ok(false)
}

fn save(w: &mut dyn Writer, p: &PolicyRecord) -> Result<(), AwsError> {
    // A policy's content bears on every account it is attached above.
    directory::touch(w)?;
    w.put_json(model::POLICIES, p.id.as_bytes(), p)?;
    w.put(
        model::POLICIES_BY_ORG,
        &model::key(&[&p.org, &p.kind, &p.id]),
        b"",
    )?;
    Ok(())
}

fn require_all_features(org: &Org) -> Result<(), AwsError> {
    if org.feature_set != ALL {
        return Err(policy_type_not_available());
    }
    Ok(())
}

pub fn create(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let org = c.org()?;
    let content = c.input.str("Content")?;
    let description = c.input.str("Description")?;
    let name = c.input.str("Name")?;
    let kind = policy_type(c, "Type")?;
    validate::length(content, 1, usize::MAX)?;
    validate::length(description, 0, 512)?;
    validate::length(name, 1, 128)?;
    let tags = c.input.tags("Tags")?;
    if tags.len() > MAX_TAGS {
        return Err(constraint("MAX_TAG_LIMIT_EXCEEDED"));
    }
    require_all_features(org)?;
    check_content(kind, content)?;
    if name_taken(w, &org.id, kind, name, "")? {
        return Err(duplicate_policy());
    }
    if model::keys_under(w, model::POLICIES_BY_ORG, &[&org.id, kind])?.len()
        >= MAX_POLICIES_PER_TYPE
    {
        return Err(constraint("POLICY_NUMBER_LIMIT_EXCEEDED"));
    }
    let id = loop {
        let id = ids::policy();
        if managed(&id).is_none() && w.get(model::POLICIES, id.as_bytes())?.is_none() {
            break id;
        }
    };
    let p = PolicyRecord {
        id,
        org: org.id.clone(),
        management: org.management.clone(),
        name: name.into(),
        description: description.into(),
        kind: kind.into(),
        content: content.into(),
        aws_managed: false,
    };
    save(w, &p)?;
    model::put_tags(w, &p.id, &tags)?;
    Ok(json!({"Policy": p.json()}))
}

pub fn describe(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let org = c.org()?;
    let p = find(w, &org.id, policy_id(c)?)?;
    Ok(json!({"Policy": p.json()}))
}

pub fn update(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let org = c.org()?;
    let id = policy_id(c)?;
    let name = c.input.opt_str("Name")?;
    let description = c.input.opt_str("Description")?;
    let content = c.input.opt_str("Content")?;
    if let Some(n) = name {
        validate::length(n, 1, 128)?;
    }
    if let Some(d) = description {
        validate::length(d, 0, 512)?;
    }
    if let Some(x) = content {
        validate::length(x, 1, usize::MAX)?;
    }
    if managed(id).is_some() {
        return Err(invalid_input("IMMUTABLE_POLICY"));
    }
    let mut p = customer_policy(w, &org.id, id)?.ok_or_else(policy_not_found)?;
    if let Some(n) = name {
        if n != p.name && name_taken(w, &org.id, &p.kind, n, &p.id)? {
            return Err(duplicate_policy());
        }
        p.name = n.into();
    }
    if let Some(d) = description {
        p.description = d.into();
    }
    if let Some(x) = content {
        check_content(&p.kind, x)?;
        p.content = x.into();
    }
    save(w, &p)?;
    Ok(json!({"Policy": p.json()}))
}

pub fn delete(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let org = c.org()?;
    let id = policy_id(c)?;
    if managed(id).is_some() {
        return Err(invalid_input("IMMUTABLE_POLICY"));
    }
    let p = customer_policy(w, &org.id, id)?.ok_or_else(policy_not_found)?;
    if !model::keys_under(w, model::ATTACHMENTS_BY_POLICY, &[&org.id, &p.id])?.is_empty() {
        return Err(policy_in_use());
    }
    w.delete(model::POLICIES, p.id.as_bytes())?;
    w.delete(
        model::POLICIES_BY_ORG,
        &model::key(&[&org.id, &p.kind, &p.id]),
    )?;
    model::delete_tags(w, &p.id)?;
    Ok(json!({}))
}

pub fn list(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let org = c.org()?;
    let kind = policy_type(c, "Filter")?;
    let page = Page::new(&c.input, &format!("ListPolicies:{kind}"))?;
    let mut items = Vec::new();
    if org.feature_set == ALL {
        for m in [FULL_AWS_ACCESS, RCP_FULL_AWS_ACCESS] {
            if let Some(p) = managed(m).filter(|p| p.kind == kind) {
                items.push((format!("0/{}", p.id), p.summary_json()));
            }
        }
    }
    for id in model::keys_under(w, model::POLICIES_BY_ORG, &[&org.id, kind])? {
        if let Some(p) = customer_policy(w, &org.id, &id)? {
            items.push((format!("1/{}", p.id), p.summary_json()));
        }
    }
    let (items, next) = page.of(items);
    Ok(listing("Policies", items, next))
}

pub fn attach(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let org = c.org()?;
    let pid = policy_id(c)?;
    let tid = target_id(c)?;
    let p = find(w, &org.id, pid)?;
    if target(w, org, tid)?.is_none() {
        return Err(target_not_found());
    }
    if !org.has_policy_type(&p.kind) {
        return Err(policy_type_not_enabled());
    }
    let current = attached_to(w, &org.id, tid)?;
    if current.iter().any(|x| x.id == p.id) {
        return Err(duplicate_policy_attachment());
    }
    let max = if p.kind == SCP || p.kind == RCP {
        5
    } else {
        10
    };
    if current.iter().filter(|x| x.kind == p.kind).count() >= max {
        return Err(constraint("MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED"));
    }
    attach_raw(w, &org.id, tid, &p.id)?;
    Ok(json!({}))
}

pub fn detach(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let org = c.org()?;
    let pid = policy_id(c)?;
    let tid = target_id(c)?;
    let p = find(w, &org.id, pid)?;
    if target(w, org, tid)?.is_none() {
        return Err(target_not_found());
    }
    let current = attached_to(w, &org.id, tid)?;
    if !current.iter().any(|x| x.id == p.id) {
        return Err(policy_not_attached());
    }
    let same_type = current.iter().filter(|x| x.kind == p.kind).count();
    if default_policy(&p.kind).is_some() && same_type <= 1 {
        return Err(constraint("MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED"));
    }
    detach_raw(w, &org.id, tid, &p.id)?;
    Ok(json!({}))
}

pub fn list_for_target(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let org = c.org()?;
    let tid = target_id(c)?;
    let kind = policy_type(c, "Filter")?;
    let page = Page::new(&c.input, &format!("ListPoliciesForTarget:{tid}:{kind}"))?;
    if target(w, org, tid)?.is_none() {
        return Err(target_not_found());
    }
    let items = attached_to(w, &org.id, tid)?
        .into_iter()
        .filter(|p| p.kind == kind)
        .map(|p| (p.id.clone(), p.summary_json()));
    let (items, next) = page.of(items);
    Ok(listing("Policies", items, next))
}

pub fn list_targets(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let org = c.org()?;
    let pid = policy_id(c)?;
    let page = Page::new(&c.input, &format!("ListTargetsForPolicy:{pid}"))?;
    let p = find(w, &org.id, pid)?;
    let (items, next) = page.scan(
        w,
        model::ATTACHMENTS_BY_POLICY,
        &model::prefix(&[&org.id, &p.id]),
        |tid, _| {
            Ok(target(w, org, tid)?.map(|(name, kind)| {
                json!({
                    "TargetId": tid,
                    "Arn": target_arn(org, tid, kind),
                    "Name": name,
                    "Type": kind,
                })
            }))
        },
    )?;
    Ok(listing("Targets", items, next))
}

fn root_id<'a>(c: &Call<'a>) -> Result<&'a str, AwsError> {
    let id = c.input.str("RootId")?;
    if !validate::is_root_id(id) {
        return Err(invalid_input("INVALID_PATTERN"));
    }
    Ok(id)
}

pub fn enable_type(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let mut org = c.org()?.clone();
    let root = root_id(c)?;
    let kind = policy_type(c, "PolicyType")?;
    if root != org.root {
        return Err(root_not_found());
    }
    require_all_features(&org)?;
    if org.has_policy_type(kind) {
        return Err(policy_type_already_enabled());
    }
    enable_policy_type(w, &mut org, kind)?;
    model::save_org(w, &org)?;
    Ok(json!({"Root": org.root_json()}))
}

pub fn disable_type(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let mut org = c.org()?.clone();
    let root = root_id(c)?;
    let kind = one_of(policy_type(c, "PolicyType")?, POLICY_TYPES)?;
    if root != org.root {
        return Err(root_not_found());
    }
    if !org.has_policy_type(kind) {
        return Err(policy_type_not_enabled_in_root());
    }
    org.policy_types.retain(|t| t != kind);
    for t in all_targets(w, &org)? {
        for p in attached_to(w, &org.id, &t)? {
            if p.kind == kind {
                detach_raw(w, &org.id, &t, &p.id)?;
            }
        }
    }
    model::save_org(w, &org)?;
    Ok(json!({"Root": org.root_json()}))
}

fn policy_type_not_enabled_in_root() -> AwsError {
    AwsError::client(
        "PolicyTypeNotEnabledException",
        "This operation can be performed only for enabled policy types.",
    )
}
