//! Lifecycle's writes. Inside one store transaction each key or upload a scan found due is read
//! again and what is due is decided afresh (a call may have changed it since the snapshot),
//! then done through the same table code as the API's deletes, without authorization: S3 acts
//! itself. Bodies come back as garbage, removed after the commit.

use super::{enabled_rules, plan, upload_due, History, Rule};
use crate::error::AwsError;
use crate::services::s3::objects::Garbage;
use crate::services::s3::versions::{self, Place};
use crate::services::s3::{get_bucket, millis, multipart, Bucket, Object};
use crate::store::Writer;
use chrono::{DateTime, Utc};

/// Server access logs' names for what lifecycle does.
pub const EXPIRE_OBJECT: &str = "S3.EXPIRE.OBJECT";
pub const CREATE_DELETE_MARKER: &str = "S3.CREATE.DELETEMARKER";
pub const DELETE_UPLOAD: &str = "S3.DELETE.UPLOAD";

/// One thing lifecycle did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Action {
    pub key: String,
    pub version_id: Option<String>,
    pub operation: &'static str,
}

/// What one transaction did: the bucket as it read it, the actions, the bodies to remove.
#[derive(Default)]
pub struct Done {
    pub bucket: Option<Bucket>,
    pub actions: Vec<Action>,
    pub garbage: Garbage,
}

/// The bucket and its enabled rules as the transaction sees them (the configuration may have
/// gone since the scan).
fn configured(w: &dyn Writer, bucket: &str) -> Result<Option<(Bucket, Vec<Rule>)>, AwsError> {
    let Some(b) = get_bucket(w, bucket)? else {
        return Ok(None);
    };
    let rules = enabled_rules(b.config.lifecycle.as_deref().unwrap_or_default());
    Ok((!rules.is_empty()).then_some((b, rules)))
}

/// Applies what is due at `now` to each of `keys`.
pub fn keys(
    w: &mut dyn Writer,
    bucket: &str,
    keys: &[String],
    now: DateTime<Utc>,
) -> Result<Done, AwsError> {
    let Some((b, rules)) = configured(w, bucket)? else {
        return Ok(Done::default());
    };
    let mut done = Done::default();
    for key in keys {
        let (current, rows) = versions::history(w, bucket, key)?;
        let (places, older): (Vec<Vec<u8>>, Vec<Object>) = rows.into_iter().unzip();
        let h = History {
            key,
            current: current.as_ref(),
            older: &older,
        };
        let p = plan(&rules, h, now);
        // Oldest first: while a current delete marker stays on top, no removal below it
        // promotes anything.
        for &i in p.remove.iter().rev() {
            let o = &older[i];
            let found = Some((Place::Row(places[i].clone()), o.clone()));
            let d = versions::delete_version(w, &b, key, o.version_text(), found)?;
            done.garbage.extend(d.garbage);
            done.actions.push(Action {
                key: key.clone(),
                version_id: versions::header_of(o).map(str::to_string),
                operation: EXPIRE_OBJECT,
            });
        }
        if p.expire_current {
            let d = versions::delete_current(w, &b, key, &b.owner, now)?;
            done.garbage.extend(d.garbage);
            done.actions.push(Action {
                key: key.clone(),
                version_id: d.version_id,
                operation: if d.delete_marker {
                    CREATE_DELETE_MARKER
                } else {
                    EXPIRE_OBJECT
                },
            });
        }
    }
    done.bucket = Some(b);
    Ok(done)
}

