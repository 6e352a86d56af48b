//! The typed fields of folder and rule writes, read from a parsed [`Body`].

use crate::api_error::ApiError;
use crate::form::{Body, Hostnames};

/// `POST`/`PUT /profiles/{p}/groups[/{pk}]`: every field optional here; the store decides what is required.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct FolderFields {
    pub name: Option<String>,
    pub kind: Option<u8>,
    pub status: Option<u8>,
    pub via: Option<String>,
}

/// `POST`/`PUT /profiles/{p}/rules`.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct RuleFields {
    pub kind: Option<u8>,
    pub status: Option<u8>,
    pub via: Option<String>,
    pub via_v6: Option<String>,
    /// `Some(0)` is the root.
    pub group: Option<u64>,
    pub hostnames: Vec<String>,
    /// Beyond the reference: what the dashboard sends and the live service shows on rules.
    pub comment: Option<String>,
    pub ttl: Option<u64>,
}

impl FolderFields {
    pub(crate) fn from_body(body: &Body) -> Result<Self, ApiError> {
        Ok(Self {
            name: body.scalar("name").map(str::to_string),
            kind: action_kind(body)?,
            status: status(body)?,
            via: body.scalar("via").map(str::to_string),
        })
    }
}

impl RuleFields {
    pub(crate) fn from_body(body: &Body) -> Result<Self, ApiError> {
        let hostnames = match body.hostnames() {
            Hostnames::Absent => Vec::new(),
            Hostnames::Array(hostnames) => hostnames.clone(),
            // The real API refuses `hostnames=a` (no brackets) with this message.
            Hostnames::Bare => return Err(ApiError::bad_request("hostnames must be an array")),
        };
        Ok(Self {
            kind: action_kind(body)?,
            status: status(body)?,
            via: body.scalar("via").map(str::to_string),
            via_v6: body.scalar("via_v6").map(str::to_string),
            group: integer(body, "group")?,
            hostnames,
            comment: body.scalar("comment").map(str::to_string),
            ttl: integer(body, "ttl")?,
        })
    }
}

pub(crate) fn action_kind(body: &Body) -> Result<Option<u8>, ApiError> {
    bounded(body, "do", 3)
}

pub(crate) fn status(body: &Body) -> Result<Option<u8>, ApiError> {
    bounded(body, "status", 1)
}

fn bounded(body: &Body, name: &str, max: u8) -> Result<Option<u8>, ApiError> {
    match integer(body, name)? {
        None => Ok(None),
        Some(value) if value <= u64::from(max) => Ok(Some(value as u8)),
        Some(value) => Err(ApiError::bad_request(format!(
            "Invalid value for {name}: {value}"
        ))),
    }
}

fn integer(body: &Body, name: &str) -> Result<Option<u64>, ApiError> {
    body.scalar(name)
        .map(|text| {
            text.trim()
                .parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("Invalid value for {name}: {text}")))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(text: &str) -> Body {
        Body::parse(None, text.as_bytes()).unwrap()
    }

    #[test]
    fn rule_fields_read_scalars_and_hostnames() {
        let fields =
            RuleFields::from_body(&body("do=2&status=0&via=1.2.3.4&group=7&hostnames[]=a"))
                .unwrap();
        assert_eq!(fields.kind, Some(2));
        assert_eq!(fields.status, Some(0));
        assert_eq!(fields.via.as_deref(), Some("1.2.3.4"));
        assert_eq!(fields.group, Some(7));
        assert_eq!(fields.hostnames, vec!["a".to_string()]);
    }

    #[test]
    fn out_of_range_values_are_client_errors() {
        assert_eq!(
            RuleFields::from_body(&body("do=4")).unwrap_err().code,
            40003
        );
        assert_eq!(
            RuleFields::from_body(&body("status=x")).unwrap_err().code,
            40003
        );
        assert_eq!(
            RuleFields::from_body(&body("hostnames=a"))
                .unwrap_err()
                .code,
            40003
        );
    }
}
