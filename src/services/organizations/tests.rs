//! Service-level tests: operations called as the front door calls them (inside a store write
//! transaction), at chosen times, and the internal view CloudTrail reads.

use super::view;
use crate::app::App;
use crate::auth::{Principal, PrincipalKind};
use crate::config::{CommonArgs, ServeArgs, Settings};
use crate::error::AwsError;
use crate::services::RequestContext;
use serde_json::{json, Value};
use std::sync::Arc;

const MGMT: &str = "111111111111";

struct Env {
    app: Arc<App>,
    /// Milliseconds; a day ahead of the real clock so the background worker never finds a
    /// request due during a test: completion happens only through the calls the test makes.
    base: i64,
    _dir: tempfile::TempDir,
}

async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings::resolve(&ServeArgs {
        common: CommonArgs {
            data_dir: Some(dir.path().join("data")),
            ..Default::default()
        },
        listen: Some("127.0.0.1:0".into()),
        ..Default::default()
    })
    .unwrap();
    let app = App::open(settings).await.unwrap();
    let base = chrono::Utc::now().timestamp_millis() + 86_400_000;
    Env {
        app,
        base,
        _dir: dir,
    }
}

fn admin() -> Principal {
    Principal {
        account: MGMT.into(),
        kind: PrincipalKind::User {
            name: "admin".into(),
            path: "/".into(),
            id: "AIDAEXAMPLE".into(),
        },
        access_key_id: "test".into(),
        session: None,
    }
}

fn root_of(account: &str) -> Principal {
    Principal {
        account: account.into(),
        kind: PrincipalKind::Root,
        access_key_id: "AKIAEXAMPLE".into(),
        session: None,
    }
}

impl Env {
    /// Calls `op` as `who` at `base + at_ms`.
    async fn call_as(
        &self,
        who: Principal,
        at_ms: i64,
        op: &str,
        input: Value,
    ) -> Result<Value, AwsError> {
        let ctx = RequestContext {
            request_id: "test".into(),
            principal: who,
            region: "us-east-1".into(),
            source_ip: "127.0.0.1".parse().unwrap(),
            user_agent: "test".into(),
            time: chrono::DateTime::from_timestamp_millis(self.base + at_ms).unwrap(),
            secure: false,
        };
        let app = self.app.clone();
        let op = op.to_string();
        let input = input.as_object().cloned().unwrap_or_default();
        self.app
            .store
            .write(move |w| super::call(&app, w, &ctx, &op, &input))
            .await
    }

    async fn call(&self, at_ms: i64, op: &str, input: Value) -> Value {
        self.call_as(admin(), at_ms, op, input)
            .await
            .unwrap_or_else(|e| panic!("{op}: {e}"))
    }

    async fn fails(
        &self,
        who: Principal,
        at_ms: i64,
        op: &str,
        input: Value,
    ) -> (String, Option<String>) {
        let e = self
            .call_as(who, at_ms, op, input)
            .await
            .expect_err("the call should fail");
        let reason = e
            .fields
            .iter()
            .find(|(k, _)| *k == "Reason")
            .map(|(_, v)| v.clone());
        (e.code.to_string(), reason)
    }

    fn read<T>(
        &self,
        f: impl FnOnce(&dyn crate::store::Reader) -> crate::store::StoreResult<T>,
    ) -> T {
        self.app.store.read(f).unwrap()
    }

