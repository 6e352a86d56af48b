//! Refresh: the stage between the API client and the planner. It reads as much of each remote
//! profile as the mode says and hands the planner what is there now ([`CurrentProfile`]).
//!
//! - `auto`: one `GET /groups`; managed folders whose PK, name, action and count match the state are
//!   trusted; a drifted folder, or a desired one adopted by name, has its rules read.
//! - `full`: also reads every managed folder, every unmanaged folder and the root.
//! - `none`: the state files alone; no request. With a client (`apply`), the folder list is read
//!   still, and a list that is not what the state says is read as `auto` reads it.
//!
//! Profiles are read concurrently, and so are the folders within a profile; the client bounds the
//! requests in flight and paces them. Results do not depend on the order the answers arrive in.

mod error;
mod settings;

use std::collections::{BTreeMap, BTreeSet};

use futures_util::future::try_join_all;
use sha2::{Digest, Sha256};

pub(crate) use error::RefreshError;
use settings::{refresh_settings, RunReads};

use crate::controld::{ApiError, Client, RemoteFolder, RemoteRule};
use crate::model::{DesiredProfile, FolderPk, Hostname, RuleAction, RuleMap};
use crate::plan::adopt::{choose_adoption, DuplicateFolders};
use crate::plan::identity::FolderIdentity;
use crate::plan::{CurrentFolder, CurrentProfile, Holder, RefreshReads, SCRATCH_PREFIX};
use crate::state::{FolderState, ProfileState};

/// How much of the remote profile is read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Mode {
    /// One `GET /groups` per profile; drifted or newly adopted folders are read.
    #[default]
    Auto,
    /// Every managed folder, every unmanaged folder and the root.
    Full,
    /// The state files alone: no request.
    None,
}

/// One profile to refresh: what is desired, its state, its client (`None` with [`Mode::None`]),
/// and its folder list if that read was started early.
pub(crate) struct Target<'a> {
    pub desired: &'a DesiredProfile,
    pub state: Option<&'a ProfileState>,
    pub client: Option<&'a Client>,
    pub listing: Option<Listing>,
}

/// A profile's `GET /groups`, started before the states and sources are loaded (it needs nothing
/// from them), so that its round trip overlaps that local work. Dropped unfinished, it is cancelled.
#[derive(Debug)]
pub(crate) struct Listing(tokio::task::JoinHandle<Result<Vec<RemoteFolder>, ApiError>>);

impl Listing {
    pub(crate) fn start(client: &Client, profile: &str) -> Self {
        let (client, profile) = (client.clone(), profile.to_string());
        Self(tokio::spawn(
            async move { client.list_folders(&profile).await },
        ))
    }

    async fn finish(mut self) -> Result<Vec<RemoteFolder>, ApiError> {
        match (&mut self.0).await {
            Ok(listed) => listed,
            Err(error) => std::panic::resume_unwind(error.into_panic()),
        }
    }
}

