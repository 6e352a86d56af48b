//! The data and the API's semantics, free of HTTP: profiles, folders with integer PKs, rules with
//! profile-wide unique hostnames, whole-request atomicity and the rule limit.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::api_error::ApiError;
use crate::behaviour::{
    Behaviour, FolderCount, GoneFolderDelete, PartialPut, RepeatWrite, SameFolderPut,
    SettingsWrite, UpdatedMoves,
};
use crate::config::FolderPks;
use crate::dump::{ActionDump, Dump, FolderDump, ProfileDump, RuleDump};
use crate::fields::{FolderFields, RuleFields};
use crate::settings::Settings;
use crate::views::{ActionView, FolderView, ProfileCounts, ProfileView, RuleView};

/// The folder PK of the root, as the API writes it.
pub(crate) const ROOT: u64 = 0;

const MAX_HOSTNAME_LEN: usize = 253;

/// What the plan allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
    pub max_rules: usize,
    pub allow_redirect: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct Store {
    limits: Limits,
    behaviour: Behaviour,
    /// One above the highest PK handed out so far (see [`FolderPks::GlobalCounter`]).
    next_pk: u64,
    next_order: u64,
    /// See `EmulatorConfig::stable_pks`.
    stable_pks: bool,
    folder_pks: FolderPks,
    profiles: BTreeMap<String, Profile>,
}

#[derive(Clone, Debug)]
struct Profile {
    name: String,
    updated: u64,
    /// `updated` counts changes from [`STABLE_EPOCH`] instead of following the clock
    /// (`stable_pks`: reproducible example state).
    stable_clock: bool,
    folders: BTreeMap<u64, Folder>,
    rules: HashMap<String, Rule>,
    /// Rules per group (root included), kept in step with `rules` so listings stay cheap.
    counts: HashMap<u64, usize>,
    settings: Settings,
}

#[derive(Clone, Debug)]
struct Folder {
    name: String,
    action: ActionDump,
    /// Made in the dashboard: its action shows `via: -1` (an integer) while it has no via.
    dashboard: bool,
}

#[derive(Clone, Debug)]
struct Rule {
    group: u64,
    action: ActionDump,
    order: u64,
    comment: String,
    /// Expiry (unix seconds), shown as `action.ttl`.
    ttl: Option<u64>,
}

impl Rule {
    fn new(group: u64, action: ActionDump, order: u64) -> Self {
        Self {
            group,
            action,
            order,
            comment: String::new(),
            ttl: None,
        }
    }

    fn view(&self, hostname: &str) -> RuleView {
        RuleView {
            hostname: hostname.to_string(),
            order: self.order,
            group: self.group,
            action: ActionView::rule(&self.action, self.ttl),
            comment: self.comment.clone(),
        }
    }
}

/// Unix milliseconds.
fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// What kind of change moves a profile's `updated`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Change {
    Folder,
    Rule,
}

/// 2026-01-01T00:00:00Z in Unix milliseconds: where a `stable_pks` profile's `updated` starts.
const STABLE_EPOCH: u64 = 1_767_225_600_000;

impl Profile {
    fn new(name: String, stable_clock: bool) -> Self {
        Self {
            name,
            updated: if stable_clock { STABLE_EPOCH } else { now() },
            stable_clock,
            folders: BTreeMap::new(),
            rules: HashMap::new(),
            counts: HashMap::new(),
            settings: Settings::default(),
        }
    }

    /// Moves `updated` forward, strictly, so that two changes in one millisecond still show.
    fn touch(&mut self, change: Change, behaviour: &Behaviour) {
        if change == Change::Rule && !behaviour.updated_on_rule_change {
            return;
        }
        self.move_updated();
    }

    fn move_updated(&mut self) {
        self.updated = match self.stable_clock {
            true => self.updated + 1,
            false => now().max(self.updated + 1),
        };
    }

    fn enabled_rules(&self) -> usize {
        self.rules.values().filter(|r| r.action.status == 1).count()
    }

    fn require_group(&self, group: u64) -> Result<(), ApiError> {
        if group == ROOT || self.folders.contains_key(&group) {
            Ok(())
        } else {
            Err(ApiError::no_such_group())
        }
    }

    fn count(&self, group: u64) -> usize {
        self.counts.get(&group).copied().unwrap_or(0)
    }

