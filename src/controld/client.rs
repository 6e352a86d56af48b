//! The Control D API client: one method per endpoint, over a shared retry, pacing and counting core.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE, LOCATION, RETRY_AFTER};
use serde_json::{json, Value};
use tokio::sync::{Semaphore, SemaphorePermit};
use url::Url;

use crate::model::{FolderAction, FolderPk, RuleAction};

use super::base_url;
use super::config::{ClientConfig, Token};
use super::encode::{target_group, Form};
use super::endpoint::Endpoint;
use super::envelope;
use super::error::{ApiError, Call};
use super::failure::{transport_reason, Failure};
use super::pacing::{Admission, Controller, Feedback};
use super::request_log::{Reply, RequestLog, RequestRecord};
use super::retry::{parse_retry_after, Backoff};
use super::settings_types::{OptionInfo, RemoteFilter, RemoteService};
use super::settings_wire;
use super::stats::{CallStats, StatsRecorder};
use super::types::{RemoteProfile, RemoteRule, RuleTarget};
use super::wire;
use crate::model::{RemoteFolder, MAX_HOSTNAMES_PER_REQUEST};

/// The longest `Retry-After` waited for; a longer one stops the run with an error saying so.
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(5 * 60);

/// The largest answer read; a larger one is an invalid response (no Control D answer comes close).
pub(crate) const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

const USER_AGENT: &str = concat!("ctrld-sync/", env!("CARGO_PKG_VERSION"));

/// The answer to [`Client::raw`]: HTTP status and the whole JSON envelope (`Null` if not JSON).
#[derive(Clone, Debug)]
pub struct RawAnswer {
    pub status: u16,
    pub envelope: Value,
}

impl RawAnswer {
    pub fn success(&self) -> bool {
        (200..300).contains(&self.status) && self.envelope["success"] == Value::Bool(true)
    }

    /// `error.code`, as a number or a numeric string.
    pub(crate) fn code(&self) -> Option<u64> {
        let code = &self.envelope["error"]["code"];
        code.as_u64()
            .or_else(|| code.as_str().and_then(|text| text.trim().parse().ok()))
    }
}

/// A Control D API client. Clones share one connection pool, pacing controller and call counters,
/// and one set of in-flight slots; [`Client::with_own_slots`] gives a handle with its own.
#[derive(Clone)]
pub struct Client {
    shared: Arc<Inner>,
    /// At most `parallelism` requests of this handle (one profile) in flight at once.
    slots: Arc<Semaphore>,
}

struct Inner {
    http: reqwest::Client,
    parallelism: usize,
    base_url: Url,
    token: Token,
    timeout: Duration,
    max_retries: u32,
    backoff: Backoff,
    pacer: Controller,
    stats: StatsRecorder,
    request_log: Option<RequestLog>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.shared.base_url.as_str())
            .finish_non_exhaustive()
    }
}

/// One request before it is sent: which endpoint, for which profile, with which path and body.
struct Request {
    endpoint: Endpoint,
    profile: Option<String>,
    /// Path segments after the base URL, not yet percent-encoded.
    segments: Vec<String>,
    body: Option<Payload>,
}

/// A write's body and the `Content-Type` it is sent with.
enum Payload {
    Form(String),
    Json(String),
}

impl Payload {
    fn content_type(&self) -> &'static str {
        match self {
            Self::Form(_) => "application/x-www-form-urlencoded",
            Self::Json(_) => "application/json",
        }
    }

    fn text(&self) -> &str {
        match self {
            Self::Form(text) | Self::Json(text) => text,
        }
    }
}

impl Request {
    fn new(endpoint: Endpoint, profile: &str, rest: &[String]) -> Self {
        let mut segments = vec!["profiles".to_owned(), profile.to_owned()];
        segments.extend_from_slice(rest);
        Self {
            endpoint,
            profile: Some(profile.to_owned()),
            segments,
            body: None,
        }
    }

    /// A request naming no profile (the catalogues).
    fn global(endpoint: Endpoint, segments: &[&str]) -> Self {
        Self {
            endpoint,
            profile: None,
            segments: segments.iter().map(|segment| segment.to_string()).collect(),
            body: None,
        }
    }