impl Drop for Listing {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Refreshes every profile concurrently; the results are in the order of `targets`.
pub(crate) async fn refresh_all(
    mode: Mode,
    targets: Vec<Target<'_>>,
) -> Result<Vec<CurrentProfile>, RefreshError> {
    let run = RunReads::default();
    let run = &run;
    let reads = targets.into_iter().map(|target| async move {
        let folders = refresh(
            mode,
            target.client,
            target.desired,
            target.state,
            target.listing,
        );
        let record = target.state.and_then(|state| state.settings.as_ref());
        let settings = refresh_settings(
            mode,
            target.client,
            &target.desired.id,
            &target.desired.settings,
            record,
            run,
        );
        let (mut current, found) = tokio::try_join!(folders, settings)?;
        current.settings = found.settings;
        current.settings_mark = found.mark;
        current.reads.settings = found.reads;
        Ok::<_, RefreshError>(current)
    });
    try_join_all(reads).await
}

/// Reads the remote profile as `mode` says. `client` may be `None` only with [`Mode::None`].
pub(crate) async fn refresh(
    mode: Mode,
    client: Option<&Client>,
    desired: &DesiredProfile,
    state: Option<&ProfileState>,
    listing: Option<Listing>,
) -> Result<CurrentProfile, RefreshError> {
    let Some(client) = client else {
        return Ok(from_state(&desired.id, state));
    };
    let profile = desired.id.as_str();
    let api = |source| RefreshError::Api {
        profile: profile.to_string(),
        source: Box::new(source),
    };
    let remote = match listing {
        Some(listing) => listing.finish().await,
        None => client.list_folders(profile).await,
    };
    let remote = remote.map_err(api)?;
    let mut notes = Vec::new();
    if mode == Mode::None {
        if state_describes(desired, state, &remote) {
            return Ok(from_state_checked(profile, state, remote));
        }
        // PKs are handed out again: writing to the state's PKs unread could touch a folder a
        // person made since. So the folders are read as `auto` reads them.
        notes.push(
            "the folder list in Control D is not what the state files say (changed in the dashboard?): \
             read as --refresh auto reads it"
                .to_string(),
        );
    }
    let by_pk = match_by_pk(desired, state, &remote);
    let Judged {
        ours,
        others,
        identities,
        reads: identity_reads,
    } = judge_renamed(client, profile, by_pk.suspects)
        .await
        .map_err(api)?;
    let mut found = by_pk.found;
    found.extend(ours);
    let matched = match_by_name(desired, &remote, found);
    let full = mode == Mode::Full;
    let mut reads_made = RefreshReads::LIST_ONLY;
    reads_made.folder_rules = identity_reads
        + matched
            .values()
            .filter(|found| found.read.is_none() && (full || found.trusted.is_none()))
            .map(|found| 1 + found.rivals.len() as u64)
            .sum::<u64>();
    let reads = matched.into_iter().map(|(key, mut found)| async move {
        if !found.rivals.is_empty() {
            return adopt_among_duplicates(client, desired, key, found).await;
        }
        let rules = match (found.read.take(), found.trusted.take()) {
            (Some(read), _) => read,
            (None, Some(trusted)) if !full => trusted,
            _ => RuleMap::new(read_rules(client, profile, Some(found.remote.pk)).await?),
        };
        Ok::<_, ApiError>((key, found.into_current(rules), None))
    });
    let mut managed: BTreeMap<String, CurrentFolder> = BTreeMap::new();
    let mut duplicates = Vec::new();
    for (key, folder, duplicate) in try_join_all(reads).await.map_err(api)? {
        managed.insert(key, folder);
        duplicates.extend(duplicate);
    }
    // Someone else's folders at a managed folder's old PK: their rules were read, so the hostnames
    // they hold are known to be unmanaged (unless a desired folder adopted one of them by name).
    let others: Vec<(Holder, RuleMap)> = others
        .into_iter()
        .filter(|(holder, _)| !holder_is_managed(holder, &managed))
        .collect();
    let mut scratch = scratch_folders(state, &remote);
    // A managed folder is never treated as scratch, whatever its name.
    scratch.retain(|pk| managed.values().all(|folder| folder.pk != *pk));
    let parked = read_parked(client, profile, &scratch).await.map_err(api)?;
    reads_made.folder_rules += scratch.len() as u64;
    let unmanaged_rules = if full {
        let (held, folders_read) =
            read_unmanaged(client, profile, &remote, &managed, &scratch, &others)
                .await
                .map_err(api)?;
        reads_made.root_rules = 1;
        reads_made.folder_rules += folders_read;
        held
    } else {
        let mut held = held_at_last_apply(state, &managed);
        held.extend(holders_of(&others));
        held
    };
    Ok(CurrentProfile {
        profile: profile.to_string(),
        fingerprint: fingerprint(&remote),
        remote_folders: remote,
        managed,
        unmanaged_rules: Some(unmanaged_rules),
        scratch,
        parked: Some(parked),
        duplicates,
        identities,
        notes,
        reads: reads_made,
        settings: Default::default(),
        settings_mark: None,
    })
}

/// `apply --refresh none` checks the folder list it reads anyway: every desired folder is in the
/// state and at its PK with its name, action and count. Then the state's rules can be trusted.
fn state_describes(
    desired: &DesiredProfile,
    state: Option<&ProfileState>,
    remote: &[RemoteFolder],
) -> bool {
    let Some(state) = state else {
        return remote.is_empty() || desired.folders.is_empty();
    };
    let at_pk = |folder: &FolderState| remote.iter().find(|r| r.pk == folder.pk);
    let all_desired_known = desired
        .folders
        .iter()
        .all(|folder| state.folders.contains_key(&folder.key));
    all_desired_known
        && state
            .folders
            .values()
            .all(|folder| at_pk(folder).is_some_and(|remote| unchanged(folder, remote)))
}

/// The state, checked against the folder list just read (which replaces the state's own).
fn from_state_checked(
    profile: &str,
    state: Option<&ProfileState>,
    remote: Vec<RemoteFolder>,
) -> CurrentProfile {
    let mut current = from_state(profile, state);
    current.fingerprint = fingerprint(&remote);
    current.remote_folders = remote;
    current
}

/// The rules in leftover scratch folders (one read each; there is rarely one).
async fn read_parked(
    client: &Client,
    profile: &str,
    scratch: &[FolderPk],
) -> Result<BTreeMap<Hostname, RuleAction>, crate::controld::ApiError> {
    let mut parked = BTreeMap::new();
    for &pk in scratch {
        parked.extend(read_rules(client, profile, Some(pk)).await?);
    }
    Ok(parked)
}

/// Hostnames a folder's source lists that the last apply found held by unmanaged rules (the
/// state's `held_by_unmanaged`), and no managed folder holds now. Planning them again would only
/// repeat the refused POST on every run, so they are skipped until `--refresh full` reads the
/// unmanaged rules. (Hostnames that lost an overlap to another managed folder are another fact,
/// recorded as `overlapped`: the planner works those out again each run, so when the folder that
/// kept one is gone or no longer lists it, the next folder in config order gets it.)
fn held_at_last_apply(
    state: Option<&ProfileState>,
    managed: &BTreeMap<String, CurrentFolder>,
) -> BTreeMap<Hostname, Holder> {
    let held_by_managed = |hostname: &str| managed.values().any(|f| f.rules.contains_key(hostname));
    state
        .map(|s| s.folders.values())
        .into_iter()
        .flatten()
        .flat_map(|folder| folder.held_by_unmanaged.keys())
        .filter(|hostname| !held_by_managed(hostname))
        .map(|hostname| (hostname.clone(), Holder::LastApply))
        .collect()
}

/// `--refresh none`: what the state says, without asking.
pub(crate) fn from_state(profile: &str, state: Option<&ProfileState>) -> CurrentProfile {
    let mut remote_folders = Vec::new();
    let mut managed = BTreeMap::new();
    for (key, folder) in state.map(|s| &s.folders).into_iter().flatten() {
        remote_folders.push(remote_of(folder));
        managed.insert(
            key.clone(),
            current_of(folder, RuleMap::clone(&folder.rules)),
        );
    }
    remote_folders.sort_by_key(|folder| folder.pk);
    let unmanaged_rules = held_at_last_apply(state, &managed);
    let scratch = state.map(|s| s.scratch.clone()).unwrap_or_default();
    CurrentProfile {
        profile: profile.to_string(),
        fingerprint: fingerprint(&remote_folders),
        remote_folders,
        managed,
        unmanaged_rules: Some(unmanaged_rules),
        // What leftover scratch folders hold is unknown without a read: they are kept.
        parked: scratch.is_empty().then(BTreeMap::new),
        duplicates: Vec::new(),
        identities: Vec::new(),
        notes: Vec::new(),
        scratch,
        // No request now; an apply reads the folder list at the least.
        reads: RefreshReads::LIST_ONLY,
        settings: Default::default(),
        settings_mark: None,
    }
}

/// Several remote folders carry the desired folder's name: each is read, the one with the most
/// matching rules is adopted ([`choose_adoption`]); the others are left alone and reported.
async fn adopt_among_duplicates(
    client: &Client,
    desired: &DesiredProfile,
    key: String,
    found: Found<'_>,
) -> Result<(String, CurrentFolder, Option<DuplicateFolders>), ApiError> {
    let profile = desired.id.as_str();
    let mut candidates = vec![found.remote];
    candidates.extend(found.rivals.iter().copied());
    let mut read = Vec::with_capacity(candidates.len());
    for remote in &candidates {
        read.push((
            remote.pk,
            read_rules(client, profile, Some(remote.pk)).await?,
        ));
    }
    let empty = BTreeMap::new();
    let wanted = desired
        .folders
        .iter()
        .find(|folder| folder.key == key)
        .map_or(&empty, |folder| &folder.rules);
    let pairs: Vec<(FolderPk, &BTreeMap<Hostname, RuleAction>)> =
        read.iter().map(|(pk, rules)| (*pk, rules)).collect();
    let (adopted, left_alone) =
        choose_adoption(wanted, &pairs).unwrap_or((found.remote.pk, Vec::new()));
    let remote = candidates
        .iter()
        .find(|remote| remote.pk == adopted)
        .copied()
        .unwrap_or(found.remote);
    let rules = read
        .into_iter()
        .find(|(pk, _)| *pk == adopted)
        .map(|(_, rules)| rules)
        .unwrap_or_default();
    let duplicate = DuplicateFolders {
        key: key.clone(),
        name: remote.name.clone(),
        adopted,
        left_alone,
    };
    let chosen = Found::at(remote, true);
    Ok((
        key,
        chosen.into_current(RuleMap::new(rules)),
        Some(duplicate),
    ))
}

/// A managed folder found remotely: by its state PK, or adopted by name.
struct Found<'a> {
    remote: &'a RemoteFolder,
    /// Other remote folders of the same name, when adopting by name among several.
    rivals: Vec<&'a RemoteFolder>,
    /// The state's rules, when the folder matches the state exactly (no drift).
    trusted: Option<RuleMap>,
    /// Its rules, already read this run (to weigh its identity).
    read: Option<RuleMap>,
    adopted: bool,
}