    fn insert_rule(&mut self, hostname: String, rule: Rule) {
        *self.counts.entry(rule.group).or_default() += 1;
        if let Some(replaced) = self.rules.insert(hostname, rule) {
            self.uncount(replaced.group);
        }
    }

    fn remove_rule(&mut self, hostname: &str) -> bool {
        let removed = self.rules.remove(hostname);
        if let Some(rule) = &removed {
            self.uncount(rule.group);
        }
        removed.is_some()
    }

    fn move_rule(&mut self, hostname: &str, group: u64) {
        let Some(rule) = self.rules.get_mut(hostname) else {
            return;
        };
        let from = std::mem::replace(&mut rule.group, group);
        self.uncount(from);
        *self.counts.entry(group).or_default() += 1;
    }

    fn remove_group_rules(&mut self, group: u64) {
        self.rules.retain(|_, rule| rule.group != group);
        self.counts.remove(&group);
    }

    fn uncount(&mut self, group: u64) {
        if let Some(count) = self.counts.get_mut(&group) {
            *count = count.saturating_sub(1);
        }
    }

    fn folder_view(&self, pk: u64, count: FolderCount) -> Option<FolderView> {
        let count = match count {
            FolderCount::All => self.count(pk),
            FolderCount::EnabledOnly => self
                .rules
                .values()
                .filter(|rule| rule.group == pk && rule.action.status == 1)
                .count(),
        };
        self.folders.get(&pk).map(|folder| FolderView {
            pk,
            group: folder.name.clone(),
            action: ActionView::folder(&folder.action, folder.dashboard),
            count,
        })
    }

    fn rule_view(&self, hostname: &str) -> Option<RuleView> {
        self.rules.get(hostname).map(|rule| rule.view(hostname))
    }

    fn rules_dump(&self, group: u64) -> Vec<RuleDump> {
        let mut rules: Vec<RuleDump> = self
            .rules
            .iter()
            .filter(|(_, rule)| rule.group == group)
            .map(|(hostname, rule)| RuleDump {
                hostname: hostname.clone(),
                action: rule.action.clone(),
            })
            .collect();
        rules.sort_by(|a, b| a.hostname.cmp(&b.hostname));
        rules
    }
}

/// Only these characters appear in hostnames the real API accepts (wildcards included).
pub(crate) fn validate_hostname(hostname: &str) -> Result<(), ApiError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '*' | '-');
    if hostname.is_empty() || hostname.len() > MAX_HOSTNAME_LEN || !hostname.chars().all(allowed) {
        return Err(ApiError::bad_request(format!(
            "Invalid hostname: {hostname:?}"
        )));
    }
    Ok(())
}

/// Stable PKs are seven digits, like the real service's.
const STABLE_PK_BASE: u64 = 1_000_000;
const STABLE_PK_SPAN: u64 = 9_000_000;

fn stable_pk(profile_id: &str, name: &str) -> u64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(profile_id.as_bytes())
        .chain_update([0])
        .chain_update(name.as_bytes())
        .finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    STABLE_PK_BASE + u64::from_be_bytes(first) % STABLE_PK_SPAN
}

/// Spoof and redirect point somewhere and need `via`.
fn needs_via(kind: Option<u8>) -> bool {
    matches!(kind, Some(2) | Some(3))
}

impl Store {
    /// A store with the given profiles, each empty and named after its id.
    pub(crate) fn new(limits: Limits, profile_ids: &[String]) -> Self {
        let mut store = Self {
            limits,
            behaviour: Behaviour::default(),
            next_pk: 1,
            next_order: 1,
            stable_pks: false,
            folder_pks: FolderPks::default(),
            profiles: BTreeMap::new(),
        };
        store.ensure_profiles(profile_ids);
        store
    }

    pub(crate) fn set_stable_pks(&mut self, stable: bool) {
        self.stable_pks = stable;
    }

    pub(crate) fn set_folder_pks(&mut self, folder_pks: FolderPks) {
        self.folder_pks = folder_pks;
    }

