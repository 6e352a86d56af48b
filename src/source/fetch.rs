//! Reading one source: HTTPS (plain HTTP only to loopback) with a timeout, a size cap enforced
//! while streaming, at most 5 redirects and never https -> http, conditional GET; or a local file.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{
    HeaderMap, CONTENT_TYPE, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, LOCATION,
    RETRY_AFTER,
};
use reqwest::{redirect, StatusCode};

use super::auth::Credential;
use super::error::FetchProblem;
use crate::config::{Format, SourceAuth, SourceLocation, SourcesConfig};
pub(crate) use crate::hash::sha256_hex;
use crate::shared::chain::chain as error_chain;
use crate::shared::loopback::is_loopback;
use crate::shared::retry::{
    parse_retry_after, Backoff, DEFAULT_RETRY_BASE_DELAY, DEFAULT_RETRY_MAX_DELAY,
};

const MAX_REDIRECTS: usize = 5;

/// No source is retried for longer than this in all (the wait before a retry counts).
pub(crate) const MAX_RETRY_TIME: Duration = Duration::from_secs(120);

/// Limits for fetching sources, from `[sources]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FetchOptions {
    pub max_bytes: u64,
    pub timeout: Duration,
    pub concurrency: usize,
    /// Attempts after the first for 429, 5xx, timeouts and connection failures.
    pub retries: u32,
}

impl From<&SourcesConfig> for FetchOptions {
    fn from(sources: &SourcesConfig) -> Self {
        Self {
            max_bytes: sources.max_bytes,
            timeout: sources.timeout,
            concurrency: sources.concurrency.max(1),
            retries: sources.retries,
        }
    }
}

/// The retry policy the API client uses too: exponential backoff, full jitter, at least `Retry-After`.
fn backoff() -> Backoff {
    Backoff {
        base: DEFAULT_RETRY_BASE_DELAY,
        cap: DEFAULT_RETRY_MAX_DELAY,
    }
}

/// Validators recorded last time, sent as If-None-Match / If-Modified-Since.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// What a fetch gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Fetched {
    /// HTTP 304: the body is what was recorded; new validators if the server sent any.
    NotModified(Validators),
    Body {
        bytes: Vec<u8>,
        validators: Validators,
        sha256: String,
        /// Body bytes received over the network, after decompression (0 for files).
        downloaded: u64,
    },
}

pub(crate) struct Fetcher {
    client: reqwest::Client,
    /// Follows no redirect: for requests carrying a credential, whose redirects are followed by
    /// hand so that the credential never reaches another origin (reqwest drops `Authorization` on a
    /// cross-host redirect, but not a custom header such as `PRIVATE-TOKEN`).
    manual: reqwest::Client,
    options: FetchOptions,
    retries: AtomicU64,
}

impl Fetcher {
    pub(crate) fn new(options: FetchOptions) -> Result<Self, String> {
        let client = crate::http::build_client(|| {
            reqwest::Client::builder()
                .user_agent(concat!("ctrld-sync/", env!("CARGO_PKG_VERSION")))
                .redirect(redirect_policy())
                .connect_timeout(options.timeout)
        })
        .map_err(|err| error_chain(&err))?;
        let manual = crate::http::build_client(|| {
            reqwest::Client::builder()
                .user_agent(concat!("ctrld-sync/", env!("CARGO_PKG_VERSION")))
                .redirect(redirect::Policy::none())
                .connect_timeout(options.timeout)
        })
        .map_err(|err| error_chain(&err))?;
        Ok(Self {
            client,
            manual,
            options,
            retries: AtomicU64::new(0),
        })
    }

    pub(crate) fn options(&self) -> &FetchOptions {
        &self.options
    }

    /// Retries made so far, over every source.
    pub(crate) fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// Fetches `location`, conditionally when `validators` are given, with the credential `auth`
    /// names; `format` is what the body is expected to be (for the Content-Type check).
    pub(crate) async fn fetch(
        &self,
        location: &SourceLocation,
        auth: Option<&SourceAuth>,
        validators: Option<&Validators>,
        format: Format,
    ) -> Result<Fetched, FetchProblem> {
        match location {
            SourceLocation::Url(url) => {
                let credential = auth.map(Credential::from_env).transpose()?;
                self.fetch_url_retrying(url, credential.as_ref(), validators, format)
                    .await
            }
            SourceLocation::Path { resolved, .. } => self.read_file(resolved).await,
        }
    }

    /// [`Self::fetch_url`], again after a transient failure: at most `retries` more attempts and
    /// [`MAX_RETRY_TIME`] in all, waiting as the API client does between attempts.
    async fn fetch_url_retrying(
        &self,
        url: &url::Url,
        credential: Option<&Credential>,
        validators: Option<&Validators>,
        format: Format,
    ) -> Result<Fetched, FetchProblem> {
        let started = Instant::now();
        let mut retry = 0;
        loop {
            let problem = match self.fetch_url(url, credential, validators, format).await {
                Ok(fetched) => return Ok(fetched),
                Err(problem) => problem,
            };
            let Some(retry_after) = problem.transient() else {
                return Err(problem);
            };
            let wait = backoff().wait(retry, retry_after, &mut rand::thread_rng());
            if retry >= self.options.retries || started.elapsed() + wait > MAX_RETRY_TIME {
                return Err(match retry {
                    0 => problem,
                    _ => FetchProblem::GaveUp {
                        attempts: retry + 1,
                        last: Box::new(problem),
                    },
                });
            }
            tokio::time::sleep(wait).await;
            retry += 1;
            self.retries.fetch_add(1, Ordering::Relaxed);
        }
    }

