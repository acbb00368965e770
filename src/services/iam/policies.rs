//! Managed policies and their versions: CreatePolicy, GetPolicy, ListPolicies, DeletePolicy,
//! CreatePolicyVersion, GetPolicyVersion, ListPolicyVersions, DeletePolicyVersion,
//! SetDefaultPolicyVersion. AWS managed policies are listed and read like customer ones but
//! cannot be changed.

use super::errors::{
    already_exists, delete_conflict, invalid_input, limit_exceeded, no_such_entity, no_such_policy,
    validation,
};
use super::input::{date, encode_document, page, tags_json};
use super::users::reorder;
use super::Call;
use crate::auth::directory::{self, managed, ManagedPolicy, PolicyVersion, MAX_VERSIONS};
use crate::error::AwsError;
use crate::ids;
use crate::policy::PolicyKind;
use crate::store::{Reader, Writer};
use serde_json::{json, Map, Value};

/// The largest customer managed policy IAM accepts, whitespace not counted.
pub const POLICY_MAX: usize = 6144;

/// A policy as IAM shows it, AWS or customer managed.
pub enum Shown<'a> {
    Aws(&'static managed::AwsPolicy),
    Customer(&'a ManagedPolicy),
}

/// How many users, groups and roles of `account` have `arn` attached, and how many users and
/// roles have it as their boundary.
fn usage(r: &dyn Reader, account: &str, arn: &str) -> Result<(usize, usize), AwsError> {
    let attached = directory::attachments(r, account, arn)?.len();
    let as_boundary = directory::users(r, account)?
        .iter()
        .filter(|u| u.boundary.as_deref() == Some(arn))
        .count()
        + directory::roles(r, account)?
            .iter()
            .filter(|x| x.boundary.as_deref() == Some(arn))
            .count();
    Ok((attached, as_boundary))
}

/// AWS's catalog dates are `2015-02-06T18:39:46+00:00`; IAM shows them with `Z`.
fn aws_date(d: &str) -> String {
    d.replace("+00:00", "Z")
}

pub fn policy_json(
    r: &dyn Reader,
    account: &str,
    p: &Shown,
    full: bool,
) -> Result<Value, AwsError> {
    let mut m = Map::new();
    let arn = match p {
        Shown::Aws(a) => a.arn(),
        Shown::Customer(c) => c.arn(),
    };
    let (attached, boundary) = usage(r, account, &arn)?;
    match p {
        Shown::Aws(a) => {
            m.insert("PolicyName".into(), json!(a.name));
            m.insert("PolicyId".into(), json!(a.id));
            m.insert("Arn".into(), json!(arn));
            m.insert("Path".into(), json!(a.path));
            m.insert("DefaultVersionId".into(), json!(a.version));
            m.insert("AttachmentCount".into(), json!(attached));
            m.insert("PermissionsBoundaryUsageCount".into(), json!(boundary));
            m.insert("IsAttachable".into(), json!(true));
            if full {
                m.insert("Description".into(), json!(a.description));
            }
            m.insert("CreateDate".into(), json!(aws_date(&a.created)));
            m.insert("UpdateDate".into(), json!(aws_date(&a.updated)));
        }
        Shown::Customer(c) => {
            m.insert("PolicyName".into(), json!(c.name));
            m.insert("PolicyId".into(), json!(c.id));
            m.insert("Arn".into(), json!(arn));
            m.insert("Path".into(), json!(c.path));
            m.insert("DefaultVersionId".into(), json!(c.default_version));
            m.insert("AttachmentCount".into(), json!(attached));
            m.insert("PermissionsBoundaryUsageCount".into(), json!(boundary));
            m.insert("IsAttachable".into(), json!(true));
            if full {
                if let Some(d) = &c.description {
                    m.insert("Description".into(), json!(d));
                }
            }
            m.insert("CreateDate".into(), json!(date(c.created)));
            m.insert("UpdateDate".into(), json!(date(c.updated)));
            if full && !c.tags.is_empty() {
                m.insert("Tags".into(), tags_json(&c.tags));
            }
        }
    }
    Ok(Value::Object(m))
}

/// The customer managed policy `arn` of the caller's account, or NoSuchEntity.
pub fn customer(r: &dyn Reader, c: &Call, arn: &str) -> Result<ManagedPolicy, AwsError> {
    directory::customer_policy(r, arn)?
        .filter(|p| p.account == c.account)
        .ok_or_else(|| no_such_policy(arn))
}

/// A policy path: `/` or `/a/b/` of `[A-Za-z0-9.,+@=_-]` segments.
fn policy_path<'a>(c: &Call<'a>) -> Result<&'a str, AwsError> {
    let path = c.p.path()?;
    let ok = path.split('/').all(|seg| {
        seg.chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ".,+@=_-".contains(ch))
    });
    if !ok {
        return Err(validation(format!(
            "1 validation error detected: Value '{path}' at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern: ((/[A-Za-z0-9\\.,\\+@=_-]+)*)/"
        )));
    }
    Ok(path)
}

