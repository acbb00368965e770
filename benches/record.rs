//! Building one call's journal entry: the CloudTrail record and its meta, as every recorded call
//! does on the request path (issue: recording costs under 15% of GetCallerIdentity throughput).
//!
//! `cargo bench --bench record [-- CALLS]`. Times `audit::entries` for a GetCallerIdentity by an
//! IAM user and for a CreateTrail with request parameters and response elements, and prints the
//! median of 7 runs per call.

#[path = "calls/mod.rs"]
mod calls;

use cairn::audit;
use cairn::clock::Clock;
use calls::{ctx, info};
use serde_json::json;
use std::time::Instant;

/// The user agent of the AWS CLI.
const CLI: &str = "aws-cli/1.36.0 md/Botocore#1.35.0 ua/2.0 os/linux#6.1 md/arch#x86_64 \
                   lang/python#3.11.2 md/pyimpl#CPython cfg/retry-mode#legacy botocore/1.35.0";

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
    let ctx = ctx(CLI);
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