impl<'a> Found<'a> {
    fn at(remote: &'a RemoteFolder, adopted: bool) -> Self {
        Self {
            remote,
            rivals: Vec::new(),
            trusted: None,
            read: None,
            adopted,
        }
    }

    fn into_current(self, rules: RuleMap) -> CurrentFolder {
        CurrentFolder {
            pk: self.remote.pk,
            name: self.remote.name.clone(),
            action: self.remote.action.clone(),
            rules,
            adopted: self.adopted,
        }
    }
}

/// State folders found at their PK: those that kept their name (or took the one the config now
/// gives them), and those whose rules must say whether they are the folder renamed.
struct ByPk<'a> {
    found: BTreeMap<String, Found<'a>>,
    suspects: Vec<Suspect<'a>>,
}

/// A remote folder at a managed folder's PK under another name: the folder renamed in the
/// dashboard, or someone else's that took the freed PK ([`FolderIdentity`]).
struct Suspect<'a> {
    key: String,
    remote: &'a RemoteFolder,
    state: &'a FolderState,
}

/// Pairs state folders with the remote folder at their PK (a PK gone remotely is absent).
fn match_by_pk<'a>(
    desired: &DesiredProfile,
    state: Option<&'a ProfileState>,
    remote: &'a [RemoteFolder],
) -> ByPk<'a> {
    let by_pk: BTreeMap<FolderPk, &RemoteFolder> = remote.iter().map(|f| (f.pk, f)).collect();
    let desired_name = |key: &str| {
        let folder = desired.folders.iter().find(|folder| folder.key == key);
        folder.map(|folder| folder.name.as_str())
    };
    let mut matched = ByPk {
        found: BTreeMap::new(),
        suspects: Vec::new(),
    };
    for (key, folder) in state.map(|s| &s.folders).into_iter().flatten() {
        let Some(&remote) = by_pk.get(&folder.pk) else {
            continue;
        };
        let named_as_ours =
            remote.name == folder.name || Some(remote.name.as_str()) == desired_name(key);
        if !named_as_ours {
            let suspect = Suspect {
                key: key.clone(),
                remote,
                state: folder,
            };
            matched.suspects.push(suspect);
            continue;
        }
        let mut found = Found::at(remote, false);
        found.trusted = unchanged(folder, remote).then(|| RuleMap::clone(&folder.rules));
        matched.found.insert(key.clone(), found);
    }
    matched
}

