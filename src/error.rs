//! One error type for every service; the front door renders it in the caller's protocol.

use crate::store::StoreError;
use std::borrow::Cow;

#[derive(Debug, Clone)]
pub struct AwsError {
    pub status: u16,
    pub code: Cow<'static, str>,
    pub message: String,
    /// Extra members: JSON error fields (`Reason`), S3 error elements (`BucketName`, `Key`).
    pub fields: Vec<(&'static str, String)>,
}

impl AwsError {
    pub fn new(
        status: u16,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> Self {
        AwsError {
            status,
            code: code.into(),
            message: message.into(),
            fields: Vec::new(),
        }
    }

    /// A client error (400), the status of every modeled exception in the JSON and query protocols.
    pub fn client(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }

    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.fields.push((name, value.into()));
        self
    }

    /// An unexpected server-side failure. The detail goes to the log, not to the caller.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal failure");
        Self::new(500, "InternalFailure", "An internal error occurred.")
    }
}

impl From<StoreError> for AwsError {
    fn from(e: StoreError) -> Self {
        AwsError::internal(e)
    }
}

impl std::fmt::Display for AwsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}