    /// The next folder PK: derived from profile and name (`stable_pks`), else per `folder_pks`.
    fn new_folder_pk(&mut self, profile_id: &str, name: &str) -> u64 {
        if self.stable_pks {
            return self.new_stable_pk(profile_id, name);
        }
        let pk = match self.folder_pks {
            FolderPks::GlobalCounter => self.next_pk,
            FolderPks::PerProfileReused => self.highest_pk(profile_id).saturating_add(1),
        };
        self.next_pk = self.next_pk.max(pk.saturating_add(1));
        pk
    }

    /// The highest folder PK in use in the profile; the root's 0 when it has no folder.
    fn highest_pk(&self, profile_id: &str) -> u64 {
        self.profiles
            .get(profile_id)
            .and_then(|profile| profile.folders.keys().next_back().copied())
            .unwrap_or(ROOT)
    }

    /// Derived from profile and name, moved on past any PK already in use in any profile.
    fn new_stable_pk(&self, profile_id: &str, name: &str) -> u64 {
        let mut pk = stable_pk(profile_id, name);
        while self.pk_in_use(pk) {
            pk = STABLE_PK_BASE + (pk - STABLE_PK_BASE + 1) % STABLE_PK_SPAN;
        }
        pk
    }

    fn pk_in_use(&self, pk: u64) -> bool {
        self.profiles
            .values()
            .any(|profile| profile.folders.contains_key(&pk))
    }

    pub(crate) fn set_behaviour(&mut self, behaviour: Behaviour) {
        self.behaviour = behaviour;
    }

    /// Adds the profiles that do not exist yet, empty.
    pub(crate) fn ensure_profiles(&mut self, profile_ids: &[String]) {
        for id in profile_ids {
            self.profiles
                .entry(id.clone())
                .or_insert_with(|| Profile::new(id.clone(), self.stable_pks));
        }
    }

    fn profile(&self, id: &str) -> Result<&Profile, ApiError> {
        self.profiles.get(id).ok_or_else(ApiError::no_such_profile)
    }

    fn profile_mut(&mut self, id: &str) -> Result<&mut Profile, ApiError> {
        self.profiles
            .get_mut(id)
            .ok_or_else(ApiError::no_such_profile)
    }

    pub(crate) fn behaviour(&self) -> Behaviour {
        self.behaviour
    }

    /// 402 / 40201 for REDIRECT (`do=3`) on a free plan.
    pub(crate) fn check_plan(&self, kind: Option<u8>) -> Result<(), ApiError> {
        if kind == Some(3) && !self.limits.allow_redirect {
            return Err(ApiError::needs_paid_plan());
        }
        Ok(())
    }

    pub(crate) fn list_profiles(&self) -> Vec<ProfileView> {
        self.profiles
            .iter()
            .map(|(id, profile)| ProfileView {
                pk: id.clone(),
                name: profile.name.clone(),
                updated: profile.updated,
                // The live service counts enabled items only.
                profile: ProfileCounts::new(
                    profile.enabled_rules(),
                    profile
                        .folders
                        .values()
                        .filter(|f| f.action.status == 1)
                        .count(),
                    &profile.settings,
                ),
            })
            .collect()
    }

    pub(crate) fn list_folders(&self, profile_id: &str) -> Result<Vec<FolderView>, ApiError> {
        let profile = self.profile(profile_id)?;
        Ok(profile
            .folders
            .keys()
            .filter_map(|&pk| profile.folder_view(pk, self.behaviour.folder_count))
            .collect())
    }

    pub(crate) fn create_folder(
        &mut self,
        profile_id: &str,
        fields: FolderFields,
    ) -> Result<FolderView, ApiError> {
        self.profile(profile_id)?;
        let name = fields.name.ok_or_else(|| ApiError::missing("name"))?;
        self.check_plan(fields.kind)?;
        let action = ActionDump {
            kind: fields.kind,
            status: fields.status.unwrap_or(1),
            via: fields.via,
            via_v6: None,
        };
        self.insert_folder(profile_id, name, action, false)
    }

    /// A folder as the dashboard makes it: `"action": {"do": kind, "status": 1, "via": -1}`.
    pub(crate) fn create_dashboard_folder(
        &mut self,
        profile_id: &str,
        name: &str,
        kind: u8,
    ) -> Result<FolderView, ApiError> {
        let action = ActionDump {
            kind: Some(kind),
            status: 1,
            via: None,
            via_v6: None,
        };
        self.insert_folder(profile_id, name.to_string(), action, true)
    }

