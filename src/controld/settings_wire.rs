//! The JSON shapes of the profile-settings endpoints, read field by field as `wire` reads folders
//! and rules: unknown fields are ignored, a row missing an optional part (levels, action, name)
//! still decodes, and only a row without a usable `PK` fails, naming the field. The answers of
//! writes never fail on their shape: what cannot be read is `None`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::model::RuleAction;

use super::settings_types::{
    OptionInfo, OptionKind, RemoteFilter, RemoteFilterLevel, RemoteService, SettingsSignature,
};
use super::wire::{failure, items, number, object, text, unusable, Action};

/// `GET /profiles/{p}/filters` and `GET /profiles/{p}/filters/external` -> `body.filters[]`.
pub(crate) fn filters(body: &Value) -> Result<Vec<RemoteFilter>, String> {
    rows(body, "filters", filter)
}

/// `GET /profiles/{p}/services` -> `body.services[]`. A row whose action cannot be read (no
/// `action`, no `do`, an unknown `do`) is left out: the profile then looks as if that service had
/// no rule, so a wanted action is written again rather than taken as already there.
pub(crate) fn services(body: &Value) -> Result<Vec<RemoteService>, String> {
    let rows = rows(body, "services", |item, path| {
        let fields = object(item, path)?;
        Ok((pk(fields, path)?, action(fields, path)))
    })?;
    Ok(rows
        .into_iter()
        .filter_map(|(pk, action)| {
            Some(RemoteService {
                pk,
                action: action?,
            })
        })
        .collect())
}

/// `GET /services/categories` -> the categories' PKs.
pub(crate) fn categories(body: &Value) -> Result<Vec<String>, String> {
    rows(body, "categories", |item, path| {
        pk(object(item, path)?, path)
    })
}

/// `GET /services/categories/{c}` -> the services' PKs.
pub(crate) fn category_services(body: &Value) -> Result<Vec<String>, String> {
    rows(body, "services", |item, path| pk(object(item, path)?, path))
}

/// `GET /profiles/{p}/default` -> `body.default`, which must hold a usable `do`.
pub(crate) fn default_rule(body: &Value) -> Result<RuleAction, String> {
    let problem = match body.get("default") {
        Some(Value::Object(fields)) => match action_fields(fields, "default") {
            Ok(action) => return Ok(action),
            Err(problem) => problem,
        },
        other => unusable("body", "default", other),
    };
    Err(failure(body, problem))
}

/// `GET /profiles/options` -> `body.options[]`.
pub(crate) fn option_catalogue(body: &Value) -> Result<Vec<OptionInfo>, String> {
    rows(body, "options", |item, path| {
        let fields = object(item, path)?;
        Ok(OptionInfo {
            pk: pk(fields, path)?,
            title: text(fields.get("title")).unwrap_or_default(),
            kind: option_kind(fields),
        })
    })
}

/// `GET /profiles/{p}/options` -> `body.options[]` of `{PK, value}` as PK -> value text. A row
/// whose value is not a scalar is left out (the option then looks unset).
pub(crate) fn options(body: &Value) -> Result<BTreeMap<String, String>, String> {
    let rows = rows(body, "options", |item, path| {
        let fields = object(item, path)?;
        Ok((pk(fields, path)?, fields.get("value").and_then(value_text)))
    })?;
    Ok(rows
        .into_iter()
        .filter_map(|(pk, value)| Some((pk, value?)))
        .collect())
}

/// The answer of a filter write: `body.filters`, a map of the enabled filters keyed by family
/// (external ones by PK) to the enabled level, if any. `[]` is "none enabled" (observed; the
/// reference says otherwise); any other shape, an empty body included, is `None`.
pub(crate) fn enabled_filters(body: &Value) -> Option<BTreeMap<String, Option<String>>> {
    match body.get("filters")? {
        Value::Array(items) if items.is_empty() => Some(BTreeMap::new()),
        Value::Object(map) => Some(
            map.iter()
                .filter(|(_, action)| !switched_off(action))
                .map(|(name, action)| (name.clone(), level_of(action)))
                .collect(),
        ),
        _ => None,
    }
}

/// The answer of a service write: `body.services[0]` as an action, if it reads as one.
pub(crate) fn service_echo(body: &Value) -> Option<RuleAction> {
    match body.get("services")? {
        Value::Array(items) => items.first()?.as_object().and_then(action_or_none),
        _ => None,
    }
}

