//! One AWS API call as the audit sees it: success, "not configured" (a setting the resource
//! simply does not have), or a failure that makes the rules it feeds undecided. Plus the
//! interceptor that counts calls and retries for the progress line.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A call that failed after the SDK's retries: denied, throttled, timed out, unreachable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// `service:Operation`, e.g. `s3:GetBucketEncryption`.
    pub call: &'static str,
    /// The error code and message AWS returned, or the transport error. AWS error messages
    /// name the principal and the action, never a credential.
    pub reason: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed: {}", self.call, self.reason)
    }
}

impl Failure {
    pub fn new(call: &'static str, reason: impl Into<String>) -> Self {
        Failure { call, reason: reason.into() }
    }

    /// The failure of an SDK call.
    pub fn of<E, R>(call: &'static str, error: &SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: fmt::Debug,
    {
        let reason = match error {
            SdkError::ServiceError(service) => {
                let e = service.err();
                match (e.code(), e.message()) {
                    (Some(code), Some(message)) => format!("{code}: {message}"),
                    (Some(code), None) => code.to_string(),
                    _ => format!("unexpected answer: {}", causes(e)),
                }
            }
            SdkError::TimeoutError(_) => "timed out".to_string(),
            other => causes(other),
        };
        Failure::new(call, reason)
    }
}

/// An error and its causes, by their messages only (the SDK's debug output would dump the
/// raw response).
fn causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        let message = next.to_string();
        if !text.ends_with(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        cause = next.source();
    }
    text
}

/// The error code of a service error (`NoSuchBucketPolicy`), if the call got that far.
pub fn error_code<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> Option<&str> {
    match error {
        SdkError::ServiceError(service) => service.err().code(),
        _ => None,
    }
}

/// A setting read with one call: `Ok(Some)` configured, `Ok(None)` not configured (the call
/// answered with one of `absent_codes`), `Err` the failure.
pub fn setting<T, E, R>(call: &'static str, result: Result<T, SdkError<E, R>>, absent_codes: &[&str]) -> Result<Option<T>, Failure>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug,
{
    match result {
        Ok(value) => Ok(Some(value)),
        Err(error) if error_code(&error).is_some_and(|code| absent_codes.contains(&code)) => Ok(None),
        Err(error) => Err(Failure::of(call, &error)),
    }
}

/// Counts operations and attempts across every client of the audit; attempts beyond the
/// first of an operation are retries (throttling, transient errors).
#[derive(Debug, Default)]
pub struct Counter {
    operations: AtomicU64,
    attempts: AtomicU64,
}

impl Counter {
    pub fn calls(&self) -> u64 {
        self.operations.load(Ordering::Relaxed)
    }

    pub fn retries(&self) -> u64 {
        self.attempts.load(Ordering::Relaxed).saturating_sub(self.operations.load(Ordering::Relaxed))
    }
}

/// The interceptor every client carries, feeding a shared [`Counter`].
#[derive(Clone, Debug)]
pub struct Counting(pub Arc<Counter>);

impl Intercept for Counting {
    fn name(&self) -> &'static str {
        "charterguard-call-counter"
    }

    fn read_before_execution(&self, _context: &BeforeSerializationInterceptorContextRef<'_>, _cfg: &mut ConfigBag) -> Result<(), BoxError> {
        self.0.operations.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.attempts.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}