    fn insert_folder(
        &mut self,
        profile_id: &str,
        name: String,
        action: ActionDump,
        dashboard: bool,
    ) -> Result<FolderView, ApiError> {
        self.profile(profile_id)?;
        let pk = self.new_folder_pk(profile_id, &name);
        let (behaviour, count) = (self.behaviour, self.behaviour.folder_count);
        let profile = self.profile_mut(profile_id)?;
        let folder = Folder {
            name,
            action,
            dashboard,
        };
        profile.folders.insert(pk, folder);
        profile.touch(Change::Folder, &behaviour);
        Ok(profile
            .folder_view(pk, count)
            .expect("folder just inserted"))
    }

    /// Merges the given fields into the folder; omitted fields are kept.
    pub(crate) fn update_folder(
        &mut self,
        profile_id: &str,
        pk: u64,
        fields: FolderFields,
    ) -> Result<FolderView, ApiError> {
        self.check_plan(fields.kind)?;
        let behaviour = self.behaviour;
        let profile = self.profile_mut(profile_id)?;
        let folder = profile
            .folders
            .get_mut(&pk)
            .ok_or_else(ApiError::folder_does_not_exist)?;
        if let Some(name) = fields.name {
            folder.name = name;
        }
        if fields.kind.is_some() {
            folder.action.kind = fields.kind;
        }
        if let Some(status) = fields.status {
            folder.action.status = status;
        }
        if fields.via.is_some() {
            folder.action.via = fields.via;
        }
        profile.touch(Change::Folder, &behaviour);
        Ok(profile
            .folder_view(pk, behaviour.folder_count)
            .expect("folder exists"))
    }

    /// Deletes the folder and every rule in it.
    pub(crate) fn delete_folder(&mut self, profile_id: &str, pk: u64) -> Result<(), ApiError> {
        let behaviour = self.behaviour;
        let profile = self.profile_mut(profile_id)?;
        if profile.folders.remove(&pk).is_none() {
            // Unknown: what a DELETE of a folder that is already gone answers.
            return match behaviour.gone_folder_delete {
                GoneFolderDelete::NotFound => Err(ApiError::no_such_group()),
                GoneFolderDelete::Success => Ok(()),
                GoneFolderDelete::Rejected => Err(ApiError::folder_does_not_exist()),
            };
        }
        profile.remove_group_rules(pk);
        profile.touch(Change::Folder, &behaviour);
        Ok(())
    }

    /// Every rule of the profile, root and folders (the undocumented `GET .../rules/all`).
    pub(crate) fn list_all_rules(&self, profile_id: &str) -> Result<Vec<RuleView>, ApiError> {
        let profile = self.profile(profile_id)?;
        let mut rules: Vec<RuleView> = profile
            .rules
            .iter()
            .map(|(hostname, rule)| rule.view(hostname))
            .collect();
        rules.sort_by_key(|rule| rule.order);
        Ok(rules)
    }

    /// The rules of one folder, or of the root for [`ROOT`], in insertion order.
    pub(crate) fn list_rules(
        &self,
        profile_id: &str,
        group: u64,
    ) -> Result<Vec<RuleView>, ApiError> {
        let profile = self.profile(profile_id)?;
        profile.require_group(group)?;
        let mut rules: Vec<RuleView> = profile
            .rules
            .iter()
            .filter(|(_, rule)| rule.group == group)
            .map(|(hostname, rule)| rule.view(hostname))
            .collect();
        rules.sort_by_key(|rule| rule.order);
        Ok(rules)
    }

    /// Creates rules; the whole request fails, storing nothing, on any problem.
    pub(crate) fn create_rules(
        &mut self,
        profile_id: &str,
        fields: RuleFields,
    ) -> Result<Vec<RuleView>, ApiError> {
        let action = self.new_rule_action(&fields)?;
        let group = fields.group.unwrap_or(ROOT);
        let max_rules = self.limits.max_rules;
        let profile = self.profile(profile_id)?;
        profile.require_group(group)?;
        check_new_hostnames(profile, &fields.hostnames)?;
        if profile.rules.len() + fields.hostnames.len() > max_rules {
            return Err(ApiError::bad_request(
                "You have reached the maximum number of custom rules",
            ));
        }
        let first_order = self.next_order;
        // The live service's `order` has gaps: leave one after every request.
        self.next_order += fields.hostnames.len() as u64 + 1;
        let behaviour = self.behaviour;
        let profile = self.profile_mut(profile_id)?;
        for (offset, hostname) in fields.hostnames.iter().enumerate() {
            let mut rule = Rule::new(group, action.clone(), first_order + offset as u64);
            rule.comment = fields.comment.clone().unwrap_or_default();
            rule.ttl = fields.ttl;
            profile.insert_rule(hostname.clone(), rule);
        }
        profile.touch(Change::Rule, &behaviour);
        Ok(summary(profile, &fields.hostnames))
    }