    fn with_form(mut self, form: Form) -> Self {
        self.body = Some(Payload::Form(form.finish()));
        self
    }

    fn with_json(mut self, json: &Value) -> Self {
        self.body = Some(Payload::Json(json.to_string()));
        self
    }
}

impl Client {
    pub fn new(config: ClientConfig) -> Result<Self, ApiError> {
        base_url::check(&config.base_url)?;
        let headers = default_headers(config.org_id.as_deref())?;
        let http = crate::http::build_client(|| {
            reqwest::Client::builder()
                .user_agent(USER_AGENT)
                // A redirected POST or PUT can come back as a GET whose success would be taken
                // for the write's: a 3xx is an error instead (see `attempt`).
                .redirect(reqwest::redirect::Policy::none())
                .timeout(config.timeout)
                .connect_timeout(config.timeout.min(Duration::from_secs(10)))
                .default_headers(headers.clone())
        })
        .map_err(|error| ApiError::Setup(transport_reason(error)))?;
        let parallelism = config.parallelism.max(1);
        let inner = Inner {
            http,
            parallelism,
            base_url: config.base_url,
            token: config.token,
            timeout: config.timeout,
            max_retries: config.max_retries,
            backoff: Backoff {
                base: config.retry_base_delay,
                cap: config.retry_max_delay,
            },
            pacer: Controller::new(config.ceiling.clone(), parallelism),
            stats: StatsRecorder::default(),
            request_log: config.request_log,
        };
        Ok(Self {
            shared: Arc::new(inner),
            slots: Arc::new(Semaphore::new(parallelism)),
        })
    }

    /// Starts the token's pacing from a rate measured in an earlier run.
    pub(crate) fn seed_pacing(&self, measured_rps: f64) {
        self.shared.pacer.seed(measured_rps);
    }

    /// The server's sustained rate for this token, once measured (or seeded).
    pub(crate) fn measured_rps(&self) -> Option<f64> {
        self.shared.pacer.measured()
    }

    /// A handle sharing this client's connections, pacing (the token's rate and window) and
    /// counters, with `parallelism` in-flight slots of its own: one per profile, so one profile's
    /// requests never queue behind another's (a no-change run over many profiles reads them all at
    /// once). Each handle lets the token's window grow by one parallelism more.
    pub(crate) fn with_own_slots(&self) -> Self {
        self.shared.pacer.add_profile();
        Self {
            shared: Arc::clone(&self.shared),
            slots: Arc::new(Semaphore::new(self.shared.parallelism)),
        }
    }

    /// Waits for one of this handle's in-flight slots, then for the token's pace.
    async fn admit(&self) -> (SemaphorePermit<'_>, Admission<'_>) {
        // Taking the slot first means a waiting request never wastes a pacing token.
        let slot = self
            .slots
            .acquire()
            .await
            .expect("the in-flight semaphore is never closed");
        (slot, self.shared.pacer.admit().await)
    }

    /// The same for every handle of one client (one token): a key for what is read once per
    /// account.
    pub(crate) fn account_key(&self) -> usize {
        Arc::as_ptr(&self.shared) as usize
    }

    pub async fn list_profiles(&self) -> Result<Vec<RemoteProfile>, ApiError> {
        let request = Request::global(Endpoint::ListProfiles, &["profiles"]);
        self.fetch(request, wire::profiles).await
    }

    pub async fn list_folders(&self, profile: &str) -> Result<Vec<RemoteFolder>, ApiError> {
        let request = Request::new(Endpoint::ListFolders, profile, &["groups".to_owned()]);
        self.fetch(request, wire::folders).await
    }

    /// POST; the answer already holds the new folder's PK. Not retried on an unknown outcome:
    /// an [`ApiError::Ambiguous`] means "list the folders to see whether it was made".
    pub async fn create_folder(
        &self,
        profile: &str,
        name: &str,
        action: &FolderAction,
    ) -> Result<RemoteFolder, ApiError> {
        let request = Request::new(Endpoint::CreateFolder, profile, &["groups".to_owned()])
            .with_form(Form::folder(name, action));
        let folders = self.fetch(request, wire::folders).await?;
        // The answer's `body.groups[0]` already holds the new PK: no need to list again.
        let created = folders.into_iter().next();
        created.ok_or_else(|| self.created_folder_missing(profile, name))
    }

