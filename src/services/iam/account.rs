//! Account-level reads audit tools make: GetAccountSummary, GetAccountAuthorizationDetails,
//! account aliases, the credential report, and the password policy (Cairn has no passwords, so
//! there is none).

use super::errors::{already_exists, no_such_entity, validation};
use super::input::{date, encode_document, tags_json};
use super::policies::{policy_json, Shown};
use super::roles::role_json;
use super::users::boundary_json;
use super::Call;
use crate::auth::directory::{self, managed, Inline};
use crate::error::AwsError;
use crate::store::{ReaderExt, Table, Writer, WriterExt};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// Generated credential reports: account → [`Report`].
const REPORTS: Table = Table("iam.credential_reports");

#[derive(Serialize, Deserialize)]
struct Report {
    generated: i64,
    csv: String,
}

/// A map in IAM's shapes (`SummaryMap`): the query protocol writes it as entries.
fn map(entries: Vec<(&str, Value)>) -> Value {
    json!({"$entries": entries.into_iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>()})
}

pub fn summary(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let a = &c.account;
    let users = directory::users(w, a)?;
    let roles = directory::roles(w, a)?;
    let groups = directory::groups(w, a)?;
    let policies = directory::customer_policies(w, a)?;
    let profiles = directory::profiles(w, a)?;
    let root_keys = directory::root_keys(w, a)?;
    let providers = directory::oidc_providers(w, a)?.len() + directory::saml_providers(w, a)?.len();
    let versions_in_use: usize = policies.iter().map(|p| p.versions.len()).sum();
    let entries = vec![
        ("Users", json!(users.len())),
        ("UsersQuota", json!(5000)),
        ("Groups", json!(groups.len())),
        ("GroupsQuota", json!(300)),
        ("ServerCertificates", json!(0)),
        ("ServerCertificatesQuota", json!(20)),
        ("UserPolicySizeQuota", json!(2048)),
        ("GroupPolicySizeQuota", json!(5120)),
        ("GroupsPerUserQuota", json!(10)),
        ("SigningCertificatesPerUserQuota", json!(2)),
        ("AccessKeysPerUserQuota", json!(directory::KEYS_PER_USER)),
        ("MFADevices", json!(0)),
        ("MFADevicesInUse", json!(0)),
        ("AccountMFAEnabled", json!(0)),
        (
            "AccountAccessKeysPresent",
            json!(u8::from(!root_keys.is_empty())),
        ),
        ("AccountPasswordPresent", json!(0)),
        ("AccountSigningCertificatesPresent", json!(0)),
        ("AttachedPoliciesPerGroupQuota", json!(10)),
        ("AttachedPoliciesPerRoleQuota", json!(10)),
        ("AttachedPoliciesPerUserQuota", json!(10)),
        ("Policies", json!(policies.len())),
        ("PoliciesQuota", json!(1500)),
        ("PolicySizeQuota", json!(super::policies::POLICY_MAX)),
        ("PolicyVersionsInUse", json!(versions_in_use)),
        ("PolicyVersionsInUseQuota", json!(10000)),
        ("VersionsPerPolicyQuota", json!(directory::MAX_VERSIONS)),
        ("GlobalEndpointTokenVersion", json!(1)),
        ("AssumeRolePolicySizeQuota", json!(2048)),
        ("InstanceProfiles", json!(profiles.len())),
        ("InstanceProfilesQuota", json!(1000)),
        ("Providers", json!(providers)),
        ("RolePolicySizeQuota", json!(10240)),
        ("Roles", json!(roles.len())),
        ("RolesQuota", json!(1000)),
    ];
    Ok(json!({"SummaryMap": map(entries)}))
}

fn inline_list(inline: &Inline) -> Value {
    Value::Array(
        inline
            .iter()
            .map(|(name, doc)| json!({"PolicyName": name, "PolicyDocument": encode_document(doc)}))
            .collect(),
    )
}

fn attached_list(r: &dyn crate::store::Reader, arns: &[String]) -> Result<Value, AwsError> {
    let mut out = Vec::new();
    for arn in arns {
        let name = match managed::find(arn) {
            Some(a) => Some(a.name.clone()),
            None => directory::customer_policy(r, arn)?.map(|p| p.name),
        };
        if let Some(name) = name {
            out.push(json!({"PolicyName": name, "PolicyArn": arn}));
        }
    }
    Ok(Value::Array(out))
}

