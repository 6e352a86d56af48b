//! The raw TOML shape, as serde reads it (spans kept for error positions).

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub(super) state_dir: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) api: RawApi,
    #[serde(default)]
    pub(super) sources: RawSources,
    #[serde(default)]
    pub(super) safety: RawSafety,
    #[serde(default)]
    pub(super) profile: Vec<Spanned<RawProfile>>,
    #[serde(default)]
    pub(super) folder: OrderedFolders,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawApi {
    pub(super) base_url: Option<Spanned<String>>,
    pub(super) max_rps: Option<Spanned<f64>>,
    pub(super) parallelism: Option<Spanned<i64>>,
    pub(super) timeout: Option<Spanned<f64>>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSources {
    pub(super) max_bytes: Option<Spanned<i64>>,
    pub(super) timeout: Option<Spanned<f64>>,
    pub(super) concurrency: Option<Spanned<i64>>,
    pub(super) strict: Option<bool>,
    pub(super) retries: Option<Spanned<i64>>,
    pub(super) on_error: Option<Spanned<String>>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSafety {
    pub(super) max_delete_percent: Option<Spanned<f64>>,
    pub(super) min_rules: Option<Spanned<i64>>,
    pub(super) allow_destroy: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProfile {
    pub(super) id: Spanned<String>,
    pub(super) name: Option<String>,
    pub(super) token_env: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) folders: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFolder {
    pub(super) url: Option<Spanned<String>>,
    pub(super) path: Option<Spanned<String>>,
    pub(super) format: Option<Spanned<String>>,
    pub(super) name: Option<Spanned<String>>,
    pub(super) action: Option<Spanned<String>>,
    pub(super) via: Option<Spanned<String>>,
    pub(super) via_v6: Option<Spanned<String>>,
    pub(super) status: Option<Spanned<String>>,
    pub(super) strict: Option<bool>,
    pub(super) allow_empty: Option<bool>,
    pub(super) auth_env: Option<Spanned<String>>,
    pub(super) auth_header: Option<Spanned<String>>,
}

/// `[folder.<key>]` tables in file order (a map type would sort them or lose the key spans).
#[derive(Default)]
pub(super) struct OrderedFolders(pub(super) Vec<(Spanned<String>, Spanned<RawFolder>)>);

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
