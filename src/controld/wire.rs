//! The JSON shapes inside the envelope's `body`, and their conversion to the shared model.
//!
//! Read field by field from a [`Value`] instead of derived structs, because the live service sends
//! shapes the reference does not promise: numbers as strings, `via` as an integer (`-1` on folders
//! made in the dashboard), absent `do`/`status`/`count`, `body: []` for "nothing" and fields nobody
//! documented (`comment`, `ttl`, `order`, `date`). A field the tool does not use is never looked
//! at, so it can never fail a decode; a field it needs that is unusable fails with one line naming
//! the field and the first 200 characters of the body.

use serde_json::{Map, Value};

use crate::model::{ActionKind, FolderAction, FolderPk, Hostname, RuleAction};

use super::settings_wire;
use super::types::{RemoteProfile, RemoteRule};
use crate::model::RemoteFolder;

/// How much of the body an error message quotes.
const EXCERPT_CHARS: usize = 200;

/// `GET /profiles` -> `body.profiles[]`.
pub(crate) fn profiles(body: &Value) -> Result<Vec<RemoteProfile>, String> {
    let on_error = |problem: String| failure(body, problem);
    items(body, "profiles")
        .map_err(on_error)?
        .iter()
        .enumerate()
        .map(|(index, item)| profile(item, index).map_err(on_error))
        .collect()
}

/// `GET /profiles/{p}/groups` and the answers of folder writes -> `body.groups[]`.
pub(crate) fn folders(body: &Value) -> Result<Vec<RemoteFolder>, String> {
    let on_error = |problem: String| failure(body, problem);
    items(body, "groups")
        .map_err(on_error)?
        .iter()
        .enumerate()
        .map(|(index, item)| folder(item, index).map_err(on_error))
        .collect()
}

/// `GET /profiles/{p}/rules[/{pk}]` -> `body.rules[]`. `listed_folder`: the folder that was
/// listed, used when a rule does not say its own.
pub(crate) fn rules(
    body: &Value,
    listed_folder: Option<FolderPk>,
) -> Result<Vec<RemoteRule>, String> {
    let on_error = |problem: String| failure(body, problem);
    items(body, "rules")
        .map_err(on_error)?
        .iter()
        .enumerate()
        .map(|(index, item)| rule(item, index, listed_folder).map_err(on_error))
        .collect()
}

/// One line: what is wrong, then the start of the body it was found in.
pub(super) fn failure(body: &Value, problem: String) -> String {
    let text = body.to_string();
    let excerpt: String = text.chars().take(EXCERPT_CHARS).collect();
    let more = if text.chars().nth(EXCERPT_CHARS).is_some() {
        "..."
    } else {
        ""
    };
    format!("{problem}; body: {excerpt}{more}")
}

/// The list under `key`. `body: []`, `null` or `{}` (what the API sends for "nothing") is empty.
pub(super) fn items<'a>(body: &'a Value, key: &str) -> Result<&'a [Value], String> {
    match body {
        Value::Null => Ok(&[]),
        Value::Array(items) if items.is_empty() => Ok(&[]),
        Value::Object(fields) => match fields.get(key) {
            None | Some(Value::Null) => Ok(&[]),
            Some(Value::Array(items)) => Ok(items),
            // An object of entries (`{"0": {...}}`) is how some PHP services send arrays.
            Some(Value::Object(_)) => Err(format!("field `{key}` is an object, not a list")),
            Some(other) => Err(format!("field `{key}` is {}, not a list", kind(other))),
        },
        other => Err(format!("the body is {}, not an object", kind(other))),
    }
}

pub(super) fn object<'a>(item: &'a Value, field: &str) -> Result<&'a Map<String, Value>, String> {
    item.as_object()
        .ok_or_else(|| format!("field `{field}` is {}, not an object", kind(item)))
}

fn profile(item: &Value, index: usize) -> Result<RemoteProfile, String> {
    let path = format!("profiles[{index}]");
    let fields = object(item, &path)?;
    let id = text(fields.get("PK")).ok_or_else(|| unusable(&path, "PK", fields.get("PK")))?;
    let counts = fields.get("profile");
    let rule_count = counts
        .and_then(|counts| counts.get("rule"))
        .and_then(|rule| rule.get("count"))
        .and_then(number);
    Ok(RemoteProfile {
        id,
        // Only shown to users: any other type is treated as no name.
        name: text(fields.get("name")).unwrap_or_default(),
        updated: text(fields.get("updated")),
        enabled_rule_count: rule_count,
        settings: settings_wire::signature(counts),
    })
}

