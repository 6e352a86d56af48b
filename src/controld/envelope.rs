//! The response envelope: `{"body": ..., "success": bool, "error": {"code": n, "message": s}}`.
//!
//! Outcomes are told apart by HTTP status, `success` and `error.code`, never by message text
//! (messages can be multi-line dumps). Only the first line of a message is kept for users.

use serde_json::Value;

use super::error::{ApiError, Call};

/// What one HTTP answer means, before retry decisions.
#[derive(Debug, PartialEq)]
pub(crate) enum Answer {
    /// `success: true`: the envelope's `body`.
    Success(Value),
    /// HTTP 429: the request was not applied.
    RateLimited,
    /// HTTP 5xx, whatever the body (it may be empty JSON or a proxy's HTML page).
    ServerError {
        status: u16,
        message: Option<String>,
    },
    /// `success: false` with an error code (or an error status without one).
    Failure {
        status: u16,
        code: u32,
        message: String,
    },
    /// Not a Control D envelope at all.
    Invalid { status: u16, reason: String },
}

/// The envelope's parts, read field by field: any field may be absent or of another type than the
/// reference says (an error `date`, a `message` beside `body`) without failing the read.
struct Envelope {
    success: Option<bool>,
    body: Value,
    error: Option<Value>,
    message: Option<Value>,
}

pub(crate) fn read(status: u16, content_type: Option<&str>, body: &[u8]) -> Answer {
    if status == 429 {
        return Answer::RateLimited;
    }
    let envelope = parse(body);
    if status >= 500 {
        let message = envelope.ok().and_then(|envelope| error_message(&envelope));
        return Answer::ServerError { status, message };
    }
    match envelope {
        Ok(envelope) => interpret(status, envelope),
        Err(reason) => Answer::Invalid {
            status,
            reason: describe_unparsable(content_type, body, &reason),
        },
    }
}

fn parse(body: &[u8]) -> Result<Envelope, String> {
    let value: Value = serde_json::from_slice(body).map_err(|error| error.to_string())?;
    let Value::Object(mut fields) = value else {
        return Err("the answer is not a JSON object".to_owned());
    };
    let success = fields.get("success").and_then(flag);
    Ok(Envelope {
        success,
        body: fields.remove("body").unwrap_or(Value::Null),
        error: fields.remove("error").filter(|error| error.is_object()),
        message: fields.remove("message"),
    })
}