    fn new_rule_action(&self, fields: &RuleFields) -> Result<ActionDump, ApiError> {
        let kind = fields.kind.ok_or_else(|| ApiError::missing("do"))?;
        // Observed: a `status` cut off by the 1,001-variable limit defaulted to enabled.
        let status = fields.status.unwrap_or(1);
        if fields.hostnames.is_empty() {
            return Err(ApiError::missing("hostnames"));
        }
        self.check_plan(Some(kind))?;
        if needs_via(Some(kind)) && fields.via.is_none() {
            return Err(ApiError::missing("via"));
        }
        Ok(ActionDump {
            kind: Some(kind),
            status,
            via: fields.via.clone(),
            via_v6: fields.via_v6.clone(),
        })
    }

    /// Merges actions into existing rules and moves them with `group`; all or nothing (unless
    /// the partial-PUT knob says otherwise).
    pub(crate) fn update_rules(
        &mut self,
        profile_id: &str,
        fields: RuleFields,
    ) -> Result<Vec<RuleView>, ApiError> {
        if fields.hostnames.is_empty() {
            return Err(ApiError::missing("hostnames"));
        }
        self.check_plan(fields.kind)?;
        let behaviour = self.behaviour;
        let profile = self.profile(profile_id)?;
        if let Some(group) = fields.group {
            profile.require_group(group)?;
        }
        let mut changes = Vec::with_capacity(fields.hostnames.len());
        let mut missing = None;
        for hostname in &fields.hostnames {
            let Some(rule) = profile.rules.get(hostname) else {
                missing.get_or_insert_with(|| hostname.clone());
                continue;
            };
            if fields.group == Some(rule.group)
                && behaviour.same_folder_put == SameFolderPut::Refused
            {
                return Err(ApiError::bad_request(format!(
                    "Custom Rule is already in this folder: {hostname}"
                )));
            }
            changes.push((hostname.clone(), merge_action(&rule.action, &fields)?));
        }
        let refusal = missing.map(|hostname| {
            ApiError::bad_request(format!("Custom Rule does not exist: {hostname}"))
        });
        if let Some(refusal) = refusal.clone() {
            if behaviour.partial_put == PartialPut::AllOrNothing {
                return Err(refusal);
            }
        }
        let reorder = behaviour.same_folder_put == SameFolderPut::Reorders;
        let first_order = self.next_order;
        self.next_order += changes.len() as u64 + 1;
        let profile = self.profile_mut(profile_id)?;
        for (offset, (hostname, action)) in changes.into_iter().enumerate() {
            let Some(rule) = profile.rules.get_mut(&hostname) else {
                continue;
            };
            rule.action = action;
            if let Some(group) = fields.group {
                if rule.group != group || reorder {
                    rule.order = first_order + offset as u64;
                }
                profile.move_rule(&hostname, group);
            }
        }
        profile.touch(Change::Rule, &behaviour);
        match refusal {
            Some(refusal) => Err(refusal),
            None => Ok(summary(profile, &fields.hostnames)),
        }
    }

    /// Deletes one rule; a hostname that does not exist is not an error.
    pub(crate) fn delete_rule(&mut self, profile_id: &str, hostname: &str) -> Result<(), ApiError> {
        let behaviour = self.behaviour;
        let profile = self.profile_mut(profile_id)?;
        if profile.remove_rule(hostname) {
            profile.touch(Change::Rule, &behaviour);
        }
        Ok(())
    }

    pub(crate) fn settings(&self, profile_id: &str) -> Result<&Settings, ApiError> {
        Ok(&self.profile(profile_id)?.settings)
    }