pub fn authorization_details(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let filter = c.p.0.list("Filter");
    for f in &filter {
        if !matches!(
            *f,
            "User" | "Role" | "Group" | "LocalManagedPolicy" | "AWSManagedPolicy"
        ) {
            return Err(validation(format!(
                "1 validation error detected: Value '[{f}]' at 'filter' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [User, Role, Group, LocalManagedPolicy, AWSManagedPolicy]]"
            )));
        }
    }
    let wanted = |k: &str| filter.is_empty() || filter.contains(&k);
    let a = &c.account;
    let mut users = Vec::new();
    if wanted("User") {
        for u in directory::users(w, a)? {
            let mut m = Map::new();
            m.insert("Path".into(), json!(u.path));
            m.insert("UserName".into(), json!(u.name));
            m.insert("UserId".into(), json!(u.id));
            m.insert("Arn".into(), json!(u.arn()));
            m.insert("CreateDate".into(), json!(date(u.created)));
            m.insert("UserPolicyList".into(), inline_list(&u.inline));
            m.insert("GroupList".into(), json!(u.groups));
            m.insert(
                "AttachedManagedPolicies".into(),
                attached_list(w, &u.attached)?,
            );
            if let Some(b) = &u.boundary {
                m.insert("PermissionsBoundary".into(), boundary_json(b));
            }
            m.insert("Tags".into(), tags_json(&u.tags));
            users.push(Value::Object(m));
        }
    }
    let mut groups = Vec::new();
    if wanted("Group") {
        for g in directory::groups(w, a)? {
            groups.push(json!({
                "Path": g.path,
                "GroupName": g.name,
                "GroupId": g.id,
                "Arn": g.arn(),
                "CreateDate": date(g.created),
                "GroupPolicyList": inline_list(&g.inline),
                "AttachedManagedPolicies": attached_list(w, &g.attached)?,
            }));
        }
    }
    let mut roles = Vec::new();
    if wanted("Role") {
        let profiles = directory::profiles(w, a)?;
        for r in directory::roles(w, a)? {
            let mut m = match role_json(&r, true) {
                Value::Object(m) => m,
                _ => Map::new(),
            };
            m.remove("MaxSessionDuration");
            m.remove("Description");
            let in_profiles: Vec<Value> = profiles
                .iter()
                .filter(|p| p.roles.iter().any(|n| n.eq_ignore_ascii_case(&r.name)))
                .map(|p| {
                    json!({
                        "Path": p.path,
                        "InstanceProfileName": p.name,
                        "InstanceProfileId": p.id,
                        "Arn": p.arn(),
                        "CreateDate": date(p.created),
                        "Roles": [role_json(&r, false)],
                    })
                })
                .collect();
            m.insert("InstanceProfileList".into(), Value::Array(in_profiles));
            m.insert("RolePolicyList".into(), inline_list(&r.inline));
            m.insert(
                "AttachedManagedPolicies".into(),
                attached_list(w, &r.attached)?,
            );
            if !m.contains_key("Tags") {
                m.insert("Tags".into(), json!([]));
            }
            roles.push(Value::Object(m));
        }
    }
    let mut policies = Vec::new();
    if wanted("LocalManagedPolicy") {
        for p in directory::customer_policies(w, a)? {
            let mut v = policy_json(w, a, &Shown::Customer(&p), false)?;
            v["PolicyVersionList"] = Value::Array(
                p.versions
                    .iter()
                    .map(|x| {
                        json!({
                            "Document": encode_document(&x.document),
                            "VersionId": x.id,
                            "IsDefaultVersion": x.id == p.default_version,
                            "CreateDate": date(x.created),
                        })
                    })
                    .collect(),
            );
            policies.push(v);
        }
    }
    if wanted("AWSManagedPolicy") {
        for p in managed::all() {
            let mut v = policy_json(w, a, &Shown::Aws(p), false)?;
            // AWS lists the AWS managed policies the account uses.
            let used = v["AttachmentCount"].as_u64().unwrap_or(0) > 0
                || v["PermissionsBoundaryUsageCount"].as_u64().unwrap_or(0) > 0;
            if !used {
                continue;
            }
            v["PolicyVersionList"] = json!([{
                "Document": encode_document(&p.document),
                "VersionId": p.version,
                "IsDefaultVersion": true,
                "CreateDate": p.updated.replace("+00:00", "Z"),
            }]);
            policies.push(v);
        }
    }
    Ok(json!({
        "UserDetailList": users,
        "GroupDetailList": groups,
        "RoleDetailList": roles,
        "Policies": policies,
        "IsTruncated": false,
    }))
}

fn alias_ok(a: &str) -> bool {
    let b = a.as_bytes();
    (3..=63).contains(&b.len())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
        && !a.contains("--")
}

