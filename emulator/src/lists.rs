//! Static list files at `/_lists/NAME`, with the validators a conditional GET needs; optionally
//! unavailable (503 + `Retry-After`) for each file's first requests, as a flaky CDN is.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// The URL prefix of served lists.
pub(crate) const PREFIX: &str = "/_lists/";

/// The list server: its directory, the 503 knob and the requests seen per name.
pub(crate) struct Lists {
    dir: Option<PathBuf>,
    unavailable_first: u32,
    retry_after: u64,
    requests: Mutex<BTreeMap<String, u32>>,
}

impl Lists {
    pub(crate) fn new(dir: Option<PathBuf>, unavailable_first: u32, retry_after: u64) -> Self {
        Self {
            dir,
            unavailable_first,
            retry_after,
            requests: Mutex::new(BTreeMap::new()),
        }
    }

    pub(crate) fn requests(&self) -> BTreeMap<String, u32> {
        self.requests
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Counts the request; its first `unavailable_first` answer 503 with `Retry-After`.
    pub(crate) async fn serve(&self, raw_name: &str, request_headers: &HeaderMap) -> Response {
        let seen = {
            let mut requests = self
                .requests
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let count = requests.entry(raw_name.to_string()).or_insert(0);
            *count += 1;
            *count
        };
        if seen <= self.unavailable_first {
            let retry_after = HeaderValue::from(self.retry_after);
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::RETRY_AFTER, retry_after)],
                "unavailable",
            )
                .into_response();
        }
        serve(self.dir.as_deref(), raw_name, request_headers).await
    }
}

/// Answers one list request; the file is re-read on every request.
async fn serve(dir: Option<&Path>, raw_name: &str, request_headers: &HeaderMap) -> Response {
    let Some(dir) = dir else {
        return plain(StatusCode::NOT_FOUND, "no list directory is served");
    };
    let Some(path) = safe_join(dir, raw_name) else {
        return plain(StatusCode::BAD_REQUEST, "invalid list name");
    };
    let (content, modified) = match read(&path).await {
        Some(found) => found,
        None => return plain(StatusCode::NOT_FOUND, "no such list"),
    };
    let validators = Validators::of(&content, modified);
    if validators.not_modified(request_headers) {
        return (StatusCode::NOT_MODIFIED, validators.headers()).into_response();
    }
    let mut headers = validators.headers();
    headers.insert(header::CONTENT_TYPE, content_type(&path));
    (StatusCode::OK, headers, content).into_response()
}

/// Joins a percent-encoded relative name under `dir`, refusing `..`, absolute and empty segments.
fn safe_join(dir: &Path, raw_name: &str) -> Option<PathBuf> {
    let name = percent_encoding::percent_decode_str(raw_name)
        .decode_utf8()
        .ok()?;
    let mut path = dir.to_path_buf();
    for segment in name.split('/') {
        if segment.is_empty() || segment == "." || segment == ".." || segment.contains('\\') {
            return None;
        }
        path.push(segment);
    }
    Some(path)
}

async fn read(path: &Path) -> Option<(Vec<u8>, SystemTime)> {
    let metadata = tokio::fs::metadata(path).await.ok()?;
    if !metadata.is_file() {
        return None;
    }
    let content = tokio::fs::read(path).await.ok()?;
    Some((content, metadata.modified().unwrap_or(UNIX_EPOCH)))
}

struct Validators {
    etag: String,
    /// Whole seconds: HTTP dates carry no fraction.
    modified: SystemTime,
}

impl Validators {
    fn of(content: &[u8], modified: SystemTime) -> Self {
        let digest = Sha256::digest(content);
        let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
        Self {
            etag: format!("\"{hex}\""),
            modified: whole_seconds(modified),
        }
    }

    /// `If-None-Match` wins over `If-Modified-Since` when both are sent.
    fn not_modified(&self, headers: &HeaderMap) -> bool {
        if let Some(tags) = header_text(headers, header::IF_NONE_MATCH) {
            return tags
                .split(',')
                .map(str::trim)
                .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == self.etag);
        }
        header_text(headers, header::IF_MODIFIED_SINCE)
            .and_then(|text| httpdate::parse_http_date(text).ok())
            .is_some_and(|since| self.modified <= since)
    }

    fn headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Ok(etag) = HeaderValue::from_str(&self.etag) {
            headers.insert(header::ETAG, etag);
        }
        let date = httpdate::fmt_http_date(self.modified);
        if let Ok(date) = HeaderValue::from_str(&date) {
            headers.insert(header::LAST_MODIFIED, date);
        }
        headers
    }
}

fn whole_seconds(time: SystemTime) -> SystemTime {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0);
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

fn content_type(path: &Path) -> HeaderValue {
    let value = match path.extension().and_then(|ext| ext.to_str()) {
        Some("json") => "application/json",
        Some("html") => "text/html",
        _ => "text/plain; charset=utf-8",
    };
    HeaderValue::from_static(value)
}

fn plain(status: StatusCode, message: &'static str) -> Response {
    (status, message).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traversal_and_absolute_names_are_refused() {
        let dir = Path::new("lists");
        assert!(safe_join(dir, "..%2Fsecret").is_none());
        assert!(safe_join(dir, "a/../b").is_none());
        assert!(safe_join(dir, "/etc/passwd").is_none());
        assert_eq!(
            safe_join(dir, "sub/a.txt"),
            Some(dir.join("sub").join("a.txt"))
        );
    }
}
