//! A profile's settings beyond folders, free of HTTP: native and external filters, service
//! rules, the default rule and options, with the semantics the API facts record.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use crate::api_error::ApiError;
use crate::behaviour::{DefaultDisable, DefaultOmitted, OptionValues, ServiceOmitted};
use crate::catalogue::{
    resolve_filter, service_named, External, Family, FilterName, Level, LevelKind, EXTERNALS,
    EXTERNAL_RESOLVERS, FAMILIES,
};
use crate::dump::{ActionDump, SettingsDump};
use crate::options::{option_named, OptionSpec, OPTIONS};
use crate::settings_fields::{ActionFields, OptionFields};
use crate::settings_views::{
    FilterAction, FilterRow, LevelRow, OptionValueView, ProfileServiceView, Resolvers,
};

const BLOCK: u8 = 0;
const BYPASS: u8 = 1;
const SPOOF: u8 = 2;
const REDIRECT: u8 = 3;

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Settings {
    /// Enabled filters: level names, PKs of families without levels, and `x-` PKs. An option
    /// level is not here: it is on while its option is set.
    filters: BTreeSet<String>,
    services: BTreeMap<String, ActionDump>,
    default_rule: ActionDump,
    /// Set options, PK -> the text stored; unset ones are absent (the listing is sparse).
    options: BTreeMap<String, String>,
}

/// The enabled-item counts `GET /profiles` shows beside rules and folders.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct SettingsCounts {
    pub flt: usize,
    pub cflt: usize,
    pub ipflt: usize,
    pub svc: usize,
    pub opt: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self::from_dump(SettingsDump::default())
    }
}

impl Settings {
    pub(crate) fn from_dump(dump: SettingsDump) -> Self {
        Self {
            filters: dump.filters.into_iter().collect(),
            services: dump.services,
            default_rule: dump.default_rule,
            options: dump.options,
        }
    }

    pub(crate) fn to_dump(&self) -> SettingsDump {
        SettingsDump {
            filters: self.filters.iter().cloned().collect(),
            services: self.services.clone(),
            default_rule: self.default_rule.clone(),
            options: self.options.clone(),
        }
    }

    pub(crate) fn counts(&self) -> SettingsCounts {
        let levels_on = |kind: LevelKind| {
            FAMILIES
                .iter()
                .flat_map(|family| family.levels)
                .filter(|level| level.kind == kind && self.level_on(level))
                .count()
        };
        let plain_families = FAMILIES
            .iter()
            .filter(|family| family.levels.is_empty() && self.filters.contains(family.pk))
            .count();
        SettingsCounts {
            flt: plain_families + levels_on(LevelKind::Filter),
            cflt: EXTERNALS
                .iter()
                .filter(|external| self.filters.contains(external.pk))
                .count(),
            ipflt: levels_on(LevelKind::IpFilter),
            svc: self.services.values().filter(|a| a.status == 1).count(),
            opt: self.option_values().len(),
        }
    }

    fn level_on(&self, level: &Level) -> bool {
        match level.kind {
            LevelKind::Option => self.options.contains_key(level.name),
            LevelKind::Filter | LevelKind::IpFilter => self.filters.contains(level.name),
        }
    }