    pub async fn update_folder(
        &self,
        profile: &str,
        pk: FolderPk,
        name: &str,
        action: &FolderAction,
    ) -> Result<(), ApiError> {
        let request = Request::new(Endpoint::UpdateFolder, profile, &folder_path(pk))
            .with_form(Form::folder(name, action));
        self.send(request).await
    }

    /// Deletes the folder and every rule in it. A 404 after an earlier attempt whose answer was
    /// lost counts as success (that attempt did the deletion).
    pub async fn delete_folder(&self, profile: &str, pk: FolderPk) -> Result<(), ApiError> {
        let request = Request::new(Endpoint::DeleteFolder, profile, &folder_path(pk));
        self.send(request).await
    }

    /// `folder = None` lists the root's rules.
    pub async fn list_rules(
        &self,
        profile: &str,
        folder: Option<FolderPk>,
    ) -> Result<Vec<RemoteRule>, ApiError> {
        let (endpoint, mut rest) = match folder {
            None => (Endpoint::ListRootRules, Vec::new()),
            Some(pk) => (Endpoint::ListFolderRules, vec![pk.to_string()]),
        };
        rest.insert(0, "rules".to_owned());
        let request = Request::new(endpoint, profile, &rest);
        self.fetch(request, |body| wire::rules(body, folder)).await
    }

    /// POST; `folder = None` creates in the root. At most [`MAX_HOSTNAMES_PER_REQUEST`];
    /// an empty list sends nothing. Not retried on an unknown outcome (see [`ApiError::Ambiguous`]).
    pub async fn create_rules(
        &self,
        profile: &str,
        folder: Option<FolderPk>,
        action: &RuleAction,
        hostnames: &[impl AsRef<str>],
    ) -> Result<(), ApiError> {
        let request = Request::new(Endpoint::CreateRules, profile, &["rules".to_owned()]);
        self.check_batch(&request, hostnames)?;
        if hostnames.is_empty() {
            return Ok(());
        }
        let form = Form::rule(action, folder).hostnames(hostnames);
        self.send(request.with_form(form)).await
    }

    /// PUT: sets the action and, with `move_to`, moves the rules. At most [`MAX_HOSTNAMES_PER_REQUEST`];
    /// an empty list sends nothing.
    pub async fn update_rules(
        &self,
        profile: &str,
        move_to: Option<RuleTarget>,
        action: &RuleAction,
        hostnames: &[impl AsRef<str>],
    ) -> Result<(), ApiError> {
        let request = Request::new(Endpoint::UpdateRules, profile, &["rules".to_owned()]);
        self.check_batch(&request, hostnames)?;
        if hostnames.is_empty() {
            return Ok(());
        }
        let form = Form::rule(action, move_to.map(target_group)).hostnames(hostnames);
        self.send(request.with_form(form)).await
    }

    /// Deletes one hostname (`*` and other reserved characters percent-encoded). Deleting a
    /// hostname that does not exist succeeds.
    pub async fn delete_rule(&self, profile: &str, hostname: &str) -> Result<(), ApiError> {
        let rest = ["rules".to_owned(), hostname.to_owned()];
        let request = Request::new(Endpoint::DeleteRule, profile, &rest);
        self.send(request).await
    }

    // ---- profile settings beyond folders -------------------------------------------------

    /// `GET /profiles/{p}/filters`: one row per native filter family.
    pub async fn list_filters(&self, profile: &str) -> Result<Vec<RemoteFilter>, ApiError> {
        let request = Request::new(Endpoint::ListFilters, profile, &["filters".to_owned()]);
        self.fetch(request, settings_wire::filters).await
    }