/// The answer of a default-rule write: `body.default`, if it reads as an action.
pub(crate) fn default_echo(body: &Value) -> Option<RuleAction> {
    body.get("default")?.as_object().and_then(action_or_none)
}

/// The answer of an option write: `body.options` (`[{PK, value}]`, or a map of PK to value) as
/// PK -> value text; any other shape is `None`.
pub(crate) fn option_echo(body: &Value) -> Option<BTreeMap<String, String>> {
    match body.get("options")? {
        Value::Array(items) => items
            .iter()
            .map(|item| {
                let fields = item.as_object()?;
                Some((text(fields.get("PK"))?, value_text(fields.get("value")?)?))
            })
            .collect(),
        Value::Object(map) => map
            .iter()
            .map(|(pk, value)| Some((pk.clone(), value_text(value)?)))
            .collect(),
        _ => None,
    }
}

/// The settings part of one `GET /profiles` row (its `profile` object); never fails.
pub(crate) fn signature(counts: Option<&Value>) -> SettingsSignature {
    let count = |key: &str| {
        counts
            .and_then(|counts| counts.get(key))
            .and_then(|part| part.get("count"))
            .and_then(number)
    };
    let data = counts
        .and_then(|counts| counts.get("opt"))
        .and_then(|opt| opt.get("data"));
    let options = match data {
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .filter_map(|item| {
                    let fields = item.as_object()?;
                    Some((text(fields.get("PK"))?, value_text(fields.get("value")?)?))
                })
                .collect(),
        ),
        _ => None,
    };
    SettingsSignature {
        flt: count("flt"),
        cflt: count("cflt"),
        ipflt: count("ipflt"),
        svc: count("svc"),
        opt: count("opt"),
        options,
    }
}

/// Decodes each item of the list under `key`, naming `key[index]` in errors.
fn rows<T>(
    body: &Value,
    key: &str,
    decode: impl Fn(&Value, &str) -> Result<T, String>,
) -> Result<Vec<T>, String> {
    let on_error = |problem: String| failure(body, problem);
    items(body, key)
        .map_err(on_error)?
        .iter()
        .enumerate()
        .map(|(index, item)| decode(item, &format!("{key}[{index}]")).map_err(on_error))
        .collect()
}

/// A non-empty `PK`, as a string or a number written as one.
fn pk(fields: &Map<String, Value>, path: &str) -> Result<String, String> {
    text(fields.get("PK"))
        .filter(|pk| !pk.is_empty())
        .ok_or_else(|| unusable(path, "PK", fields.get("PK")))
}

fn filter(item: &Value, path: &str) -> Result<RemoteFilter, String> {
    let fields = object(item, path)?;
    let pk = pk(fields, path)?;
    let levels: Vec<RemoteFilterLevel> = match fields.get("levels") {
        // A level without a name cannot be written, so it is left out.
        Some(Value::Array(levels)) => levels.iter().filter_map(level).collect(),
        _ => Vec::new(),
    };
    let action = fields.get("action").and_then(Value::as_object);
    let mut active: Vec<String> = match levels.is_empty() {
        true => {
            let action_on = action.is_some_and(|action| is_on(action.get("status")));
            let on = is_on(fields.get("status")) || action_on;
            on.then(|| pk.clone()).into_iter().collect()
        }
        false => levels
            .iter()
            .filter(|level| level.enabled)
            .map(|level| level.name.clone())
            .collect(),
    };
    let named = action.and_then(|action| text(action.get("lvl")));
    if let Some(level) = named.filter(|level| !level.is_empty()) {
        if !active.contains(&level) {
            active.push(level);
        }
    }
    Ok(RemoteFilter {
        pk,
        name: text(fields.get("name")).unwrap_or_default(),
        levels,
        active,
    })
}

fn level(item: &Value) -> Option<RemoteFilterLevel> {
    let fields = item.as_object()?;
    let name = text(fields.get("name")).filter(|name| !name.is_empty())?;
    Some(RemoteFilterLevel {
        name,
        kind: text(fields.get("type")).unwrap_or_default(),
        enabled: is_on(fields.get("status")),
    })
}

/// `1`, `"1"` or `true`; anything else (absent, 0, another number) is off.
fn is_on(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(on)) => *on,
        Some(other) => number(other) == Some(1),
        None => false,
    }
}

