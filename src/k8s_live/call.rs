//! One API call as the audit sees it: retried while the server is throttling (429) or failing
//! (5xx, a dropped connection), a bounded number of times with backoff, then a [`Failure`]
//! that makes what it would have read "could not decide". Counts calls and retries for the
//! summary.

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The client and the retry policy every call of the audit shares.
pub struct Api {
    client: kube::Client,
    max_attempts: u32,
    /// The first wait between attempts; it doubles with each retry.
    first_backoff: Duration,
    calls: AtomicU64,
    retries: AtomicU64,
}

/// A call that failed for good: denied, not found, or still failing after its retries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The HTTP status the API answered with; `None` when no answer came (transport error).
    pub status: Option<u16>,
    /// The API's reason and message (a Kubernetes `Status` names the user and the resource,
    /// never a credential), or the transport error.
    pub message: String,
    /// `Status.details.retryAfterSeconds` of a throttled call.
    retry_after: Option<u32>,
    /// A dropped connection or timeout: worth another attempt.
    transient: bool,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status {
            Some(status) => write!(f, "HTTP {status}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl Failure {
    fn of(error: kube::Error) -> Self {
        match error {
            kube::Error::Api(status) => {
                let message = match (status.reason.as_str(), status.message.as_str()) {
                    ("", message) => message.to_string(),
                    (reason, "") => reason.to_string(),
                    (reason, message) => format!("{reason}: {message}"),
                };
                let retry_after = status.details.as_ref().map(|d| d.retry_after_seconds).filter(|&s| s > 0);
                Failure { status: Some(status.code), message, retry_after, transient: false }
            }
            other => {
                let transient = matches!(other, kube::Error::HyperError(_) | kube::Error::Service(_));
                Failure { status: None, message: other.to_string(), retry_after: None, transient }
            }
        }
    }

    /// A server that broke the API's protocol (e.g. repeated a continue token).
    pub fn protocol(message: String) -> Self {
        Failure { status: None, message, retry_after: None, transient: false }
    }

    pub fn is_forbidden(&self) -> bool {
        matches!(self.status, Some(401 | 403))
    }

    pub fn is_not_found(&self) -> bool {
        self.status == Some(404)
    }

    fn is_retryable(&self) -> bool {
        match self.status {
            Some(status) => status == 429 || status >= 500,
            None => self.transient,
        }
    }
}

impl Api {
    pub fn new(client: kube::Client, max_attempts: u32, first_backoff: Duration) -> Self {
        Api { client, max_attempts: max_attempts.max(1), first_backoff, calls: AtomicU64::new(0), retries: AtomicU64::new(0) }
    }

    pub fn client(&self) -> &kube::Client {
        &self.client
    }

    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// Sends the request `send` makes (once per attempt) until it succeeds, fails for good,
    /// or has used its attempts.
    pub async fn call<T, F, Fut>(&self, send: F) -> Result<T, Failure>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = kube::Result<T>>,
    {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let mut attempt = 1;
        loop {
            let failure = match send().await {
                Ok(value) => return Ok(value),
                Err(error) => Failure::of(error),
            };
            if attempt >= self.max_attempts || !failure.is_retryable() {
                return Err(failure);
            }
            self.retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(backoff(self.first_backoff, attempt, &failure)).await;
            attempt += 1;
        }
    }
}

/// The wait after failed attempt `attempt` (1-based): the server's `retryAfterSeconds` when it
/// gave one (at most a minute), else `first` doubled per attempt (at most 8 s).
fn backoff(first: Duration, attempt: u32, failure: &Failure) -> Duration {
    match failure.retry_after {
        Some(seconds) => Duration::from_secs(u64::from(seconds.min(60))),
        None => (first * 2u32.saturating_pow(attempt - 1)).min(Duration::from_secs(8)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::Status;

    /// The error kube makes of a `Status` the API server answered with.
    fn api_error(code: u16, reason: &str, retry_after: u32) -> kube::Error {
        let details = if retry_after > 0 { serde_json::json!({"retryAfterSeconds": retry_after}) } else { serde_json::json!({}) };
        let status = serde_json::json!({"kind": "Status", "status": "Failure", "message": "slow down", "reason": reason, "code": code, "details": details});
        kube::Error::Api(serde_json::from_value::<Status>(status).unwrap().boxed())
    }

    #[test]
    fn throttling_and_server_errors_are_retried_denials_are_not() {
        assert!(Failure::of(api_error(429, "TooManyRequests", 0)).is_retryable());
        assert!(Failure::of(api_error(500, "InternalError", 0)).is_retryable());
        assert!(Failure::of(api_error(503, "ServiceUnavailable", 0)).is_retryable());
        let denied = Failure::of(api_error(403, "Forbidden", 0));
        assert!(!denied.is_retryable() && denied.is_forbidden());
        assert_eq!(denied.to_string(), "HTTP 403: Forbidden: slow down");
        assert!(Failure::of(api_error(404, "NotFound", 0)).is_not_found());
    }

    #[test]
    fn backoff_doubles_and_honours_retry_after() {
        let first = Duration::from_millis(100);
        let throttled = Failure::of(api_error(429, "TooManyRequests", 0));
        assert_eq!(backoff(first, 1, &throttled), Duration::from_millis(100));
        assert_eq!(backoff(first, 3, &throttled), Duration::from_millis(400));
        assert_eq!(backoff(first, 30, &throttled), Duration::from_secs(8));
        assert_eq!(backoff(first, 1, &Failure::of(api_error(429, "TooManyRequests", 2))), Duration::from_secs(2));
    }
}