    /// `GET /profiles/{p}/filters/external`: the third-party lists (`x-` PKs, no levels).
    pub async fn list_external_filters(
        &self,
        profile: &str,
    ) -> Result<Vec<RemoteFilter>, ApiError> {
        let rest = ["filters".to_owned(), "external".to_owned()];
        let request = Request::new(Endpoint::ListExternalFilters, profile, &rest);
        self.fetch(request, settings_wire::filters).await
    }

    /// `PUT /profiles/{p}/filters/filter/{name}` with `status` 1 or 0; `name` is a family, a
    /// level or an `x-` PK. `Ok(Some(map))`: the answer's enabled filters (family or `x-` PK ->
    /// its level, if any), empty when none is left; `Ok(None)`: the answer held no such map.
    pub async fn set_filter(
        &self,
        profile: &str,
        name: &str,
        enabled: bool,
    ) -> Result<Option<BTreeMap<String, Option<String>>>, ApiError> {
        let rest = ["filters".to_owned(), "filter".to_owned(), name.to_owned()];
        let form = Form::status(enabled);
        let request = Request::new(Endpoint::SetFilter, profile, &rest).with_form(form);
        self.write(request, settings_wire::enabled_filters).await
    }

    /// `PUT /profiles/{p}/filters` with JSON `{"filters": [{"filter": ..., "status": ...}]}`: several
    /// filters in one write, applied in order. Answers as [`Client::set_filter`]; an empty list
    /// sends nothing and is `Ok(None)`.
    pub async fn set_filters(
        &self,
        profile: &str,
        filters: &[(String, bool)],
    ) -> Result<Option<BTreeMap<String, Option<String>>>, ApiError> {
        if filters.is_empty() {
            return Ok(None);
        }
        let entries: Vec<Value> = filters
            .iter()
            .map(|(name, enabled)| json!({"filter": name, "status": u8::from(*enabled)}))
            .collect();
        // Observed: the batch takes a JSON body (form keys would need `filters[N][...]`).
        let request = Request::new(Endpoint::SetFilters, profile, &["filters".to_owned()])
            .with_json(&json!({ "filters": entries }));
        self.write(request, settings_wire::enabled_filters).await
    }

    /// `GET /profiles/{p}/services`: only services that have a rule, disabled ones included.
    pub async fn list_services(&self, profile: &str) -> Result<Vec<RemoteService>, ApiError> {
        let request = Request::new(Endpoint::ListServices, profile, &["services".to_owned()]);
        self.fetch(request, settings_wire::services).await
    }

    /// `GET /services/categories`: the categories' PKs.
    pub async fn service_categories(&self) -> Result<Vec<String>, ApiError> {
        let request = Request::global(Endpoint::ServiceCategories, &["services", "categories"]);
        self.fetch(request, settings_wire::categories).await
    }

    /// `GET /services/categories/{category}`: the PKs of the services in it.
    pub async fn category_services(&self, category: &str) -> Result<Vec<String>, ApiError> {
        let segments = ["services", "categories", category];
        let request = Request::global(Endpoint::CategoryServices, &segments);
        self.fetch(request, settings_wire::category_services).await
    }

    /// `PUT /profiles/{p}/services/{service}`: creates or updates the service's rule. Sends `do`
    /// and `status` always, `via` and `via_v6` when the action has them: whether an omitted field
    /// is kept is unknown. `Ok(Some(action))`: the answer's echo; `Ok(None)`: no readable echo.
    pub async fn set_service(
        &self,
        profile: &str,
        service: &str,
        action: &RuleAction,
    ) -> Result<Option<RuleAction>, ApiError> {
        let rest = ["services".to_owned(), service.to_owned()];
        let form = Form::rule(action, None);
        let request = Request::new(Endpoint::SetService, profile, &rest).with_form(form);
        self.write(request, settings_wire::service_echo).await
    }

    /// `GET /profiles/{p}/default`: the profile's default rule.
    pub async fn get_default(&self, profile: &str) -> Result<RuleAction, ApiError> {
        let request = Request::new(Endpoint::GetDefault, profile, &["default".to_owned()]);
        self.fetch(request, settings_wire::default_rule).await
    }

