//! One authorization decision for a heavily configured IAM user (issue: under 5 µs, warm).
//!
//! `cargo bench --bench authorize [-- CALLS]`. Builds the state through the services' own call
//! functions on a real store in a temporary data directory, as the server's front door calls
//! them: an organization with the SCP type enabled, an OU and a member account under it, SCPs at
//! every level of the path, and in the member account a user `heavy` with 10 attached managed
//! policies, 2 groups with policies of their own, and a permissions boundary, all as
//! `bench/heavy.json` describes them (load.sh's `--principals heavy` makes the same). Then times
//! `access::decide` on a store snapshot for a handful of realistic asks: warm (the policy set
//! cached for the directory's version: every call but the first after a change) as the median
//! of 7 runs of CALLS decisions (default 20,000), and cold (the first decision after a
//! directory change) as the median of 41 changes. The bootstrap admin's decisions are printed
//! beside them for comparison.

#[allow(dead_code)]
#[path = "calls/mod.rs"]
mod calls;

use cairn::access::{self, Ask, Facts};
use cairn::app::App;
use cairn::auth::{Principal, PrincipalKind};
use cairn::config::{CommonArgs, ServeArgs, Settings};
use cairn::policy::{Context, Decision, Policy, PolicyKind};
use cairn::services::{self, QueryParams, RequestContext};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Instant;

const MGMT: &str = "111111111111";

/// Calls the services as the front door does: inside a store write, at a time that moves on by
/// a millisecond a call (account creation completes a second after it was asked for).
struct World {
    app: Arc<App>,
    now_ms: i64,
}

fn admin() -> Principal {
    calls::ctx("bench").principal
}

fn root_of(account: &str) -> Principal {
    Principal {
        account: account.into(),
        kind: PrincipalKind::Root,
        access_key_id: "AKIAEXAMPLEEXAMPLE02".into(),
        session: None,
    }
}

fn user(account: &str, name: &str, id: &str) -> Principal {
    Principal {
        account: account.into(),
        kind: PrincipalKind::User {
            name: name.into(),
            path: "/".into(),
            id: id.into(),
        },
        access_key_id: "AKIAEXAMPLEEXAMPLE03".into(),
        session: None,
    }
}

fn request(who: &Principal, region: &str, ms: i64) -> RequestContext {
    let mut ctx = calls::ctx("aws-cli/2.17.0 bench");
    ctx.principal = who.clone();
    ctx.region = region.into();
    ctx.time = chrono::DateTime::from_timestamp_millis(ms).expect("a time");
    ctx
}

impl World {
    async fn org(&mut self, who: &Principal, op: &str, input: Value) -> Value {
        self.now_ms += 1;
        let ctx = request(who, "us-east-1", self.now_ms);
        let app = self.app.clone();
        let name = op.to_string();
        let input = input.as_object().cloned().unwrap_or_default();
        self.app
            .store
            .write(move |w| services::organizations::call(&app, w, &ctx, &name, &input))
            .await
            .unwrap_or_else(|e| panic!("Organizations {op}: {e}"))
    }

