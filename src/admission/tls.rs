//! The serving certificate, read from PEM files and read again when they change: cert-manager
//! renews the Secret, the kubelet swaps the mounted files, and new connections get the new
//! certificate without a restart. A renewal that cannot be read (a half-written file, a key
//! that does not match) keeps the certificate in use and is reported once per change.

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

/// How often, at most, the files are looked at (on a handshake).
const CHECK_EVERY: Duration = Duration::from_secs(1);

/// What identifies one version of the two files: modification times and sizes.
type Stamp = [(Option<SystemTime>, u64); 2];

#[derive(Debug)]
pub struct ServingCertificate {
    cert_file: PathBuf,
    key_file: PathBuf,
    provider: Arc<CryptoProvider>,
    current: RwLock<Arc<CertifiedKey>>,
    /// The version of the files last read (loaded or not), and when they were last looked at.
    seen: Mutex<(Stamp, Instant)>,
    /// Certificates loaded after the first.
    pub reloads: AtomicU64,
}

impl ServingCertificate {
    /// Reads the certificate chain and its key; an error names the file and what is wrong.
    pub fn load(cert_file: &Path, key_file: &Path, provider: Arc<CryptoProvider>) -> anyhow::Result<Self> {
        let stamp = stamp(cert_file, key_file);
        let key = read(cert_file, key_file, &provider)?;
        Ok(ServingCertificate {
            cert_file: cert_file.to_path_buf(),
            key_file: key_file.to_path_buf(),
            provider,
            current: RwLock::new(Arc::new(key)),
            seen: Mutex::new((stamp, Instant::now())),
            reloads: AtomicU64::new(0),
        })
    }

    /// Reads the files again if they changed since they were last read.
    pub fn refresh(&self) {
        let mut seen = self.seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        seen.1 = Instant::now();
        let now = stamp(&self.cert_file, &self.key_file);
        if now == seen.0 {
            return;
        }
        seen.0 = now;
        match read(&self.cert_file, &self.key_file, &self.provider) {
            Ok(key) => {
                *self.current.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(key);
                self.reloads.fetch_add(1, Ordering::Relaxed);
                eprintln!("charterguard: admission: serving the renewed certificate of {}", self.cert_file.display());
            }
            Err(error) => eprintln!("charterguard: admission: keeping the current certificate: {error:#}"),
        }
    }

    /// The crypto provider the certificate was loaded with, for the server's TLS config.
    pub fn provider(&self) -> Arc<CryptoProvider> {
        self.provider.clone()
    }

    fn due(&self) -> bool {
        self.seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).1.elapsed() >= CHECK_EVERY
    }
}

impl ResolvesServerCert for ServingCertificate {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        if self.due() {
            self.refresh();
        }
        Some(self.current.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone())
    }
}

fn stamp(cert_file: &Path, key_file: &Path) -> Stamp {
    [cert_file, key_file].map(|file| match std::fs::metadata(file) {
        Ok(metadata) => (metadata.modified().ok(), metadata.len()),
        Err(_) => (None, 0),
    })
}

fn read(cert_file: &Path, key_file: &Path, provider: &CryptoProvider) -> anyhow::Result<CertifiedKey> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert_file)
        .and_then(|certs| certs.collect())
        .map_err(|e| anyhow::anyhow!("{}: not a PEM certificate chain: {e}", cert_file.display()))?;
    if chain.is_empty() {
        anyhow::bail!("{}: holds no PEM certificate", cert_file.display());
    }
    let key = PrivateKeyDer::from_pem_file(key_file).map_err(|e| anyhow::anyhow!("{}: not a PEM private key: {e}", key_file.display()))?;
    CertifiedKey::from_der(chain, key, provider)
        .map_err(|e| anyhow::anyhow!("{} and {}: the key does not serve the certificate: {e}", cert_file.display(), key_file.display()))
}
