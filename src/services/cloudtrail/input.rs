//! Reading members of a JSON request body, with the errors AWS gives for a wrong type.

use crate::error::AwsError;
use crate::services::JsonInput;
use serde_json::Value;

fn wrong(member: &str) -> AwsError {
    AwsError::client(
        "SerializationException",
        format!("Unexpected value type for member {member}"),
    )
}

pub fn opt_str(input: &JsonInput, member: &str) -> Result<Option<String>, AwsError> {
    match input.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(wrong(member)),
    }
}

pub fn req_str(input: &JsonInput, member: &str) -> Result<String, AwsError> {
    opt_str(input, member)?.ok_or_else(|| {
        AwsError::client(
            "InvalidParameterException",
            format!("1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null", lower(member)),
        )
    })
}

pub fn opt_bool(input: &JsonInput, member: &str) -> Result<Option<bool>, AwsError> {
    match input.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(wrong(member)),
    }
}

pub fn opt_list<'a>(
    input: &'a JsonInput,
    member: &str,
) -> Result<Option<&'a Vec<Value>>, AwsError> {
    match input.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => Ok(Some(a)),
        Some(_) => Err(wrong(member)),
    }
}

fn lower(member: &str) -> String {
    let mut c = member.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}
