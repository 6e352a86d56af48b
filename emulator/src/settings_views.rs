//! The JSON shapes of the profile-settings endpoints (field names as Control D spells them).

use serde::Serialize;
use serde_json::Value;

/// One row of `GET /profiles/{p}/filters` or `.../filters/external`.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub(crate) struct FilterRow {
    #[serde(rename = "PK")]
    pub pk: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub status: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub levels: Option<Vec<LevelRow>>,
    /// On enabled rows only (observed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<FilterAction>,
    /// External rows only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolvers: Option<Resolvers>,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
pub(crate) struct LevelRow {
    pub title: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub name: &'static str,
    pub status: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opt: Option<&'static str>,
}

/// An enabled filter's action: `{"do": 0, "status": 1, "lvl": "ads_small"}` (`lvl` for families
/// with levels).
#[derive(Serialize, Clone, Debug, PartialEq)]
pub(crate) struct FilterAction {
    #[serde(rename = "do")]
    pub kind: u8,
    pub status: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lvl: Option<&'static str>,
}

impl FilterAction {
    pub(crate) fn enabled(lvl: Option<&'static str>) -> Self {
        Self {
            kind: 0,
            status: 1,
            lvl,
        }
    }
}

#[derive(Serialize, Clone, Debug, PartialEq)]
pub(crate) struct Resolvers {
    pub v4: Vec<&'static str>,
    pub v6: Vec<&'static str>,
}

/// One entry of `GET /services/categories`.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub(crate) struct CategoryView {
    #[serde(rename = "PK")]
    pub pk: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub count: usize,
}

/// One entry of `GET /services/categories/{c}`.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub(crate) struct ServiceInfoView {
    #[serde(rename = "PK")]
    pub pk: &'static str,
    pub name: &'static str,
    pub category: &'static str,
    pub unlock_location: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locations: Option<Vec<&'static str>>,
}

/// One entry of `GET /profiles/{p}/services`.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub(crate) struct ProfileServiceView {
    #[serde(rename = "PK")]
    pub pk: String,
    pub name: &'static str,
    pub category: &'static str,
    pub action: crate::dump::ActionDump,
}

/// One entry of `GET /profiles/options`.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub(crate) struct OptionInfoView {
    #[serde(rename = "PK")]
    pub pk: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub default_value: Value,
    pub info_url: String,
}

/// A profile's option as `GET /profiles/{p}/options`, `profile.opt.data[]` and option writes show it.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub(crate) struct OptionValueView {
    #[serde(rename = "PK")]
    pub pk: String,
    pub value: Value,
}
