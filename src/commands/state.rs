//! `ctrld-sync state show`: what the state files hold, per profile and folder.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::Context;
use crate::error::{Error, Result};
use crate::exit::ExitStatus;
use crate::model::{shown_action, ActionKind, Hostname, RuleAction, SettingsRecord};
use crate::plan::render::thousands;
use crate::quote::{escape, sanitize};
use crate::state::{FolderState, ProfileState, StateStore};

pub(crate) fn show(context: &Context, profiles: &[String]) -> Result<ExitStatus> {
    let dir = &context.state_dir;
    if !dir.is_dir() {
        context
            .printer
            .stdout(&format!(
                "No state in {}: nothing has been applied yet.\n",
                dir.display()
            ))
            .map_err(|err| Error::io("<stdout>", err))?;
        return Ok(ExitStatus::Success);
    }
    let store = StateStore::open_read_only(dir)?;
    let known = store.profiles()?;
    if let Some(missing) = profiles.iter().find(|id| !known.contains(id)) {
        return Err(Error::Usage(format!(
            "no state file for profile {missing} in {} (profiles with state: {})",
            dir.display(),
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        )));
    }
    let mut out = String::new();
    for id in known
        .iter()
        .filter(|id| profiles.is_empty() || profiles.contains(id))
    {
        if let Some(state) = store.load(id)? {
            render_profile(&mut out, &store.path(id).display().to_string(), &state);
        }
    }
    if out.is_empty() {
        let _ = writeln!(out, "No state files in {}.", dir.display());
    }
    context
        .printer
        .stdout(&out)
        .map_err(|err| Error::io("<stdout>", err))?;
    Ok(ExitStatus::Success)
}

fn render_profile(out: &mut String, path: &str, state: &ProfileState) {
    let _ = writeln!(out, "profile {} ({path})", state.profile);
    let _ = writeln!(
        out,
        "  lineage {}, serial {}, version {}",
        state.lineage, state.serial, state.version
    );
    for (key, folder) in &state.folders {
        render_folder(out, key, folder);
    }
    if let Some(settings) = &state.settings {
        render_settings(out, settings);
    }
    if !state.scratch.is_empty() {
        let pks: Vec<String> = state.scratch.iter().map(ToString::to_string).collect();
        let _ = writeln!(
            out,
            "  scratch folders left by an interrupted apply: {}",
            pks.join(", ")
        );
    }
    out.push('\n');
}

/// The managed settings as the last apply left them; names and values may come from Control D.
fn render_settings(out: &mut String, record: &SettingsRecord) {
    let values = &record.values;
    let mut parts: Vec<String> = Vec::new();
    if let Some(default) = &values.default {
        parts.push(format!("default {}", shown_action(default)));
    }
    for (name, filter) in &values.filters {
        parts.push(format!("filter {name} {}", filter.shown(name)));
    }
    for (name, action) in &values.services {
        parts.push(format!("service {name} {}", shown_action(action)));
    }
    for (name, value) in &values.options {
        parts.push(format!("option {name} {value}"));
    }
    let checked = match record.mark {
        Some(_) => "trusted while GET /profiles says what it said then",
        None => "read again by the next run",
    };
    let _ = writeln!(
        out,
        "  settings: {} managed ({checked})",
        record.managed.len()
    );
    for part in parts {
        let _ = writeln!(out, "    {}", sanitize(&part));
    }
}

fn render_folder(out: &mut String, key: &str, folder: &FolderState) {
    let _ = writeln!(
        out,
        "  folder {key}: PK {}, \"{}\", {}",
        folder.pk,
        sanitize(&folder.name),
        escape(&folder.action.to_string())
    );
    let _ = writeln!(out, "    rules:    {}", by_action(&folder.rules));
    if !folder.overlapped.is_empty() {
        let _ = writeln!(
            out,
            "    overlapped: {} (kept by an earlier folder in config order)",
            by_action(&folder.overlapped)
        );
    }
    if !folder.held_by_unmanaged.is_empty() {
        let _ = writeln!(
            out,
            "    held by unmanaged rules: {} (skipped; --refresh full rechecks)",
            by_action(&folder.held_by_unmanaged)
        );
    }
    match &folder.source {
        Some(source) => {
            let _ = write!(out, "    source:   {}", source.location);
            // Header values a list server sent.
            if let Some(etag) = &source.etag {
                let _ = write!(out, ", etag {}", sanitize(etag));
            }
            if let Some(modified) = &source.last_modified {
                let _ = write!(out, ", last-modified {}", sanitize(modified));
            }
            let short: String = source.sha256.chars().take(12).collect();
            let _ = writeln!(out, ", sha256 {short}");
        }
        None => {
            let _ = writeln!(
                out,
                "    source:   not recorded (the folder was not completed by an apply)"
            );
        }
    }
}

/// "1,204 (block 1,200, allow 4)"
fn by_action(rules: &BTreeMap<Hostname, RuleAction>) -> String {
    let mut counts: BTreeMap<ActionKind, usize> = BTreeMap::new();
    for action in rules.values() {
        *counts.entry(action.kind).or_default() += 1;
    }
    let parts: Vec<String> = counts
        .iter()
        .map(|(kind, n)| format!("{kind} {}", thousands(*n as u64)))
        .collect();
    if parts.is_empty() {
        return "0".to_string();
    }
    format!("{} ({})", thousands(rules.len() as u64), parts.join(", "))
}
