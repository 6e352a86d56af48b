//! The API base URL: which ones are acceptable, and how request paths are joined to it.

use url::Url;

use super::encode::path_segment;
use super::error::ApiError;
use crate::shared::loopback::is_loopback;

/// The base URL with the segments appended, each percent-encoded (a base path like `/api` is
/// kept; a hostname `*.example.com` becomes `%2A.example.com`).
pub(crate) fn join(base: &Url, segments: &[String]) -> Url {
    let mut url = base.clone();
    let mut path = url.path().trim_end_matches('/').to_owned();
    for segment in segments {
        path.push('/');
        path.push_str(&path_segment(segment));
    }
    url.set_path(&path);
    url
}

/// `https://`, or plain `http://` to a loopback address only; no credentials in the URL. The one
/// check of an API base URL: the client runs it, and the command layer before naming the URL's origin.
pub(crate) fn check(url: &Url) -> Result<(), ApiError> {
    let invalid = |reason: &str| ApiError::InvalidBaseUrl {
        url: without_credentials(url),
        reason: reason.to_owned(),
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "it holds credentials; the token belongs in CTRLD_API_TOKEN",
        ));
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => Err(invalid(
            "plain http is only allowed to a loopback address; use https",
        )),
        _ => Err(invalid("the scheme must be https")),
    }
}

fn without_credentials(url: &Url) -> String {
    let mut url = url.clone();
    // Both only fail for URLs that cannot have credentials at all.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joined(base: &str, parts: &[&str]) -> String {
        let segments: Vec<String> = parts.iter().map(|part| part.to_string()).collect();
        join(&base.parse().unwrap(), &segments).to_string()
    }

    #[test]
    fn join_keeps_the_base_path_and_encodes_hostnames() {
        assert_eq!(
            joined(
                "https://api.example.test/api/",
                &["profiles", "p1", "rules", "*.ads.example"]
            ),
            "https://api.example.test/api/profiles/p1/rules/%2A.ads.example"
        );
        assert_eq!(
            joined("http://127.0.0.1:8080", &["profiles"]),
            "http://127.0.0.1:8080/profiles"
        );
    }

    #[test]
    fn loopback_hosts_are_recognised() {
        for url in ["http://localhost:1", "http://127.0.0.9", "http://[::1]:1"] {
            assert!(check(&url.parse().unwrap()).is_ok(), "{url}");
        }
        for url in [
            "http://10.0.0.1",
            "http://localhost.example.com",
            "ftp://localhost",
        ] {
            assert!(check(&url.parse().unwrap()).is_err(), "{url}");
        }
    }
}