    /// Which level `lvl` names: the first enabled `filter` level, else the first enabled one.
    fn active_level(&self, family: &Family) -> Option<&'static Level> {
        let on = || family.levels.iter().filter(|level| self.level_on(level));
        on().find(|level| level.kind == LevelKind::Filter)
            .or_else(|| on().next())
    }

    fn family_action(&self, family: &'static Family) -> Option<FilterAction> {
        if family.levels.is_empty() {
            return self
                .filters
                .contains(family.pk)
                .then(|| FilterAction::enabled(None));
        }
        let level = self.active_level(family)?;
        Some(FilterAction::enabled(Some(level.name)))
    }

    // ---- filters -------------------------------------------------------------------------

    pub(crate) fn native_filter_rows(&self) -> Vec<FilterRow> {
        FAMILIES
            .iter()
            .map(|family| {
                let action = self.family_action(family);
                let levels = (!family.levels.is_empty()).then(|| {
                    family
                        .levels
                        .iter()
                        .map(|level| LevelRow {
                            title: level.title,
                            kind: level.kind.as_str(),
                            name: level.name,
                            status: u8::from(self.level_on(level)),
                            opt: level.opt,
                        })
                        .collect()
                });
                FilterRow {
                    pk: family.pk,
                    name: family.name,
                    description: family.description,
                    status: u8::from(action.is_some()),
                    levels,
                    action,
                    resolvers: None,
                }
            })
            .collect()
    }

    pub(crate) fn external_filter_rows(&self) -> Vec<FilterRow> {
        EXTERNALS
            .iter()
            .map(|external| {
                let on = self.filters.contains(external.pk);
                FilterRow {
                    pk: external.pk,
                    name: external.name,
                    description: external.description,
                    status: u8::from(on),
                    levels: None,
                    action: on.then(|| FilterAction::enabled(None)),
                    resolvers: Some(Resolvers {
                        v4: vec![EXTERNAL_RESOLVERS.0],
                        v6: vec![EXTERNAL_RESOLVERS.1],
                    }),
                }
            })
            .collect()
    }

    /// The answer of filter writes: the enabled filters keyed by family (external ones by PK),
    /// `[]` when none is enabled (observed; the reference says otherwise).
    pub(crate) fn enabled_filters(&self) -> Value {
        let mut enabled: BTreeMap<&str, FilterAction> = FAMILIES
            .iter()
            .filter_map(|family| Some((family.pk, self.family_action(family)?)))
            .collect();
        for external in EXTERNALS {
            if self.filters.contains(external.pk) {
                enabled.insert(external.pk, FilterAction::enabled(None));
            }
        }
        match enabled.is_empty() {
            true => json!([]),
            false => json!(enabled),
        }
    }

    /// `PUT .../filters/filter/{name}` (and one entry of the batch). `level` is the dashboard's
    /// `lvl` field, naming a level of the family `name`.
    pub(crate) fn set_filter(
        &mut self,
        name: &str,
        status: u8,
        level: Option<&str>,
    ) -> Result<(), ApiError> {
        let target = resolve_filter(name).ok_or_else(|| invalid_filter(name))?;
        let on = status == 1;
        match (target, level) {
            (FilterName::Family(family), Some(level)) => {
                let level = family
                    .levels
                    .iter()
                    .find(|candidate| candidate.name == level)
                    .ok_or_else(|| invalid_filter(level))?;
                self.switch_level(family, level, on);
            }
            (FilterName::Family(family), None) => self.switch_family(family, on),
            (FilterName::Level(family, level), _) => self.switch_level(family, level, on),
            (FilterName::External(external), _) => self.switch_external(external, on),
        }
        Ok(())
    }

    /// A family named alone: on turns its own level on, off turns every level off.
    fn switch_family(&mut self, family: &'static Family, on: bool) {
        match (family.own_level(), on) {
            (Some(level), true) => self.switch_level(family, level, true),
            (None, true) => {
                self.filters.insert(family.pk.to_string());
            }
            (_, false) => {
                self.filters.remove(family.pk);
                for level in family.levels {
                    self.switch_level(family, level, false);
                }
            }
        }
    }

    /// Turning a level on turns off the family's other levels of the same kind (a swap, in one
    /// write: observed); levels of other kinds stay (they add up: observed on `malware`).
    fn switch_level(&mut self, family: &Family, level: &'static Level, on: bool) {
        if !on {
            if level.kind == LevelKind::Option {
                self.options.remove(level.name);
            } else {
                self.filters.remove(level.name);
            }
            return;
        }
        for other in family.levels {
            if other.kind == level.kind && other.name != level.name {
                self.switch_level(family, other, false);
            }
        }
        match level.kind {
            LevelKind::Option => {
                let value = level.opt.unwrap_or("1").to_string();
                self.options.entry(level.name.to_string()).or_insert(value);
            }
            _ => {
                self.filters.insert(level.name.to_string());
            }
        }
    }

    fn switch_external(&mut self, external: &External, on: bool) {
        match on {
            true => self.filters.insert(external.pk.to_string()),
            false => self.filters.remove(external.pk),
        };
    }

    // ---- services ------------------------------------------------------------------------

    /// Only services that have a rule, disabled ones included (observed).
    pub(crate) fn service_rows(&self) -> Vec<ProfileServiceView> {
        self.services
            .iter()
            .filter_map(|(pk, action)| {
                let service = service_named(pk)?;
                Some(ProfileServiceView {
                    pk: pk.clone(),
                    name: service.name,
                    category: service.category,
                    action: action.clone(),
                })
            })
            .collect()
    }

    /// Creates or updates a service rule; there is no way to delete one (`status=0` keeps it
    /// listed). Returns the stored action.
    pub(crate) fn set_service(
        &mut self,
        pk: &str,
        fields: &ActionFields,
        omitted: ServiceOmitted,
    ) -> Result<ActionDump, ApiError> {
        if service_named(pk).is_none() {
            return Err(ApiError::bad_request("Invalid service was provided"));
        }
        if omitted == ServiceOmitted::Required {
            fields.require_do_and_status()?;
        }
        let current = self.services.get(pk);
        let kind = fields
            .kind
            .or_else(|| current.and_then(|action| action.kind))
            .ok_or_else(|| ApiError::missing("do"))?;
        let status = match (fields.status, omitted) {
            (Some(status), _) => status,
            (None, ServiceOmitted::StatusReset) => 1,
            (None, _) => current.map_or(1, |action| action.status),
        };
        // Observed: an omitted via_v6 is kept; changing `do` away from spoof clears via and via_v6.
        let kept = current.filter(|action| action.kind == Some(kind));
        let action = targeted(
            kind,
            status,
            fields
                .via
                .clone()
                .or_else(|| kept.and_then(|a| a.via.clone())),
            fields
                .via_v6
                .clone()
                .or_else(|| kept.and_then(|a| a.via_v6.clone())),
        )?;
        self.services.insert(pk.to_string(), action.clone());
        Ok(action)
    }

    // ---- default rule --------------------------------------------------------------------

    pub(crate) fn default_rule(&self) -> &ActionDump {
        &self.default_rule
    }

    /// Returns the stored default rule.
    pub(crate) fn set_default(
        &mut self,
        fields: &ActionFields,
        omitted: DefaultOmitted,
        disable: DefaultDisable,
    ) -> Result<ActionDump, ApiError> {
        let current = &self.default_rule;
        let (kind, status, via) = match omitted {
            DefaultOmitted::Required => {
                fields.require_do_and_status()?;
                (fields.kind, fields.status.unwrap_or(1), fields.via.clone())
            }
            DefaultOmitted::Replaced => {
                (fields.kind, fields.status.unwrap_or(1), fields.via.clone())
            }
            DefaultOmitted::Kept => {
                let kind = fields.kind.or(current.kind);
                let same_kind = kind == current.kind;
                let via = fields
                    .via
                    .clone()
                    .or_else(|| current.via.clone().filter(|_| same_kind));
                (kind, fields.status.unwrap_or(current.status), via)
            }
        };
        let kind = kind.ok_or_else(|| ApiError::missing("do"))?;
        if status == 0 && disable == DefaultDisable::Rejected {
            return Err(ApiError::bad_request("The default rule cannot be disabled"));
        }
        let mut action = targeted(kind, status, via, None)?;
        action.via_v6 = None;
        self.default_rule = action.clone();
        Ok(action)
    }

    // ---- options -------------------------------------------------------------------------

    /// The set options, sparse, in catalogue order.
    pub(crate) fn option_values(&self) -> Vec<OptionValueView> {
        OPTIONS
            .iter()
            .filter_map(|spec| {
                let stored = self.options.get(spec.pk)?;
                Some(OptionValueView {
                    pk: spec.pk.to_string(),
                    value: spec.shown(stored),
                })
            })
            .collect()
    }

    /// `status=0` unsets the option (it leaves the sparse listing; the answer shows `value: 0`).
    pub(crate) fn set_option(
        &mut self,
        name: &str,
        fields: &OptionFields,
        mode: OptionValues,
    ) -> Result<OptionValueView, ApiError> {
        let spec: &OptionSpec =
            option_named(name).ok_or_else(|| ApiError::bad_request("Invalid option name"))?;
        let status = fields.status.ok_or_else(|| ApiError::missing("status"))?;
        if status == 0 {
            self.options.remove(spec.pk);
            return Ok(OptionValueView {
                pk: spec.pk.to_string(),
                value: json!(0),
            });
        }
        let stored = match (spec.is_toggle(), &fields.value) {
            (true, _) => "1".to_string(),
            (false, None) => return Err(ApiError::missing("value")),
            (false, Some(sent)) => spec.checked(sent, mode)?,
        };
        let value = spec.shown(&stored);
        self.options.insert(spec.pk.to_string(), stored);
        Ok(OptionValueView {
            pk: spec.pk.to_string(),
            value,
        })
    }
}

