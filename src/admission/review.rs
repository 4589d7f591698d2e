//! Kubernetes `AdmissionReview` v1 (admission.k8s.io/v1), the part a validating webhook reads
//! and the answer it gives.

use serde::Deserialize;
use serde_json::{json, Value};

pub const API_VERSION: &str = "admission.k8s.io/v1";

/// A request that is not a review this server can answer: HTTP 400 with this text.
#[derive(Debug, PartialEq, Eq)]
pub struct Invalid(pub String);

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Review {
    #[serde(default)]
    api_version: String,
    #[serde(default)]
    kind: String,
    request: Option<Request>,
}

/// What the API server asks about.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    pub uid: String,
    /// CREATE, UPDATE, DELETE or CONNECT.
    pub operation: String,
    #[serde(default)]
    pub namespace: Option<String>,
    /// `status`, `scale`, ...: the request changes a subresource, not the object's spec.
    #[serde(default)]
    pub sub_resource: Option<String>,
    #[serde(default)]
    pub object: Option<Value>,
    #[serde(default)]
    pub dry_run: Option<bool>,
}

/// Reads a review from a request body.
pub fn parse(body: &[u8]) -> Result<Request, Invalid> {
    let review: Review = serde_json::from_slice(body).map_err(|e| Invalid(format!("the body is not an AdmissionReview: {}", describe(&e))))?;
    if review.api_version != API_VERSION || review.kind != "AdmissionReview" {
        let got = format!("{} {}", review.api_version, review.kind);
        return Err(Invalid(format!("expected an AdmissionReview of {API_VERSION}, got `{}` (admissionReviewVersions must be [v1])", got.trim())));
    }
    let request = review.request.ok_or_else(|| Invalid("the AdmissionReview has no request".to_string()))?;
    if request.uid.is_empty() {
        return Err(Invalid("the AdmissionReview's request has no uid".to_string()));
    }
    Ok(request)
}

/// serde's error without the text it quotes (a body may hold a Secret's values): what was
/// wrong, and where.
fn describe(error: &serde_json::Error) -> String {
    let what = match error.classify() {
        serde_json::error::Category::Io => "unreadable",
        serde_json::error::Category::Syntax => "malformed JSON",
        serde_json::error::Category::Data => "JSON of the wrong shape",
        serde_json::error::Category::Eof => "JSON cut short",
    };
    format!("{what} at line {} column {}", error.line(), error.column())
}

/// The verdict on one request.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    pub allowed: bool,
    /// Why it is denied (kubectl prints it).
    pub message: Option<String>,
    /// What kubectl prints as warnings.
    pub warnings: Vec<String>,
}

/// The AdmissionReview answering `uid`.
pub fn response(uid: &str, verdict: &Verdict) -> Value {
    let mut response = json!({"uid": uid, "allowed": verdict.allowed});
    if let Some(message) = &verdict.message {
        response["status"] = json!({"code": 403, "reason": "Forbidden", "message": message});
    }
    if !verdict.warnings.is_empty() {
        response["warnings"] = json!(verdict.warnings);
    }
    json!({"apiVersion": API_VERSION, "kind": "AdmissionReview", "response": response})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_a_v1_review_without_quoting_it() {
        let invalid = |body: &str| parse(body.as_bytes()).unwrap_err().0;
        assert_eq!(invalid(r#"{"apiVersion": "#), "the body is not an AdmissionReview: JSON cut short at line 1 column 15");
        assert_eq!(
            invalid(r#"{"apiVersion": "admission.k8s.io/v1", "request": "s3cr3t"}"#),
            "the body is not an AdmissionReview: JSON of the wrong shape at line 1 column 57"
        );
        assert_eq!(
            invalid(r#"{"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview", "request": {"uid": "1", "operation": "CREATE"}}"#),
            "expected an AdmissionReview of admission.k8s.io/v1, got `admission.k8s.io/v1beta1 AdmissionReview` (admissionReviewVersions must be [v1])"
        );
        assert_eq!(invalid(r#"{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}"#), "the AdmissionReview has no request");
        let request =
            parse(br#"{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": "u", "operation": "CREATE", "dryRun": true}}"#)
                .unwrap();
        assert_eq!((request.uid.as_str(), request.operation.as_str(), request.dry_run), ("u", "CREATE", Some(true)));
    }

    #[test]
    fn answers_with_the_uid_status_and_warnings() {
        let denied = Verdict { allowed: false, message: Some("no".into()), warnings: vec!["w".into()] };
        assert_eq!(
            response("u", &denied),
            json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                   "response": {"uid": "u", "allowed": false, "status": {"code": 403, "reason": "Forbidden", "message": "no"}, "warnings": ["w"]}})
        );
        assert_eq!(response("u", &Verdict { allowed: true, ..Verdict::default() })["response"], json!({"uid": "u", "allowed": true}));
    }
}
