//! Building one call's journal entry: the CloudTrail record and its meta, as every recorded call
//! does on the request path (issue: recording costs under 15% of GetCallerIdentity throughput).
//!
//! `cargo bench --bench record [-- CALLS]`. Times `audit::entries` for a GetCallerIdentity by an
//! IAM user and for a CreateTrail with request parameters and response elements, and prints the
//! median of 7 runs per call.

/// The allocator the server runs with (src/main.rs), so figures match what calls cost there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use cairn::audit::{self, CallInfo};
use cairn::auth::{Principal, PrincipalKind};
use cairn::clock::Clock;
use cairn::services::RequestContext;
use serde_json::json;
use std::time::Instant;

fn ctx() -> RequestContext {
    RequestContext {
        request_id: "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0".into(),
        principal: Principal {
            account: "111111111111".into(),
            kind: PrincipalKind::User {
                name: "admin".into(),
                path: "/".into(),
                id: "AIDAEXAMPLEEXAMPLE01".into(),
            },
            access_key_id: "AKIAEXAMPLEEXAMPLE01".into(),
        },
        region: "us-east-2".into(),
        source_ip: "127.0.0.1".parse().expect("an address"),
        user_agent: "aws-cli/1.36.0 md/Botocore#1.35.0 ua/2.0 os/linux#6.1 md/arch#x86_64 \
                     lang/python#3.11.2 md/pyimpl#CPython cfg/retry-mode#legacy botocore/1.35.0"
            .into(),
        time: chrono::Utc::now(),
        secure: false,
    }
}

fn info(name: &str, read_only: bool) -> CallInfo {
    CallInfo {
        event_source: "sts.amazonaws.com",
        event_name: name.into(),
        region: "us-east-2".into(),
        read_only,
        management: true,
        request_parameters: None,
        resources: Vec::new(),
        recipient_account: "111111111111".into(),
        shared_with: None,
        additional_event_data: None,
        lookup_resources: Vec::new(),
    }
}

fn time(label: &str, calls: usize, mut f: impl FnMut() -> usize) {
    let mut runs: Vec<f64> = (0..7)
        .map(|_| {
            let start = Instant::now();
            let mut bytes = 0;
            for _ in 0..calls {
                bytes += f();
            }
            std::hint::black_box(bytes);
            start.elapsed().as_secs_f64() * 1e9 / calls as f64
        })
        .collect();
    runs.sort_by(f64::total_cmp);
    println!(
        "{label}: median {:.0} ns per call, best {:.0} ns",
        runs[3], runs[0]
    );
}

fn main() {
    let calls: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(200_000);
    let clock = Clock::default();
    let ctx = ctx();
    let gci = info("GetCallerIdentity", true);
    time("GetCallerIdentity entry", calls, || {
        audit::entries(&ctx, &gci, Ok(None), &clock)
            .iter()
            .map(Vec::len)
            .sum()
    });
    let mut create = info("CreateTrail", false);
    create.event_source = "cloudtrail.amazonaws.com";
    create.request_parameters = Some(json!({
        "name": "org-trail", "s3BucketName": "my-org-bucket",
        "isOrganizationTrail": true, "isMultiRegionTrail": true
    }));
    create.lookup_resources = vec![("AWS::CloudTrail::Trail".into(), "org-trail".into())];
    let response = json!({
        "name": "org-trail", "s3BucketName": "my-org-bucket", "includeGlobalServiceEvents": true,
        "isMultiRegionTrail": true, "isOrganizationTrail": true, "logFileValidationEnabled": false,
        "trailARN": "arn:aws:cloudtrail:us-east-2:111111111111:trail/org-trail"
    });
    time("CreateTrail entry", calls, || {
        audit::entries(&ctx, &create, Ok(Some(response.clone())), &clock)
            .iter()
            .map(Vec::len)
            .sum()
    });
}
