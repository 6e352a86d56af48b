//! The typed fields of profile-settings writes, read from a parsed [`Body`].

use std::collections::BTreeMap;

use serde_json::Value;

use crate::api_error::ApiError;
use crate::fields::{action_kind, status};
use crate::form::Body;

/// `PUT .../filters/filter/{name}`: `status` (required) and the dashboard's `lvl`; a `do` sent
/// beside them (the dashboard sends `do=0`) is not used: filters only block.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct FilterFields {
    pub status: u8,
    pub level: Option<String>,
}

/// One entry of the batch `PUT .../filters`: `{"filter": ..., "status": ...}`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct BatchEntry {
    pub filter: String,
    pub status: u8,
}

/// `PUT .../services/{service}` and `PUT .../default`.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct ActionFields {
    pub kind: Option<u8>,
    pub status: Option<u8>,
    pub via: Option<String>,
    pub via_v6: Option<String>,
}

/// `PUT .../options/{name}`.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct OptionFields {
    pub status: Option<u8>,
    pub value: Option<String>,
}

impl FilterFields {
    pub(crate) fn from_body(body: &Body) -> Result<Self, ApiError> {
        Ok(Self {
            status: status(body)?.ok_or_else(|| ApiError::missing("status"))?,
            level: body.scalar("lvl").map(str::to_string),
        })
    }
}

impl ActionFields {
    pub(crate) fn from_body(body: &Body) -> Result<Self, ApiError> {
        Ok(Self {
            kind: action_kind(body)?,
            status: status(body)?,
            via: body.scalar("via").map(str::to_string),
            via_v6: body.scalar("via_v6").map(str::to_string),
        })
    }

    pub(crate) fn require_do_and_status(&self) -> Result<(), ApiError> {
        if self.kind.is_none() {
            return Err(ApiError::missing("do"));
        }
        if self.status.is_none() {
            return Err(ApiError::missing("status"));
        }
        Ok(())
    }
}

impl OptionFields {
    pub(crate) fn from_body(body: &Body) -> Result<Self, ApiError> {
        Ok(Self {
            status: status(body)?,
            value: body.scalar("value").map(str::to_string),
        })
    }
}

/// The batch's entries, in order: from a JSON body's `filters` array, or from form keys
/// `filters[N][filter]` and `filters[N][status]` ordered by N.
pub(crate) fn batch_entries(body: &Body) -> Result<Vec<BatchEntry>, ApiError> {
    let raw = match body.nested() {
        Some(fields) => json_entries(fields.get("filters"))?,
        None => form_entries(body),
    };
    if raw.is_empty() {
        return Err(ApiError::missing("filters"));
    }
    raw.into_iter()
        .enumerate()
        .map(|(index, (filter, status))| {
            let status =
                status.ok_or_else(|| ApiError::missing(&format!("filters[{index}][status]")))?;
            Ok(BatchEntry {
                filter: filter.unwrap_or_default(),
                status: entry_status(index, &status)?,
            })
        })
        .collect()
}

type RawEntry = (Option<String>, Option<String>);

fn json_entries(filters: Option<&Value>) -> Result<Vec<RawEntry>, ApiError> {
    let items = match filters {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(ApiError::bad_request("filters must be an array")),
    };
    Ok(items
        .iter()
        .map(|item| (json_text(&item["filter"]), json_text(&item["status"])))
        .collect())
}

/// A JSON scalar as the text a form would have carried; `null`, arrays and objects are absent.
fn json_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(u8::from(*flag).to_string()),
        _ => None,
    }
}

fn form_entries(body: &Body) -> Vec<RawEntry> {
    let mut entries: BTreeMap<u64, RawEntry> = BTreeMap::new();
    for (key, value) in body.scalars() {
        let Some((index, field)) = nested_key(key) else {
            continue;
        };
        let entry = entries.entry(index).or_default();
        match field {
            "filter" => entry.0 = Some(value.to_string()),
            "status" => entry.1 = Some(value.to_string()),
            _ => {}
        }
    }
    entries.into_values().collect()
}

/// `filters[3][status]` -> (3, "status").
fn nested_key(key: &str) -> Option<(u64, &str)> {
    let rest = key.strip_prefix("filters[")?;
    let (index, rest) = rest.split_once("][")?;
    let field = rest.strip_suffix(']')?;
    Some((index.parse().ok()?, field))
}

fn entry_status(index: usize, text: &str) -> Result<u8, ApiError> {
    match text.trim() {
        "0" => Ok(0),
        "1" => Ok(1),
        _ => Err(ApiError::bad_request(format!(
            "Invalid filter status '{text}' at index {index}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::behaviour::Behaviour;

    fn nested(content_type: &str, text: &str) -> Body {
        Body::parse_nested(Some(content_type), text.as_bytes(), &Behaviour::default()).unwrap()
    }

    #[test]
    fn batch_entries_from_json_and_from_form_keys() {
        let json = nested(
            "application/json",
            r#"{"filters": [{"filter": "ads", "status": 1}, {"filter": "porn", "status": "0"}]}"#,
        );
        let form = nested(
            "application/x-www-form-urlencoded",
            "filters[1][filter]=porn&filters[1][status]=0&filters[0][filter]=ads&filters[0][status]=1",
        );
        let expected = vec![
            BatchEntry {
                filter: "ads".into(),
                status: 1,
            },
            BatchEntry {
                filter: "porn".into(),
                status: 0,
            },
        ];
        assert_eq!(batch_entries(&json).unwrap(), expected);
        assert_eq!(batch_entries(&form).unwrap(), expected);
    }

    #[test]
    fn a_batch_without_entries_or_statuses_is_refused() {
        let empty = nested("application/json", r#"{"filters": []}"#);
        assert_eq!(batch_entries(&empty).unwrap_err().code, 40002);
        let no_status = nested("application/json", r#"{"filters": [{"filter": "ads"}]}"#);
        assert_eq!(batch_entries(&no_status).unwrap_err().code, 40002);
        let bad = nested("application/json", r#"{"filters": {"filter": "ads"}}"#);
        assert_eq!(batch_entries(&bad).unwrap_err().code, 40003);
    }
}
