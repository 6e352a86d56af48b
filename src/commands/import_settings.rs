//! `init --from-profile`: the profile's current settings as config keys (`default`, `filters`,
//! `services`, `options`), so the first plan after the import shows no change. Only what is set
//! is written: filters that are on, services that have a rule, options that are set.

use std::collections::BTreeMap;

use crate::controld::{Client, OptionKind, RemoteFilter};
use crate::error::Result;
use crate::model::{ActionKind, RuleAction};

/// The settings lines for the `[[profile]]` table (empty when nothing is set but the default
/// rule a new profile has).
pub(super) async fn read(client: &Client, profile: &str) -> Result<String> {
    let (native, external, services, default, options, catalogue) = tokio::try_join!(
        client.list_filters(profile),
        client.list_external_filters(profile),
        client.list_services(profile),
        client.get_default(profile),
        client.list_options(profile),
        client.option_catalogue(),
    )?;
    let toggles: Vec<&str> = catalogue
        .iter()
        .filter(|info| info.kind == OptionKind::Toggle)
        .map(|info| info.pk.as_str())
        .collect();
    let filters: Vec<(String, String)> = native
        .iter()
        .chain(&external)
        .filter_map(|row| Some((row.pk.clone(), filter_value(row)?)))
        .collect();
    let services: Vec<(String, String)> = services
        .iter()
        .map(|row| (row.pk.clone(), action_value(&row.action)))
        .collect();
    let options: Vec<(String, String)> = options
        .iter()
        .map(|(name, value)| (name.clone(), option_value(name, value, &toggles)))
        .collect();
    let mut text = String::new();
    if filters.is_empty() && services.is_empty() && options.is_empty() && is_new_default(&default) {
        return Ok(text);
    }
    text.push_str(
        "# Settings beyond folders, as the profile has them now; only those named here are managed.\n",
    );
    text.push_str(&format!("default = {}\n", action_value(&default)));
    for (key, entries) in [
        ("filters", filters),
        ("services", services),
        ("options", options),
    ] {
        if !entries.is_empty() {
            text.push_str(&format!("{key} = {}\n", inline_table(&entries)));
        }
    }
    Ok(text)
}

/// A new profile's default rule (bypass, enabled): not worth managing unless asked.
fn is_new_default(action: &RuleAction) -> bool {
    *action == RuleAction::allow()
}

/// `true` for a filter on at its own level (or without levels), the level's name otherwise;
/// `None` for a filter that is off.
fn filter_value(row: &RemoteFilter) -> Option<String> {
    match row.active.as_slice() {
        [] => None,
        active if active.iter().any(|name| name == &row.pk) => Some("true".into()),
        // Levels of different types add up (`malware`); the config names one that is on.
        [first, ..] => Some(quoted(first)),
    }
}

fn action_value(action: &RuleAction) -> String {
    if !action.enabled {
        return quoted("off");
    }
    match (action.kind, &action.via) {
        (ActionKind::Block, _) => quoted("block"),
        (ActionKind::Allow, _) => quoted("bypass"),
        (ActionKind::Spoof, Some(via)) => {
            let v6 = action
                .via_v6
                .as_ref()
                .map(|v6| format!(", via_v6 = {}", quoted(v6)))
                .unwrap_or_default();
            format!("{{ spoof = {}{v6} }}", quoted(via))
        }
        (ActionKind::Redirect, Some(via)) => format!("{{ redirect = {} }}", quoted(via)),
        // A target-less spoof or redirect cannot be written back; block is the safe reading.
        (ActionKind::Spoof | ActionKind::Redirect, None) => quoted("block"),
    }
}

fn option_value(name: &str, value: &str, toggles: &[&str]) -> String {
    match toggles.contains(&name) {
        true => "true".into(),
        false => quoted(value),
    }
}

fn inline_table(entries: &[(String, String)]) -> String {
    let sorted: BTreeMap<&str, &str> = entries
        .iter()
        .map(|(key, value)| (key.as_str(), value.as_str()))
        .collect();
    let body: Vec<String> = sorted
        .iter()
        .map(|(key, value)| format!("{} = {value}", toml_key(key)))
        .collect();
    format!("{{ {} }}", body.join(", "))
}

/// A TOML string, escaped by the toml crate (names and values come from the network).
fn quoted(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

fn toml_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    match bare {
        true => key.to_owned(),
        false => quoted(key),
    }
}