    /// Runs one settings write on a copy of the profile's settings and keeps it only if `change`
    /// succeeds (every settings write is all-or-nothing). A write that changes nothing answers
    /// as `knob.repeat` says: `Some(answer)`, `None` (an empty body) or 40003. `updated` moves
    /// as `knob.updated` says.
    pub(crate) fn write_settings<T>(
        &mut self,
        profile_id: &str,
        knob: SettingsWrite,
        change: impl FnOnce(&mut Settings) -> Result<T, ApiError>,
    ) -> Result<Option<T>, ApiError> {
        let profile = self.profile_mut(profile_id)?;
        let mut settings = profile.settings.clone();
        let answer = change(&mut settings)?;
        let changed = settings != profile.settings;
        if !changed && knob.repeat == RepeatWrite::Rejected {
            return Err(ApiError::bad_request("Nothing to update"));
        }
        profile.settings = settings;
        let moves = match knob.updated {
            UpdatedMoves::EveryWrite => true,
            UpdatedMoves::OnChange => changed,
            UpdatedMoves::Never => false,
        };
        if moves {
            profile.move_updated();
        }
        let empty = !changed && knob.repeat == RepeatWrite::EmptyBody;
        Ok((!empty).then_some(answer))
    }

    pub(crate) fn dump(&self) -> Dump {
        let profiles = self
            .profiles
            .iter()
            .map(|(id, profile)| (id.clone(), profile_dump(profile)))
            .collect();
        Dump {
            next_pk: self.next_pk,
            profiles,
        }
    }

    /// Replaces the whole data set.
    pub(crate) fn load(&mut self, dump: Dump) {
        let highest_pk = dump
            .profiles
            .values()
            .flat_map(|profile| profile.folders.iter().map(|folder| folder.pk))
            .max()
            .unwrap_or(0);
        self.next_pk = dump.next_pk.max(highest_pk + 1);
        self.profiles.clear();
        for (id, profile_dump) in dump.profiles {
            let profile = self.profile_from_dump(profile_dump);
            self.profiles.insert(id, profile);
        }
    }

    fn profile_from_dump(&mut self, dump: ProfileDump) -> Profile {
        let mut profile = Profile::new(dump.name, self.stable_pks);
        if let Some(updated) = dump.updated.filter(|_| self.stable_pks) {
            profile.updated = updated;
        }
        profile.settings = Settings::from_dump(dump.settings);
        let root = dump.root.into_iter().map(|rule| (ROOT, rule));
        let mut all_rules: Vec<(u64, RuleDump)> = root.collect();
        for folder in dump.folders {
            all_rules.extend(folder.rules.into_iter().map(|rule| (folder.pk, rule)));
            let meta = Folder {
                name: folder.name,
                action: folder.action,
                dashboard: false,
            };
            profile.folders.insert(folder.pk, meta);
        }
        for (group, rule) in all_rules {
            let order = self.next_order;
            self.next_order += 1;
            let stored = Rule::new(group, rule.action, order);
            profile.insert_rule(rule.hostname, stored);
        }
        profile
    }
}

/// Every hostname must be valid, absent from the profile, and not repeated within the request.
fn check_new_hostnames(profile: &Profile, hostnames: &[String]) -> Result<(), ApiError> {
    let mut seen = HashSet::with_capacity(hostnames.len());
    for hostname in hostnames {
        validate_hostname(hostname)?;
        if profile.rules.contains_key(hostname) || !seen.insert(hostname.as_str()) {
            return Err(ApiError::bad_request(format!(
                "Custom Rule already exists: {hostname}"
            )));
        }
    }
    Ok(())
}

/// The action after a PUT: given fields replace, omitted ones are kept.
fn merge_action(current: &ActionDump, fields: &RuleFields) -> Result<ActionDump, ApiError> {
    let mut action = current.clone();
    if let Some(kind) = fields.kind {
        // Observed: sending `do` without `via` changes the action and clears `via`.
        if fields.via.is_none() {
            action.via = None;
        }
        if fields.via_v6.is_none() {
            action.via_v6 = None;
        }
        action.kind = Some(kind);
    }
    if let Some(status) = fields.status {
        action.status = status;
    }
    if fields.via.is_some() {
        action.via = fields.via.clone();
    }
    if fields.via_v6.is_some() {
        action.via_v6 = fields.via_v6.clone();
    }
    if needs_via(action.kind) && action.via.is_none() {
        return Err(ApiError::missing("via"));
    }
    Ok(action)
}