    async fn fetch_url(
        &self,
        url: &url::Url,
        credential: Option<&Credential>,
        validators: Option<&Validators>,
        format: Format,
    ) -> Result<Fetched, FetchProblem> {
        let mut response = match credential {
            None => self.get(&self.client, url, None, validators).await?,
            Some(credential) => self.get_following(url, credential, validators).await?,
        };
        let validators = validators_of(response.headers());
        if response.status() == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified(validators));
        }
        if !response.status().is_success() {
            return Err(status_problem(response.status(), response.headers()));
        }
        check_content_type(response.headers(), format)?;
        let cap = self.options.max_bytes;
        if response.content_length().is_some_and(|length| length > cap) {
            return Err(FetchProblem::TooLarge(cap));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|err| self.problem(err))? {
            if (bytes.len() + chunk.len()) as u64 > cap {
                return Err(FetchProblem::TooLarge(cap));
            }
            bytes.extend_from_slice(&chunk);
        }
        let downloaded = bytes.len() as u64;
        Ok(Fetched::Body {
            sha256: sha256_hex(&bytes),
            bytes,
            validators,
            downloaded,
        })
    }

    /// One GET with the validators and, when given, the credential.
    async fn get(
        &self,
        client: &reqwest::Client,
        url: &url::Url,
        credential: Option<&Credential>,
        validators: Option<&Validators>,
    ) -> Result<reqwest::Response, FetchProblem> {
        let mut request = client.get(url.clone()).timeout(self.options.timeout);
        if let Some(credential) = credential {
            request = request.header(credential.name.clone(), credential.value.clone());
        }
        if let Some(validators) = validators {
            if let Some(etag) = &validators.etag {
                request = request.header(IF_NONE_MATCH, etag);
            }
            if let Some(last_modified) = &validators.last_modified {
                request = request.header(IF_MODIFIED_SINCE, last_modified);
            }
        }
        request.send().await.map_err(|err| self.problem(err))
    }

    /// A GET carrying a credential, its redirects followed by hand under the same rules as
    /// [`redirect_policy`]; the credential is sent only while every hop stays on the first URL's
    /// origin (scheme, host and port).
    async fn get_following(
        &self,
        url: &url::Url,
        credential: &Credential,
        validators: Option<&Validators>,
    ) -> Result<reqwest::Response, FetchProblem> {
        let mut visited = vec![url.clone()];
        let mut current = url.clone();
        let mut same_origin = true;
        loop {
            let send = same_origin.then_some(credential);
            let response = self.get(&self.manual, &current, send, validators).await?;
            let Some(next) = redirect_target(&response, &current) else {
                return Ok(response);
            };
            redirect_verdict(&visited, &next).map_err(FetchProblem::Network)?;
            same_origin &= next.origin() == url.origin();
            visited.push(next.clone());
            current = next;
        }
    }

    async fn read_file(&self, path: &std::path::Path) -> Result<Fetched, FetchProblem> {
        let read_error = |error| FetchProblem::Read {
            path: path.to_path_buf(),
            error,
        };
        let cap = self.options.max_bytes;
        let metadata = tokio::fs::metadata(path).await.map_err(read_error)?;
        if metadata.len() > cap {
            return Err(FetchProblem::TooLarge(cap));
        }
        let bytes = tokio::fs::read(path).await.map_err(read_error)?;
        // The file may have grown between the two calls.
        if bytes.len() as u64 > cap {
            return Err(FetchProblem::TooLarge(cap));
        }
        Ok(Fetched::Body {
            sha256: sha256_hex(&bytes),
            bytes,
            validators: Validators::default(),
            downloaded: 0,
        })
    }

    fn problem(&self, err: reqwest::Error) -> FetchProblem {
        if err.is_timeout() {
            return FetchProblem::Timeout(self.options.timeout);
        }
        // A refused redirect or a bad request is final; a failed connect, a reset or a body cut
        // short is worth another try.
        let transient = !err.is_redirect()
            && !err.is_builder()
            && (err.is_connect() || err.is_request() || err.is_body() || err.is_decode());
        // The message already starts with the URL; reqwest's own copy would repeat it. A
        // redirect's target may still be in the chain: redacted.
        let message = crate::redact::text(&error_chain(&err.without_url()));
        match transient {
            true => FetchProblem::Connection(message),
            false => FetchProblem::Network(message),
        }
    }
}