pub fn create_alias(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let alias = c.p.required("AccountAlias")?;
    if !alias_ok(alias) {
        return Err(validation(format!(
            "1 validation error detected: Value '{alias}' at 'accountAlias' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-z0-9]([a-z0-9]|-(?!-)){{1,61}}[a-z0-9]$"
        )));
    }
    match directory::alias_owner(w, alias)? {
        Some(owner) if owner == c.account => return Ok(json!({})),
        Some(_) => {
            return Err(already_exists(format!(
                "The account alias {alias} already exists."
            )))
        }
        None => {}
    }
    directory::set_alias(w, &c.account, Some(alias))?;
    Ok(json!({}))
}

pub fn delete_alias(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let alias = c.p.required("AccountAlias")?;
    if directory::alias(w, &c.account)?.as_deref() != Some(alias) {
        return Err(no_such_entity(format!(
            "The account alias {alias} cannot be found."
        )));
    }
    directory::set_alias(w, &c.account, None)?;
    Ok(json!({}))
}

pub fn list_aliases(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let aliases: Vec<String> = directory::alias(w, &c.account)?.into_iter().collect();
    Ok(json!({"AccountAliases": aliases, "IsTruncated": false}))
}

/// The credential report's dates: ISO 8601 with an offset.
fn report_date(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S+00:00").to_string())
        .unwrap_or_else(|| "N/A".into())
}

fn key_columns(keys: &[directory::AccessKey], i: usize, out: &mut Vec<String>) {
    match keys.get(i) {
        Some(k) => {
            out.push((k.status == "Active").to_string());
            out.push(report_date(k.created));
            match &k.last_used {
                Some(u) => {
                    out.push(report_date(u.at));
                    out.push(u.region.clone());
                    out.push(u.service.clone());
                }
                None => out.extend(["N/A".to_string(), "N/A".into(), "N/A".into()]),
            }
        }
        None => out.extend([
            "false".to_string(),
            "N/A".into(),
            "N/A".into(),
            "N/A".into(),
            "N/A".into(),
        ]),
    }
}

const REPORT_HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

fn credential_report(c: &Call, w: &mut dyn Writer) -> Result<String, AwsError> {
    let a = &c.account;
    let mut lines = vec![REPORT_HEADER.to_string()];
    let created = directory::account(w, a)?
        .map(|x| x.created)
        .unwrap_or(c.now);
    let mut root = vec![
        "<root_account>".to_string(),
        format!("arn:aws:iam::{a}:root"),
        report_date(created),
        "not_supported".into(),
        "no_information".into(),
        "not_supported".into(),
        "not_supported".into(),
        "false".into(),
    ];
    let keys = directory::root_keys(w, a)?;
    key_columns(&keys, 0, &mut root);
    key_columns(&keys, 1, &mut root);
    root.extend([
        "false".to_string(),
        "N/A".into(),
        "false".into(),
        "N/A".into(),
    ]);
    lines.push(root.join(","));
    for u in directory::users(w, a)? {
        let mut row = vec![
            u.name.clone(),
            u.arn(),
            report_date(u.created),
            "false".into(),
            "N/A".into(),
            "N/A".into(),
            "N/A".into(),
            "false".into(),
        ];
        let keys = directory::keys_of(w, a, &u.name)?;
        key_columns(&keys, 0, &mut row);
        key_columns(&keys, 1, &mut row);
        row.extend([
            "false".to_string(),
            "N/A".into(),
            "false".into(),
            "N/A".into(),
        ]);
        lines.push(row.join(","));
    }
    Ok(lines.join("\n"))
}

pub fn generate_credential_report(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let existing: Option<Report> = w.get_json(REPORTS, c.account.as_bytes())?;
    let csv = credential_report(c, w)?;
    w.put_json(
        REPORTS,
        c.account.as_bytes(),
        &Report {
            generated: c.now,
            csv,
        },
    )?;
    Ok(match existing {
        None => json!({
            "State": "STARTED",
            "Description": "No report exists. Starting a new report generation task",
        }),
        Some(_) => json!({"State": "COMPLETE"}),
    })
}

pub fn get_credential_report(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    use base64::Engine;
    let report: Report = w.get_json(REPORTS, c.account.as_bytes())?.ok_or_else(|| {
        AwsError::new(
            410,
            "ReportNotPresent",
            "Credential report does not exist. Use GenerateCredentialReport to generate a report.",
        )
    })?;
    Ok(json!({
        "Content": base64::engine::general_purpose::STANDARD.encode(report.csv.as_bytes()),
        "ReportFormat": "text/csv",
        "GeneratedTime": date(report.generated),
    }))
}

pub fn password_policy(c: &Call, _w: &mut dyn Writer) -> Result<Value, AwsError> {
    Err(no_such_entity(format!(
        "The Password Policy with domain name {} cannot be found.",
        c.account
    )))
}
