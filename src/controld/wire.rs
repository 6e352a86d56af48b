//! The JSON shapes inside the envelope's `body`, and their conversion to the shared model.
//! Missing optional fields and unknown extra fields are tolerated; numbers sent as strings too.

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use crate::model::{ActionKind, FolderAction, FolderPk, RuleAction};

use super::types::{RemoteFolder, RemoteProfile, RemoteRule};

/// A number the API may send as `5` or `"5"`.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
enum Number {
    Int(u64),
    Text(String),
}

impl Number {
    fn value(&self) -> Option<u64> {
        match self {
            Self::Int(n) => Some(*n),
            Self::Text(text) => text.trim().parse().ok(),
        }
    }
}

#[derive(Default, Deserialize)]
pub(crate) struct ProfilesBody {
    #[serde(default)]
    profiles: Vec<WireProfile>,
}

#[derive(Deserialize)]
struct WireProfile {
    #[serde(rename = "PK")]
    pk: Value,
    #[serde(default)]
    name: String,
}

#[derive(Default, Deserialize)]
pub(crate) struct GroupsBody {
    #[serde(default)]
    groups: Vec<WireGroup>,
}

#[derive(Deserialize)]
struct WireGroup {
    #[serde(rename = "PK")]
    pk: Number,
    #[serde(default)]
    group: String,
    #[serde(default)]
    action: Option<WireAction>,
    #[serde(default)]
    count: Option<Number>,
}

#[derive(Default, Deserialize)]
pub(crate) struct RulesBody {
    #[serde(default)]
    rules: Vec<WireRule>,
}

#[derive(Deserialize)]
struct WireRule {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(default)]
    group: Option<Number>,
    #[serde(default)]
    action: WireAction,
}

#[derive(Default, Deserialize)]
struct WireAction {
    #[serde(rename = "do", default)]
    kind: Option<Number>,
    #[serde(default)]
    status: Option<Number>,
    #[serde(default)]
    via: Option<String>,
    #[serde(default)]
    via_v6: Option<String>,
}

/// Decodes `body`; `[]` or `null` (what the API sends for "nothing") becomes the empty default.
pub(crate) fn decode<T: DeserializeOwned + Default>(body: Value) -> Result<T, String> {
    match &body {
        Value::Null => Ok(T::default()),
        Value::Array(items) if items.is_empty() => Ok(T::default()),
        _ => serde_json::from_value(body).map_err(|error| format!("unexpected body: {error}")),
    }
}

impl ProfilesBody {
    pub fn into_profiles(self) -> Result<Vec<RemoteProfile>, String> {
        self.profiles
            .into_iter()
            .map(WireProfile::convert)
            .collect()
    }
}

impl WireProfile {
    fn convert(self) -> Result<RemoteProfile, String> {
        let id = match self.pk {
            Value::String(id) => id,
            Value::Number(id) => id.to_string(),
            other => return Err(format!("profile PK is not an id: {other}")),
        };
        Ok(RemoteProfile {
            id,
            name: self.name,
        })
    }
}

impl GroupsBody {
    pub fn into_folders(self) -> Result<Vec<RemoteFolder>, String> {
        self.groups.into_iter().map(WireGroup::convert).collect()
    }
}

impl WireGroup {
    fn convert(self) -> Result<RemoteFolder, String> {
        let pk = self
            .pk
            .value()
            .ok_or_else(|| format!("folder `{}`: PK is not an integer", self.group))?;
        let action = self.action.unwrap_or_default().folder_action();
        let action = action.map_err(|e| format!("folder `{}`: {e}", self.group))?;
        Ok(RemoteFolder {
            pk,
            name: self.group,
            action,
            count: self.count.and_then(|count| count.value()).unwrap_or(0),
        })
    }
}

impl RulesBody {
    /// `listed_folder`: the folder that was listed, used when a rule does not say its own.
    pub fn into_rules(self, listed_folder: Option<FolderPk>) -> Result<Vec<RemoteRule>, String> {
        let convert = |rule: WireRule| rule.convert(listed_folder);
        self.rules.into_iter().map(convert).collect()
    }
}

impl WireRule {
    fn convert(self, listed_folder: Option<FolderPk>) -> Result<RemoteRule, String> {
        let action = self.action.rule_action();
        let action = action.map_err(|e| format!("rule `{}`: {e}", self.pk))?;
        let folder = match self.group {
            Some(group) => group.value().filter(|pk| *pk != 0),
            None => listed_folder,
        };
        Ok(RemoteRule {
            hostname: self.pk,
            action,
            folder,
        })
    }
}