/// Where a 301, 302, 303, 307 or 308 points, resolved against the URL asked.
fn redirect_target(response: &reqwest::Response, asked: &url::Url) -> Option<url::Url> {
    let status = response.status();
    let redirects = [
        StatusCode::MOVED_PERMANENTLY,
        StatusCode::FOUND,
        StatusCode::SEE_OTHER,
        StatusCode::TEMPORARY_REDIRECT,
        StatusCode::PERMANENT_REDIRECT,
    ];
    if !redirects.contains(&status) {
        return None;
    }
    let location = response.headers().get(LOCATION)?.to_str().ok()?;
    asked.join(location).ok()
}

/// 429 and 5xx are transient (with the server's `Retry-After`); any other status is final.
fn status_problem(status: StatusCode, headers: &HeaderMap) -> FetchProblem {
    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        let retry_after = headers
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, SystemTime::now()));
        FetchProblem::Unavailable {
            status,
            retry_after,
        }
    } else {
        FetchProblem::Status(status)
    }
}

/// At most [`MAX_REDIRECTS`], never from https to http, plain http only to loopback.
fn redirect_policy() -> redirect::Policy {
    redirect::Policy::custom(
        |attempt| match redirect_verdict(attempt.previous(), attempt.url()) {
            Ok(()) => attempt.follow(),
            Err(refused) => attempt.error(refused),
        },
    )
}

/// `previous` holds every URL visited so far, the first request's included (as reqwest gives it).
fn redirect_verdict(previous: &[url::Url], next: &url::Url) -> Result<(), String> {
    if previous.len() > MAX_REDIRECTS {
        return Err(format!("more than {MAX_REDIRECTS} redirects"));
    }
    if next.scheme() == "https" {
        return Ok(());
    }
    if previous.iter().any(|url| url.scheme() == "https") {
        return Err(format!(
            "refused a redirect from https to {}",
            crate::redact::url(next)
        ));
    }
    if next.scheme() == "http" && is_loopback(next) {
        Ok(())
    } else {
        Err(format!(
            "refused a redirect to {} (https only)",
            crate::redact::url(next)
        ))
    }
}

fn validators_of(headers: &HeaderMap) -> Validators {
    let text = |name| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_string)
    };
    Validators {
        etag: text(ETAG),
        last_modified: text(LAST_MODIFIED),
    }
}

/// An HTML page (or an image...) where a list or JSON was expected is refused before download;
/// so is JSON where a text list was named.
fn check_content_type(headers: &HeaderMap, format: Format) -> Result<(), FetchProblem> {
    let Some(value) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let never_a_list = essence == "text/html"
        || essence == "application/xhtml+xml"
        || ["image/", "audio/", "video/", "font/"]
            .iter()
            .any(|prefix| essence.starts_with(prefix));
    let json_for_text = essence == "application/json"
        && matches!(format, Format::Domains | Format::Hosts | Format::Adblock);
    if never_a_list || json_for_text {
        Err(FetchProblem::WrongContentType {
            found: essence,
            expected: expected_content(format),
        })
    } else {
        Ok(())
    }
}

fn expected_content(format: Format) -> &'static str {
    match format {
        Format::Auto => "a list or a Control D folder file",
        Format::Controld => "a Control D folder file (JSON)",
        Format::Domains => "a domains list (text)",
        Format::Hosts => "a hosts file (text)",
        Format::Adblock => "an adblock list (text)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn with_type(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_str(value).unwrap());
        headers
    }

    fn urls(texts: &[&str]) -> Vec<url::Url> {
        texts.iter().map(|text| text.parse().unwrap()).collect()
    }

    #[test]
    fn redirects_never_downgrade_and_stop_after_five() {
        let https = urls(&["https://a.example/l"]);
        let to_http: url::Url = "http://127.0.0.1/l".parse().unwrap();
        let to_https: url::Url = "https://b.example/l".parse().unwrap();
        assert!(redirect_verdict(&https, &to_http)
            .unwrap_err()
            .contains("from https"));
        assert!(redirect_verdict(&https, &to_https).is_ok());
        let loopback = urls(&["http://127.0.0.1/a"]);
        assert!(redirect_verdict(&loopback, &to_http).is_ok());
        let remote_http: url::Url = "http://lists.example/l".parse().unwrap();
        assert!(redirect_verdict(&loopback, &remote_http).is_err());
        let five = vec![to_https.clone(); 5];
        assert!(redirect_verdict(&five, &to_https).is_ok());
        let six = vec![to_https.clone(); 6];
        assert!(redirect_verdict(&six, &to_https)
            .unwrap_err()
            .contains("more than 5"));
    }

    #[test]
    fn html_is_refused_and_text_or_json_accepted() {
        assert!(
            check_content_type(&with_type("text/html; charset=utf-8"), Format::Controld).is_err()
        );
        assert!(
            check_content_type(&with_type("text/plain; charset=utf-8"), Format::Controld).is_ok()
        );
        assert!(check_content_type(&with_type("application/json"), Format::Auto).is_ok());
        assert!(check_content_type(&HeaderMap::new(), Format::Auto).is_ok());
        assert!(check_content_type(&with_type("application/json"), Format::Hosts).is_err());
    }
}
