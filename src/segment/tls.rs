//! The process's TLS crypto provider: rustls with ring (see Cargo.toml for why not aws-lc-rs).

/// Installs ring as the process-wide rustls provider, once. Every HTTP client needs it before it
/// is built; calling it again, or after another part of the process chose one, does nothing.
pub fn install_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