/// Aborts each of `uploads` (key, upload id) that is due at `now`.
pub fn uploads(
    w: &mut dyn Writer,
    bucket: &str,
    uploads: &[(String, String)],
    now: DateTime<Utc>,
) -> Result<Done, AwsError> {
    let Some((b, rules)) = configured(w, bucket)? else {
        return Ok(Done::default());
    };
    let mut done = Done::default();
    for (key, id) in uploads {
        let Some(u) = multipart::find_upload(w, bucket, key, id)? else {
            continue;
        };
        if !upload_due(&rules, key, millis(u.initiated), now) {
            continue;
        }
        done.garbage
            .extend(multipart::discard_upload(w, bucket, key, id)?);
        done.actions.push(Action {
            key: key.clone(),
            version_id: None,
            operation: DELETE_UPLOAD,
        });
    }
    done.bucket = Some(b);
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::s3::bucket_config::parse_lifecycle;
    use crate::services::s3::versions::{delete_current, write_new, Versioning};
    use crate::services::s3::{Segment, BUCKETS};
    use crate::store::{Durability, SqliteEngine, Store, WriterExt};
    use chrono::TimeZone;
    use std::sync::Arc;

    fn bucket(name: &str, versioning: Option<&str>, lifecycle: &str) -> Bucket {
        let doc = crate::services::s3::xml::parse(
            format!("<LifecycleConfiguration>{lifecycle}</LifecycleConfiguration>").as_bytes(),
        )
        .unwrap();
        let mut b = Bucket {
            name: name.into(),
            owner: "111111111111".into(),
            region: "us-east-1".into(),
            created: 0,
            ownership: None,
            acl: Vec::new(),
            policy: None,
            config: Default::default(),
        };
        b.config.versioning = versioning.map(|s| Versioning {
            status: Some(s.into()),
            mfa_delete: None,
        });
        b.config.lifecycle = Some(parse_lifecycle(&doc).unwrap());
        b
    }

    fn body(blob: &str) -> Object {
        Object {
            size: 1,
            owner: "111111111111".into(),
            segments: vec![Segment {
                blob: blob.into(),
                size: 1,
            }],
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn expiries_leave_exactly_what_is_due() {
        let dir = tempfile::tempdir().unwrap();
        let engine = SqliteEngine::open(&dir.path().join("s.db"), Durability::Process).unwrap();
        let store = Store::new(Arc::new(engine));
        let t = Utc.with_ymd_and_hms(2024, 3, 1, 12, 0, 0).unwrap();
        let micros = t.timestamp_micros();
        let versioned = bucket(
            "vb",
            Some("Enabled"),
            "<Rule><Filter/><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>\
             <NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionExpiration></Rule>",
        );
        let plain = bucket(
            "pb",
            None,
            "<Rule><Filter><Prefix>tmp/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>",
        );
        let (vb, pb) = (versioned.clone(), plain.clone());
        store
            .write(move |w| -> Result<(), AwsError> {
                w.put_json(BUCKETS, b"vb", &vb)?;
                w.put_json(BUCKETS, b"pb", &pb)?;
                // k: v1, v2, then a delete marker on top.
                write_new(w, &vb, "k", micros, body("b1"))?;
                write_new(w, &vb, "k", micros + 1, body("b2"))?;
                delete_current(w, &vb, "k", "111111111111", t)?;
                // j: v1 under a current v2 (v1 goes, v2 stays).
                write_new(w, &vb, "j", micros, body("b3"))?;
                write_new(w, &vb, "j", micros + 1, body("b4"))?;
                write_new(w, &pb, "tmp/a", micros, body("b5"))?;
                write_new(w, &pb, "keep/a", micros, body("b6"))?;
                Ok(())
            })
            .await
            .unwrap();
        let now = Utc.with_ymd_and_hms(2024, 3, 3, 0, 0, 0).unwrap();
        let keys_of = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let (ks, ps) = (keys_of(&["j", "k"]), keys_of(&["keep/a", "tmp/a"]));
        let (done_v, done_p) = store
            .write(move |w| -> Result<(Done, Done), AwsError> {
                Ok((keys(w, "vb", &ks, now)?, keys(w, "pb", &ps, now)?))
            })
            .await
            .unwrap();
        let mut garbage = done_v.garbage.clone();
        garbage.sort();
        assert_eq!(garbage, ["b1", "b2", "b3"]);
        assert_eq!(done_v.actions.len(), 4);
        assert!(done_v.actions.iter().all(|a| a.operation == EXPIRE_OBJECT));
        assert_eq!(done_p.garbage, ["b5"]);
        assert_eq!(
            done_p.actions,
            [Action {
                key: "tmp/a".into(),
                version_id: None,
                operation: EXPIRE_OBJECT
            }]
        );
        let left = store
            .read(|r| {
                let f = |b: &str, k: &str| {
                    let (cur, rows) = versions::history(r, b, k)
                        .map_err(|e| crate::store::StoreError::Backend(e.to_string()))?;
                    Ok((cur.map(|o| o.segments[0].blob.clone()), rows.len()))
                };
                Ok([
                    f("vb", "k")?,
                    f("vb", "j")?,
                    f("pb", "tmp/a")?,
                    f("pb", "keep/a")?,
                ])
            })
            .unwrap();
        assert_eq!(
            left,
            [
                (None, 0),
                (Some("b4".to_string()), 0),
                (None, 0),
                (Some("b6".to_string()), 0)
            ]
        );
    }
}
