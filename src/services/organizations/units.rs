//! The organization's tree: organizational units, the children and parents of each node, and
//! MoveAccount.

use super::accounts::{self, account_id, listing};
use super::errors::{
    child_not_found, constraint, destination_parent_not_found, duplicate_account, duplicate_ou,
    invalid_input, ou_not_empty, ou_not_found, parent_not_found, source_parent_not_found,
};
use super::model::{self, Member, Org, Ou, CHILD_ACCOUNT, CHILD_OU};
use super::page::Page;
use super::validate::{self, one_of};
use super::{ids, policies, Call};
use crate::error::AwsError;
use crate::store::{Reader, Writer, WriterExt};
use serde_json::{json, Value};

/// OUs nest at most five levels below the root.
const MAX_DEPTH: u32 = 5;
/// OUs an organization may have.
const MAX_OUS: usize = 1000;
const MAX_TAGS: usize = 50;

/// A root or OU of `org`: its path and depth (0 for the root).
pub struct Node {
    pub id: String,
    pub path: String,
    pub depth: u32,
}

pub fn node(r: &dyn Reader, org: &Org, id: &str) -> Result<Option<Node>, AwsError> {
    if id == org.root {
        return Ok(Some(Node {
            id: id.into(),
            path: org.root_path(),
            depth: 0,
        }));
    }
    if !validate::is_ou_id(id) {
        return Ok(None);
    }
    Ok(model::ou_of(r, &org.id, id)?.map(|o| Node {
        id: o.id,
        path: o.path,
        depth: o.depth,
    }))
}

fn parent_id<'a>(c: &Call<'a>, name: &str) -> Result<&'a str, AwsError> {
    let id = c.input.str(name)?;
    if !validate::is_parent_id(id) {
        return Err(invalid_input("INVALID_PATTERN"));
    }
    Ok(id)
}

fn ou_id<'a>(c: &Call<'a>) -> Result<&'a str, AwsError> {
    let id = c.input.str("OrganizationalUnitId")?;
    if !validate::is_ou_id(id) {
        return Err(invalid_input("INVALID_PATTERN"));
    }
    Ok(id)
}

fn find_ou(r: &dyn Reader, org: &Org, id: &str) -> Result<Ou, AwsError> {
    model::ou_of(r, &org.id, id)?.ok_or_else(ou_not_found)
}

fn name_taken(r: &dyn Reader, org: &Org, parent: &str, name: &str) -> Result<bool, AwsError> {
    for id in model::children(r, &org.id, parent, CHILD_OU)? {
        if model::ou(r, &id)?.is_some_and(|o| o.name == name) {
            return Ok(true);
        }
    }
    Ok(false)
}

fn ou_count(r: &dyn Reader, org: &Org) -> Result<usize, AwsError> {
    Ok(model::keys_under(r, model::CHILDREN, &[&org.id])?
        .iter()
        .filter(|k| k.split('/').nth(1) == Some(CHILD_OU))
        .count())
}

pub fn create(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let org = c.org()?;
    let parent = parent_id(c, "ParentId")?;
    let name = c.input.str("Name")?;
    validate::length(name, 1, 128)?;
    let tags = c.input.tags("Tags")?;
    if tags.len() > MAX_TAGS {
        return Err(constraint("MAX_TAG_LIMIT_EXCEEDED"));
    }
    let p = node(w, org, parent)?.ok_or_else(parent_not_found)?;
    if p.depth + 1 > MAX_DEPTH {
        return Err(constraint("OU_DEPTH_LIMIT_EXCEEDED"));
    }
    if name_taken(w, org, &p.id, name)? {
        return Err(duplicate_ou());
    }
    if ou_count(w, org)? >= MAX_OUS {
        return Err(constraint("OU_NUMBER_LIMIT_EXCEEDED"));
    }
    let id = loop {
        let id = ids::organizational_unit(&org.root);
        if model::ou(w, &id)?.is_none() {
            break id;
        }
    };
    let ou = Ou {
        org: org.id.clone(),
        id: id.clone(),
        name: name.into(),
        parent: p.id.clone(),
        path: format!("{}{}/", p.path, id),
        depth: p.depth + 1,
    };
    w.put_json(model::OUS, id.as_bytes(), &ou)?;
    model::add_child(w, &org.id, &p.id, CHILD_OU, &id)?;
    model::put_tags(w, &id, &tags)?;
    policies::attach_defaults(w, org, &id)?;
    Ok(json!({"OrganizationalUnit": ou.json(&org.management)}))
}

pub fn describe(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let org = c.org()?;
    let ou = find_ou(w, org, ou_id(c)?)?;
    Ok(json!({"OrganizationalUnit": ou.json(&org.management)}))
}