    /// `PUT /profiles/{p}/default`: sends `do` and `status` always and `via` when the action has
    /// one (whether omitted fields are kept is unknown); the default rule has no `via_v6`.
    pub async fn set_default(
        &self,
        profile: &str,
        action: &RuleAction,
    ) -> Result<Option<RuleAction>, ApiError> {
        let form = Form::default_rule(action);
        let request =
            Request::new(Endpoint::SetDefault, profile, &["default".to_owned()]).with_form(form);
        self.write(request, settings_wire::default_echo).await
    }

    /// `GET /profiles/options`: every option a profile can set.
    pub async fn option_catalogue(&self) -> Result<Vec<OptionInfo>, ApiError> {
        let request = Request::global(Endpoint::OptionCatalogue, &["profiles", "options"]);
        self.fetch(request, settings_wire::option_catalogue).await
    }

    /// `GET /profiles/{p}/options`: the options set, PK -> value text.
    pub async fn list_options(&self, profile: &str) -> Result<BTreeMap<String, String>, ApiError> {
        let request = Request::new(Endpoint::ListOptions, profile, &["options".to_owned()]);
        self.fetch(request, settings_wire::options).await
    }

    /// `PUT /profiles/{p}/options/{name}`: `Some(value)` sets it (`status=1&value=...`), `None`
    /// unsets it (`status=0`). `Ok(Some(map))`: the answer's options as PK -> value text (`"0"`
    /// after an unset); `Ok(None)`: no readable answer.
    pub async fn set_option(
        &self,
        profile: &str,
        name: &str,
        value: Option<&str>,
    ) -> Result<Option<BTreeMap<String, String>>, ApiError> {
        let rest = ["options".to_owned(), name.to_owned()];
        let form = Form::option(value);
        let request = Request::new(Endpoint::SetOption, profile, &rest).with_form(form);
        self.write(request, settings_wire::option_echo).await
    }

    /// One request exactly as given: no batch limit, no retry, not counted in [`Client::stats`],
    /// but paced. For `probe`, which must send what the typed methods refuse (e.g. 1,000 hostnames
    /// in one POST). `path` is below the base URL, segments not yet percent-encoded.
    pub async fn raw(
        &self,
        method: reqwest::Method,
        path: &[String],
        form: Option<String>,
    ) -> Result<RawAnswer, ApiError> {
        let url = self.url(path);
        let call = Call {
            method: "RAW",
            route: "RAW",
            url: url.to_string(),
            profile: None,
        };
        let _in_flight = self.admit().await;
        let method_name = method.to_string();
        let mut builder = self.shared.http.request(method, url.clone());
        builder = builder.bearer_auth(self.shared.token.expose());
        if let Some(form) = form {
            builder = builder
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(form);
        }
        let started = Instant::now();
        let response = match builder.send().await {
            Ok(response) => response,
            Err(error) => {
                let reason = transport_reason(error);
                self.log_request(&method_name, &url, Reply::Nothing(&reason), started, 0);
                return Err(ApiError::Connection {
                    call,
                    attempts: 1,
                    reason,
                });
            }
        };
        let status = response.status().as_u16();
        self.log_request(&method_name, &url, Reply::Status(status), started, 0);
        let body = response
            .bytes()
            .await
            .map_err(|error| ApiError::Connection {
                call,
                attempts: 1,
                reason: transport_reason(error),
            })?;
        let envelope = serde_json::from_slice(&body).unwrap_or(Value::Null);
        Ok(RawAnswer { status, envelope })
    }

    /// A snapshot of the calls made so far by this client and its clones, with its pacing.
    pub fn stats(&self) -> CallStats {
        let mut stats = self.shared.stats.snapshot();
        stats.set_pacing(self.shared.pacer.figures());
        stats
    }

    fn check_batch(
        &self,
        request: &Request,
        hostnames: &[impl AsRef<str>],
    ) -> Result<(), ApiError> {
        if hostnames.len() <= MAX_HOSTNAMES_PER_REQUEST {
            return Ok(());
        }
        Err(ApiError::TooManyHostnames {
            call: self.call(request, &self.url(&request.segments)),
            count: hostnames.len(),
            max: MAX_HOSTNAMES_PER_REQUEST,
        })
    }

