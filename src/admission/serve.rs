//! The HTTPS server: TLS (rustls, through tokio-rustls) and HTTP/1.1 (hyper), with the
//! limits an admission webhook needs to stay available to the API server:
//!
//! | what | answer |
//! |---|---|
//! | a body over `max_body` bytes | 413, unread past the limit |
//! | not an `AdmissionReview` v1, malformed JSON | 400 with what is wrong (never quoting the body) |
//! | a client slower than `request_timeout` (handshake, body) | 408, or the connection closed |
//! | a connection idle (or sending headers) for `idle_timeout` | closed |
//! | more than `max_in_flight` reviews being judged | queued up to `request_timeout`, then 503 |
//! | a panic while judging | 500; the server goes on |
//!
//! A 4xx or 5xx answer, like a timeout, is what the webhook's `failurePolicy` decides about.

use super::judge::Judge;
use super::metrics::Metrics;
use super::review;
use super::tls::ServingCertificate;
use crate::k8s_live::cache::State;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// What protects the server from its clients.
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_body: usize,
    pub request_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_in_flight: usize,
    /// Connections open at once; more wait in the listen backlog.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        // The API server stores objects of up to 3 MiB, and a review of an UPDATE carries two.
        Limits {
            max_body: 7 * 1024 * 1024,
            request_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_in_flight: 32,
            max_connections: 1024,
        }
    }
}

/// Everything a request may need.
pub struct Server {
    pub judge: Judge,
    pub certificate: Arc<ServingCertificate>,
    pub limits: Limits,
    pub metrics: Metrics,
    judging: Semaphore,
    in_flight: AtomicUsize,
}

type Answer = Response<Full<Bytes>>;

impl Server {
    pub fn new(judge: Judge, certificate: Arc<ServingCertificate>, limits: Limits) -> Self {
        let judging = Semaphore::new(limits.max_in_flight.max(1));
        Server { judge, certificate, limits, metrics: Metrics::default(), judging, in_flight: AtomicUsize::new(0) }
    }

    /// Serves `listener` until `stop` resolves, then waits (at most a request timeout) for
    /// the reviews being judged.
    pub async fn run(self: Arc<Self>, listener: TcpListener, stop: impl std::future::Future<Output = ()>) {
        let mut config = rustls::ServerConfig::builder_with_provider(self.certificate.provider())
            .with_safe_default_protocol_versions()
            .expect("the provider supports TLS 1.2 and 1.3")
            .with_no_client_auth()
            .with_cert_resolver(self.certificate.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let connections = Arc::new(Semaphore::new(self.limits.max_connections.max(1)));
        tokio::pin!(stop);
        loop {
            let permit = tokio::select! {
                permit = connections.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
                _ = &mut stop => break,
            };
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                _ = &mut stop => break,
            };
            let Ok((tcp, _)) = accepted else { continue };
            let (server, acceptor) = (self.clone(), acceptor.clone());
            tokio::spawn(async move {
                server.connection(tcp, acceptor).await;
                drop(permit);
            });
        }
        let deadline = Instant::now() + self.limits.request_timeout;
        while self.in_flight.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// One connection: the handshake within the request timeout, then requests until the
    /// client closes it or leaves it idle.
    async fn connection(self: Arc<Self>, tcp: tokio::net::TcpStream, acceptor: tokio_rustls::TlsAcceptor) {
        // An answer is one small write: Nagle's algorithm would hold it for the client's
        // delayed ACK (40 ms).
        let _ = tcp.set_nodelay(true);
        let Ok(Ok(tls)) = tokio::time::timeout(self.limits.request_timeout, acceptor.accept(tcp)).await else { return };
        let server = self.clone();
        let service = hyper::service::service_fn(move |request| {
            let server = server.clone();
            async move { Ok::<_, Infallible>(server.answer(request).await) }
        });
        // The header read timeout runs from when the connection waits for a request, so it is
        // also the idle timeout of a kept-alive connection.
        let _ = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(self.limits.idle_timeout)
            .serve_connection(TokioIo::new(tls), service)
            .await;
    }

    async fn answer(&self, request: Request<Incoming>) -> Answer {
        match (request.method(), request.uri().path()) {
            (&Method::POST, "/validate") => self.validate(request).await,
            (&Method::GET, "/healthz") => text(StatusCode::OK, "ok\n".into()),
            (&Method::GET, "/readyz") => self.readiness(),
            (&Method::GET, "/metrics") => self.exposition(),
            (_, "/validate" | "/healthz" | "/readyz" | "/metrics") => self.refuse(StatusCode::METHOD_NOT_ALLOWED, "invalid", "method not allowed".into()),
            (_, path) => self.refuse(StatusCode::NOT_FOUND, "not_found", format!("{path}: not served (POST /validate, GET /healthz, /readyz, /metrics)")),
        }
    }

    /// Ready once every watched kind was listed once (or found unlistable): before, reviews
    /// needing the cache would only warn.
    fn readiness(&self) -> Answer {
        let states = self.judge.cache().states();
        let syncing: Vec<&str> = states.iter().filter(|(_, state)| **state == State::Syncing).map(|(kind, _)| kind.as_str()).collect();
        match syncing.is_empty() {
            true => text(StatusCode::OK, "ready\n".into()),
            false => text(StatusCode::SERVICE_UNAVAILABLE, format!("listing {}\n", syncing.join(", "))),
        }
    }

    fn exposition(&self) -> Answer {
        let cache = self.judge.cache().states().into_iter().map(|(kind, state)| (kind, state == State::Synced)).collect();
        let reloads = self.certificate.reloads.load(Ordering::Relaxed);
        let mut answer = text(StatusCode::OK, self.metrics.render(self.in_flight.load(Ordering::SeqCst), reloads, &cache));
        answer.headers_mut().insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("text/plain; version=0.0.4"));
        answer
    }

