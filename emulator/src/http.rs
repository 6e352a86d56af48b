//! The HTTP face: admin endpoints, static lists, and the API pipeline
//! (count -> latency -> rate limit -> auth -> fault -> change -> answer).

use std::sync::Arc;

use axum::body::Body as HttpBody;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::Router;
use serde_json::{json, Value};

use crate::api_error::{self, ApiError};
use crate::dump::Dump;
use crate::envelope;
use crate::faults::Fault;
use crate::form::Body;
use crate::limiter::retry_after_secs;
use crate::lists;
use crate::route::Route;
use crate::shared::Shared;

/// Large enough for any real request (1,500 hostnames of 253 characters), small enough to be safe.
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

const ADMIN_PREFIX: &str = "/_emulator/";

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let path = request.uri().path().to_string();
    if let Some(action) = path.strip_prefix(ADMIN_PREFIX) {
        return admin(&shared, request.method().clone(), action, request).await;
    }
    if let Some(name) = path.strip_prefix(lists::PREFIX) {
        return shared.lists.serve(name, request.headers()).await;
    }
    api(&shared, request).await
}

async fn api(shared: &Shared, request: Request) -> Response {
    let route = Route::parse(request.method(), request.uri().path());
    shared.record(request.method().as_str(), &route);
    let _in_flight = shared.in_flight();
    if !shared.latency.is_zero() {
        tokio::time::sleep(shared.latency).await;
    }
    let presented = presented_token(request.headers());
    if let Err(wait) = shared.take_token(presented.as_deref()) {
        let error = ApiError::new(api_error::RATE_LIMITED, "Too many requests, slow down.");
        return envelope::rate_limited(&error, retry_after_secs(wait));
    }
    if route.needs_token() {
        if let Err(error) = authenticate(&shared.tokens, presented.as_deref()) {
            return envelope::failure(&error);
        }
    }
    let content_type = header_text(request.headers(), header::CONTENT_TYPE);
    let bytes = read_body(request.into_body()).await;
    let behaviour = &shared.behaviour;
    let parse = match route.has_nested_body() {
        true => Body::parse_nested,
        false => Body::parse_as,
    };
    let body = bytes.and_then(|bytes| parse(content_type.as_deref(), &bytes, behaviour));
    if matches!(route, Route::ImportFolders { .. }) {
        // Observed: `groups/import` answers 500 with an empty JSON body.
        return envelope::server_error_empty();
    }
    let fault = shared.decide_fault(&route);
    if fault == Fault::Before {
        return envelope::server_error_empty();
    }
    let outcome = shared.execute(&route, body);
    if fault == Fault::After {
        return envelope::bad_gateway_html();
    }
    match outcome {
        Ok(answer) => envelope::success(answer),
        Err(error) => envelope::failure(&error),
    }
}

/// Control D answers auth failures with HTTP 400 / 40001, not 401.
fn authenticate(tokens: &[String], presented: Option<&str>) -> Result<(), ApiError> {
    match presented {
        None => Err(ApiError::new(api_error::AUTH, "No session token provided")),
        Some(presented) if tokens.iter().any(|token| token == presented) => Ok(()),
        Some(_) => Err(ApiError::new(
            api_error::AUTH,
            "Invalid session, please login again.",
        )),
    }
}

/// The bearer token of a request, if it presents one.
fn presented_token(headers: &HeaderMap) -> Option<String> {
    header_text(headers, header::AUTHORIZATION)
        .and_then(|value| value.strip_prefix("Bearer ").map(|t| t.trim().to_string()))
        .filter(|presented| !presented.is_empty())
}

async fn read_body(body: HttpBody) -> Result<Vec<u8>, ApiError> {
    axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map(|bytes| bytes.to_vec())
        .map_err(|error| ApiError::bad_request(format!("Unreadable request body: {error}")))
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string)
}

/// Test hooks: no auth, latency, faults or rate limit, and not counted in stats.
async fn admin(shared: &Shared, method: Method, action: &str, request: Request) -> Response {
    match (method, action) {
        (Method::GET, "stats") => ok_json(json!(shared.stats())),
        (Method::POST, "reset-stats") => {
            shared.reset_stats();
            ok_json(json!({"ok": true}))
        }
        (Method::GET, "dump") => ok_json(json!(shared.dump())),
        (Method::POST, "load") => load(shared, request).await,
        _ => envelope::json_response(
            StatusCode::NOT_FOUND,
            &json!({"error": format!("no admin endpoint {action}")}),
        ),
    }
}

async fn load(shared: &Shared, request: Request) -> Response {
    let parsed = read_body(request.into_body()).await.and_then(|bytes| {
        serde_json::from_slice::<Dump>(&bytes)
            .map_err(|error| ApiError::bad_request(format!("not a dump: {error}")))
    });
    match parsed {
        Ok(dump) => {
            shared.load(dump);
            ok_json(json!({"ok": true}))
        }
        Err(error) => {
            envelope::json_response(StatusCode::BAD_REQUEST, &json!({"error": error.message}))
        }
    }
}

fn ok_json(value: Value) -> Response {
    envelope::json_response(StatusCode::OK, &value)
}
