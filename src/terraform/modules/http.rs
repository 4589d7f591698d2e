//! The HTTPS client that fetches modules: blocking (a scan downloads a few packages before it
//! evaluates), HTTPS only, redirects included, on the project's one TLS stack (rustls with
//! aws-lc-rs). Server certificates are checked against Mozilla's roots, or, when
//! `SSL_CERT_FILE` names a PEM file, against the certificates in it: the variable Terraform
//! (Go) honours too, for registries behind a private certificate authority.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// What one response may hold: registry answers are small JSON documents.
const MAX_JSON: u64 = 4 * 1024 * 1024;
/// A module package downloaded whole (archives of the largest registry modules are a few MB).
pub const MAX_ARCHIVE: u64 = 256 * 1024 * 1024;
/// One request, connecting and reading included.
const TIMEOUT: Duration = Duration::from_secs(300);

pub struct Client {
    agent: ureq::Agent,
}

/// A successful answer: the header a registry's download endpoint answers with, and the body.
pub struct Response {
    pub location_header: Option<String>,
    pub body: Vec<u8>,
}

impl Client {
    /// A client trusting Mozilla's roots, or only the certificates of `ssl_cert_file`.
    pub fn new(ssl_cert_file: Option<&Path>) -> Result<Client, String> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let tls = ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::Rustls)
            .unversioned_rustls_crypto_provider(provider)
            .root_certs(root_certs(ssl_cert_file)?)
            .build();
        let config = ureq::Agent::config_builder()
            .tls_config(tls)
            .https_only(true)
            .timeout_global(Some(TIMEOUT))
            .user_agent(concat!("charterguard/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(Client { agent: config.new_agent() })
    }

    /// A JSON document (service discovery, a module's versions).
    pub fn json(&self, url: &str) -> Result<serde_json::Value, String> {
        let response = self.get(url, MAX_JSON)?;
        serde_json::from_slice(&response.body).map_err(|e| format!("GET {url}: the answer is not JSON: {e}"))
    }

    /// `url`'s answer with its `X-Terraform-Get` header, the body cut at `limit` bytes (an error).
    pub fn get(&self, url: &str, limit: u64) -> Result<Response, String> {
        let failed = |e: ureq::Error| format!("GET {url}: {e}");
        let mut response = self.agent.get(url).call().map_err(failed)?;
        let location_header = response.headers().get("x-terraform-get").and_then(|v| v.to_str().ok()).map(str::to_string);
        let body = response.body_mut().with_config().limit(limit).read_to_vec().map_err(failed)?;
        Ok(Response { location_header, body })
    }
}

/// Mozilla's roots, or the certificates of the PEM file `SSL_CERT_FILE` names.
fn root_certs(ssl_cert_file: Option<&Path>) -> Result<ureq::tls::RootCerts, String> {
    let Some(file) = ssl_cert_file else { return Ok(ureq::tls::RootCerts::WebPki) };
    let shown = file.display().to_string();
    let pem = std::fs::read(file).map_err(|e| format!("SSL_CERT_FILE {shown}: {e}"))?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        if let ureq::tls::PemItem::Certificate(cert) = item.map_err(|e| format!("SSL_CERT_FILE {shown}: {e}"))? {
            certs.push(cert);
        }
    }
    if certs.is_empty() {
        return Err(format!("SSL_CERT_FILE {shown} holds no PEM certificate"));
    }
    Ok(ureq::tls::RootCerts::new_with_certs(&certs))
}