    fn created_folder_missing(&self, profile: &str, name: &str) -> ApiError {
        let request = Request::new(Endpoint::CreateFolder, profile, &["groups".to_owned()]);
        ApiError::InvalidResponse {
            call: self.call(&request, &self.url(&request.segments)),
            status: 200,
            reason: format!("the answer does not hold the new folder `{name}`"),
        }
    }

    /// Runs the request and decodes its `body` with `convert`.
    async fn fetch<T>(
        &self,
        request: Request,
        convert: impl FnOnce(&Value) -> Result<T, String>,
    ) -> Result<T, ApiError> {
        let url = self.url(&request.segments);
        let call = self.call(&request, &url);
        let body = self.execute(&request, &url, &call).await?;
        convert(&body).map_err(|reason| ApiError::InvalidResponse {
            call,
            status: 200,
            reason,
        })
    }

    /// Runs a write and reads what its answer says with `read`; an answer it cannot read is `None`,
    /// never an error: the write itself succeeded.
    async fn write<T>(
        &self,
        request: Request,
        read: impl FnOnce(&Value) -> Option<T>,
    ) -> Result<Option<T>, ApiError> {
        let url = self.url(&request.segments);
        let call = self.call(&request, &url);
        let body = self.execute(&request, &url, &call).await?;
        Ok(read(&body))
    }

    /// Runs a request whose answer carries nothing needed.
    async fn send(&self, request: Request) -> Result<(), ApiError> {
        let url = self.url(&request.segments);
        let call = self.call(&request, &url);
        self.execute(&request, &url, &call).await.map(drop)
    }

    /// The retry loop. Hand-written (see `retry.rs` for why not `backon`).
    async fn execute(&self, request: &Request, url: &Url, call: &Call) -> Result<Value, ApiError> {
        let inner = &self.shared;
        let idempotent = request.endpoint.is_idempotent();
        let mut retries = 0;
        let mut outcome_unknown_before = false;
        loop {
            let failure = match self.attempt(request, url, call, retries).await {
                Ok(body) => return Ok(body),
                Err(failure) => failure,
            };
            if outcome_unknown_before
                && request.endpoint == Endpoint::DeleteFolder
                && failure.is_not_found()
            {
                // An earlier attempt whose answer was lost did delete the folder.
                return Ok(Value::Null);
            }
            if outcome_unknown_before && request.endpoint.is_settings_write() {
                // Unknown: a settings write that changes nothing may be refused with 40003, as the
                // repeat of one that went through would be.
                if let Failure::Final(ApiError::Rejected { message, .. }) = &failure {
                    return Err(ApiError::RepeatRefused {
                        call: call.clone(),
                        message: message.clone(),
                    });
                }
            }
            if !failure.may_retry(idempotent) || retries >= inner.max_retries {
                return Err(failure.into_error(
                    call.clone(),
                    retries + 1,
                    idempotent,
                    inner.timeout,
                ));
            }
            if let Some(asked) = failure
                .retry_after()
                .filter(|asked| *asked > MAX_RETRY_AFTER)
            {
                return Err(ApiError::WaitTooLong {
                    call: call.clone(),
                    seconds: asked.as_secs(),
                    max: MAX_RETRY_AFTER.as_secs(),
                });
            }
            outcome_unknown_before |= failure.outcome_unknown();
            self.pause_before_retry(retries, &failure).await;
            retries += 1;
            inner.stats.retry();
        }
    }

    /// Full-jitter backoff, at least the server's `Retry-After`. After a 429 the pacing controller
    /// already holds every request of this token for `Retry-After` and has cut the rate.
    async fn pause_before_retry(&self, retries: u32, failure: &Failure) {
        let wait =
            self.shared
                .backoff
                .wait(retries, failure.retry_after(), &mut rand::thread_rng());
        tokio::time::sleep(wait).await;
    }