/// `true`, or the `1`/`"true"` a loosely typed service might send instead.
fn flag(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(flag) => Some(*flag),
        Value::Number(number) => number.as_u64().map(|n| n != 0),
        Value::String(text) => match text.trim() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn interpret(status: u16, envelope: Envelope) -> Answer {
    let ok_status = (200..300).contains(&status);
    match envelope.success {
        Some(true) if ok_status => Answer::Success(envelope.body),
        None if ok_status && envelope.error.is_none() => Answer::Invalid {
            status,
            reason: "the answer has no `success` field".into(),
        },
        _ => Answer::Failure {
            status,
            code: error_code(&envelope).unwrap_or(u32::from(status) * 100),
            message: error_message(&envelope).unwrap_or_else(|| format!("HTTP {status}")),
        },
    }
}

fn error_code(envelope: &Envelope) -> Option<u32> {
    match envelope.error.as_ref()?.get("code")? {
        Value::Number(number) => number.as_u64().and_then(|code| u32::try_from(code).ok()),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

fn error_message(envelope: &Envelope) -> Option<String> {
    let error_message = envelope.error.as_ref().and_then(|e| e.get("message"));
    [error_message, envelope.message.as_ref()]
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(first_line)
        .find(|line| !line.is_empty())
}

/// The first non-empty line of a message, trimmed and kept short.
pub(crate) fn first_line(message: &str) -> String {
    const MAX_CHARS: usize = 300;
    let line = message.lines().map(str::trim).find(|l| !l.is_empty());
    let line = line.unwrap_or_default();
    match line.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => format!("{}...", &line[..cut]),
        None => line.to_owned(),
    }
}

fn describe_unparsable(content_type: Option<&str>, body: &[u8], parse_error: &str) -> String {
    let content_type = content_type.unwrap_or("no content type");
    let text = String::from_utf8_lossy(body);
    if text.trim().is_empty() {
        return format!("empty body ({content_type}) where a JSON answer was expected");
    }
    if !content_type.contains("json") {
        return format!(
            "expected JSON, got {content_type}: {}",
            first_line(&text.chars().take(120).collect::<String>())
        );
    }
    format!("malformed JSON ({parse_error})")
}

/// The typed error for an API failure answer; codes, not messages, decide the variant.
pub(crate) fn failure_error(call: Call, status: u16, code: u32, message: String) -> ApiError {
    match code {
        // Auth failures come as HTTP 400 with 40001, not as 401.
        40001 => ApiError::Unauthorized {
            call,
            code,
            message,
        },
        40002 => ApiError::MissingParameter {
            call,
            code,
            message,
        },
        40003 => ApiError::Rejected {
            call,
            code,
            message,
        },
        40201 => ApiError::PaymentRequired {
            call,
            code,
            message,
        },
        40401 => ApiError::NotFound {
            call,
            code,
            message,
        },
        _ => by_status(call, status, code, message),
    }
}

fn by_status(call: Call, status: u16, code: u32, message: String) -> ApiError {
    match status {
        401 | 403 => ApiError::Unauthorized {
            call,
            code,
            message,
        },
        402 => ApiError::PaymentRequired {
            call,
            code,
            message,
        },
        404 => ApiError::NotFound {
            call,
            code,
            message,
        },
        _ => ApiError::Unexpected {
            call,
            status,
            code,
            message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const JSON: Option<&str> = Some("application/json");

    fn call() -> Call {
        Call {
            method: "GET",
            route: "GET /profiles/{profile}/groups",
            url: "https://api.controld.com/profiles/p1/groups".into(),
            profile: Some("p1".into()),
        }
    }

    #[test]
    fn success_yields_the_body() {
        let answer = read(200, JSON, br#"{"body":{"groups":[]},"success":true}"#);
        assert_eq!(answer, Answer::Success(json!({"groups": []})));
    }

    #[test]
    fn error_envelope_yields_code_and_first_line() {
        let body = br#"{"body":[],"success":false,"error":{"message":"Custom Rule already exists\nstack: x","code":40003,"date":"2026"}}"#;
        let answer = read(400, JSON, body);
        assert_eq!(
            answer,
            Answer::Failure {
                status: 400,
                code: 40003,
                message: "Custom Rule already exists".into()
            }
        );
    }

    #[test]
    fn empty_json_500_is_a_server_error_not_a_parse_dump() {
        let answer = read(500, JSON, b"");
        assert_eq!(
            answer,
            Answer::ServerError {
                status: 500,
                message: None
            }
        );
    }

    #[test]
    fn html_502_is_a_server_error() {
        let answer = read(502, Some("text/html"), b"<html>Bad Gateway</html>");
        assert!(matches!(answer, Answer::ServerError { status: 502, .. }));
    }

    #[test]
    fn empty_json_200_is_invalid_with_a_clear_reason() {
        let Answer::Invalid { reason, .. } = read(200, JSON, b"") else {
            panic!("expected Invalid");
        };
        assert_eq!(
            reason,
            "empty body (application/json) where a JSON answer was expected"
        );
    }

    #[test]
    fn html_200_is_invalid_and_says_what_came() {
        let Answer::Invalid { reason, .. } = read(200, Some("text/html"), b"<html>login</html>")
        else {
            panic!("expected Invalid");
        };
        assert_eq!(reason, "expected JSON, got text/html: <html>login</html>");
    }

    #[test]
    fn rate_limit_is_recognised_before_the_body() {
        assert_eq!(read(429, None, b"slow down"), Answer::RateLimited);
    }

    #[test]
    fn codes_decide_the_error_kind() {
        let error = |code| failure_error(call(), 400, code, "m".into());
        assert!(error(40001).is_unauthorized());
        assert!(matches!(error(40002), ApiError::MissingParameter { .. }));
        assert!(matches!(error(40003), ApiError::Rejected { .. }));
        assert!(matches!(error(40201), ApiError::PaymentRequired { .. }));
        assert!(error(40401).is_not_found());
        assert!(matches!(error(40099), ApiError::Unexpected { .. }));
    }

    #[test]
    fn a_missing_code_falls_back_to_the_status() {
        let answer = read(404, JSON, br#"{"success":false}"#);
        assert_eq!(
            answer,
            Answer::Failure {
                status: 404,
                code: 40400,
                message: "HTTP 404".into()
            }
        );
        let error = failure_error(call(), 404, 40400, "HTTP 404".into());
        assert!(error.is_not_found());
    }

    #[test]
    fn first_line_trims_and_shortens() {
        assert_eq!(first_line("\n  first \nsecond"), "first");
        assert_eq!(first_line(&"x".repeat(400)).len(), 303);
    }

    #[test]
    fn envelope_fields_of_unexpected_types_do_not_fail_the_read() {
        let body = br#"{"body":[],"success":true,"message":{"text":"ok"},"error":[],"date":1}"#;
        assert_eq!(read(200, JSON, body), Answer::Success(json!([])));
        let body = br#"{"success":false,"error":{"code":"40401","message":7,"date":"2026-06-01"},"message":"No such group exists.\nline two"}"#;
        assert_eq!(
            read(404, JSON, body),
            Answer::Failure {
                status: 404,
                code: 40401,
                message: "No such group exists.".into()
            }
        );
    }

    #[test]
    fn a_successful_delete_with_an_empty_list_body_succeeds() {
        let answer = read(
            200,
            JSON,
            br#"{"body":[],"success":true,"message":"Deleted"}"#,
        );
        assert_eq!(answer, Answer::Success(json!([])));
    }
}