fn invalid_filter(name: &str) -> ApiError {
    ApiError::bad_request(format!("Invalid filter name '{name}'"))
}

/// An action with its targets: spoof and redirect need `via`; block and bypass carry none.
fn targeted(
    kind: u8,
    status: u8,
    via: Option<String>,
    via_v6: Option<String>,
) -> Result<ActionDump, ApiError> {
    let (via, via_v6) = match kind {
        BLOCK | BYPASS => (None, None),
        SPOOF | REDIRECT => (Some(via.ok_or_else(|| ApiError::missing("via"))?), via_v6),
        _ => {
            return Err(ApiError::bad_request(format!(
                "Invalid value for do: {kind}"
            )))
        }
    };
    let via_v6 = via_v6.filter(|_| kind == SPOOF);
    Ok(ActionDump {
        kind: Some(kind),
        status,
        via,
        via_v6,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on(settings: &mut Settings, name: &str) {
        settings.set_filter(name, 1, None).unwrap();
    }

    fn levels(settings: &Settings, family: &str) -> Vec<(&'static str, u8)> {
        let rows = settings.native_filter_rows();
        let row = rows.iter().find(|row| row.pk == family).unwrap();
        let levels = row.levels.as_ref().unwrap();
        levels
            .iter()
            .map(|level| (level.name, level.status))
            .collect()
    }

    #[test]
    fn another_level_of_the_same_kind_swaps_levels_of_other_kinds_add_up() {
        let mut settings = Settings::default();
        on(&mut settings, "ads_small");
        on(&mut settings, "ads_medium");
        assert_eq!(
            levels(&settings, "ads"),
            [("ads_small", 0), ("ads_medium", 1), ("ads", 0)]
        );
        on(&mut settings, "malware");
        on(&mut settings, "ip_malware");
        assert_eq!(
            levels(&settings, "malware"),
            [("ip_malware", 1), ("malware", 1), ("ai_malware", 0)]
        );
        let counts = settings.counts();
        assert_eq!((counts.flt, counts.ipflt), (2, 1));
    }

    #[test]
    fn the_option_level_is_the_option() {
        let mut settings = Settings::default();
        on(&mut settings, "ai_malware");
        assert_eq!(
            settings.options.get("ai_malware").map(String::as_str),
            Some("0.7")
        );
        assert_eq!(settings.counts().opt, 1);
        settings.set_filter("malware", 0, None).unwrap();
        assert!(settings.options.is_empty());
        assert_eq!(settings.enabled_filters(), json!([]));
    }

    #[test]
    fn leaving_spoof_clears_via_and_via_v6_an_omitted_via_v6_is_kept() {
        let mut settings = Settings::default();
        let spoof = ActionFields {
            kind: Some(SPOOF),
            status: Some(1),
            via: Some("1.2.3.4".into()),
            via_v6: Some("::1".into()),
        };
        settings
            .set_service("zoom", &spoof, ServiceOmitted::Kept)
            .unwrap();
        let status_only = ActionFields {
            status: Some(0),
            ..ActionFields::default()
        };
        let kept = settings
            .set_service("zoom", &status_only, ServiceOmitted::Kept)
            .unwrap();
        assert_eq!(kept.via_v6.as_deref(), Some("::1"));
        let block = ActionFields {
            kind: Some(BLOCK),
            ..ActionFields::default()
        };
        let blocked = settings
            .set_service("zoom", &block, ServiceOmitted::Kept)
            .unwrap();
        assert_eq!(
            (blocked.via, blocked.via_v6, blocked.status),
            (None, None, 0)
        );
    }
}
