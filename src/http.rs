//! What every HTTP client of the tool shares: TLS trusts the bundled Mozilla roots and the
//! operating system's certificate store (where a TLS-inspecting proxy's CA is installed), and
//! `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` / `NO_PROXY` are honoured (reqwest reads them).

/// Builds the client `configure` describes. reqwest refuses to build one when the system store
/// holds certificates and none of them is usable; the client is then built on the bundled roots
/// alone, so that a broken store does not stop a run whose hosts those roots cover.
pub(crate) fn build_client(
    configure: impl Fn() -> reqwest::ClientBuilder,
) -> reqwest::Result<reqwest::Client> {
    configure()
        .build()
        .or_else(|_| configure().tls_built_in_native_certs(false).build())
}
