//! Request bodies as the real server sees them: form bodies (with PHP-style array keys and the
//! silent variable limit) and JSON bodies, reduced to scalar fields plus the `hostnames` array.

use std::collections::HashMap;

use serde_json::Value;

use crate::api_error::ApiError;
use crate::behaviour::Behaviour;

/// The server keeps this many form variables, in body order, and silently drops the rest.
pub const MAX_FORM_VARIABLES: usize = 1_001;

/// A form body with this many `hostnames` variables or more is refused outright.
pub const REFUSED_HOSTNAME_VARIABLES: usize = 1_500;

const HOSTNAMES: &str = "hostnames";

/// What a write request carried.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Body {
    scalars: HashMap<String, String>,
    hostnames: Hostnames,
    /// A JSON body kept whole, for the writes whose JSON nests arrays of objects.
    nested: Option<serde_json::Map<String, Value>>,
}

/// The `hostnames` field: absent, a proper array, or a bare (non-array) key.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) enum Hostnames {
    #[default]
    Absent,
    Array(Vec<String>),
    Bare,
}

impl Body {
    /// Parses a JSON body when the content type says so, else a form body.
    #[cfg(test)]
    pub(crate) fn parse(content_type: Option<&str>, bytes: &[u8]) -> Result<Body, ApiError> {
        Self::parse_as(content_type, bytes, &Behaviour::default())
    }

    /// [`Body::parse`] with the knobs for what is unknown about body parsing.
    pub(crate) fn parse_as(
        content_type: Option<&str>,
        bytes: &[u8],
        behaviour: &Behaviour,
    ) -> Result<Body, ApiError> {
        if is_json(content_type) {
            let limit = behaviour.json_truncated.then_some(MAX_FORM_VARIABLES);
            parse_json(bytes, limit)
        } else {
            parse_form(bytes, behaviour.refuse_form_variables_over)
        }
    }

    /// For writes whose JSON nests arrays of objects (the batch filter write): a JSON body is
    /// kept whole (see [`Body::nested`]); a form body is parsed as usual, its nested keys such
    /// as `filters[0][filter]` staying scalars (see [`Body::scalars`]).
    pub(crate) fn parse_nested(
        content_type: Option<&str>,
        bytes: &[u8],
        behaviour: &Behaviour,
    ) -> Result<Body, ApiError> {
        if !is_json(content_type) {
            return parse_form(bytes, behaviour.refuse_form_variables_over);
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Body::default());
        }
        match serde_json::from_slice(bytes) {
            Ok(Value::Object(fields)) => Ok(Body {
                nested: Some(fields),
                ..Body::default()
            }),
            Ok(_) => Err(ApiError::bad_request(
                "Invalid JSON body: expected an object",
            )),
            Err(error) => Err(ApiError::bad_request(format!("Invalid JSON body: {error}"))),
        }
    }

    /// The whole JSON object, when parsed with [`Body::parse_nested`].
    pub(crate) fn nested(&self) -> Option<&serde_json::Map<String, Value>> {
        self.nested.as_ref()
    }

    /// Every scalar field, in no particular order.
    pub(crate) fn scalars(&self) -> impl Iterator<Item = (&str, &str)> {
        self.scalars
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_str()))
    }

    /// A scalar field; an empty value counts as absent.
    pub(crate) fn scalar(&self, name: &str) -> Option<&str> {
        self.scalars
            .get(name)
            .map(String::as_str)
            .filter(|value| !value.is_empty())
    }

    pub(crate) fn hostnames(&self) -> &Hostnames {
        &self.hostnames
    }
}

fn is_json(content_type: Option<&str>) -> bool {
    content_type
        .map(|value| {
            value
                .trim()
                .to_ascii_lowercase()
                .starts_with("application/json")
        })
        .unwrap_or(false)
}

/// How a form key relates to the `hostnames` array.
enum Key<'a> {
    /// `hostnames[]`
    Append,
    /// `hostnames[N]` (any text between the brackets is an index)
    Indexed(&'a str),
    /// `hostnames` with no brackets
    Bare,
    Other,
}

fn classify(key: &str) -> Key<'_> {
    let Some(rest) = key.strip_prefix(HOSTNAMES) else {
        return Key::Other;
    };
    if rest.is_empty() {
        return Key::Bare;
    }
    match rest.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        Some("") => Key::Append,
        Some(index) => Key::Indexed(index),
        None => Key::Other,
    }
}

fn parse_form(bytes: &[u8], refuse_over: Option<usize>) -> Result<Body, ApiError> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(bytes).into_owned().collect();
    if let Some(limit) = refuse_over.filter(|limit| pairs.len() > *limit) {
        return Err(ApiError::bad_request(format!(
            "Too many input variables ({} > {limit})",
            pairs.len()
        )));
    }
    let hostname_variables = pairs
        .iter()
        .filter(|(key, _)| !matches!(classify(key), Key::Other))
        .count();
    // The real server fails bodies this large outright instead of truncating them.
    if hostname_variables >= REFUSED_HOSTNAME_VARIABLES {
        return Err(ApiError::bad_request(format!(
            "Too many hostnames in one request ({hostname_variables})"
        )));
    }
    let mut body = Body::default();
    let mut array = IndexedArray::default();
    let mut bare = false;
    // The real server (PHP max_input_vars) keeps only the first 1,001 variables and drops the rest silently.
    for (key, value) in pairs.into_iter().take(MAX_FORM_VARIABLES) {
        match classify(&key) {
            Key::Append => array.push(value),
            Key::Indexed(index) => array.set(index, value),
            Key::Bare => bare = true,
            Key::Other => {
                body.scalars.insert(key, value);
            }
        }
    }
    body.hostnames = if bare {
        Hostnames::Bare
    } else if array.is_empty() {
        Hostnames::Absent
    } else {
        Hostnames::Array(array.into_values())
    };
    Ok(body)
}