/// What the rules of the suspects said: the managed folders renamed, and the others' folders
/// with their rules (read once, so they are known to be unmanaged).
struct Judged<'a> {
    ours: Vec<(String, Found<'a>)>,
    others: Vec<(Holder, RuleMap)>,
    identities: Vec<FolderIdentity>,
    reads: u64,
}

/// Reads each suspect's rules (one read each) and weighs them against the state's record.
async fn judge_renamed<'a>(
    client: &Client,
    profile: &str,
    suspects: Vec<Suspect<'a>>,
) -> Result<Judged<'a>, ApiError> {
    let reads = suspects.len() as u64;
    let read = try_join_all(suspects.into_iter().map(|suspect| async move {
        let rules = read_rules(client, profile, Some(suspect.remote.pk)).await?;
        Ok::<_, ApiError>((suspect, rules))
    }))
    .await?;
    let mut judged = Judged {
        ours: Vec::new(),
        others: Vec::new(),
        identities: Vec::new(),
        reads,
    };
    for (suspect, rules) in read {
        let (remote, state) = (suspect.remote, suspect.state);
        let identity = FolderIdentity::judge(
            &suspect.key,
            remote.pk,
            &state.name,
            &remote.name,
            &state.rules,
            &rules,
        );
        let rules = RuleMap::new(rules);
        if identity.is_ours() {
            let mut found = Found::at(remote, false);
            found.read = Some(rules);
            judged.ours.push((suspect.key, found));
        } else {
            let holder = Holder::Folder {
                pk: remote.pk,
                name: remote.name.clone(),
            };
            judged.others.push((holder, rules));
        }
        judged.identities.push(identity);
    }
    Ok(judged)
}

