//! AWS Organizations (awsJson1.1).

use super::{JsonInput, RequestContext};
use crate::app::App;
use crate::error::AwsError;
use crate::store::Writer;
use serde_json::Value;

/// Runs inside the call's store transaction. The operations arrive with the Organizations work;
/// until then every model operation answers NotImplemented.
pub fn call(
    _app: &App,
    _w: &mut dyn Writer,
    _ctx: &RequestContext,
    op: &str,
    _input: &JsonInput,
) -> Result<Value, AwsError> {
    Err(AwsError::new(
        501,
        "NotImplemented",
        format!("{op} is not implemented"),
    ))
}
