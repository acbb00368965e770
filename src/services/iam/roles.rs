//! Roles: CreateRole, GetRole, ListRoles, UpdateRole, UpdateRoleDescription,
//! UpdateAssumeRolePolicy, DeleteRole; service-linked roles (CreateServiceLinkedRole,
//! DeleteServiceLinkedRole, GetServiceLinkedRoleDeletionStatus).

use super::errors::{
    already_exists, delete_conflict, invalid_input, malformed, no_such_entity, no_such_role,
    unmodifiable_role,
};
use super::input::{date, encode_document, page, tags_json};
use super::users::{boundary_json, check_boundary, reorder};
use super::Call;
use crate::auth::directory::{self, Role};
use crate::error::AwsError;
use crate::policy::{Policy, PolicyKind};
use crate::store::{Reader, ReaderExt, Table, Writer, WriterExt};
use serde_json::{json, Map, Value};

/// Deletion tasks of service-linked roles: task id → status.
const DELETION_TASKS: Table = Table("iam.deletion_tasks");

/// The largest trust policy IAM accepts by default (`AssumeRolePolicySizeQuota`).
const TRUST_POLICY_MAX: usize = 2048;

/// The `Role` shape; `full` adds what GetRole shows beyond a listing.
pub fn role_json(r: &Role, full: bool) -> Value {
    let mut m = Map::new();
    m.insert("Path".into(), json!(r.path));
    m.insert("RoleName".into(), json!(r.name));
    m.insert("RoleId".into(), json!(r.id));
    m.insert("Arn".into(), json!(r.arn()));
    m.insert("CreateDate".into(), json!(date(r.created)));
    m.insert(
        "AssumeRolePolicyDocument".into(),
        json!(encode_document(&r.trust_policy)),
    );
    if let Some(d) = &r.description {
        m.insert("Description".into(), json!(d));
    }
    m.insert("MaxSessionDuration".into(), json!(r.max_session_secs));
    if full {
        if let Some(b) = &r.boundary {
            m.insert("PermissionsBoundary".into(), boundary_json(b));
        }
        if !r.tags.is_empty() {
            m.insert("Tags".into(), tags_json(&r.tags));
        }
        let last = match &r.last_used {
            Some((at, region)) => json!({"LastUsedDate": date(*at), "Region": region}),
            None => json!({}),
        };
        m.insert("RoleLastUsed".into(), last);
    }
    Value::Object(m)
}

pub fn existing(r: &dyn Reader, c: &Call, name: &str) -> Result<Role, AwsError> {
    directory::role(r, &c.account, name)?.ok_or_else(|| no_such_role(name))
}

/// A trust policy: the grammar of trust policies, and principals that exist.
fn trust_policy<'a>(r: &dyn Reader, c: &Call<'a>, member: &str) -> Result<&'a str, AwsError> {
    let text = c.p.required(member)?;
    if text.chars().filter(|c| !c.is_whitespace()).count() > TRUST_POLICY_MAX {
        return Err(AwsError::new(
            409,
            "LimitExceeded",
            format!("Cannot exceed quota for ACLSizePerRole: {TRUST_POLICY_MAX}"),
        ));
    }
    let policy = Policy::parse(text, &PolicyKind::Trust).map_err(|e| malformed(&e.message))?;
    for arn in policy.aws_principals() {
        if arn != "*" && !directory::principal_exists(r, &arn, false)? {
            return Err(malformed(&format!(
                "Invalid principal in policy: \"AWS\":\"{arn}\""
            )));
        }
    }
    Ok(text)
}

fn not_service_linked(r: &Role) -> Result<(), AwsError> {
    if r.is_service_linked() {
        return Err(unmodifiable_role(&r.name));
    }
    Ok(())
}

pub fn create(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let name = c.p.name("RoleName", 64)?;
    let path = c.p.path()?;
    let trust = trust_policy(w, c, "AssumeRolePolicyDocument")?;
    let description = c.p.description("Description")?;
    let max = c.p.int("MaxSessionDuration", 3600, 43200)?;
    let tags = c.p.tags()?;
    let boundary = c.p.opt("PermissionsBoundary");
    if let Some(b) = boundary {
        check_boundary(w, b)?;
    }
    if directory::role(w, &c.account, name)?.is_some() {
        return Err(already_exists(format!(
            "Role with name {name} already exists."
        )));
    }
    let mut role = Role::new(&c.account, name, path, trust, c.now);
    role.description = description.map(str::to_string);
    if let Some(m) = max {
        role.max_session_secs = m as u32;
    }
    role.tags = tags;
    role.boundary = boundary.map(str::to_string);
    directory::put_role(w, &role)?;
    let mut shown = role_json(&role, true);
    if let Some(m) = shown.as_object_mut() {
        m.remove("RoleLastUsed");
    }
    Ok(json!({"Role": shown}))
}

pub fn get(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let name = c.p.name("RoleName", 64)?;
    Ok(json!({"Role": role_json(&existing(w, c, name)?, true)}))
}