/// Desired folders not found at their PK are adopted by name, among remote folders no managed
/// folder holds (among several of one name, the choice is made once their rules are read).
fn match_by_name<'a>(
    desired: &DesiredProfile,
    remote: &'a [RemoteFolder],
    mut found: BTreeMap<String, Found<'a>>,
) -> BTreeMap<String, Found<'a>> {
    let claimed: BTreeSet<FolderPk> = found.values().map(|f| f.remote.pk).collect();
    let mut adopted_pks = BTreeSet::new();
    for folder in &desired.folders {
        if found.contains_key(&folder.key) {
            continue;
        }
        let candidates: Vec<&RemoteFolder> = remote
            .iter()
            .filter(|r| r.name == folder.name && !is_scratch_name(&r.name))
            .filter(|r| !claimed.contains(&r.pk) && !adopted_pks.contains(&r.pk))
            .collect();
        let Some((first, rest)) = candidates.split_first() else {
            continue;
        };
        adopted_pks.extend(candidates.iter().map(|r| r.pk));
        let mut entry = Found::at(first, true);
        entry.rivals = rest.to_vec();
        found.insert(folder.key.clone(), entry);
    }
    found
}

/// Whether a managed folder now sits at the holder's PK (adopted by name this run).
fn holder_is_managed(holder: &Holder, managed: &BTreeMap<String, CurrentFolder>) -> bool {
    match holder {
        Holder::Folder { pk, .. } => managed.values().any(|folder| folder.pk == *pk),
        _ => false,
    }
}

/// Each hostname of the given folders, with the folder that holds it.
fn holders_of(folders: &[(Holder, RuleMap)]) -> impl Iterator<Item = (Hostname, Holder)> + '_ {
    folders.iter().flat_map(|(holder, rules)| {
        rules
            .keys()
            .map(move |hostname| (hostname.clone(), holder.clone()))
    })
}

/// No drift: same PK (already matched), name, action and rule count as the state says.
fn unchanged(state: &FolderState, remote: &RemoteFolder) -> bool {
    remote.name == state.name && remote.action == state.action && count_matches(state, remote)
}

/// Whether a folder's `count` covers disabled rules is unknown: either reading matches.
fn count_matches(state: &FolderState, remote: &RemoteFolder) -> bool {
    let all = state.rules.len() as u64;
    let enabled = state.rules.values().filter(|a| a.enabled).count() as u64;
    remote.count == all || remote.count == enabled
}