pub fn create(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let name = c.p.name("PolicyName", 128)?;
    let path = policy_path(c)?;
    let document =
        c.p.document("PolicyDocument", PolicyKind::Identity, POLICY_MAX)?;
    let description = c.p.description("Description")?;
    let tags = c.p.tags()?;
    if directory::customer_policy_named(w, &c.account, name)?.is_some() {
        return Err(already_exists(format!(
            "A policy called {name} already exists. Duplicate names are not allowed."
        )));
    }
    let p = ManagedPolicy {
        account: c.account.clone(),
        name: name.into(),
        path: path.into(),
        id: ids::aws_id("ANPA", 17),
        description: description.map(str::to_string),
        created: c.now,
        updated: c.now,
        default_version: "v1".into(),
        versions: vec![PolicyVersion {
            id: "v1".into(),
            document: document.into(),
            created: c.now,
        }],
        next_version: 2,
        tags,
    };
    directory::put_policy(w, &p)?;
    let mut shown = policy_json(w, &c.account, &Shown::Customer(&p), false)?;
    if !p.tags.is_empty() {
        shown["Tags"] = tags_json(&p.tags);
    }
    Ok(json!({"Policy": shown}))
}

pub fn get(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let arn = c.p.arn("PolicyArn")?;
    if let Some(a) = managed::find(arn) {
        return Ok(json!({"Policy": policy_json(w, &c.account, &Shown::Aws(a), true)?}));
    }
    let p = customer(w, c, arn)?;
    Ok(json!({"Policy": policy_json(w, &c.account, &Shown::Customer(&p), true)?}))
}

pub fn list(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let scope = c.p.opt("Scope").unwrap_or("All");
    if !matches!(scope, "All" | "AWS" | "Local") {
        return Err(validation(format!(
            "1 validation error detected: Value '{scope}' at 'scope' failed to satisfy constraint: Member must satisfy enum value set: [All, AWS, Local]"
        )));
    }
    let only_attached = c.p.bool("OnlyAttached")?.unwrap_or(false);
    let prefix = c.p.path_prefix()?;
    let usage_filter = c.p.opt("PolicyUsageFilter");
    let mut items: Vec<Value> = Vec::new();
    let keep = |v: &Value| {
        let attached = v["AttachmentCount"].as_u64().unwrap_or(0);
        let boundary = v["PermissionsBoundaryUsageCount"].as_u64().unwrap_or(0);
        let path_ok = v["Path"].as_str().is_some_and(|p| p.starts_with(prefix));
        let used = match usage_filter {
            Some("PermissionsBoundary") => boundary > 0,
            Some(_) => attached > 0,
            None => attached > 0 || boundary > 0,
        };
        path_ok && (!only_attached || used)
    };
    if scope != "Local" {
        let mut aws: Vec<&managed::AwsPolicy> = managed::all().iter().collect();
        aws.sort_by(|a, b| a.name.cmp(&b.name));
        for a in aws {
            let v = policy_json(w, &c.account, &Shown::Aws(a), false)?;
            if keep(&v) {
                items.push(v);
            }
        }
    }
    if scope != "AWS" {
        for p in directory::customer_policies(w, &c.account)? {
            let v = policy_json(w, &c.account, &Shown::Customer(&p), false)?;
            if keep(&v) {
                items.push(v);
            }
        }
    }
    let mut out = Map::new();
    let page = page(&c.p, items, &mut out)?;
    out.insert("Policies".into(), Value::Array(page));
    Ok(reorder(out, "Policies"))
}

fn not_aws_managed(arn: &str) -> Result<(), AwsError> {
    if managed::find(arn).is_some() || arn.starts_with("arn:aws:iam::aws:") {
        return Err(invalid_input(format!(
            "Policy {arn} is an AWS managed policy and cannot be changed."
        )));
    }
    Ok(())
}

pub fn delete(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let arn = c.p.arn("PolicyArn")?;
    not_aws_managed(arn)?;
    let p = customer(w, c, arn)?;
    let (attached, boundary) = usage(w, &c.account, arn)?;
    if attached > 0 || boundary > 0 {
        return Err(delete_conflict(
            "Cannot delete a policy attached to entities.",
        ));
    }
    if p.versions.len() > 1 {
        return Err(delete_conflict(
            "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.",
        ));
    }
    directory::delete_policy(w, &p)?;
    Ok(json!({}))
}