    async fn validate(&self, request: Request<Incoming>) -> Answer {
        let declared = request.headers().get(hyper::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|length| length > self.limits.max_body as u64) {
            return self.too_large();
        }
        let body = Limited::new(request.into_body(), self.limits.max_body);
        let bytes = match tokio::time::timeout(self.limits.request_timeout, body.collect()).await {
            Err(_) => return self.refuse(StatusCode::REQUEST_TIMEOUT, "timeout", "the body did not arrive in time".into()),
            Ok(Err(error)) if error.is::<http_body_util::LengthLimitError>() => return self.too_large(),
            Ok(Err(error)) => return self.refuse(StatusCode::BAD_REQUEST, "invalid", format!("reading the body: {error}")),
            Ok(Ok(collected)) => collected.to_bytes(),
        };
        let started = Instant::now();
        let permit = match tokio::time::timeout(self.limits.request_timeout, self.judging.acquire()).await {
            Ok(Ok(permit)) => permit,
            _ => return self.refuse(StatusCode::SERVICE_UNAVAILABLE, "busy", "too many reviews in flight".into()),
        };
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        let answer = self.judge_body(&bytes, started);
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        drop(permit);
        answer
    }

    /// Judges one review body; a panic while judging is a 500, not a dead server.
    fn judge_body(&self, body: &[u8], started: Instant) -> Answer {
        let request = match review::parse(body) {
            Ok(request) => request,
            Err(review::Invalid(why)) => return self.refuse(StatusCode::BAD_REQUEST, "invalid", why),
        };
        let uid = request.uid.clone();
        let judged = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| tokio::task::block_in_place(|| self.judge.review(request))));
        match judged {
            Ok(Ok(judgement)) => {
                let result = match (judgement.verdict.allowed, judgement.verdict.warnings.is_empty()) {
                    (false, _) => "denied",
                    (true, false) => "warned",
                    (true, true) => "allowed",
                };
                self.metrics.request(result);
                self.metrics.judged(judgement.counted, started.elapsed());
                json(StatusCode::OK, &review::response(&uid, &judgement.verdict))
            }
            Ok(Err(review::Invalid(why))) => self.refuse(StatusCode::BAD_REQUEST, "invalid", why),
            Err(_) => self.refuse(StatusCode::INTERNAL_SERVER_ERROR, "failed", "judging the review failed; see the server's log".into()),
        }
    }

    fn too_large(&self) -> Answer {
        self.refuse(StatusCode::PAYLOAD_TOO_LARGE, "too_large", format!("the body is over {} bytes (--max-body-bytes)", self.limits.max_body))
    }

    fn refuse(&self, status: StatusCode, counted: &'static str, message: String) -> Answer {
        self.metrics.request(counted);
        text(status, format!("charterguard: {message}\n"))
    }
}

fn text(status: StatusCode, body: String) -> Answer {
    let mut answer = Response::new(Full::new(Bytes::from(body)));
    *answer.status_mut() = status;
    answer.headers_mut().insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"));
    answer
}

fn json(status: StatusCode, value: &serde_json::Value) -> Answer {
    let mut answer = Response::new(Full::new(Bytes::from(serde_json::to_vec(value).expect("a review answer serialises"))));
    *answer.status_mut() = status;
    answer.headers_mut().insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("application/json"));
    answer
}