    async fn iam(&mut self, who: &Principal, op: &str, params: &[(&str, &str)]) -> Value {
        self.now_ms += 1;
        let ctx = request(who, "us-east-1", self.now_ms);
        let app = self.app.clone();
        let name = op.to_string();
        let params = QueryParams(
            params
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        self.app
            .store
            .write(move |w| services::iam::call(&app, w, &ctx, &name, &params))
            .await
            .unwrap_or_else(|e| panic!("IAM {op}: {e}"))
    }
}

fn text(v: &Value, path: &[&str]) -> String {
    let mut at = v;
    for p in path {
        at = &at[*p];
    }
    at.as_str()
        .unwrap_or_else(|| panic!("no {path:?} in {v}"))
        .to_string()
}

/// The heavy user and everything around it (shared with `bench/signed_request.py`).
fn spec() -> Value {
    serde_json::from_str(include_str!("../bench/heavy.json")).expect("bench/heavy.json")
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// A policy document of `statements`, with `ACCOUNT_ID` made `account`.
fn document(statements: &Value, account: &str) -> String {
    json!({"Version": "2012-10-17", "Statement": statements})
        .to_string()
        .replace("ACCOUNT_ID", account)
}

/// The organization, the OU, the member account and the SCPs on its path. Returns the member
/// account's id.
async fn organization(w: &mut World, spec: &Value) -> String {
    let a = admin();
    w.org(&a, "CreateOrganization", json!({"FeatureSet": "ALL"}))
        .await;
    let roots = w.org(&a, "ListRoots", json!({})).await;
    let root = text(&roots["Roots"][0], &["Id"]);
    w.org(
        &a,
        "EnablePolicyType",
        json!({"RootId": root, "PolicyType": "SERVICE_CONTROL_POLICY"}),
    )
    .await;
    let created = w
        .org(
            &a,
            "CreateAccount",
            json!({"Email": spec["account"]["email"], "AccountName": spec["account"]["name"]}),
        )
        .await;
    let request_id = text(&created, &["CreateAccountStatus", "Id"]);
    // Account creation completes a second after it was asked for, at the next call.
    w.now_ms += 2_000;
    let done = w
        .org(
            &a,
            "DescribeCreateAccountStatus",
            json!({"CreateAccountRequestId": request_id}),
        )
        .await;
    assert_eq!(done["CreateAccountStatus"]["State"], "SUCCEEDED", "{done}");
    let account = text(&done, &["CreateAccountStatus", "AccountId"]);
    let ou = w
        .org(
            &a,
            "CreateOrganizationalUnit",
            json!({"ParentId": root, "Name": spec["ou"]}),
        )
        .await;
    let ou = text(&ou, &["OrganizationalUnit", "Id"]);
    w.org(
        &a,
        "MoveAccount",
        json!({"AccountId": account, "SourceParentId": root, "DestinationParentId": ou}),
    )
    .await;
    for scp in spec["scps"].as_array().expect("scps") {
        let name = text(scp, &["name"]);
        let out = w
            .org(
                &a,
                "CreatePolicy",
                json!({"Name": name, "Description": name, "Type": "SERVICE_CONTROL_POLICY",
                       "Content": document(&scp["statements"], &account)}),
            )
            .await;
        let id = text(&out, &["Policy", "PolicySummary", "Id"]);
        let target = match scp["level"].as_str() {
            Some("root") => &root,
            Some("ou") => &ou,
            _ => &account,
        };
        w.org(
            &a,
            "AttachPolicy",
            json!({"PolicyId": id, "TargetId": target}),
        )
        .await;
        if scp["replaces_full_access"] == true {
            w.org(
                &a,
                "DetachPolicy",
                json!({"PolicyId": "p-FullAWSAccess", "TargetId": target}),
            )
            .await;
        }
    }
    account
}

/// In the member account, made by its root user: the spec's user, its 10 attached managed
/// policies, its 2 groups and its permissions boundary, every name prefixed with `prefix`.
/// With `broad`, two of the AWS managed policies are ReadOnlyAccess and SecurityAudit
/// (thousands of action patterns). Returns the user's name and id.
async fn heavy_user(
    w: &mut World,
    spec: &Value,
    account: &str,
    prefix: &str,
    broad: bool,
) -> (String, String) {
    let r = root_of(account);
    let arn = |p: &str| format!("arn:aws:iam::{account}:policy/{prefix}{p}");
    for p in spec["policies"].as_array().expect("policies") {
        let name = format!("{prefix}{}", text(p, &["name"]));
        let d = document(&p["statements"], account);
        w.iam(
            &r,
            "CreatePolicy",
            &[("PolicyName", &name), ("PolicyDocument", &d)],
        )
        .await;
    }
    let u = &spec["user"];
    let name = format!("{prefix}{}", text(u, &["name"]));
    let mut params: Vec<(String, String)> = vec![("UserName".into(), name.clone())];
    for (i, (k, v)) in u["tags"].as_object().expect("tags").iter().enumerate() {
        params.push((format!("Tags.member.{}.Key", i + 1), k.clone()));
        let v = v.as_str().unwrap_or_default().to_string();
        params.push((format!("Tags.member.{}.Value", i + 1), v));
    }
    let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (&**k, &**v)).collect();
    let out = w.iam(&r, "CreateUser", &params).await;
    let id = text(&out, &["User", "UserId"]);
    let managed = strings(&u[if broad { "managed_broad" } else { "managed" }]);
    let own = strings(&u["attached"]);
    let attached = managed
        .iter()
        .map(|m| format!("arn:aws:iam::aws:policy/{m}"))
        .chain(own.iter().map(|p| arn(p)));
    for p in attached {
        w.iam(
            &r,
            "AttachUserPolicy",
            &[("UserName", &name), ("PolicyArn", &p)],
        )
        .await;
    }
    let boundary = arn(&text(u, &["boundary"]));
    w.iam(
        &r,
        "PutUserPermissionsBoundary",
        &[("UserName", &name), ("PermissionsBoundary", &boundary)],
    )
    .await;
    for g in spec["groups"].as_array().expect("groups") {
        let group = format!("{prefix}{}", text(g, &["name"]));
        w.iam(&r, "CreateGroup", &[("GroupName", &group)]).await;
        for (policy, statements) in g["inline"].as_object().expect("inline") {
            let d = document(statements, account);
            w.iam(
                &r,
                "PutGroupPolicy",
                &[
                    ("GroupName", &group),
                    ("PolicyName", policy),
                    ("PolicyDocument", &d),
                ],
            )
            .await;
        }
        for p in strings(&g["attached"]) {
            let p = arn(&p);
            w.iam(
                &r,
                "AttachGroupPolicy",
                &[("GroupName", &group), ("PolicyArn", &p)],
            )
            .await;
        }
        w.iam(
            &r,
            "AddUserToGroup",
            &[("GroupName", &group), ("UserName", &name)],
        )
        .await;
    }
    (name, id)
}

/// One of the timed questions.
struct Question {
    label: &'static str,
    action: &'static str,
    resource: String,
    region: &'static str,
    /// S3's: the bucket policy, the owner and S3's own condition keys.
    bucket: Option<(Policy, String, Context)>,
    expect: Decision,
}

impl Question {
    fn ask(&self) -> Ask<'_> {
        match &self.bucket {
            None => Ask::new(self.action, &self.resource),
            Some((policy, owner, context)) => Ask {
                action: self.action,
                resource: &self.resource,
                resource_policy: Some(policy),
                resource_owner: Some(owner),
                context: context.clone(),
            },
        }
    }
}