fn version_json(p: &ManagedPolicy, v: &PolicyVersion, with_document: bool) -> Value {
    let mut m = Map::new();
    if with_document {
        m.insert("Document".into(), json!(encode_document(&v.document)));
    }
    m.insert("VersionId".into(), json!(v.id));
    m.insert("IsDefaultVersion".into(), json!(v.id == p.default_version));
    m.insert("CreateDate".into(), json!(date(v.created)));
    Value::Object(m)
}

fn version_id<'a>(c: &Call<'a>) -> Result<&'a str, AwsError> {
    let v = c.p.required("VersionId")?;
    let ok = v
        .strip_prefix('v')
        .and_then(|n| n.split('.').next())
        .is_some_and(|n| {
            !n.is_empty() && !n.starts_with('0') && n.bytes().all(|b| b.is_ascii_digit())
        });
    if !ok {
        return Err(validation(format!(
            "1 validation error detected: Value '{v}' at 'versionId' failed to satisfy constraint: Member must satisfy regular expression pattern: v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?"
        )));
    }
    Ok(v)
}

fn no_such_version(arn: &str, v: &str) -> AwsError {
    no_such_entity(format!(
        "Policy {arn} version {v} does not exist or is not attachable."
    ))
}

pub fn create_version(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let arn = c.p.arn("PolicyArn")?;
    let document =
        c.p.document("PolicyDocument", PolicyKind::Identity, POLICY_MAX)?;
    let set_default = c.p.bool("SetAsDefault")?.unwrap_or(false);
    not_aws_managed(arn)?;
    let mut p = customer(w, c, arn)?;
    if p.versions.len() >= MAX_VERSIONS {
        return Err(limit_exceeded(
            "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.",
        ));
    }
    let v = PolicyVersion {
        id: format!("v{}", p.next_version),
        document: document.into(),
        created: c.now,
    };
    p.next_version += 1;
    if set_default {
        p.default_version = v.id.clone();
    }
    p.updated = c.now;
    p.versions.push(v.clone());
    directory::put_policy(w, &p)?;
    Ok(json!({"PolicyVersion": version_json(&p, &v, false)}))
}

pub fn get_version(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let arn = c.p.arn("PolicyArn")?;
    let v = version_id(c)?;
    if let Some(a) = managed::find(arn) {
        if a.version != v {
            return Err(no_such_version(arn, v));
        }
        return Ok(json!({"PolicyVersion": {
            "Document": encode_document(&a.document),
            "VersionId": a.version,
            "IsDefaultVersion": true,
            "CreateDate": aws_date(&a.updated),
        }}));
    }
    let p = customer(w, c, arn)?;
    let version = p
        .versions
        .iter()
        .find(|x| x.id == v)
        .ok_or_else(|| no_such_version(arn, v))?;
    Ok(json!({"PolicyVersion": version_json(&p, version, true)}))
}

pub fn list_versions(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let arn = c.p.arn("PolicyArn")?;
    let versions: Vec<Value> = if let Some(a) = managed::find(arn) {
        vec![json!({
            "VersionId": a.version,
            "IsDefaultVersion": true,
            "CreateDate": aws_date(&a.updated),
        })]
    } else {
        let p = customer(w, c, arn)?;
        p.versions
            .iter()
            .rev()
            .map(|v| version_json(&p, v, false))
            .collect()
    };
    let mut out = Map::new();
    let page = page(&c.p, versions, &mut out)?;
    out.insert("Versions".into(), Value::Array(page));
    Ok(reorder(out, "Versions"))
}

pub fn delete_version(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let arn = c.p.arn("PolicyArn")?;
    let v = version_id(c)?;
    not_aws_managed(arn)?;
    let mut p = customer(w, c, arn)?;
    if !p.versions.iter().any(|x| x.id == v) {
        return Err(no_such_version(arn, v));
    }
    if p.default_version == v {
        return Err(delete_conflict(
            "Cannot delete the default version of a policy.",
        ));
    }
    p.versions.retain(|x| x.id != v);
    directory::put_policy(w, &p)?;
    Ok(json!({}))
}

pub fn set_default_version(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let arn = c.p.arn("PolicyArn")?;
    let v = version_id(c)?;
    not_aws_managed(arn)?;
    let mut p = customer(w, c, arn)?;
    if !p.versions.iter().any(|x| x.id == v) {
        return Err(no_such_version(arn, v));
    }
    p.default_version = v.to_string();
    p.updated = c.now;
    directory::put_policy(w, &p)?;
    Ok(json!({}))
}
