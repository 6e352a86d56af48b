//! The API's JSON envelopes and the deliberately broken answers of fault injection.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use std::time::SystemTime;

use crate::api_error::ApiError;

/// `{"body": ..., "success": true}` with HTTP 200.
pub(crate) fn success(body: Value) -> Response {
    json_response(StatusCode::OK, &json!({"body": body, "success": true}))
}

/// `{"body": [], "success": false, "error": {"message", "code"}}` with the code's HTTP status.
pub(crate) fn failure(error: &ApiError) -> Response {
    let status =
        StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let envelope = json!({
        "body": [],
        "success": false,
        "error": {"date": date_now(), "message": error.message, "code": error.code},
    });
    json_response(status, &envelope)
}

/// The undocumented `error.date` the live service adds; its format is not relied upon.
fn date_now() -> String {
    httpdate::fmt_http_date(SystemTime::now())
}

/// HTTP 429 with `Retry-After` in whole seconds.
pub(crate) fn rate_limited(error: &ApiError, retry_after_secs: u64) -> Response {
    let mut response = failure(error);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
    response
}

/// An injected failure before any change: HTTP 500, `application/json`, empty body.
pub(crate) fn server_error_empty() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, "application/json")],
        "",
    )
        .into_response()
}

/// An injected lost response after the change: what a gateway answers, HTML not JSON.
pub(crate) fn bad_gateway_html() -> Response {
    const PAGE: &str = "<html><head><title>502 Bad Gateway</title></head>\
<body><center><h1>502 Bad Gateway</h1></center></body></html>";
    (
        StatusCode::BAD_GATEWAY,
        [(header::CONTENT_TYPE, "text/html")],
        PAGE,
    )
        .into_response()
}

pub(crate) fn json_response(status: StatusCode, value: &Value) -> Response {
    let body = serde_json::to_vec(value).expect("JSON values always serialise");
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}