fn questions(account: &str, user: &str) -> Vec<Question> {
    let bucket = format!("audit-logs-{account}");
    let bucket_policy = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "AWSCloudTrailAclCheck", "Effect": "Allow",
         "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:GetBucketAcl",
         "Resource": format!("arn:aws:s3:::{bucket}")},
        {"Sid": "AWSCloudTrailWrite", "Effect": "Allow",
         "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
         "Resource": format!("arn:aws:s3:::{bucket}/AWSLogs/{account}/*"),
         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}},
        {"Sid": "AuditorsRead", "Effect": "Allow",
         "Principal": {"AWS": format!("arn:aws:iam::{account}:user/{user}")},
         "Action": ["s3:GetObject", "s3:ListBucket"],
         "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")]},
        {"Sid": "DenyDeletes", "Effect": "Deny", "Principal": "*",
         "Action": ["s3:DeleteObject", "s3:DeleteBucket"],
         "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")]}
    ]})
    .to_string();
    let policy = Policy::parse(
        &bucket_policy,
        &PolicyKind::Bucket {
            bucket: bucket.clone(),
        },
    )
    .expect("a valid bucket policy");
    // The keys S3 sets for a header-signed request (src/services/s3/authorize.rs).
    let mut context = Context::new();
    context.set("s3:ResourceAccount", account);
    context.set("s3:authType", "REST-HEADER");
    context.set("s3:signatureversion", "AWS4-HMAC-SHA256");
    context.set("s3:x-amz-content-sha256", "UNSIGNED-PAYLOAD");
    vec![
        Question {
            label: "cloudtrail:DescribeTrails on *",
            action: "cloudtrail:DescribeTrails",
            resource: "*".into(),
            region: "us-east-2",
            bucket: None,
            expect: Decision::Allow,
        },
        Question {
            label: "cloudtrail:StartLogging on a trail",
            action: "cloudtrail:StartLogging",
            resource: format!("arn:aws:cloudtrail:us-east-2:{account}:trail/audit"),
            region: "us-east-2",
            bucket: None,
            expect: Decision::Allow,
        },
        Question {
            label: "s3:GetObject, bucket policy",
            action: "s3:GetObject",
            resource: format!(
                "arn:aws:s3:::{bucket}/AWSLogs/{account}/CloudTrail/us-east-2/2024/01/15/\
                 {account}_CloudTrail_us-east-2_20240115T1005Z_0123456789abcdef.json.gz"
            ),
            region: "us-east-2",
            bucket: Some((policy, account.to_string(), context)),
            expect: Decision::Allow,
        },
        Question {
            label: "iam:CreateUser (implicit deny)",
            action: "iam:CreateUser",
            resource: format!("arn:aws:iam::{account}:user/mallory"),
            region: "us-east-1",
            bucket: None,
            expect: Decision::ImplicitDeny,
        },
    ]
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Warm: `runs` runs of `calls` decisions on one store snapshot; ns per decision of each run.
fn warm(app: &App, who: &Principal, q: &Question, calls: usize, runs: usize) -> Vec<f64> {
    let ctx = request(who, q.region, chrono::Utc::now().timestamp_millis());
    let facts = Facts::of(&ctx);
    app.store
        .read(|r| {
            let first = access::decide(r, &facts, q.ask()).expect("a decision");
            assert_eq!(first.decision, q.expect, "{}: {first:?}", q.label);
            Ok((0..runs)
                .map(|_| {
                    let start = Instant::now();
                    for _ in 0..calls {
                        let o = access::decide(r, &facts, q.ask()).expect("a decision");
                        std::hint::black_box(o);
                    }
                    start.elapsed().as_secs_f64() * 1e9 / calls as f64
                })
                .collect())
        })
        .expect("a snapshot")
}