fn folder(item: &Value, index: usize) -> Result<RemoteFolder, String> {
    let path = format!("groups[{index}]");
    let fields = object(item, &path)?;
    let pk = fields.get("PK").and_then(number);
    let pk = FolderPk::new(pk.ok_or_else(|| unusable(&path, "PK", fields.get("PK")))?);
    let name =
        text(fields.get("group")).ok_or_else(|| unusable(&path, "group", fields.get("group")))?;
    let action = action_of(fields, &path)?;
    Ok(RemoteFolder {
        pk,
        name,
        action: FolderAction {
            kind: action.kind(&path)?,
            enabled: action.enabled(&path)?,
            via: action.via(),
        },
        // An absent count reads as 0: a folder that holds rules then looks drifted and is read.
        count: fields.get("count").and_then(number).unwrap_or(0),
    })
}

fn rule(item: &Value, index: usize, listed_folder: Option<FolderPk>) -> Result<RemoteRule, String> {
    let path = format!("rules[{index}]");
    let fields = object(item, &path)?;
    // Kept as the server holds it: a PUT or DELETE must name the rule in its stored case.
    let hostname = match fields.get("PK") {
        Some(Value::String(text)) => match Hostname::as_stored(text) {
            Some(hostname) => hostname,
            None => return Err(unusable(&path, "PK", fields.get("PK"))),
        },
        other => return Err(unusable(&path, "PK", other)),
    };
    let path = format!("{path} (`{hostname}`)");
    let action = action_of(fields, &path)?;
    let kind = action.kind(&path)?;
    let kind = kind.ok_or_else(|| format!("{path}: the action has no `do`"))?;
    let folder = match fields.get("group") {
        None | Some(Value::Null) => listed_folder,
        Some(group) => {
            let pk = number(group).ok_or_else(|| unusable(&path, "group", Some(group)))?;
            Some(pk).filter(|pk| *pk != 0).map(FolderPk::new)
        }
    };
    Ok(RemoteRule {
        hostname,
        action: RuleAction {
            kind,
            enabled: action.enabled(&path)?,
            via: action.via(),
            via_v6: action.via_v6(),
        },
        folder,
    })
}

/// The `action` object; absent or `null` is an action with no fields.
pub(super) struct Action<'a>(pub(super) Option<&'a Map<String, Value>>);

fn action_of<'a>(fields: &'a Map<String, Value>, path: &str) -> Result<Action<'a>, String> {
    match fields.get("action") {
        None | Some(Value::Null) => Ok(Action(None)),
        // `[]` is how the API writes an empty object.
        Some(Value::Array(items)) if items.is_empty() => Ok(Action(None)),
        Some(Value::Object(action)) => Ok(Action(Some(action))),
        other => Err(unusable(path, "action", other)),
    }
}

impl Action<'_> {
    fn get(&self, field: &str) -> Option<&Value> {
        self.0
            .and_then(|action| action.get(field))
            .filter(|v| !v.is_null())
    }

    pub(super) fn kind(&self, path: &str) -> Result<Option<ActionKind>, String> {
        let Some(value) = self.get("do") else {
            return Ok(None);
        };
        let code = number(value).ok_or_else(|| unusable(path, "action.do", Some(value)))?;
        let kind = u8::try_from(code).ok().and_then(ActionKind::from_code);
        kind.map(Some)
            .ok_or_else(|| format!("{path}: unknown action code `do: {code}`"))
    }

    /// `status` 0 is disabled, 1 enabled; absent is enabled (the API's default).
    pub(super) fn enabled(&self, path: &str) -> Result<bool, String> {
        let Some(value) = self.get("status") else {
            return Ok(true);
        };
        match value {
            Value::Bool(enabled) => Ok(*enabled),
            other => match number(other) {
                Some(0) => Ok(false),
                Some(1) => Ok(true),
                _ => Err(unusable(path, "action.status", Some(other))),
            },
        }
    }

    /// Kept only when it is a string: dashboard folders carry `via: -1`, meaning "no via".
    pub(super) fn via(&self) -> Option<String> {
        non_empty_string(self.get("via"))
    }

    pub(super) fn via_v6(&self) -> Option<String> {
        non_empty_string(self.get("via_v6"))
    }
}

fn non_empty_string(value: Option<&Value>) -> Option<String> {
    match value {
        Some(Value::String(text)) if !text.is_empty() => Some(text.clone()),
        _ => None,
    }
}

