//! The raw TOML shape, as serde reads it (spans kept for error positions). The config's JSON Schema
//! (`ctrld-sync schema`) is generated from these same types, so it cannot drift from the parser.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use schemars::transform::RecursiveTransform;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use toml::Spanned;

use super::Format;
use crate::model::ActionKind;

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "ctrld-sync config",
    description = "ctrld-sync.toml: which Control D folders each profile has and where their rules come from. \
                   The API token is never in the config: it comes from CTRLD_API_TOKEN or a profile's token_env."
)]
pub(super) struct RawConfig {
    /// Where the state files live, relative to this file (default: `state/` beside it).
    #[schemars(with = "Option<String>")]
    pub(super) state_dir: Option<Spanned<String>>,
    /// How ctrld-sync talks to the Control D API.
    #[serde(default)]
    pub(super) api: RawApi,
    /// How folder sources (URLs and files) are fetched and parsed.
    #[serde(default)]
    pub(super) sources: RawSources,
    /// What apply refuses without --allow-destroy.
    #[serde(default)]
    pub(super) safety: RawSafety,
    /// The Control D profiles to manage.
    #[serde(default)]
    #[schemars(with = "Vec<RawProfile>")]
    pub(super) profile: Vec<Spanned<RawProfile>>,
    /// Folder sources by key; the key is the folder's identity in state files.
    #[serde(default)]
    pub(super) folder: OrderedFolders,
}

#[derive(Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Api")]
pub(super) struct RawApi {
    /// The API's base URL (default https://api.controld.com; plain http only for loopback).
    #[schemars(with = "Option<String>")]
    pub(super) base_url: Option<Spanned<String>>,
    /// A hard ceiling in requests per second over the whole run, all profiles together, from 0.01
    /// to 10000 (default: none, the pacing adapts to the API's limit).
    #[schemars(with = "Option<f64>", range(min = 0.01, max = 10000))]
    pub(super) max_rps: Option<Spanned<f64>>,
    /// Requests of one profile in flight at once, from 1 to 64 (default 4).
    #[schemars(with = "Option<i64>", range(min = 1, max = 64))]
    pub(super) parallelism: Option<Spanned<i64>>,
    /// Seconds per request, from 0.1 to 3600 (default 30).
    #[schemars(with = "Option<f64>", range(min = 0.1, max = 3600))]
    pub(super) timeout: Option<Spanned<f64>>,
}

#[derive(Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Sources")]
pub(super) struct RawSources {
    /// Body-size cap per source in bytes, at most 1 GiB (default 16 MiB), enforced while downloading.
    #[schemars(with = "Option<i64>", range(min = 1, max = 1073741824))]
    pub(super) max_bytes: Option<Spanned<i64>>,
    /// Seconds per source, from 0.1 to 3600 (default 30).
    #[schemars(with = "Option<f64>", range(min = 0.1, max = 3600))]
    pub(super) timeout: Option<Spanned<f64>>,
    /// Sources fetched at once, from 1 to 64 (default 8).
    #[schemars(with = "Option<i64>", range(min = 1, max = 64))]
    pub(super) concurrency: Option<Spanned<i64>>,
    /// true: an invalid hostname in a source is an error, not a skipped line.
    pub(super) strict: Option<bool>,
    /// Retries of a source download after a 429, a 5xx, a timeout or a dropped connection.
    #[schemars(with = "Option<i64>", range(min = 0, max = 10))]
    pub(super) retries: Option<Spanned<i64>>,
    /// fail (default): a failed source stops the run; keep: its folder is kept as it is, the others sync.
    #[schemars(with = "Option<String>", extend("enum" = ["fail", "keep"]))]
    pub(super) on_error: Option<Spanned<String>>,
}

