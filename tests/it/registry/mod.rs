//! A loopback server for the Terraform module registry protocol and the archives it points
//! at: std::net on 127.0.0.1, one request per connection, served in turn by one thread that
//! stops when the server is dropped (or after `MAX_CONNECTIONS`). It speaks HTTPS with a
//! certificate from a test certificate authority (for charterguard, which trusts it through
//! SSL_CERT_FILE) or plain HTTP (for Terraform, whose CLI configuration may name an http://
//! `modules.v1` service). Also: git repositories and archives built in the test.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// The server stops by itself after this many connections.
const MAX_CONNECTIONS: usize = 2_000;

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(value: serde_json::Value) -> Reply {
        Reply { status: 200, headers: vec![("Content-Type".into(), "application/json".into())], body: value.to_string().into_bytes() }
    }
    pub fn status(status: u16) -> Reply {
        Reply { status, headers: Vec::new(), body: Vec::new() }
    }
    /// A registry's download answer: 204 with the package address in `X-Terraform-Get`.
    pub fn terraform_get(location: &str) -> Reply {
        Reply { status: 204, headers: vec![("X-Terraform-Get".into(), location.into())], body: Vec::new() }
    }
    pub fn bytes(body: Vec<u8>) -> Reply {
        Reply { status: 200, headers: vec![("Content-Type".into(), "application/octet-stream".into())], body }
    }
}

pub type Routes = Arc<dyn Fn(&str) -> Reply + Send + Sync>;

/// A request as the server read it.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    /// The path, query included.
    pub path: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// Answers whole requests (an API whose answers depend on the method and body).
pub type Handler = Arc<dyn Fn(&Request) -> Reply + Send + Sync>;

pub struct Server {
    pub port: u16,
    requests: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Serves `routes` (request path, query included, to reply) over TLS when `tls` is given.
    pub fn start(tls: Option<Arc<rustls::ServerConfig>>, routes: Routes) -> Server {
        Server::start_with(tls, Arc::new(move |request: &Request| routes(&request.path)))
    }

    /// Serves `handler`, over TLS when `tls` is given.
    pub fn start_with(tls: Option<Arc<rustls::ServerConfig>>, routes: Handler) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding a loopback port");
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (log, stopped) = (requests.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming().take(MAX_CONNECTIONS) {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
                let _ = match &tls {
                    Some(config) => serve_tls(config.clone(), stream, &routes, &log),
                    None => serve(&mut { stream }, &routes, &log),
                };
            }
        });
        Server { port, requests, stop, thread: Some(thread) }
    }

    /// The paths requested so far, in order.
    pub fn requests(&self) -> Vec<String> {
        self.calls().into_iter().map(|r| r.path).collect()
    }

    /// The requests so far, in order.
    pub fn calls(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve_tls(config: Arc<rustls::ServerConfig>, stream: TcpStream, routes: &Handler, log: &Mutex<Vec<Request>>) -> std::io::Result<()> {
    let connection = rustls::ServerConnection::new(config).map_err(std::io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(connection, stream);
    serve(&mut tls, routes, log)?;
    tls.conn.send_close_notify();
    tls.flush()
}

/// Reads one request (its body by Content-Length, at most 1 MB) and answers it.
fn serve(stream: &mut (impl Read + Write), routes: &Handler, log: &Mutex<Vec<Request>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(&mut *stream);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header == "\r\n" || header == "\n" {
            break;
        }
        if let Some((name, value)) = header.trim_end().split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    let length = headers.iter().find(|(n, _)| n == "content-length").and_then(|(_, v)| v.parse::<usize>().ok()).unwrap_or(0).min(1 << 20);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let mut parts = request_line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or("").to_string(), parts.next().unwrap_or("/").to_string());
    let request = Request { method: method.clone(), path, headers, body };
    log.lock().unwrap().push(request.clone());
    let reply = routes(&request);
    let mut head = format!("HTTP/1.1 {} Reply\r\nContent-Length: {}\r\nConnection: close\r\n", reply.status, reply.body.len());
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    if method != "HEAD" {
        stream.write_all(&reply.body)?;
    }
    stream.flush()
}

/// A certificate authority and a server certificate for `localhost` and 127.0.0.1 it signed,
/// made with the openssl command in `dir`: the CA's PEM file (for SSL_CERT_FILE) and the
/// server's TLS configuration.
pub fn test_ca(dir: &Path) -> (PathBuf, Arc<rustls::ServerConfig>) {
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl").args(args).current_dir(dir).output().expect("running openssl");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    openssl(&[&["req", "-x509"][..], &ec, &["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=charterguard test CA"]].concat());
    openssl(&[&["req"][..], &ec, &["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"]].concat());
    std::fs::write(dir.join("server.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n").unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "server.ext",
    ]);
    use rustls::pki_types::pem::PemObject;
    let chain = vec![rustls::pki_types::CertificateDer::from_pem_file(dir.join("server.pem")).unwrap()];
    let key = rustls::pki_types::PrivateKeyDer::from_pem_file(dir.join("server.key")).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("the server certificate");
    (dir.join("ca.pem"), Arc::new(config))
}

/// Files under `dir`, written.
pub fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

/// A gzipped tar of `files` (paths inside the package), as registries serve packages.
pub fn tar_gz(files: &[(&str, &str)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()));
    for (name, text) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o644);
        // Written by hand: the tar crate refuses `..` in paths, and tests need such entries.
        header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        header.set_cksum();
        builder.append(&header, text.as_bytes()).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

/// A zip of `files`.
pub fn zip(files: &[(&str, &str)]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, text) in files {
        writer.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
        writer.write_all(text.as_bytes()).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// Runs git in `dir` with a fixed identity, failing the test on error.
pub fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=test",
            "-c",
            "user.email=test@example.com",
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "tag.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("running git");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// One commit of [`git_repo`]: the files it writes, and its tag.
pub type Commit<'a> = (&'a [(&'a str, &'a str)], Option<&'a str>);

/// A git repository in `dir` with one commit per `(files, tag)`, each tagged when a tag is given.
pub fn git_repo(dir: &Path, commits: &[Commit]) {
    std::fs::create_dir_all(dir).unwrap();
    git(dir, &["init", "--quiet"]);
    for (files, tag) in commits {
        write(dir, files);
        git(dir, &["add", "-A"]);
        git(dir, &["commit", "--quiet", "-m", "commit"]);
        if let Some(tag) = tag {
            git(dir, &["tag", tag]);
        }
    }
}
