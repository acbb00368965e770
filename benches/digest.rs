//! Digest generation for one chain with 10,000 log files in its period (issue: under 1 s).
//!
//! `cargo bench --bench digest [-- FILES RUNS]`. Runs the consumer's own code on a real store in
//! a temporary directory: planning (reading the chain and its recorded files), composing the
//! JSON, hashing and RSA-signing it, the commit that takes the files and stores the pending
//! digest, then gzip. The PUT that follows is S3's PutObject, measured by the load benchmarks.

use cairn::app::App;
use cairn::config::{CommonArgs, ServeArgs, Settings};
use cairn::digests::{self, chains, digest, keys, make};
use cairn::services::cloudtrail::model::{Trail, TRAILS};
use cairn::store::WriterExt;
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};

const ACCOUNT: &str = "111111111111";
const REGION: &str = "us-east-2";

fn trail() -> Trail {
    serde_json::from_value(serde_json::json!({
        "name": "bench", "owner": ACCOUNT, "home_region": REGION, "s3_bucket_name": "bench-bucket",
        "s3_key_prefix": null, "sns_topic_name": null, "include_global_service_events": true,
        "is_multi_region": false, "log_file_validation": true, "cloudwatch_logs_log_group_arn": null,
        "cloudwatch_logs_role_arn": null, "kms_key_id": null, "is_organization_trail": false,
        "has_custom_event_selectors": false, "event_selectors": null,
        "advanced_event_selectors": null, "insight_selectors": null, "tags": [], "logging": true,
        "logging_periods": [[1, null]], "start_logging_time": 0, "stop_logging_time": null,
        "created": 0
    }))
    .expect("a trail")
}

/// `n` delivered log files, as delivery records them (keys in AWS's layout, 16-character suffix).
fn files(n: usize, run: usize) -> Vec<(String, String, digest::LogFile)> {
    (0..n)
        .map(|i| {
            let f = digest::LogFile {
                bucket: "bench-bucket".into(),
                key: format!(
                    "AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/2024/01/15/{ACCOUNT}_CloudTrail_{REGION}_20240115T{:02}{:02}Z_{:016x}.json.gz",
                    (i / 60) % 24,
                    i % 60,
                    (run * n + i) as u64 * 0x9e37_79b9_7f4a_7c15
                ),
                // Real hashes are random: they are what keeps a digest from compressing well.
                hash: hex::encode(Sha256::digest(format!("{run}/{i}"))),
                newest_event_time: "2024-01-15T10:59:59Z".into(),
                oldest_event_time: "2024-01-15T10:00:00Z".into(),
            };
            (ACCOUNT.to_string(), REGION.to_string(), f)
        })
        .collect()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let n: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let runs: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(7);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let settings = Settings::resolve(&ServeArgs {
        common: CommonArgs {
            data_dir: Some(dir.path().join("data")),
            ..Default::default()
        },
        ..Default::default()
    })
    .expect("settings");
    let app = App::open(settings).await.expect("a store");
    let t = trail();
    let stored = t.clone();
    app.store
        .write(move |w| w.put_json(TRAILS, &stored.key(), &stored))
        .await
        .expect("the trail");
    // The region's signing key exists already, as it does after the first digest.
    let now = app.clock.now().timestamp_millis();
    let key = keys::generate(app.auth.sealer(), REGION, now, keys::VALIDITY).expect("a key");
    app.store
        .write(move |w| keys::install(w, REGION, now, key))
        .await
        .expect("the key");

    let (mut plan, mut made, mut zipped, mut total) = (vec![], vec![], vec![], vec![]);
    let (mut body_len, mut gz_len) = (0, 0);
    for run in 0..runs {
        // A new period: its files recorded, the chain's previous digest an hour back.
        let recorded = files(n, run);
        let state = t.state_key();
        app.store
            .write(move |w| {
                w.delete_prefix(digests::CHAINS, state.as_bytes())?;
                digests::record_files(w, &state, &recorded)
            })
            .await
            .expect("files");
        app.clock.advance(chrono::Duration::hours(1));

        let t0 = Instant::now();
        let due = chains::due(&app, &t).expect("a plan");
        let t1 = Instant::now();
        let [d] = <[chains::Due; 1]>::try_from(due).ok().expect("one chain");
        assert_eq!(d.files.len(), n);
        let pending = make::prepare(&app, &t, &d)
            .await
            .expect("a digest")
            .expect("a window");
        let t2 = Instant::now();
        let gz = cairn::delivery::files::gzip(|gz| gz.write_all(pending.body.as_bytes()));
        let t3 = Instant::now();
        plan.push(t1 - t0);
        made.push(t2 - t1);
        zipped.push(t3 - t2);
        total.push(t3 - t0);
        (body_len, gz_len) = (pending.body.len(), gz.len());
    }
    println!("digest generation, {n} log files, {runs} runs (median; max total):");
    println!(
        "  plan (read chain and files)          {}",
        ms(median(plan))
    );
    println!(
        "  compose + SHA-256 + RSA sign + commit {}",
        ms(median(made))
    );
    println!(
        "  gzip                                 {}",
        ms(median(zipped))
    );
    println!(
        "  total                                {} (max {})",
        ms(median(total.clone())),
        ms(*total.iter().max().expect("runs"))
    );
    println!(
        "  digest JSON {:.1} MB, gzipped {:.2} MB",
        body_len as f64 / 1e6,
        gz_len as f64 / 1e6
    );
}