#[derive(Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Safety")]
pub(super) struct RawSafety {
    /// Refuse removing more than this share of a folder's rules (default 30)...
    #[schemars(with = "Option<f64>", range(min = 0, max = 100))]
    pub(super) max_delete_percent: Option<Spanned<f64>>,
    /// ...when the folder holds at least this many rules, at most 10000 (default 10).
    #[schemars(with = "Option<i64>", range(min = 0, max = 10000))]
    pub(super) min_rules: Option<Spanned<i64>>,
    /// true: as if --allow-destroy were always passed.
    pub(super) allow_destroy: Option<bool>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Profile")]
pub(super) struct RawProfile {
    /// The Control D profile id (in the dashboard URL).
    #[schemars(with = "String")]
    pub(super) id: Spanned<String>,
    /// A label.
    pub(super) name: Option<String>,
    /// This profile's token variable instead of CTRLD_API_TOKEN.
    #[schemars(with = "Option<String>")]
    pub(super) token_env: Option<Spanned<String>>,
    /// Managed folders (keys of [folder.*]); earlier ones win overlaps.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub(super) folders: Vec<Spanned<String>>,
    /// The default rule for queries no rule or filter decides: "block", "bypass",
    /// { spoof = "IP or CNAME" } or { redirect = "proxy location id, or LOCAL" }.
    #[schemars(with = "Option<SettingAction>")]
    pub(super) default: Option<Spanned<toml::Value>>,
    /// Native filters by family (or third-party ones by `x-` PK): true (the family's own level),
    /// false, or a level by name ("ads_medium"). Filters not named here are never touched.
    #[schemars(with = "Option<BTreeMap<String, FilterValue>>")]
    pub(super) filters: Option<BTreeMap<String, Spanned<toml::Value>>>,
    /// Service rules by service PK ("tiktok"): an action as rules take, or "off" (a service rule
    /// cannot be deleted; off disables it). Services not named here are never touched.
    #[schemars(with = "Option<BTreeMap<String, ServiceValue>>")]
    pub(super) services: Option<BTreeMap<String, Spanned<toml::Value>>>,
    /// Profile options by PK ("safesearch"): true/false for toggles, a value for the others
    /// ("0.7", 10). Options not named here are never touched.
    #[schemars(with = "Option<BTreeMap<String, OptionValue>>")]
    pub(super) options: Option<BTreeMap<String, Spanned<toml::Value>>>,
}

// The value types below exist for the schema only: the parser reads TOML values and checks them.
/// A filter's value.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum FilterValue {
    /// true: the family's own level; false: off.
    Switch(bool),
    /// A level of the family, by name.
    Level(String),
}

/// The default rule's action.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum SettingAction {
    /// block, or bypass (allow).
    Named(#[schemars(regex(pattern = "^(block|bypass|allow)$"))] String),
    Spoof(SpoofTarget),
    Redirect(RedirectTarget),
}

/// A service rule's action: as the default rule's, or "off" / false.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum ServiceValue {
    /// block, bypass (allow), or off (the rule disabled).
    Named(#[schemars(regex(pattern = "^(block|bypass|allow|off)$"))] String),
    /// false: off.
    Off(bool),
    Spoof(SpoofTarget),
    Redirect(RedirectTarget),
}

/// `{ spoof = "IP or CNAME", via_v6 = "IPv6" }`
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct SpoofTarget {
    spoof: String,
    via_v6: Option<String>,
}

/// `{ redirect = "proxy location id" }` (paid plans only).
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct RedirectTarget {
    redirect: String,
}