/// An entry of a filter write's answer that says `status: 0`.
fn switched_off(action: &Value) -> bool {
    action
        .get("status")
        .is_some_and(|status| !status.is_null() && !is_on(Some(status)))
}

fn level_of(action: &Value) -> Option<String> {
    text(action.get("lvl")).filter(|level| !level.is_empty())
}

/// The row's action, or `None` when it cannot be read.
fn action(fields: &Map<String, Value>, path: &str) -> Option<RuleAction> {
    let action = fields.get("action")?.as_object()?;
    action_fields(action, path).ok()
}

fn action_or_none(fields: &Map<String, Value>) -> Option<RuleAction> {
    action_fields(fields, "action").ok()
}

/// `{do, status, via?, via_v6?}`: `do` is needed; an absent `status` is enabled.
fn action_fields(fields: &Map<String, Value>, path: &str) -> Result<RuleAction, String> {
    let action = Action(Some(fields));
    let kind = action
        .kind(path)?
        .ok_or_else(|| unusable(path, "do", None))?;
    Ok(RuleAction {
        kind,
        enabled: action.enabled(path)?,
        via: action.via(),
        via_v6: action.via_v6(),
    })
}

fn option_kind(fields: &Map<String, Value>) -> OptionKind {
    let kind = text(fields.get("type")).unwrap_or_default();
    match kind.as_str() {
        "toggle" => OptionKind::Toggle,
        "field" => OptionKind::Field,
        "dropdown" => OptionKind::Dropdown(match fields.get("default_value") {
            Some(Value::Object(choices)) => choices.keys().cloned().collect(),
            Some(Value::Array(choices)) => choices.iter().filter_map(value_text).collect(),
            _ => Vec::new(),
        }),
        _ => OptionKind::Other(kind),
    }
}