    /// One HTTP attempt (`retry` attempts of the call came before it): waits for pacing, sends,
    /// reads the answer, counts it, tells the pacing controller what the answer said, and the
    /// request log what happened.
    async fn attempt(
        &self,
        request: &Request,
        url: &Url,
        call: &Call,
        retry: u32,
    ) -> Result<Value, Failure> {
        let inner = &self.shared;
        let (slot, admission) = self.admit().await;
        inner.stats.attempt(request.endpoint);
        let started = Instant::now();
        let (status, result) = self.send_once(request, url, call).await;
        if self.shared.request_log.is_some() {
            let reason = result.as_ref().err().map(no_answer_reason);
            let reply = match status {
                Some(status) => Reply::Status(status),
                None => Reply::Nothing(reason.as_deref().unwrap_or("")),
            };
            let method = request.endpoint.method_name();
            self.log_request(method, url, reply, started, retry);
        }
        inner.pacer.feedback(&admission, feedback_of(&result));
        if matches!(result, Err(Failure::RateLimited { .. })) {
            inner.stats.rate_limited();
        }
        drop((admission, slot));
        result
    }

    /// Sends the request and reads its answer; the HTTP status, when one came back.
    async fn send_once(
        &self,
        request: &Request,
        url: &Url,
        call: &Call,
    ) -> (Option<u16>, Result<Value, Failure>) {
        let inner = &self.shared;
        let mut builder = inner
            .http
            .request(request.endpoint.method(), url.clone())
            .bearer_auth(inner.token.expose());
        if let Some(body) = &request.body {
            builder = builder
                .header(CONTENT_TYPE, body.content_type())
                .body(body.text().to_owned());
        }
        match builder.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                (Some(status), self.read_answer(response, call).await)
            }
            Err(error) => (None, Err(Failure::from_transport(error))),
        }
    }

    /// The answer's envelope, or why it does not count as a success.
    async fn read_answer(
        &self,
        response: reqwest::Response,
        call: &Call,
    ) -> Result<Value, Failure> {
        let status = response.status().as_u16();
        if response.status().is_redirection() {
            let location = header_text(response.headers(), LOCATION);
            return Err(Failure::Final(ApiError::Redirected {
                call: call.clone(),
                status,
                location: location.unwrap_or_else(|| "no Location header".to_owned()),
            }));
        }
        let retry_after = header_text(response.headers(), RETRY_AFTER)
            .and_then(|value| parse_retry_after(&value, SystemTime::now()));
        let content_type = header_text(response.headers(), CONTENT_TYPE);
        let body = read_capped(response).await?;
        let answer = envelope::read(status, content_type.as_deref(), &body);
        Failure::from_answer(answer, retry_after, call)
    }

    fn url(&self, segments: &[String]) -> Url {
        base_url::join(&self.shared.base_url, segments)
    }

    /// Tells the request log, if any, of one attempt. The path, not the URL: ids, never the token.
    fn log_request(&self, method: &str, url: &Url, reply: Reply<'_>, started: Instant, retry: u32) {
        if let Some(log) = &self.shared.request_log {
            log.hear(&RequestRecord {
                method,
                path: url.path(),
                reply,
                elapsed: started.elapsed(),
                retry,
            });
        }
    }

    fn call(&self, request: &Request, url: &Url) -> Call {
        Call {
            method: request.endpoint.method_name(),
            route: request.endpoint.route(),
            url: url.to_string(),
            profile: request.profile.clone(),
        }
    }
}

/// Why an attempt got no HTTP status, in a few words (only failures before a status have none).
fn no_answer_reason(failure: &Failure) -> String {
    match failure {
        Failure::NotSent(reason) => format!("not sent: {reason}"),
        Failure::Timeout => "timed out".to_owned(),
        Failure::Lost(reason) => format!("connection lost: {reason}"),
        _ => "failed".to_owned(),
    }
}

/// What the pacing controller learns from an attempt. A `Retry-After` past [`MAX_RETRY_AFTER`]
/// ends the call with an error, so it is not held for: the controller holds its default instead.
fn feedback_of(result: &Result<Value, Failure>) -> Feedback {
    match result {
        Ok(_) => Feedback::Success,
        Err(Failure::RateLimited { retry_after }) => {
            Feedback::RateLimited(retry_after.filter(|asked| *asked <= MAX_RETRY_AFTER))
        }
        Err(Failure::NotSent(_) | Failure::Timeout | Failure::Lost(_)) => Feedback::NoAnswer,
        Err(_) => Feedback::Answered,
    }
}