/// One decision on a fresh snapshot, in ns.
fn once(app: &App, who: &Principal, q: &Question) -> f64 {
    let ctx = request(who, q.region, chrono::Utc::now().timestamp_millis());
    let facts = Facts::of(&ctx);
    app.store
        .read(|r| {
            let start = Instant::now();
            let o = access::decide(r, &facts, q.ask()).expect("a decision");
            let ns = start.elapsed().as_secs_f64() * 1e9;
            assert_eq!(o.decision, q.expect, "{}: {o:?}", q.label);
            Ok(ns)
        })
        .expect("a snapshot")
}

fn us(ns: f64) -> String {
    format!("{:.2} µs", ns / 1000.0)
}

#[tokio::main]
async fn main() {
    let calls: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(20_000);
    let runs = 7;
    let changes = 41;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let settings = Settings::resolve(&ServeArgs {
        common: CommonArgs {
            data_dir: Some(dir.path().join("data")),
            ..Default::default()
        },
        listen: Some("127.0.0.1:0".into()),
        ..Default::default()
    })
    .expect("settings");
    let app = App::open(settings).await.expect("an app");
    let mut w = World {
        app: app.clone(),
        now_ms: chrono::Utc::now().timestamp_millis(),
    };
    let setup = Instant::now();
    let spec = spec();
    let account = organization(&mut w, &spec).await;
    let (heavy_name, heavy_id) = heavy_user(&mut w, &spec, &account, "", false).await;
    let (broad_name, broad_id) = heavy_user(&mut w, &spec, &account, "broad-", true).await;
    // Someone whose changes move the directory's version without touching `heavy`.
    w.iam(
        &root_of(&account),
        "CreateUser",
        &[("UserName", "bystander")],
    )
    .await;
    println!(
        "state: organization, OU, member account {account}, users heavy and broad, built through \
         the services' calls in {:.0} ms",
        setup.elapsed().as_secs_f64() * 1000.0
    );

    let heavy = user(&account, &heavy_name, &heavy_id);
    let broad = user(&account, &broad_name, &broad_id);
    let admin = admin();
    let heavy_qs = questions(&account, &heavy_name);
    let broad_qs = questions(&account, &broad_name);
    let admin_qs: Vec<Question> = questions(MGMT, "admin")
        .into_iter()
        .map(|mut q| {
            q.expect = Decision::Allow;
            q
        })
        .collect();

    // The very first decision for `heavy`: its set derived and every policy text parsed.
    let first = once(&app, &heavy, &heavy_qs[0]);
    println!(
        "heavy, first decision ever (policies parsed): {}",
        us(first)
    );

    println!(
        "\nwarm: median of {runs} runs of {calls} decisions (ns per decision; best run in brackets)"
    );
    println!(
        "(admin: the bootstrap admin, AdministratorAccess, no SCPs; broad: heavy with ReadOnlyAccess \
         and SecurityAudit, 3,650 action patterns, in place of two of its AWS managed policies, \
         {} decisions a run)",
        (calls / 10).max(1)
    );
    println!(
        "{:<36} {:>14} {:>14} {:>14}",
        "ask", "heavy", "admin", "broad"
    );
    let mut heavy_warm = Vec::new();
    for ((h, a), b) in heavy_qs.iter().zip(&admin_qs).zip(&broad_qs) {
        let cell = |v: Vec<f64>| {
            let best = v.iter().copied().fold(f64::INFINITY, f64::min);
            (median(v), best)
        };
        let (hm, hb) = cell(warm(&app, &heavy, h, calls, runs));
        let (am, ab) = cell(warm(&app, &admin, a, calls, runs));
        let (bm, bb) = cell(warm(&app, &broad, b, (calls / 10).max(1), runs));
        heavy_warm.push(hm);
        println!(
            "{:<36} {:>6.0} ({:>5.0}) {:>6.0} ({:>5.0}) {:>6.0} ({:>5.0})",
            h.label, hm, hb, am, ab, bm, bb
        );
    }

    println!("\ncold: first decision after a directory change, median of {changes} changes (µs)");
    let mut cold: Vec<Vec<f64>> = vec![Vec::new(); heavy_qs.len()];
    for i in 0..changes {
        for (q, out) in heavy_qs.iter().zip(cold.iter_mut()) {
            let value = format!("v{i}");
            w.iam(
                &root_of(&account),
                "TagUser",
                &[
                    ("UserName", "bystander"),
                    ("Tags.member.1.Key", "round"),
                    ("Tags.member.1.Value", &value),
                ],
            )
            .await;
            out.push(once(&app, &heavy, q));
        }
    }
    for (q, c) in heavy_qs.iter().zip(cold) {
        println!("{:<36} {:>10}", q.label, us(median(c)));
    }
    let worst = heavy_warm.iter().copied().fold(0.0, f64::max);
    println!(
        "\nheavy, warm: {} per decision at worst of the asks (target under 5 µs)",
        us(worst)
    );
}