/// A non-negative integer sent as `5`, `"5"` or `5.0`.
pub(super) fn number(value: &Value) -> Option<u64> {
    match value {
        Value::Number(number) => number.as_u64().or_else(|| {
            let float = number.as_f64()?;
            (float >= 0.0 && float.fract() == 0.0 && float <= u64::MAX as f64)
                .then_some(float as u64)
        }),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// A string, or a number written as one (ids and names).
pub(super) fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

pub(super) fn unusable(path: &str, field: &str, value: Option<&Value>) -> String {
    match value {
        None => format!("{path}: field `{field}` is missing"),
        Some(value) => format!("{path}: field `{field}` is unusable ({value})"),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controld::settings_types::SettingsSignature;
    use serde_json::json;

    #[test]
    fn folders_decode_with_optional_do_and_extra_fields() {
        let body = json!({"groups": [
            {"PK": 12, "group": "Ads", "action": {"do": 0, "status": 1}, "count": 3, "extra": true},
            {"PK": "13", "group": "TLDs", "action": {"status": 0}},
            {"PK": 14, "group": "Spoofed", "action": {"do": 2, "status": 1, "via": "1.2.3.4"}, "count": 0}
        ]});
        let folders = folders(&body).unwrap();
        assert_eq!(folders[0].pk, FolderPk::new(12));
        assert_eq!(folders[0].action, FolderAction::of(ActionKind::Block));
        assert_eq!(folders[0].count, 3);
        assert_eq!(folders[1].pk, FolderPk::new(13));
        assert_eq!(folders[1].action.kind, None);
        assert!(!folders[1].action.enabled);
        assert_eq!(folders[2].action.via.as_deref(), Some("1.2.3.4"));
    }

    #[test]
    fn dashboard_folder_with_integer_via_has_no_via() {
        let body = json!({"groups": [
            {"PK": 7, "group": "Mine", "action": {"do": 0, "status": 1, "via": -1}, "count": 2}
        ]});
        let folders = folders(&body).unwrap();
        assert_eq!(folders[0].action, FolderAction::of(ActionKind::Block));
    }

    #[test]
    fn rules_decode_root_and_folder_membership() {
        let body = json!({"rules": [
            {"PK": "a.example", "order": 1, "group": 12, "action": {"do": 1, "status": 1}},
            {"PK": "b.example", "group": 0, "action": {"do": 0, "status": 0}},
            {"PK": "c.example", "action": {"do": 2, "status": 1, "via": "1.1.1.1", "via_v6": "::1"}}
        ]});
        let rules = rules(&body, None).unwrap();
        assert_eq!(rules[0].folder, Some(FolderPk::new(12)));
        assert_eq!(rules[0].action, RuleAction::allow());
        assert_eq!(rules[1].folder, None);
        assert!(!rules[1].action.enabled);
        assert_eq!(rules[2].action.to_string(), "spoof via=1.1.1.1 via_v6=::1");
    }

    #[test]
    fn a_rule_without_group_belongs_to_the_listed_folder() {
        let body = json!({"rules": [{"PK": "a.example", "action": {"do": 0}}]});
        let nine = Some(FolderPk::new(9));
        assert_eq!(rules(&body, nine).unwrap()[0].folder, nine);
    }

    #[test]
    fn unknown_action_code_is_an_error_naming_the_rule_and_quoting_the_body() {
        let body = json!({"rules": [{"PK": "a.example", "action": {"do": 9, "status": 1}}]});
        let error = rules(&body, None).unwrap_err();
        assert_eq!(
            error,
            "rules[0] (`a.example`): unknown action code `do: 9`; body: \
             {\"rules\":[{\"PK\":\"a.example\",\"action\":{\"do\":9,\"status\":1}}]}"
        );
    }

    #[test]
    fn an_unusable_needed_field_names_it_and_quotes_at_most_200_characters() {
        let filler: Vec<Value> = (0..50)
            .map(|n| json!({"PK": n, "group": "x", "count": 0}))
            .collect();
        let mut groups = vec![json!({"PK": {"nested": true}, "group": "Ads"})];
        groups.extend(filler);
        let error = folders(&json!({ "groups": groups })).unwrap_err();
        assert!(
            error.starts_with("groups[0]: field `PK` is unusable ({\"nested\":true}); body: {"),
            "{error}"
        );
        let excerpt = error.split_once("; body: ").unwrap().1;
        assert_eq!(excerpt.chars().count(), 203, "{excerpt}");
        assert!(!error.contains('\n'));
    }

    #[test]
    fn empty_bodies_are_empty_lists() {
        for body in [json!([]), json!(null), json!({}), json!({"rules": null})] {
            assert!(rules(&body, None).unwrap().is_empty(), "{body}");
        }
    }

    #[test]
    fn profiles_decode() {
        let body = json!({"profiles": [{"PK": "abc123def456", "name": "Home", "updated": 1,
            "profile": {"rule": {"count": "5"}}}]});
        assert_eq!(
            profiles(&body).unwrap(),
            [RemoteProfile {
                id: "abc123def456".into(),
                name: "Home".into(),
                updated: Some("1".into()),
                enabled_rule_count: Some(5),
                settings: SettingsSignature::default(),
            }]
        );
    }
}