/// The one-entry answer of rule writes: it cannot show what the server dropped.
fn summary(profile: &Profile, hostnames: &[String]) -> Vec<RuleView> {
    hostnames
        .first()
        .and_then(|hostname| profile.rule_view(hostname))
        .into_iter()
        .collect()
}

fn profile_dump(profile: &Profile) -> ProfileDump {
    let folders = profile
        .folders
        .iter()
        .map(|(&pk, folder)| FolderDump {
            pk,
            name: folder.name.clone(),
            action: folder.action.clone(),
            rules: profile.rules_dump(pk),
        })
        .collect();
    ProfileDump {
        name: profile.name.clone(),
        root: profile.rules_dump(ROOT),
        folders,
        settings: profile.settings.to_dump(),
        updated: profile.stable_clock.then_some(profile.updated),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(max_rules: usize) -> Store {
        let limits = Limits {
            max_rules,
            allow_redirect: false,
        };
        Store::new(limits, &["p1".to_string()])
    }

    fn two_profiles() -> Store {
        let mut store = store(10);
        store.ensure_profiles(&["p2".to_string()]);
        store
    }

    fn rules(group: Option<u64>, hostnames: &[&str]) -> RuleFields {
        RuleFields {
            kind: Some(0),
            status: Some(1),
            group,
            hostnames: hostnames.iter().map(|h| h.to_string()).collect(),
            ..RuleFields::default()
        }
    }

    fn folder(store: &mut Store, name: &str) -> u64 {
        folder_in(store, "p1", name)
    }

    fn folder_in(store: &mut Store, profile: &str, name: &str) -> u64 {
        let fields = FolderFields {
            name: Some(name.to_string()),
            ..FolderFields::default()
        };
        store.create_folder(profile, fields).unwrap().pk
    }

    #[test]
    fn deleting_the_highest_folder_hands_its_pk_out_again() {
        let mut store = store(10);
        assert_eq!(folder(&mut store, "a"), 1, "an empty profile starts at 1");
        let highest = folder(&mut store, "b");
        assert_eq!(highest, 2);
        store.delete_folder("p1", highest).unwrap();
        assert_eq!(folder(&mut store, "c"), highest);
    }

    #[test]
    fn a_hole_below_the_highest_pk_is_not_filled() {
        let mut store = store(10);
        let pks: Vec<u64> = ["a", "b", "c"]
            .iter()
            .map(|name| folder(&mut store, name))
            .collect();
        assert_eq!(pks, [1, 2, 3]);
        store.delete_folder("p1", 2).unwrap();
        assert_eq!(folder(&mut store, "d"), 4, "highest + 1, not the hole");
    }

    #[test]
    fn each_profile_numbers_its_own_folders() {
        let mut store = two_profiles();
        assert_eq!(folder_in(&mut store, "p1", "a"), 1);
        assert_eq!(folder_in(&mut store, "p2", "a"), 1);
        assert_eq!(folder_in(&mut store, "p1", "b"), 2);
    }

    #[test]
    fn the_global_counter_never_reuses_a_pk() {
        let mut store = two_profiles();
        store.set_folder_pks(FolderPks::GlobalCounter);
        let first = folder_in(&mut store, "p1", "a");
        store.delete_folder("p1", first).unwrap();
        let second = folder_in(&mut store, "p1", "a");
        assert!(second > first);
        assert!(folder_in(&mut store, "p2", "a") > second);
    }

    #[test]
    fn a_loaded_dump_numbers_per_profile_and_keeps_its_counter() {
        let mut store = store(10);
        for name in ["a", "b", "c"] {
            folder(&mut store, name);
        }
        store.delete_folder("p1", 3).unwrap();
        let dump = store.dump();
        assert_eq!(dump.next_pk, 4);
        let mut reused = Store::new(store.limits, &[]);
        reused.load(dump.clone());
        assert_eq!(folder(&mut reused, "d"), 3);
        let mut counted = Store::new(store.limits, &[]);
        counted.set_folder_pks(FolderPks::GlobalCounter);
        counted.load(dump);
        assert_eq!(folder(&mut counted, "d"), 4);
    }

    #[test]
    fn stable_pks_do_not_depend_on_creation_order() {
        let created = |names: &[&str]| {
            let mut store = store(10);
            store.set_stable_pks(true);
            let mut pks: Vec<(String, u64)> = names
                .iter()
                .map(|name| (name.to_string(), folder(&mut store, name)))
                .collect();
            pks.sort();
            pks
        };
        let forward = created(&["a", "b", "c"]);
        assert_eq!(forward, created(&["c", "a", "b"]));
        assert!(forward
            .iter()
            .all(|(_, pk)| (1_000_000..10_000_000).contains(pk)));
        let mut store = store(10);
        store.set_stable_pks(true);
        let first = folder(&mut store, "same");
        assert_ne!(folder(&mut store, "same"), first, "a PK in use is skipped");
    }

    #[test]
    fn hostnames_are_unique_across_root_and_folders_and_failures_store_nothing() {
        let mut store = store(10);
        let pk = folder(&mut store, "f");
        store
            .create_rules("p1", rules(Some(pk), &["a.example"]))
            .unwrap();
        let error = store
            .create_rules("p1", rules(None, &["b.example", "a.example"]))
            .unwrap_err();
        assert_eq!(error.code, 40003);
        assert!(store.list_rules("p1", ROOT).unwrap().is_empty());
    }

    #[test]
    fn rule_limit_counts_root_and_folders() {
        let mut store = store(3);
        let pk = folder(&mut store, "f");
        store
            .create_rules("p1", rules(Some(pk), &["a", "b"]))
            .unwrap();
        let error = store
            .create_rules("p1", rules(None, &["c", "d"]))
            .unwrap_err();
        assert!(error.message.contains("maximum number of custom rules"));
        store.create_rules("p1", rules(None, &["c"])).unwrap();
    }

    #[test]
    fn update_switching_to_block_drops_the_spoof_target() {
        let mut store = store(10);
        let mut spoof = rules(None, &["a"]);
        spoof.kind = Some(2);
        spoof.via = Some("1.2.3.4".into());
        store.create_rules("p1", spoof).unwrap();
        store.update_rules("p1", rules(None, &["a"])).unwrap();
        let listed = store.list_rules("p1", ROOT).unwrap();
        assert_eq!(listed[0].action.via, None);
        assert_eq!(listed[0].action.kind, Some(0));
    }

    #[test]
    fn dump_load_round_trip_keeps_everything() {
        let mut store = store(10);
        let pk = folder(&mut store, "f");
        store
            .create_rules("p1", rules(Some(pk), &["b", "a"]))
            .unwrap();
        store.create_rules("p1", rules(None, &["c"])).unwrap();
        let dump = store.dump();
        assert_eq!(dump.profiles["p1"].folders[0].rules[0].hostname, "a");
        let mut other = Store::new(store.limits, &[]);
        other.load(dump.clone());
        assert_eq!(other.dump(), dump);
    }

    #[test]
    fn folder_counts_follow_inserts_moves_and_deletes() {
        let mut store = store(10);
        let first = folder(&mut store, "a");
        let second = folder(&mut store, "b");
        store
            .create_rules("p1", rules(Some(first), &["x", "y", "z"]))
            .unwrap();
        let mut moving = rules(Some(second), &["x", "y"]);
        moving.kind = None;
        moving.status = None;
        store.update_rules("p1", moving).unwrap();
        store.delete_rule("p1", "z").unwrap();
        let counts: Vec<usize> = store
            .list_folders("p1")
            .unwrap()
            .iter()
            .map(|folder| folder.count)
            .collect();
        assert_eq!(counts, [0, 2]);
        store.delete_folder("p1", second).unwrap();
        assert_eq!(store.list_folders("p1").unwrap()[0].count, 0);
        assert_eq!(store.list_profiles()[0].profile.rule.count, 0);
    }

    #[test]
    fn hostname_validation() {
        for good in ["example.com", "*.example.com", "api-*.x_y.example", "*.zip"] {
            assert!(validate_hostname(good).is_ok(), "{good}");
        }
        let long = "a".repeat(254);
        for bad in ["", "a b", "a%2e", "a?b", "ex/ample", long.as_str()] {
            assert!(validate_hostname(bad).is_err(), "{bad}");
        }
    }
}