pub(crate) fn is_scratch_name(name: &str) -> bool {
    name.starts_with(SCRATCH_PREFIX)
}

/// Scratch folders to delete: those the state remembers that still exist, and any named as one.
fn scratch_folders(state: Option<&ProfileState>, remote: &[RemoteFolder]) -> Vec<FolderPk> {
    let remembered: BTreeSet<FolderPk> = state
        .map(|s| s.scratch.clone())
        .unwrap_or_default()
        .into_iter()
        .collect();
    let mut scratch: Vec<FolderPk> = remote
        .iter()
        .filter(|f| remembered.contains(&f.pk) || is_scratch_name(&f.name))
        .map(|f| f.pk)
        .collect();
    scratch.sort_unstable();
    scratch.dedup();
    scratch
}

async fn read_rules(
    client: &Client,
    profile: &str,
    folder: Option<FolderPk>,
) -> Result<BTreeMap<Hostname, RuleAction>, ApiError> {
    let rules = client.list_rules(profile, folder).await?;
    Ok(rules
        .into_iter()
        .map(
            |RemoteRule {
                 hostname, action, ..
             }| (hostname, action),
        )
        .collect())
}

/// `full`: who holds each hostname outside the managed folders (root and unmanaged folders), and
/// how many folders were read for it (those `already_read` are not read again).
async fn read_unmanaged(
    client: &Client,
    profile: &str,
    remote: &[RemoteFolder],
    managed: &BTreeMap<String, CurrentFolder>,
    scratch: &[FolderPk],
    already_read: &[(Holder, RuleMap)],
) -> Result<(BTreeMap<Hostname, Holder>, u64), ApiError> {
    let managed_pks: BTreeSet<FolderPk> = managed.values().map(|f| f.pk).collect();
    let read_pks: BTreeSet<FolderPk> = already_read
        .iter()
        .filter_map(|(holder, _)| match holder {
            Holder::Folder { pk, .. } => Some(*pk),
            _ => None,
        })
        .collect();
    let mut held: BTreeMap<Hostname, Holder> = holders_of(already_read).collect();
    for hostname in read_rules(client, profile, None).await?.into_keys() {
        held.insert(hostname, Holder::Root);
    }
    let reads = remote
        .iter()
        .filter(|folder| !managed_pks.contains(&folder.pk) && !scratch.contains(&folder.pk))
        .filter(|folder| !read_pks.contains(&folder.pk))
        .map(|folder| async move {
            let holder = Holder::Folder {
                pk: folder.pk,
                name: folder.name.clone(),
            };
            let rules = read_rules(client, profile, Some(folder.pk)).await?;
            Ok::<_, ApiError>((holder, rules))
        });
    let read = try_join_all(reads).await?;
    let folders_read = read.len() as u64;
    for (holder, rules) in read {
        for hostname in rules.into_keys() {
            held.insert(hostname, holder.clone());
        }
    }
    Ok((held, folders_read))
}

fn remote_of(folder: &FolderState) -> RemoteFolder {
    RemoteFolder {
        pk: folder.pk,
        name: folder.name.clone(),
        action: folder.action.clone(),
        count: folder.rules.len() as u64,
    }
}

fn current_of(folder: &FolderState, rules: RuleMap) -> CurrentFolder {
    CurrentFolder {
        pk: folder.pk,
        name: folder.name.clone(),
        action: folder.action.clone(),
        rules,
        adopted: false,
    }
}

/// sha256 over the sorted folder list (pk, name, action, count): the remote snapshot a plan was
/// computed from.
pub(crate) fn fingerprint(folders: &[RemoteFolder]) -> String {
    let mut lines: Vec<String> = folders
        .iter()
        .map(|f| {
            format!(
                "{}\t{}\t{}\t{}",
                f.pk,
                f.name,
                serde_json::to_string(&f.action).unwrap_or_default(),
                f.count
            )
        })
        .collect();
    lines.sort();
    let mut hasher = Sha256::new();
    for line in lines {
        hasher.update(line.as_bytes());
        hasher.update(b"\n");
    }
    hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}