/// The body, refused past [`MAX_RESPONSE_BYTES`] (by `Content-Length` before reading, or while
/// reading when there is none).
async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, Failure> {
    let status = response.status().as_u16();
    let too_large = || Failure::Unreadable {
        status,
        reason: format!(
            "the answer is larger than {} MiB",
            MAX_RESPONSE_BYTES / (1024 * 1024)
        ),
    };
    if response
        .content_length()
        .is_some_and(|length| length > MAX_RESPONSE_BYTES as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    loop {
        let chunk = response.chunk().await.map_err(|error| {
            // The status line came, the body did not: the request reached the server.
            match Failure::from_transport(error) {
                Failure::NotSent(reason) => Failure::Lost(reason),
                other => other,
            }
        })?;
        let Some(chunk) = chunk else {
            return Ok(body);
        };
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
}

fn folder_path(pk: FolderPk) -> [String; 2] {
    ["groups".to_owned(), pk.to_string()]
}

fn header_text(headers: &HeaderMap, name: reqwest::header::HeaderName) -> Option<String> {
    let value = headers.get(name)?.to_str().ok()?;
    Some(value.to_owned())
}

fn default_headers(org_id: Option<&str>) -> Result<HeaderMap, ApiError> {
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    if let Some(org_id) = org_id {
        let value = HeaderValue::from_str(org_id).map_err(|_| {
            ApiError::Setup(format!("the org id `{org_id}` is not a valid header value"))
        })?;
        headers.insert("X-Force-Org-Id", value);
    }
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str) -> Client {
        let config = ClientConfig::new(base.parse().unwrap(), Token::new("s3cret-token"));
        Client::new(config).unwrap()
    }

    #[test]
    fn plain_http_only_to_loopback() {
        for ok in [
            "http://localhost:1",
            "http://[::1]:1",
            "https://api.controld.com",
        ] {
            let config = ClientConfig::new(ok.parse().unwrap(), Token::new("t"));
            assert!(Client::new(config).is_ok(), "{ok}");
        }
        let config = ClientConfig::new("http://api.controld.com".parse().unwrap(), Token::new("t"));
        let error = Client::new(config).unwrap_err().to_string();
        assert!(
            error.contains("plain http is only allowed to a loopback"),
            "{error}"
        );
    }

    #[test]
    fn credentials_in_the_url_are_refused_without_being_printed() {
        let url = "https://user:hunter2@api.controld.com".parse().unwrap();
        let error = Client::new(ClientConfig::new(url, Token::new("t"))).unwrap_err();
        let text = format!("{error} {error:?}");
        assert!(text.contains("holds credentials"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }

    #[test]
    fn debug_never_shows_the_token() {
        let client = client("https://api.controld.com");
        assert!(!format!("{client:?}").contains("s3cret"));
    }

    #[tokio::test]
    async fn too_many_hostnames_is_refused_before_sending() {
        let client = client("http://127.0.0.1:9");
        let hostnames: Vec<String> = (0..=MAX_HOSTNAMES_PER_REQUEST)
            .map(|n| format!("h{n}.example"))
            .collect();
        let error = client
            .create_rules("p1", None, &RuleAction::block(), &hostnames)
            .await
            .unwrap_err();
        assert!(matches!(
            error,
            ApiError::TooManyHostnames { count: 501, .. }
        ));
        assert!(error
            .to_string()
            .contains("501 hostnames in one request, at most 500"));
        assert_eq!(client.stats().total, 0);
    }

    #[tokio::test]
    async fn empty_batches_send_nothing() {
        let client = client("http://127.0.0.1:9");
        client
            .update_rules("p1", None, &RuleAction::block(), &[] as &[&str])
            .await
            .unwrap();
        assert_eq!(client.stats().total, 0);
    }
}