/// A scalar as text: numbers without a trailing `.0` (`1` -> "1", `0.7` -> "0.7", `1.0` -> "1"),
/// booleans as "1" or "0". `null`, lists and objects are `None`.
pub(crate) fn value_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => match (number.as_i64(), number.as_u64(), number.as_f64()) {
            (Some(integer), _, _) => Some(integer.to_string()),
            (_, Some(integer), _) => Some(integer.to_string()),
            // `f64`'s Display writes 1.0 as "1" and 0.7 as "0.7".
            (_, _, Some(float)) => Some(float.to_string()),
            _ => Some(number.to_string()),
        },
        Value::Bool(on) => Some(u8::from(*on).to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ActionKind;
    use serde_json::json;

    fn strings(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| name.to_string()).collect()
    }

    /// The live shapes: levels with `opt`, an action on enabled rows only, fields nobody uses.
    #[test]
    fn native_filters_decode_levels_and_what_is_on() {
        let body = json!({"filters": [
            {"PK": "ads", "name": "Ads & Trackers", "description": "...", "status": 1,
             "levels": [
                {"title": "Relaxed", "type": "filter", "name": "ads_small", "status": 0},
                {"title": "Balanced", "type": "filter", "name": "ads_medium", "status": 1},
                {"title": "Strict", "type": "filter", "name": "ads", "status": 0}],
             "action": {"do": 0, "status": 1, "lvl": "ads_medium"}},
            {"PK": "malware", "name": "Malware", "status": 1, "levels": [
                {"title": "Relaxed", "type": "ipfilter", "name": "ip_malware", "status": 1},
                {"title": "Balanced", "type": "filter", "name": "malware", "status": 1},
                {"title": "Strict", "type": "option", "name": "ai_malware", "status": 0, "opt": "0.7"}],
             "action": {"do": 0, "status": 1, "lvl": "malware"}},
            {"PK": "gambling", "name": "Gambling", "status": 0},
            {"PK": "social", "name": "Social Media", "status": "1", "extra": [1, 2]}
        ]});
        let filters = filters(&body).unwrap();
        assert_eq!(filters[0].pk, "ads");
        assert_eq!(filters[0].name, "Ads & Trackers");
        assert_eq!(filters[0].levels.len(), 3);
        assert_eq!(filters[0].active, strings(&["ads_medium"]));
        assert_eq!(
            filters[1].levels[2],
            RemoteFilterLevel {
                name: "ai_malware".into(),
                kind: "option".into(),
                enabled: false
            }
        );
        assert_eq!(filters[1].active, strings(&["ip_malware", "malware"]));
        assert!(filters[2].levels.is_empty() && filters[2].active.is_empty());
        assert_eq!(filters[3].active, strings(&["social"]));
    }

    #[test]
    fn a_filter_row_is_on_by_its_action_and_its_lvl_counts_as_on() {
        let body = json!({"filters": [
            {"PK": "typo", "action": {"do": 0, "status": 1}},
            {"PK": "nrd", "status": 1, "levels": [{"name": "nrd_small", "status": 0}],
             "action": {"status": 1, "lvl": "nrd"}},
            {"PK": "x-oisd-big", "name": "OISD Big", "status": 1,
             "resolvers": {"v4": ["1.2.3.4"], "v6": ["::1"]}}
        ]});
        let filters = filters(&body).unwrap();
        assert_eq!(filters[0].name, "");
        assert_eq!(filters[0].active, strings(&["typo"]));
        assert_eq!(filters[1].active, strings(&["nrd"]));
        assert_eq!(filters[2].active, strings(&["x-oisd-big"]));
    }

    #[test]
    fn odd_filter_parts_still_decode() {
        let body = json!({"filters": [
            {"PK": "ads", "levels": null, "action": []},
            {"PK": "porn", "levels": {"0": {"name": "porn"}}, "status": 2},
            {"PK": "nrd", "levels": [{"title": "no name", "status": 1}, "junk",
                {"name": "nrd", "status": true}]}
        ]});
        let filters = filters(&body).unwrap();
        assert!(filters[0].levels.is_empty() && filters[0].active.is_empty());
        assert!(filters[1].levels.is_empty() && filters[1].active.is_empty());
        assert_eq!(filters[2].levels.len(), 1);
        assert_eq!(filters[2].levels[0].kind, "");
        assert_eq!(filters[2].active, strings(&["nrd"]));
    }

    #[test]
    fn a_row_without_a_usable_pk_is_an_error_naming_it() {
        for (body, problem) in [
            (
                json!({"filters": [{"name": "Ads"}]}),
                "filters[0]: field `PK` is missing",
            ),
            (
                json!({"filters": [{"PK": "ads"}, {"PK": ""}]}),
                "filters[1]: field `PK` is unusable (\"\")",
            ),
            (
                json!({"services": [{"PK": null}]}),
                "services[0]: field `PK` is unusable (null)",
            ),
            (
                json!({"categories": [{"PK": ["x"]}]}),
                "categories[0]: field `PK` is unusable ([\"x\"])",
            ),
            (
                json!({"options": [3]}),
                "field `options[0]` is a number, not an object",
            ),
        ] {
            let error = match body.as_object().unwrap().keys().next().unwrap().as_str() {
                "filters" => filters(&body).map(drop),
                "services" => services(&body).map(drop),
                "categories" => categories(&body).map(drop),
                _ => options(&body).map(drop),
            }
            .unwrap_err();
            assert!(error.starts_with(&format!("{problem}; body: ")), "{error}");
        }
    }

    #[test]
    fn empty_bodies_are_empty_lists() {
        for body in [json!([]), json!(null), json!({}), json!({"filters": null})] {
            assert!(filters(&body).unwrap().is_empty(), "{body}");
            assert!(services(&body).unwrap().is_empty(), "{body}");
            assert!(options(&body).unwrap().is_empty(), "{body}");
        }
        assert!(filters(&json!("text")).is_err());
    }

    #[test]
    fn services_decode_their_actions_and_leave_out_unreadable_ones() {
        let body = json!({"services": [
            {"PK": "tiktok", "name": "TikTok", "category": "social",
             "action": {"do": 0, "status": 1}},
            {"PK": "netflix", "action": {"do": 3, "status": 0, "via": "DFW"}},
            {"PK": "zoom", "action": {"do": "2", "status": "1", "via": "1.2.3.4", "via_v6": "::1"}},
            {"PK": "nodo", "action": {"status": 1}},
            {"PK": "noaction"},
            {"PK": "badcode", "action": {"do": 9, "status": 1}}
        ]});
        let services = services(&body).unwrap();
        let pks: Vec<&str> = services.iter().map(|s| s.pk.as_str()).collect();
        assert_eq!(pks, ["tiktok", "netflix", "zoom"]);
        assert_eq!(services[0].action, RuleAction::block());
        assert_eq!(services[1].action.to_string(), "redirect via=DFW disabled");
        assert_eq!(
            services[2].action.to_string(),
            "spoof via=1.2.3.4 via_v6=::1"
        );
    }

    #[test]
    fn the_service_catalogue_decodes_to_pks() {
        let body = json!({"categories": [
            {"PK": "audio", "name": "Audio", "description": "Music", "count": 2},
            {"PK": "social", "name": "Social", "count": "3"}
        ]});
        assert_eq!(categories(&body).unwrap(), strings(&["audio", "social"]));
        let body = json!({"services": [
            {"PK": "spotify", "name": "Spotify", "category": "audio", "unlock_location": "JFK"},
            {"PK": "soundcloud", "warning": "w", "locations": ["JFK", "LAX"]}
        ]});
        assert_eq!(
            category_services(&body).unwrap(),
            strings(&["spotify", "soundcloud"])
        );
    }

    #[test]
    fn the_default_rule_needs_a_do() {
        let live = json!({"default": {"do": 1, "status": 1}});
        assert_eq!(default_rule(&live).unwrap(), RuleAction::allow());
        let redirect = json!({"default": {"do": 3, "status": 1, "via": "LOCAL", "x": 1}});
        assert_eq!(
            default_rule(&redirect).unwrap().to_string(),
            "redirect via=LOCAL"
        );
        let error = default_rule(&json!({"default": {"status": 1}})).unwrap_err();
        assert!(
            error.starts_with("default: field `do` is missing; body: "),
            "{error}"
        );
        let error = default_rule(&json!([])).unwrap_err();
        assert!(
            error.starts_with("body: field `default` is missing"),
            "{error}"
        );
    }

    #[test]
    fn the_option_catalogue_reads_kinds_and_dropdown_values() {
        let body = json!({"options": [
            {"PK": "safesearch", "title": "Safe Search", "type": "toggle", "default_value": 0,
             "info_url": "https://docs.controld.com/docs/safesearch"},
            {"PK": "ai_malware", "title": "AI Malware Filter", "type": "dropdown",
             "default_value": {"0.9": "Relaxed", "0.7": "Balanced", "0.5": "Strict"}},
            {"PK": "b_resp", "type": "dropdown", "default_value": [0, 3, 5]},
            {"PK": "ttl_blck", "title": "Block TTL", "type": "field", "default_value": 10},
            {"PK": "dns64", "type": "field", "default_value": ["64:ff9b::/96"]},
            {"PK": "future", "type": "slider"},
            {"PK": "untyped"}
        ]});
        let options = option_catalogue(&body).unwrap();
        assert_eq!(options[0].kind, OptionKind::Toggle);
        assert_eq!(options[0].title, "Safe Search");
        let OptionKind::Dropdown(mut values) = options[1].kind.clone() else {
            panic!("{:?}", options[1]);
        };
        values.sort();
        assert_eq!(values, strings(&["0.5", "0.7", "0.9"]));
        assert_eq!(
            options[2].kind,
            OptionKind::Dropdown(strings(&["0", "3", "5"]))
        );
        assert_eq!(options[3].kind, OptionKind::Field);
        assert_eq!(options[4].kind, OptionKind::Field);
        assert_eq!(options[5].kind, OptionKind::Other("slider".into()));
        assert_eq!(options[6].kind, OptionKind::Other(String::new()));
        assert_eq!(options[6].title, "");
    }

    #[test]
    fn option_values_are_text_without_a_trailing_zero() {
        let body = json!({"options": [
            {"PK": "safesearch", "value": 1},
            {"PK": "ai_malware", "value": 0.7},
            {"PK": "ttl_blck", "value": "10"},
            {"PK": "b_resp", "value": 3.0},
            {"PK": "cflat", "value": true},
            {"PK": "broken", "value": {"x": 1}},
            {"PK": "absent"}
        ]});
        let expected: BTreeMap<String, String> = [
            ("safesearch", "1"),
            ("ai_malware", "0.7"),
            ("ttl_blck", "10"),
            ("b_resp", "3"),
            ("cflat", "1"),
        ]
        .into_iter()
        .map(|(pk, value)| (pk.to_string(), value.to_string()))
        .collect();
        assert_eq!(options(&body).unwrap(), expected);
        assert_eq!(value_text(&json!(-2)).as_deref(), Some("-2"));
        assert_eq!(value_text(&json!(null)), None);
    }

    #[test]
    fn filter_write_answers() {
        let enabled = json!({"filters": {
            "ads": {"do": 0, "status": 1, "lvl": "ads_small"},
            "x-oisd-big": {"do": 0, "status": 1},
            "gone": {"do": 0, "status": 0},
            "odd": true
        }});
        let map = enabled_filters(&enabled).unwrap();
        let expected: BTreeMap<String, Option<String>> = [
            ("ads".to_string(), Some("ads_small".to_string())),
            ("odd".to_string(), None),
            ("x-oisd-big".to_string(), None),
        ]
        .into();
        assert_eq!(map, expected);
        // Observed: `[]` when none is left enabled.
        assert_eq!(
            enabled_filters(&json!({"filters": []})),
            Some(BTreeMap::new())
        );
        for unusable in [
            json!([]),
            json!(null),
            json!({}),
            json!({"filters": [{"PK": "ads"}]}),
            json!({"filters": "ads"}),
        ] {
            assert_eq!(enabled_filters(&unusable), None, "{unusable}");
        }
    }

    #[test]
    fn service_and_default_write_answers() {
        let echo = json!({"services": [{"do": 2, "status": 1, "via": "1.2.3.4", "via_v6": "::1"}]});
        assert_eq!(
            service_echo(&echo).unwrap().to_string(),
            "spoof via=1.2.3.4 via_v6=::1"
        );
        for unusable in [
            json!([]),
            json!({"services": []}),
            json!({"services": [{"status": 1}]}),
            json!({"services": {"do": 0}}),
            json!({"services": ["x"]}),
        ] {
            assert_eq!(service_echo(&unusable), None, "{unusable}");
        }
        let echo = json!({"default": {"do": 0, "status": 0}});
        let disabled = RuleAction {
            enabled: false,
            ..RuleAction::block()
        };
        assert_eq!(default_echo(&echo), Some(disabled));
        assert_eq!(default_echo(&json!([])), None);
        assert_eq!(default_echo(&json!({"default": {"do": 7}})), None);
        assert_eq!(
            default_echo(&json!({"default": {"do": 1}})).map(|a| a.kind),
            Some(ActionKind::Allow)
        );
    }

    #[test]
    fn option_write_answers() {
        let set = json!({"options": [{"PK": "ai_malware", "value": "0.7"}]});
        let unset = json!({"options": [{"PK": "safesearch", "value": 0}]});
        let as_map = json!({"options": {"ttl_blck": 10}});
        let one = |pk: &str, value: &str| Some([(pk.to_string(), value.to_string())].into());
        assert_eq!(option_echo(&set), one("ai_malware", "0.7"));
        assert_eq!(option_echo(&unset), one("safesearch", "0"));
        assert_eq!(option_echo(&as_map), one("ttl_blck", "10"));
        for unusable in [
            json!([]),
            json!({"options": [{"PK": "x"}]}),
            json!({"options": "x"}),
        ] {
            assert_eq!(option_echo(&unusable), None, "{unusable}");
        }
    }

    #[test]
    fn the_settings_signature_of_a_profile_row() {
        let row = json!({"flt": {"count": 3}, "cflt": {"count": "1"}, "ipflt": {"count": 0},
            "rule": {"count": 41}, "svc": {"count": 2}, "grp": {"count": 5},
            "opt": {"count": 2, "data": [{"PK": "ai_malware", "value": 0.9},
                {"PK": "safesearch", "value": 1}, {"value": 1}]}});
        let signature = signature(Some(&row));
        assert_eq!(
            (
                signature.flt,
                signature.cflt,
                signature.ipflt,
                signature.svc,
                signature.opt
            ),
            (Some(3), Some(1), Some(0), Some(2), Some(2))
        );
        let expected: BTreeMap<String, String> = [
            ("ai_malware".to_string(), "0.9".to_string()),
            ("safesearch".to_string(), "1".to_string()),
        ]
        .into();
        assert_eq!(signature.options, Some(expected));
        let empty = json!({"opt": {"count": 0, "data": []}});
        assert_eq!(
            super::signature(Some(&empty)).options,
            Some(BTreeMap::new())
        );
        assert_eq!(super::signature(None), SettingsSignature::default());
        let odd = json!({"flt": 3, "opt": {"data": {"PK": "x"}}});
        assert_eq!(super::signature(Some(&odd)), SettingsSignature::default());
    }
}
