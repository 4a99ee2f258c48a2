//! TLS client configuration shared by the IMAP poller (and later the SMTP sender): rustls with
//! the ring provider set explicitly, trusting the system roots plus an optional CA file the
//! admin names (`ca_file`, e.g. a company CA or the test mail stack's own CA).

use std::path::Path;
use std::sync::Arc;

use rustls::ClientConfig;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("cannot read CA file {path}: {message}")]
    CaFile { path: String, message: String },
    #[error("CA file {path} holds no certificate")]
    EmptyCaFile { path: String },
    #[error("no trusted root certificates: the system has none and no ca_file is configured")]
    NoRoots,
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

/// A client configuration trusting the system roots and, when given, the certificates of
/// `ca_file` (PEM). A CA file that cannot be read is an error, never silently ignored.
pub fn client_config(ca_file: Option<&Path>) -> Result<Arc<ClientConfig>, TlsSetupError> {
    let mut roots = rustls::RootCertStore::empty();
    // Unreadable individual system certificates are skipped, as every TLS client does.
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    if let Some(path) = ca_file {
        let shown = path.display().to_string();
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .map_err(|e| TlsSetupError::CaFile {
                path: shown.clone(),
                message: e.to_string(),
            })?
            .collect::<Result<_, _>>()
            .map_err(|e| TlsSetupError::CaFile {
                path: shown.clone(),
                message: e.to_string(),
            })?;
        if certs.is_empty() {
            return Err(TlsSetupError::EmptyCaFile { path: shown });
        }
        let (_added, ignored) = roots.add_parsable_certificates(certs);
        if ignored > 0 {
            tracing::warn!(ca_file = %shown, ignored, "some certificates of the CA file are unusable");
        }
    }
    if roots.is_empty() {
        return Err(TlsSetupError::NoRoots);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_empty_ca_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.pem");
        assert!(matches!(
            client_config(Some(&missing)),
            Err(TlsSetupError::CaFile { .. })
        ));
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        assert!(matches!(
            client_config(Some(&empty)),
            Err(TlsSetupError::EmptyCaFile { .. })
        ));
    }
}
