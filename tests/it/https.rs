//! A TLS client of `charterguard admission` and the certificates it serves, shared by the
//! admission tests and the latency benchmark (`examples/admission_latency.rs`): a private CA
//! and a serving certificate for localhost and 127.0.0.1 that openssl makes, the server run in
//! this process, and HTTP/1.1 over rustls written by hand, so a test can also send what no
//! client library would (a body announced and never sent, headers that trickle in).

#![allow(dead_code)] // the benchmark uses part of it

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

/// A private CA, and the serving certificate and key it signed.
pub struct Certificates {
    pub dir: PathBuf,
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

const EC_KEY: [&str; 5] = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl").args(args).current_dir(dir).output().expect("running openssl (.ci/run installs it)");
    assert!(output.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&output.stderr));
}

/// A CA and a serving certificate (serial 1) in `dir`.
pub fn certificates(dir: &Path) -> Certificates {
    openssl(dir, &[&["req", "-x509"], &EC_KEY[..], &["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=charterguard test CA"]].concat());
    let certificates = Certificates { dir: dir.to_path_buf(), ca: dir.join("ca.pem"), cert: dir.join("tls.crt"), key: dir.join("tls.key") };
    certificates.issue("1");
    certificates
}

impl Certificates {
    /// Issues a new serving certificate and key with `serial`, renamed into place as the
    /// kubelet swaps a mounted Secret's files.
    pub fn issue(&self, serial: &str) {
        let dir = &self.dir;
        std::fs::write(dir.join("ext.cnf"), "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n").unwrap();
        openssl(dir, &[&["req"], &EC_KEY[..], &["-keyout", "next.key", "-out", "next.csr", "-subj", "/CN=charterguard-admission"]].concat());
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                "next.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-set_serial",
                serial,
                "-days",
                "2",
                "-extfile",
                "ext.cnf",
                "-out",
                "next.crt",
            ],
        );
        std::fs::rename(dir.join("next.key"), &self.key).unwrap();
        std::fs::rename(dir.join("next.crt"), &self.cert).unwrap();
    }
}

/// An HTTP answer.
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.text()))
    }
}

/// A kept-alive TLS connection that trusts only the test CA.
pub struct Connection {
    pub stream: BufReader<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>,
    /// The DER of the certificate the server presented.
    pub peer: Vec<u8>,
}

impl Connection {
    pub fn open(address: SocketAddr, ca: &Path) -> Connection {
        let mut roots = rustls::RootCertStore::empty();
        for certificate in CertificateDer::pem_file_iter(ca).unwrap() {
            roots.add(certificate.unwrap()).unwrap();
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connection = rustls::ClientConnection::new(Arc::new(config), "localhost".try_into().unwrap()).unwrap();
        let tcp = TcpStream::connect(address).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        tcp.set_nodelay(true).unwrap();
        let mut stream = rustls::StreamOwned::new(connection, tcp);
        while stream.conn.is_handshaking() {
            stream.conn.complete_io(&mut stream.sock).expect("the TLS handshake");
        }
        let peer = stream.conn.peer_certificates().unwrap()[0].to_vec();
        Connection { stream: BufReader::new(stream), peer }
    }

    /// Sends raw bytes; a server that already answered and closed may refuse them.
    pub fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let stream = self.stream.get_mut();
        stream.write_all(bytes).and_then(|_| stream.flush())
    }

    /// One request and its answer.
    pub fn send(&mut self, method: &str, path: &str, body: &[u8]) -> Answer {
        let head = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n", body.len());
        self.write(head.as_bytes()).unwrap();
        // A refused body may be cut off unread: the answer still comes.
        let _ = self.write(body);
        self.answer().expect("an answer")
    }

    /// The next answer, `None` when the server closed the connection instead.
    pub fn answer(&mut self) -> Option<Answer> {
        let mut status_line = String::new();
        if self.stream.read_line(&mut status_line).unwrap_or(0) == 0 {
            return None;
        }
        let status = status_line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("no HTTP answer: {status_line:?}"));
        let mut length = None;
        loop {
            let mut line = String::new();
            if self.stream.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
            if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = value.trim().parse::<usize>().ok();
            }
        }
        let mut body = Vec::new();
        match length {
            Some(length) => {
                body.resize(length, 0);
                self.stream.read_exact(&mut body).expect("the answer's body");
            }
            None => drop(self.stream.read_to_end(&mut body)),
        }
        Some(Answer { status, body })
    }
}

/// The server of this process, on 127.0.0.1, until dropped.
pub struct InProcess {
    pub address: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl InProcess {
    pub fn start(judge: charterguard::admission::Judge, certificates: &Certificates) -> InProcess {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let certificate = Arc::new(charterguard::admission::tls::ServingCertificate::load(&certificates.cert, &certificates.key, provider).unwrap());
        let server = Arc::new(charterguard::admission::Server::new(judge, certificate, charterguard::admission::Limits::default()));
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let address = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            runtime.block_on(server.run(listener, async move {
                let _ = stopped.await;
            }))
        });
        InProcess { address, stop: Some(stop), thread: Some(thread) }
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        let _ = self.stop.take().unwrap().send(());
        let _ = self.thread.take().unwrap().join();
    }
}

/// One request on a connection of its own.
pub fn request(address: SocketAddr, ca: &Path, method: &str, path: &str, body: &[u8]) -> Answer {
    Connection::open(address, ca).send(method, path, body)
}