/// An option's value: Control D's option listing says which a given option takes.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum OptionValue {
    /// A toggle on or off; false turns any option off.
    Switch(bool),
    Text(String),
    Number(f64),
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Folder")]
pub(super) struct RawFolder {
    /// Where the rules come from: an https URL (or path).
    #[schemars(with = "Option<String>")]
    pub(super) url: Option<Spanned<String>>,
    /// Where the rules come from: a file relative to the config (or url).
    #[schemars(with = "Option<String>")]
    pub(super) path: Option<Spanned<String>>,
    /// The list format (default auto).
    #[schemars(with = "Option<Format>")]
    pub(super) format: Option<Spanned<String>>,
    /// The folder's name in Control D; required unless the source names it.
    #[schemars(with = "Option<String>")]
    pub(super) name: Option<Spanned<String>>,
    /// The folder's action, and that of rules from plain lists; spoof and redirect need via.
    #[schemars(with = "Option<ActionKind>")]
    pub(super) action: Option<Spanned<String>>,
    /// Spoof target (IP or CNAME) or redirect location id.
    #[schemars(with = "Option<String>")]
    pub(super) via: Option<Spanned<String>>,
    /// Spoof target for AAAA queries.
    #[schemars(with = "Option<String>")]
    pub(super) via_v6: Option<Spanned<String>>,
    /// enabled (default) or disabled.
    #[schemars(with = "Option<String>", extend("enum" = ["enabled", "disabled"]))]
    pub(super) status: Option<Spanned<String>>,
    /// true: an invalid hostname in this source is an error (overrides [sources] strict).
    pub(super) strict: Option<bool>,
    /// true: the source may yield no rules (else an empty list is an error).
    pub(super) allow_empty: Option<bool>,
    /// Private list: the environment variable holding its token, sent as `Authorization: Bearer ...`;
    /// never CTRLD_API_TOKEN or a profile's token_env (the list's host would receive the API token).
    #[schemars(with = "Option<String>")]
    pub(super) auth_env: Option<Spanned<String>>,
    /// Send the token raw under this header instead (e.g. PRIVATE-TOKEN); needs auth_env.
    #[schemars(with = "Option<String>")]
    pub(super) auth_header: Option<Spanned<String>>,
}

/// `[folder.<key>]` tables in file order (a map type would sort them or lose the key spans).
#[derive(Default)]
pub(super) struct OrderedFolders(pub(super) Vec<(Spanned<String>, Spanned<RawFolder>)>);

/// A table of `[folder.<key>]` tables.
impl JsonSchema for OrderedFolders {
    fn schema_name() -> Cow<'static, str> {
        "Folders".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let folder = generator.subschema_for::<RawFolder>();
        json_schema!({
            "type": "object",
            "additionalProperties": folder,
        })
    }
}

/// The config's JSON Schema (draft-07, which TOML editors such as taplo read), pretty-printed.
pub(super) fn json_schema() -> String {
    let schema = schemars::generate::SchemaSettings::draft07()
        .with_transform(RecursiveTransform(drop_null_type))
        .into_generator()
        .into_root_schema_for::<RawConfig>();
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema serialises to JSON");
    text.push('\n');
    text
}

/// TOML has no null: an optional key is one that may be left out, so `"type": ["string", "null"]`
/// becomes `"type": "string"`, and `"anyOf": [{"$ref": ...}, {"type": "null"}]` the `$ref` alone.
fn drop_null_type(schema: &mut Schema) {
    let null = serde_json::json!({"type": "null"});
    if let Some(serde_json::Value::Array(types)) = schema.get_mut("type") {
        types.retain(|kind| kind != "null");
        if let [single] = types.as_slice() {
            let single = single.clone();
            schema.insert("type".into(), single);
        }
    }
    if let Some(serde_json::Value::Array(choices)) = schema.get_mut("anyOf") {
        choices.retain(|choice| *choice != null);
        if let [single] = choices.as_slice() {
            let single = single.clone();
            schema.remove("anyOf");
            schema.insert("allOf".into(), serde_json::Value::Array(vec![single]));
        }
    }
}

impl<'de> Deserialize<'de> for OrderedFolders {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FoldersVisitor;
        impl<'de> Visitor<'de> for FoldersVisitor {
            type Value = OrderedFolders;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("tables `[folder.<key>]`")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut folders = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    folders.push(entry);
                }
                Ok(OrderedFolders(folders))
            }
        }
        deserializer.deserialize_map(FoldersVisitor)
    }
}