impl WireAction {
    fn kind(&self) -> Result<Option<ActionKind>, String> {
        let Some(code) = &self.kind else {
            return Ok(None);
        };
        let code = code.value().ok_or("`do` is not a number")?;
        let kind = u8::try_from(code).ok().and_then(ActionKind::from_code);
        kind.map(Some)
            .ok_or_else(|| format!("unknown action code `do: {code}`"))
    }

    /// `status` 0 is disabled; anything else, or absent, is enabled.
    fn enabled(&self) -> bool {
        self.status.as_ref().and_then(Number::value) != Some(0)
    }

    fn folder_action(self) -> Result<FolderAction, String> {
        Ok(FolderAction {
            kind: self.kind()?,
            enabled: self.enabled(),
            via: self.via,
        })
    }

    fn rule_action(self) -> Result<RuleAction, String> {
        let kind = self.kind()?.ok_or("the action has no `do`")?;
        Ok(RuleAction {
            kind,
            enabled: self.enabled(),
            via: self.via,
            via_v6: self.via_v6,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn folders_decode_with_optional_do_and_extra_fields() {
        let body = json!({"groups": [
            {"PK": 12, "group": "Ads", "action": {"do": 0, "status": 1}, "count": 3, "extra": true},
            {"PK": "13", "group": "TLDs", "action": {"status": 0}},
            {"PK": 14, "group": "Spoofed", "action": {"do": 2, "status": 1, "via": "1.2.3.4"}, "count": 0}
        ]});
        let folders = decode::<GroupsBody>(body).unwrap().into_folders().unwrap();
        assert_eq!(folders[0].pk, 12);
        assert_eq!(folders[0].action, FolderAction::of(ActionKind::Block));
        assert_eq!(folders[0].count, 3);
        assert_eq!(folders[1].pk, 13);
        assert_eq!(folders[1].action.kind, None);
        assert!(!folders[1].action.enabled);
        assert_eq!(folders[2].action.via.as_deref(), Some("1.2.3.4"));
    }

    #[test]
    fn rules_decode_root_and_folder_membership() {
        let body = json!({"rules": [
            {"PK": "a.example", "order": 1, "group": 12, "action": {"do": 1, "status": 1}},
            {"PK": "b.example", "group": 0, "action": {"do": 0, "status": 0}},
            {"PK": "c.example", "action": {"do": 2, "status": 1, "via": "1.1.1.1", "via_v6": "::1"}}
        ]});
        let rules = decode::<RulesBody>(body).unwrap().into_rules(None).unwrap();
        assert_eq!(rules[0].folder, Some(12));
        assert_eq!(rules[0].action, RuleAction::allow());
        assert_eq!(rules[1].folder, None);
        assert!(!rules[1].action.enabled);
        assert_eq!(rules[2].action.to_string(), "spoof via=1.1.1.1 via_v6=::1");
    }

    #[test]
    fn a_rule_without_group_belongs_to_the_listed_folder() {
        let body = json!({"rules": [{"PK": "a.example", "action": {"do": 0}}]});
        let rules = decode::<RulesBody>(body)
            .unwrap()
            .into_rules(Some(9))
            .unwrap();
        assert_eq!(rules[0].folder, Some(9));
    }

    #[test]
    fn unknown_action_code_is_an_error_naming_the_rule() {
        let body = json!({"rules": [{"PK": "a.example", "action": {"do": 9, "status": 1}}]});
        let error = decode::<RulesBody>(body)
            .unwrap()
            .into_rules(None)
            .unwrap_err();
        assert_eq!(error, "rule `a.example`: unknown action code `do: 9`");
    }

    #[test]
    fn empty_array_body_is_empty() {
        let rules = decode::<RulesBody>(json!([]))
            .unwrap()
            .into_rules(None)
            .unwrap();
        assert!(rules.is_empty());
    }

    #[test]
    fn profiles_decode() {
        let body = json!({"profiles": [{"PK": "abc123def456", "name": "Home", "updated": 1}]});
        let profiles = decode::<ProfilesBody>(body)
            .unwrap()
            .into_profiles()
            .unwrap();
        assert_eq!(
            profiles,
            [RemoteProfile {
                id: "abc123def456".into(),
                name: "Home".into()
            }]
        );
    }
}