pub fn list(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let prefix = c.p.path_prefix()?;
    let roles: Vec<Role> = directory::roles(w, &c.account)?
        .into_iter()
        .filter(|r| r.path.starts_with(prefix))
        .collect();
    let mut out = Map::new();
    let page = page(&c.p, roles, &mut out)?;
    out.insert(
        "Roles".into(),
        Value::Array(page.iter().map(|r| role_json(r, false)).collect()),
    );
    Ok(reorder(out, "Roles"))
}

pub fn update(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let name = c.p.name("RoleName", 64)?;
    let description = c.p.description("Description")?;
    let max = c.p.int("MaxSessionDuration", 3600, 43200)?;
    let mut role = existing(w, c, name)?;
    not_service_linked(&role)?;
    if let Some(d) = description {
        role.description = Some(d.to_string());
    }
    if let Some(m) = max {
        role.max_session_secs = m as u32;
    }
    directory::put_role(w, &role)?;
    Ok(json!({}))
}

pub fn update_description(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let name = c.p.name("RoleName", 64)?;
    let description = c.p.description("Description")?.unwrap_or_default();
    let mut role = existing(w, c, name)?;
    not_service_linked(&role)?;
    role.description = Some(description.to_string());
    directory::put_role(w, &role)?;
    Ok(json!({"Role": role_json(&role, true)}))
}

pub fn update_trust(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let name = c.p.name("RoleName", 64)?;
    let trust = trust_policy(w, c, "PolicyDocument")?;
    let mut role = existing(w, c, name)?;
    not_service_linked(&role)?;
    role.trust_policy = trust.to_string();
    directory::put_role(w, &role)?;
    Ok(json!({}))
}

/// What stops a role from being deleted.
fn deletable(r: &dyn Reader, c: &Call, role: &Role) -> Result<(), AwsError> {
    let in_profile = directory::profiles(r, &c.account)?
        .iter()
        .any(|p| p.roles.iter().any(|n| n.eq_ignore_ascii_case(&role.name)));
    if in_profile {
        return Err(delete_conflict(
            "Cannot delete entity, must remove roles from instance profile first.",
        ));
    }
    if !role.inline.is_empty() {
        return Err(delete_conflict(
            "Cannot delete entity, must delete policies first.",
        ));
    }
    if !role.attached.is_empty() {
        return Err(delete_conflict(
            "Cannot delete entity, must detach all policies first.",
        ));
    }
    Ok(())
}

pub fn delete(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let name = c.p.name("RoleName", 64)?;
    let role = existing(w, c, name)?;
    not_service_linked(&role)?;
    deletable(w, c, &role)?;
    directory::delete_role(w, &c.account, &role.name)?;
    Ok(json!({}))
}

pub fn create_service_linked(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let service = c.p.required("AWSServiceName")?;
    let description = c.p.description("Description")?;
    let suffix = c.p.opt("CustomSuffix");
    let Some((name, policy, default_description)) = directory::linked_role_of(service) else {
        return Err(invalid_input(format!(
            "Unknown service or service doesn't support service-linked roles: {service}"
        )));
    };
    if suffix.is_some() {
        return Err(invalid_input(format!(
            "Custom suffix is not allowed for {service}"
        )));
    }
    if directory::role(w, &c.account, name)?.is_some() {
        return Err(invalid_input(format!(
            "Service role name {name} has been taken in this account, please try a different suffix."
        )));
    }
    let mut role = directory::create_service_linked_role(
        w,
        &c.account,
        service,
        name,
        &policy,
        default_description,
        c.now,
    )?;
    if description.is_some() {
        role.description = description.map(str::to_string);
        directory::put_role(w, &role)?;
    }
    let mut shown = role_json(&role, false);
    if let Some(m) = shown.as_object_mut() {
        m.remove("MaxSessionDuration");
    }
    Ok(json!({"Role": shown}))
}

pub fn delete_service_linked(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let name = c.p.name("RoleName", 64)?;
    let role = existing(w, c, name)?;
    if !role.is_service_linked() {
        return Err(invalid_input(format!(
            "Role {} is not a service-linked role.",
            role.name
        )));
    }
    let service = role
        .path
        .trim_start_matches("/aws-service-role/")
        .trim_end_matches('/')
        .to_string();
    let task = format!(
        "task/aws-service-role/{service}/{}/{}",
        role.name,
        crate::ids::uuid_v4()
    );
    for arn in role.attached.clone() {
        directory::detach(w, directory::Entity::Role, &c.account, &role.name, &arn)?;
    }
    directory::delete_role(w, &c.account, &role.name)?;
    w.put_json(
        DELETION_TASKS,
        format!("{}/{task}", c.account).as_bytes(),
        &"SUCCEEDED",
    )?;
    Ok(json!({"DeletionTaskId": task}))
}

pub fn deletion_status(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let task = c.p.required("DeletionTaskId")?;
    let status: Option<String> =
        w.get_json(DELETION_TASKS, format!("{}/{task}", c.account).as_bytes())?;
    match status {
        Some(s) => Ok(json!({"Status": s})),
        None => Err(no_such_entity(format!(
            "Deletion task {task} cannot be found."
        ))),
    }
}