    /// CreateAccount at `at_ms`; the account exists from `at_ms + DELAY_MS`.
    async fn create_account(&self, at_ms: i64, name: &str) -> String {
        let out = self
            .call(
                at_ms,
                "CreateAccount",
                json!({"Email": format!("{name}@example.com"), "AccountName": name}),
            )
            .await;
        let id = out["CreateAccountStatus"]["Id"]
            .as_str()
            .unwrap()
            .to_string();
        let done = self
            .call(
                at_ms + super::create_account::DELAY_MS,
                "DescribeCreateAccountStatus",
                json!({"CreateAccountRequestId": id}),
            )
            .await;
        assert_eq!(done["CreateAccountStatus"]["State"], "SUCCEEDED", "{done}");
        done["CreateAccountStatus"]["AccountId"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

#[tokio::test]
async fn create_account_completes_at_its_due_time_and_not_before() {
    let e = env().await;
    e.call(0, "CreateOrganization", json!({})).await;
    let out = e
        .call(
            10,
            "CreateAccount",
            json!({"Email": "dev@example.com", "AccountName": "Dev"}),
        )
        .await;
    let s = &out["CreateAccountStatus"];
    assert_eq!(s["State"], "IN_PROGRESS");
    let id = s["Id"].as_str().unwrap();
    // Just before the delay: still in progress, no account yet.
    let before = e
        .call(
            10 + super::create_account::DELAY_MS - 1,
            "DescribeCreateAccountStatus",
            json!({"CreateAccountRequestId": id}),
        )
        .await;
    assert_eq!(before["CreateAccountStatus"]["State"], "IN_PROGRESS");
    assert!(before["CreateAccountStatus"].get("AccountId").is_none());
    // Any call after the delay completes it; ListAccounts sees the account.
    let accounts = e
        .call(
            10 + super::create_account::DELAY_MS,
            "ListAccounts",
            json!({}),
        )
        .await;
    assert_eq!(accounts["Accounts"].as_array().unwrap().len(), 2);
    let after = e
        .call(
            5_000,
            "DescribeCreateAccountStatus",
            json!({"CreateAccountRequestId": id}),
        )
        .await;
    let s = &after["CreateAccountStatus"];
    assert_eq!(s["State"], "SUCCEEDED");
    let account = s["AccountId"].as_str().unwrap();
    assert_eq!(
        s["CompletedTimestamp"].as_f64().unwrap(),
        (e.base + 10 + super::create_account::DELAY_MS) as f64 / 1000.0
    );
    // The account and its role are in the directory.
    let role =
        e.read(|r| crate::auth::directory::role(r, account, "OrganizationAccountAccessRole"));
    assert!(role
        .unwrap()
        .trust_policy
        .contains("arn:aws:iam::111111111111:root"));
}

#[tokio::test]
async fn create_account_failures_are_reported_in_the_status() {
    let e = env().await;
    e.call(0, "CreateOrganization", json!({})).await;
    // The management account's own address is taken.
    let dup = e
        .call(
            1,
            "CreateAccount",
            json!({"Email": "MANAGEMENT@example.com", "AccountName": "X"}),
        )
        .await;
    let bad = e
        .call(
            2,
            "CreateAccount",
            json!({"Email": "a@b..com", "AccountName": "Y"}),
        )
        .await;
    let listed = e
        .call(
            5_000,
            "ListCreateAccountStatus",
            json!({"States": ["FAILED"]}),
        )
        .await;
    let reasons: Vec<(&str, &str)> = listed["CreateAccountStatuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["Id"].as_str().unwrap(),
                s["FailureReason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        vec![
            (
                dup["CreateAccountStatus"]["Id"].as_str().unwrap(),
                "EMAIL_ALREADY_EXISTS"
            ),
            (
                bad["CreateAccountStatus"]["Id"].as_str().unwrap(),
                "INVALID_EMAIL"
            ),
        ]
    );
    // Nothing was created.
    let accounts = e.call(5_001, "ListAccounts", json!({})).await;
    assert_eq!(accounts["Accounts"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_account_limit_fails_requests_past_it() {
    let e = env().await;
    e.call(0, "CreateOrganization", json!({})).await;
    let limit = e.app.settings.org_account_limit as i64;
    for i in 0..limit {
        e.call(
            i,
            "CreateAccount",
            json!({"Email": format!("a{i}@example.com"), "AccountName": format!("A{i}")}),
        )
        .await;
    }
    let listed = e
        .call(
            10_000,
            "ListCreateAccountStatus",
            json!({"States": ["FAILED"]}),
        )
        .await;
    let failed = listed["CreateAccountStatuses"].as_array().unwrap();
    // The management account counts: one request too many.
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["FailureReason"], "ACCOUNT_LIMIT_EXCEEDED");
    assert_eq!(failed[0]["AccountName"], format!("A{}", limit - 1));
}

#[tokio::test]
async fn a_failed_call_leaves_nothing_behind() {
    let e = env().await;
    e.call(0, "CreateOrganization", json!({})).await;
    let root = e.call(1, "ListRoots", json!({})).await["Roots"][0]["Id"]
        .as_str()
        .unwrap()
        .to_string();
    // A refused call creates nothing.
    let tags: Vec<Value> = (0..51)
        .map(|i| json!({"Key": format!("k{i}"), "Value": "v"}))
        .collect();
    let (code, reason) = e
        .fails(
            admin(),
            2,
            "CreateOrganizationalUnit",
            json!({"ParentId": root, "Name": "x", "Tags": tags}),
        )
        .await;
    assert_eq!(
        (code.as_str(), reason.as_deref()),
        (
            "ConstraintViolationException",
            Some("MAX_TAG_LIMIT_EXCEEDED")
        )
    );
    let ous = e
        .call(
            3,
            "ListOrganizationalUnitsForParent",
            json!({"ParentId": root}),
        )
        .await;
    assert_eq!(ous["OrganizationalUnits"], json!([]));
    // Deleting an organization with members fails and keeps every member.
    let a = e.create_account(10, "a").await;
    let (code, _) = e
        .fails(admin(), 5_000, "DeleteOrganization", json!({}))
        .await;
    assert_eq!(code, "OrganizationNotEmptyException");
    assert!(e.read(|r| view::organization_of(r, &a)).is_some());
}

#[tokio::test]
async fn members_get_access_denied_and_outsiders_not_in_use() {
    let e = env().await;
    let (code, _) = e.fails(admin(), 0, "ListAccounts", json!({})).await;
    assert_eq!(code, "AWSOrganizationsNotInUseException");
    e.call(0, "CreateOrganization", json!({})).await;
    let a = e.create_account(10, "a").await;
    let member = root_of(&a);
    for op in [
        "ListAccounts",
        "ListRoots",
        "CreateAccount",
        "EnableAllFeatures",
        "DeleteOrganization",
    ] {
        let (code, _) = e.fails(member.clone(), 5_000, op, json!({})).await;
        assert_eq!(code, "AccessDeniedException", "{op}");
    }
    let org = e
        .call_as(member.clone(), 5_000, "DescribeOrganization", json!({}))
        .await
        .unwrap();
    assert_eq!(org["Organization"]["MasterAccountId"], MGMT);
    // A delegated administrator may read.
    e.call(
        5_001,
        "EnableAWSServiceAccess",
        json!({"ServicePrincipal": "cloudtrail.amazonaws.com"}),
    )
    .await;
    e.call(
        5_002,
        "RegisterDelegatedAdministrator",
        json!({"AccountId": a, "ServicePrincipal": "cloudtrail.amazonaws.com"}),
    )
    .await;
    let listed = e
        .call_as(member.clone(), 5_003, "ListAccounts", json!({}))
        .await
        .unwrap();
    assert_eq!(listed["Accounts"].as_array().unwrap().len(), 2);
    let (code, _) = e
        .fails(
            member,
            5_004,
            "CreateAccount",
            json!({"Email": "x@example.com", "AccountName": "x"}),
        )
        .await;
    assert_eq!(code, "AccessDeniedException");
}

#[tokio::test]
async fn view_answers_membership_questions_over_time() {
    let e = env().await;
    let created = e.call(100, "CreateOrganization", json!({})).await;
    let org_id = created["Organization"]["Id"].as_str().unwrap().to_string();
    let a = e.create_account(1_000, "a").await; // member from 2_000
    let b = e.create_account(3_000, "b").await; // member from 4_000
    e.call(
        6_000,
        "RemoveAccountFromOrganization",
        json!({"AccountId": a}),
    )
    .await;

    let org = e.read(|r| view::organization_of(r, MGMT)).unwrap();
    assert_eq!(org.id, org_id);
    assert_eq!(org.management_account, MGMT);
    assert_eq!(org.feature_set, "ALL");
    assert_eq!(
        org.arn,
        format!("arn:aws:organizations::{MGMT}:organization/{org_id}")
    );
    assert!(e.read(|r| view::organization_of(r, &a)).is_none());
    assert_eq!(e.read(|r| view::organization_of(r, &b)).unwrap().id, org_id);
    assert!(e.read(|r| view::is_management_account(r, MGMT)));
    assert!(!e.read(|r| view::is_management_account(r, &b)));

    let mut now = e.read(|r| view::members(r, &org_id));
    now.sort();
    let mut want = vec![MGMT.to_string(), b.clone()];
    want.sort();
    assert_eq!(now, want);

    let at = |t: i64| {
        let mut m = e.read(|r| view::members_at(r, &org_id, e.base + t));
        m.sort();
        m
    };
    assert_eq!(at(50), Vec::<String>::new());
    assert_eq!(at(100), vec![MGMT.to_string()]);
    let mut two = vec![MGMT.to_string(), a.clone()];
    two.sort();
    assert_eq!(at(2_000), two);
    let mut three = vec![MGMT.to_string(), a.clone(), b.clone()];
    three.sort();
    assert_eq!(at(5_999), three);
    assert_eq!(at(6_000), want);

    let periods = e.read(|r| view::memberships(r, &a));
    assert_eq!(
        periods,
        vec![view::Membership {
            org: org_id.clone(),
            account: a.clone(),
            joined_ms: e.base + 2_000,
            left_ms: Some(e.base + 6_000),
        }]
    );
    assert!(e.read(|r| view::was_member_at(r, &org_id, &a, e.base + 5_999)));
    assert!(!e.read(|r| view::was_member_at(r, &org_id, &a, e.base + 6_000)));
    assert!(!e.read(|r| view::was_member_at(r, &org_id, &a, e.base + 1_999)));

    // The change feed, read with a cursor.
    let first = e.read(|r| view::membership_events(r, &org_id, 0, 2));
    assert_eq!(first.len(), 2);
    assert_eq!((first[0].account.as_str(), first[0].joined), (MGMT, true));
    assert_eq!(
        (first[1].account.as_str(), first[1].joined),
        (a.as_str(), true)
    );
    let rest = e.read(|r| view::membership_events(r, &org_id, first[1].seq, 10));
    let rest: Vec<(&str, bool)> = rest
        .iter()
        .map(|x| (x.account.as_str(), x.joined))
        .collect();
    assert_eq!(rest, vec![(b.as_str(), true), (a.as_str(), false)]);
}

#[tokio::test]
async fn view_answers_trust_and_delegation() {
    let e = env().await;
    let created = e.call(0, "CreateOrganization", json!({})).await;
    let org_id = created["Organization"]["Id"].as_str().unwrap().to_string();
    let a = e.create_account(10, "a").await;
    let ct = "cloudtrail.amazonaws.com";
    assert!(!e.read(|r| view::is_trusted(r, &org_id, ct)));
    e.call(
        5_000,
        "EnableAWSServiceAccess",
        json!({"ServicePrincipal": ct}),
    )
    .await;
    assert!(e.read(|r| view::is_trusted(r, &org_id, ct)));
    assert_eq!(
        e.read(|r| view::trusted_services(r, &org_id)),
        vec![ct.to_string()]
    );
    assert!(!e.read(|r| view::is_delegated_admin(r, &a, ct)));
    e.call(
        5_001,
        "RegisterDelegatedAdministrator",
        json!({"AccountId": a, "ServicePrincipal": ct}),
    )
    .await;
    assert!(e.read(|r| view::is_delegated_admin(r, &a, ct)));
    assert!(!e.read(|r| view::is_delegated_admin(r, &a, "config.amazonaws.com")));
    assert_eq!(
        e.read(|r| view::delegated_admins(r, &org_id, ct)),
        vec![a.clone()]
    );
    // Disabling trusted access drops the service's delegated administrators.
    e.call(
        5_002,
        "DisableAWSServiceAccess",
        json!({"ServicePrincipal": ct}),
    )
    .await;
    assert!(!e.read(|r| view::is_trusted(r, &org_id, ct)));
    assert!(!e.read(|r| view::is_delegated_admin(r, &a, ct)));
    assert!(e
        .read(|r| view::delegated_admins(r, &org_id, ct))
        .is_empty());
}

#[tokio::test]
async fn deleting_the_organization_ends_the_management_membership() {
    let e = env().await;
    let created = e
        .call(
            0,
            "CreateOrganization",
            json!({"FeatureSet": "CONSOLIDATED_BILLING"}),
        )
        .await;
    let org_id = created["Organization"]["Id"].as_str().unwrap().to_string();
    assert_eq!(created["Organization"]["AvailablePolicyTypes"], json!([]));
    e.call(1_000, "DeleteOrganization", json!({})).await;
    assert!(e.read(|r| view::organization(r, &org_id)).is_none());
    assert!(e.read(|r| view::organization_of(r, MGMT)).is_none());
    assert_eq!(
        e.read(|r| view::memberships(r, MGMT)),
        vec![view::Membership {
            org: org_id.clone(),
            account: MGMT.into(),
            joined_ms: e.base,
            left_ms: Some(e.base + 1_000),
        }]
    );
    // A new organization can be created afterwards.
    let again = e.call(2_000, "CreateOrganization", json!({})).await;
    assert_ne!(again["Organization"]["Id"], json!(org_id));
}

#[tokio::test]
async fn enable_all_features_asks_invited_members_then_the_management_account() {
    let e = env().await;
    e.call(
        0,
        "CreateOrganization",
        json!({"FeatureSet": "CONSOLIDATED_BILLING"}),
    )
    .await;
    // An existing standalone account, invited.
    e.app
        .store
        .write(|w| {
            crate::auth::directory::create_account(
                w,
                "222222222222",
                "Guest",
                "guest@example.com",
                0,
            )
        })
        .await
        .unwrap();
    let guest = root_of("222222222222");
    let inv = e
        .call(
            1,
            "InviteAccountToOrganization",
            json!({"Target": {"Type": "ACCOUNT", "Id": "222222222222"}}),
        )
        .await;
    let h = inv["Handshake"]["Id"].as_str().unwrap().to_string();
    e.call_as(
        guest.clone(),
        2,
        "AcceptHandshake",
        json!({"HandshakeId": h}),
    )
    .await
    .unwrap();

    let p = e.call(3, "EnableAllFeatures", json!({})).await;
    assert_eq!(p["Handshake"]["State"], "REQUESTED");
    let parent = p["Handshake"]["Id"].as_str().unwrap().to_string();
    // While it is pending, a second request and new invitations are refused.
    let (code, reason) = e.fails(admin(), 4, "EnableAllFeatures", json!({})).await;
    assert_eq!(
        (code.as_str(), reason.as_deref()),
        (
            "HandshakeConstraintViolationException",
            Some("ORGANIZATION_IS_ALREADY_PENDING_ALL_FEATURES_MIGRATION")
        )
    );
    // The member sees its handshake and agrees.
    let mine = e
        .call_as(
            guest.clone(),
            5,
            "ListHandshakesForAccount",
            json!({"Filter": {"ActionType": "ENABLE_ALL_FEATURES"}}),
        )
        .await
        .unwrap();
    let child = &mine["Handshakes"][0];
    assert_eq!(
        child["Resources"][2],
        json!({"Value": parent, "Type": "PARENT_HANDSHAKE"})
    );
    e.call_as(
        guest,
        6,
        "AcceptHandshake",
        json!({"HandshakeId": child["Id"]}),
    )
    .await
    .unwrap();
    // Now the management account is asked to approve.
    let approve = e
        .call(
            7,
            "ListHandshakesForAccount",
            json!({"Filter": {"ActionType": "APPROVE_ALL_FEATURES"}}),
        )
        .await;
    let approve_id = approve["Handshakes"][0]["Id"].as_str().unwrap().to_string();
    let org = e.call(8, "DescribeOrganization", json!({})).await;
    assert_eq!(org["Organization"]["FeatureSet"], "CONSOLIDATED_BILLING");
    e.call(9, "AcceptHandshake", json!({"HandshakeId": approve_id}))
        .await;
    let org = e.call(10, "DescribeOrganization", json!({})).await;
    assert_eq!(org["Organization"]["FeatureSet"], "ALL");
    let parent_now = e
        .call(11, "DescribeHandshake", json!({"HandshakeId": parent}))
        .await;
    assert_eq!(parent_now["Handshake"]["State"], "ACCEPTED");
    // All features make SCPs available; the root enables them with EnablePolicyType.
    let roots = e.call(12, "ListRoots", json!({})).await;
    assert_eq!(roots["Roots"][0]["PolicyTypes"], json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_worker_completes_due_requests_without_any_call() {
    let mut e = env().await;
    super::spawn_worker(&e.app);
    // Real time, so the worker (which reads the server clock) finds the request due.
    e.base = chrono::Utc::now().timestamp_millis();
    e.call(0, "CreateOrganization", json!({})).await;
    let out = e
        .call(
            1,
            "CreateAccount",
            json!({"Email": "w@example.com", "AccountName": "W"}),
        )
        .await;
    let id = out["CreateAccountStatus"]["Id"]
        .as_str()
        .unwrap()
        .to_string();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let done = loop {
        let r = e.read(|r| super::model::create_request(r, &id)).unwrap();
        if r.state != "IN_PROGRESS" || std::time::Instant::now() > deadline {
            break r;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(done.state, "SUCCEEDED");
    let account = done.account_id.unwrap();
    assert!(e.read(|r| view::organization_of(r, &account)).is_some());
}