pub fn update(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let org = c.org()?;
    let id = ou_id(c)?;
    let name = c.input.opt_str("Name")?;
    if let Some(n) = name {
        validate::length(n, 1, 128)?;
    }
    let mut ou = find_ou(w, org, id)?;
    if let Some(n) = name {
        if n != ou.name {
            if name_taken(w, org, &ou.parent, n)? {
                return Err(duplicate_ou());
            }
            ou.name = n.into();
            w.put_json(model::OUS, ou.id.as_bytes(), &ou)?;
        }
    }
    Ok(json!({"OrganizationalUnit": ou.json(&org.management)}))
}

pub fn delete(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let org = c.org()?;
    let ou = find_ou(w, org, ou_id(c)?)?;
    if !model::children(w, &org.id, &ou.id, CHILD_ACCOUNT)?.is_empty()
        || !model::children(w, &org.id, &ou.id, CHILD_OU)?.is_empty()
    {
        return Err(ou_not_empty());
    }
    w.delete(model::OUS, ou.id.as_bytes())?;
    model::remove_child(w, &org.id, &ou.parent, CHILD_OU, &ou.id)?;
    model::delete_tags(w, &ou.id)?;
    policies::detach_all_from(w, &org.id, &ou.id)?;
    Ok(json!({}))
}

pub fn list_for_parent(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let org = c.org()?;
    let parent = parent_id(c, "ParentId")?;
    let page = Page::new(
        &c.input,
        &format!("ListOrganizationalUnitsForParent:{parent}"),
    )?;
    let p = node(w, org, parent)?.ok_or_else(parent_not_found)?;
    let (items, next) = page.scan(
        w,
        model::CHILDREN,
        &model::prefix(&[&org.id, &p.id, CHILD_OU]),
        |id, _| Ok(model::ou(w, id)?.map(|o| o.json(&org.management))),
    )?;
    Ok(listing("OrganizationalUnits", items, next))
}

pub fn list_accounts_for_parent(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let org = c.org()?;
    let parent = parent_id(c, "ParentId")?;
    let page = Page::new(&c.input, &format!("ListAccountsForParent:{parent}"))?;
    let p = node(w, org, parent)?.ok_or_else(parent_not_found)?;
    let (items, next) = page.scan(
        w,
        model::CHILDREN,
        &model::prefix(&[&org.id, &p.id, CHILD_ACCOUNT]),
        |id, _| Ok(model::member(w, id)?.map(|m| m.json(&org.management, c.now))),
    )?;
    Ok(listing("Accounts", items, next))
}

pub fn list_children(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let org = c.org()?;
    let parent = parent_id(c, "ParentId")?;
    let child_type = one_of(
        c.input.str("ChildType")?,
        &["ACCOUNT", "ORGANIZATIONAL_UNIT"],
    )?;
    let page = Page::new(&c.input, &format!("ListChildren:{parent}:{child_type}"))?;
    let p = node(w, org, parent)?.ok_or_else(parent_not_found)?;
    let kind = if child_type == "ACCOUNT" {
        CHILD_ACCOUNT
    } else {
        CHILD_OU
    };
    let (items, next) = page.scan(
        w,
        model::CHILDREN,
        &model::prefix(&[&org.id, &p.id, kind]),
        |id, _| Ok(Some(json!({"Id": id, "Type": child_type}))),
    )?;
    Ok(listing("Children", items, next))
}

pub fn list_parents(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let org = c.org()?;
    let child = c.input.str("ChildId")?;
    if !validate::is_child_id(child) {
        return Err(invalid_input("INVALID_PATTERN"));
    }
    let page = Page::new(&c.input, &format!("ListParents:{child}"))?;
    let parent = if validate::is_account_id(child) {
        model::member_of(w, &org.id, child)?.map(|m| m.parent)
    } else {
        model::ou_of(w, &org.id, child)?.map(|o| o.parent)
    }
    .ok_or_else(child_not_found)?;
    let kind = if parent.starts_with("r-") {
        "ROOT"
    } else {
        "ORGANIZATIONAL_UNIT"
    };
    let (items, next) = page.of([(parent.clone(), json!({"Id": parent, "Type": kind}))]);
    Ok(listing("Parents", items, next))
}

pub fn move_account(c: &Call, w: &mut dyn Writer) -> Result<Value, AwsError> {
    let org = c.org()?;
    let id = account_id(c, "AccountId")?;
    let source = parent_id(c, "SourceParentId")?;
    let destination = parent_id(c, "DestinationParentId")?;
    let mut m: Member = accounts::find(w, org, id)?;
    let src = node(w, org, source)?.ok_or_else(source_parent_not_found)?;
    let dst = node(w, org, destination)?.ok_or_else(destination_parent_not_found)?;
    if m.parent == dst.id {
        return Err(duplicate_account());
    }
    if m.parent != src.id {
        return Err(super::errors::account_not_found());
    }
    model::remove_child(w, &org.id, &m.parent, CHILD_ACCOUNT, &m.id)?;
    model::add_child(w, &org.id, &dst.id, CHILD_ACCOUNT, &m.id)?;
    m.parent = dst.id.clone();
    m.path = format!("{}{}/", dst.path, m.id);
    model::save_member(w, &m)?;
    Ok(json!({}))
}