/// A PHP-style array: `[]` appends, `[N]` sets (a repeated index overwrites in place).
#[derive(Default)]
struct IndexedArray {
    values: Vec<String>,
    positions: HashMap<String, usize>,
    next_index: u64,
}

impl IndexedArray {
    fn push(&mut self, value: String) {
        let index = self.next_index.to_string();
        self.set(&index, value);
    }

    fn set(&mut self, index: &str, value: String) {
        if let Ok(number) = index.parse::<u64>() {
            self.next_index = self.next_index.max(number + 1);
        }
        match self.positions.get(index) {
            Some(&position) => self.values[position] = value,
            None => {
                self.positions.insert(index.to_string(), self.values.len());
                self.values.push(value);
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    fn into_values(self) -> Vec<String> {
        self.values
    }
}

/// `limit`: cut after this many variables (each scalar and each hostname counts one, in key order).
fn parse_json(bytes: &[u8], limit: Option<usize>) -> Result<Body, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Body::default());
    }
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|error| ApiError::bad_request(format!("Invalid JSON body: {error}")))?;
    let Value::Object(fields) = value else {
        return Err(ApiError::bad_request(
            "Invalid JSON body: expected an object",
        ));
    };
    let mut body = Body::default();
    let mut left = limit.unwrap_or(usize::MAX);
    for (key, value) in fields {
        if left == 0 {
            break;
        }
        if key == HOSTNAMES {
            let mut hostnames = json_hostnames(value)?;
            if let Hostnames::Array(items) = &mut hostnames {
                items.truncate(left);
                left -= items.len();
            }
            body.hostnames = hostnames;
        } else if let Some(text) = json_scalar(&key, value)? {
            body.scalars.insert(key, text);
            left -= 1;
        }
    }
    Ok(body)
}

fn json_hostnames(value: Value) -> Result<Hostnames, ApiError> {
    let Value::Array(items) = value else {
        return Err(ApiError::bad_request("hostnames must be an array"));
    };
    let mut hostnames = Vec::with_capacity(items.len());
    for item in items {
        match json_scalar(HOSTNAMES, item)? {
            Some(text) => hostnames.push(text),
            None => return Err(ApiError::bad_request("hostnames must not contain null")),
        }
    }
    Ok(Hostnames::Array(hostnames))
}

/// A JSON scalar as the text a form would have carried; `null` is absent.
fn json_scalar(key: &str, value: Value) -> Result<Option<String>, ApiError> {
    match value {
        Value::Null => Ok(None),
        Value::String(text) => Ok(Some(text)),
        Value::Number(number) => Ok(Some(number.to_string())),
        Value::Bool(flag) => Ok(Some(if flag { "1" } else { "0" }.to_string())),
        Value::Array(_) | Value::Object(_) => {
            Err(ApiError::bad_request(format!("Invalid value for {key}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(text: &str) -> Result<Body, ApiError> {
        Body::parse(Some("application/x-www-form-urlencoded"), text.as_bytes())
    }

    fn hostnames_form(count: usize) -> String {
        let mut text = String::from("do=0&status=1");
        for i in 0..count {
            text.push_str(&format!("&hostnames%5B%5D=h{i}.example"));
        }
        text
    }

    #[test]
    fn append_and_indexed_keys_build_arrays() {
        let body = form("do=0&hostnames[]=a&hostnames[]=b").unwrap();
        assert_eq!(
            body.hostnames(),
            &Hostnames::Array(vec!["a".into(), "b".into()])
        );
        let body = form("hostnames[0]=a&hostnames[1]=b&hostnames[0]=c").unwrap();
        assert_eq!(
            body.hostnames(),
            &Hostnames::Array(vec!["c".into(), "b".into()])
        );
        assert_eq!(form("do=0").unwrap().hostnames(), &Hostnames::Absent);
    }

    #[test]
    fn bare_key_is_not_an_array() {
        assert_eq!(
            form("hostnames=a&hostnames=b").unwrap().hostnames(),
            &Hostnames::Bare
        );
    }

    #[test]
    fn form_keeps_only_the_first_1001_variables() {
        let body = form(&hostnames_form(1_000)).unwrap();
        let Hostnames::Array(kept) = body.hostnames() else {
            panic!("expected an array");
        };
        assert_eq!(kept.len(), 999);
        assert_eq!(body.scalar("do"), Some("0"));
    }

    #[test]
    fn form_with_1500_hostnames_is_refused() {
        assert!(form(&hostnames_form(1_499)).is_ok());
        assert_eq!(form(&hostnames_form(1_500)).unwrap_err().code, 40003);
    }

    #[test]
    fn json_bodies_are_not_truncated() {
        let names: Vec<String> = (0..1_200).map(|i| format!("h{i}.example")).collect();
        let text = serde_json::json!({"do": 0, "status": 1, "hostnames": names}).to_string();
        let body = Body::parse(Some("application/json"), text.as_bytes()).unwrap();
        assert_eq!(body.scalar("status"), Some("1"));
        assert!(matches!(body.hostnames(), Hostnames::Array(v) if v.len() == 1_200));
        let bare = Body::parse(Some("application/json"), br#"{"hostnames": "a"}"#);
        assert_eq!(bare.unwrap_err().message, "hostnames must be an array");
    }
}
