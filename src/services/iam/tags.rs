//! Tags on users, roles, customer managed policies, instance profiles and OIDC and SAML
//! providers: Tag*/Untag*/List*Tags.

use super::errors::invalid_input;
use super::input::{merge_tags, page, tags_json};
use super::users::reorder;
use super::{oidc, policies, profiles, roles, saml, users, Call};
use crate::auth::directory::{self, Tag};
use crate::error::AwsError;
use crate::store::Writer;
use serde_json::{json, Map, Value};

#[derive(Clone, Copy)]
pub enum Kind {
    User,
    Role,
    Policy,
    Profile,
    Oidc,
    Saml,
}

/// Runs `change` on the tags of the entity the call names; saves them when it says so.
fn with_tags<T>(
    c: &Call,
    w: &mut dyn Writer,
    kind: Kind,
    change: impl FnOnce(&mut Vec<Tag>) -> Result<(T, bool), AwsError>,
) -> Result<T, AwsError> {
    match kind {
        Kind::User => {
            let mut u = users::existing(w, c, c.p.name("UserName", 128)?)?;
            let (out, save) = change(&mut u.tags)?;
            if save {
                directory::put_user(w, &u)?;
            }
            Ok(out)
        }
        Kind::Role => {
            let mut r = roles::existing(w, c, c.p.name("RoleName", 64)?)?;
            let (out, save) = change(&mut r.tags)?;
            if save {
                directory::put_role(w, &r)?;
            }
            Ok(out)
        }
        Kind::Policy => {
            let arn = c.p.arn("PolicyArn")?;
            if directory::managed::find(arn).is_some() {
                return Err(invalid_input(format!(
                    "Policy {arn} is an AWS managed policy and cannot be tagged."
                )));
            }
            let mut p = policies::customer(w, c, arn)?;
            let (out, save) = change(&mut p.tags)?;
            if save {
                directory::put_policy(w, &p)?;
            }
            Ok(out)
        }
        Kind::Oidc => {
            let mut p = oidc::existing(w, c, c.p.arn("OpenIDConnectProviderArn")?)?;
            let (out, save) = change(&mut p.tags)?;
            if save {
                directory::put_oidc_provider(w, &p)?;
            }
            Ok(out)
        }
        Kind::Saml => {
            let mut p = saml::existing(w, c, c.p.arn("SAMLProviderArn")?)?;
            let (out, save) = change(&mut p.tags)?;
            if save {
                directory::put_saml_provider(w, &p)?;
            }
            Ok(out)
        }
        Kind::Profile => {
            let mut p = profiles::existing(w, c, c.p.name("InstanceProfileName", 128)?)?;
            let (out, save) = change(&mut p.tags)?;
            if save {
                directory::put_profile(w, &p)?;
            }
            Ok(out)
        }
    }
}

pub fn tag(c: &Call, w: &mut dyn Writer, kind: Kind) -> Result<Value, AwsError> {
    let new = c.p.tags()?;
    if new.is_empty() {
        return Err(super::errors::validation(
            "1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null".into(),
        ));
    }
    with_tags(c, w, kind, |tags| {
        merge_tags(tags, new)?;
        Ok(((), true))
    })?;
    Ok(json!({}))
}

pub fn untag(c: &Call, w: &mut dyn Writer, kind: Kind) -> Result<Value, AwsError> {
    let keys = c.p.tag_keys()?;
    with_tags(c, w, kind, |tags| {
        tags.retain(|t| !keys.contains(&t.key.as_str()));
        Ok(((), true))
    })?;
    Ok(json!({}))
}

pub fn list(c: &Call, w: &mut dyn Writer, kind: Kind) -> Result<Value, AwsError> {
    let tags = with_tags(c, w, kind, |tags| Ok((tags.clone(), false)))?;
    let mut out = Map::new();
    let page = page(&c.p, tags, &mut out)?;
    out.insert("Tags".into(), tags_json(&page));
    Ok(reorder(out, "Tags"))
}
