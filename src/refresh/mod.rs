//! Refresh: the stage between the API client and the planner. It reads as much of each remote
//! profile as the mode says and hands the planner what is there now ([`CurrentProfile`]).
//!
//! - `auto`: one `GET /groups`; managed folders whose PK, name, action and count match the state are
//!   trusted; a drifted folder, or a desired one adopted by name, has its rules read.
//! - `full`: also reads every managed folder, every unmanaged folder and the root.
//! - `none`: the state files alone; no request.
//!
//! Profiles are read concurrently, and so are the folders within a profile; the client bounds the
//! requests in flight and paces them. Results do not depend on the order the answers arrive in.

mod error;

use std::collections::{BTreeMap, BTreeSet};

use futures_util::future::try_join_all;
use sha2::{Digest, Sha256};

pub use error::RefreshError;

use crate::controld::{ApiError, Client, RemoteFolder, RemoteRule};
use crate::model::{DesiredProfile, FolderPk, Hostname, RuleAction, Rules};
use crate::plan::adopt::{choose_adoption, DuplicateFolders};
use crate::plan::{CurrentFolder, CurrentProfile, Holder, RefreshReads, SCRATCH_PREFIX};
use crate::state::{FolderState, ProfileState};

/// How much of the remote profile is read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
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
pub struct Target<'a> {
    pub desired: &'a DesiredProfile,
    pub state: Option<&'a ProfileState>,
    pub client: Option<&'a Client>,
    pub listing: Option<Listing>,
}

/// A profile's `GET /groups`, started before the states and sources are loaded (it needs nothing
/// from them), so that its round trip overlaps that local work. Dropped unfinished, it is cancelled.
#[derive(Debug)]
pub struct Listing(tokio::task::JoinHandle<Result<Vec<RemoteFolder>, ApiError>>);

impl Listing {
    pub fn start(client: &Client, profile: &str) -> Self {
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
pub async fn refresh_all(
    mode: Mode,
    targets: Vec<Target<'_>>,
) -> Result<Vec<CurrentProfile>, RefreshError> {
    let reads = targets.into_iter().map(|target| {
        refresh(
            mode,
            target.client,
            target.desired,
            target.state,
            target.listing,
        )
    });
    try_join_all(reads).await
}

/// Reads the remote profile as `mode` says. `client` may be `None` only with [`Mode::None`].
pub async fn refresh(
    mode: Mode,
    client: Option<&Client>,
    desired: &DesiredProfile,
    state: Option<&ProfileState>,
    listing: Option<Listing>,
) -> Result<CurrentProfile, RefreshError> {
    let client = match (mode, client) {
        (Mode::None, _) | (_, None) => return Ok(from_state(&desired.id, state)),
        (_, Some(client)) => client,
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
    let matched = match_folders(desired, state, &remote);
    let full = mode == Mode::Full;
    let mut reads_made = RefreshReads::LIST_ONLY;
    reads_made.folder_rules = matched
        .values()
        .filter(|found| full || found.trusted.is_none())
        .map(|found| 1 + found.rivals.len() as u64)
        .sum();
    let reads = matched.into_iter().map(|(key, mut found)| async move {
        if !found.rivals.is_empty() {
            return adopt_among_duplicates(client, desired, key, found).await;
        }
        let rules = match found.trusted.take() {
            Some(rules) if !full => rules,
            _ => Rules::new(read_rules(client, profile, Some(found.remote.pk)).await?),
        };
        Ok::<_, ApiError>((key, found.into_current(rules), None))
    });
    let mut managed: BTreeMap<String, CurrentFolder> = BTreeMap::new();
    let mut duplicates = Vec::new();
    for (key, folder, duplicate) in try_join_all(reads).await.map_err(api)? {
        managed.insert(key, folder);
        duplicates.extend(duplicate);
    }
    let mut scratch = scratch_folders(state, &remote);
    // A managed folder is never treated as scratch, whatever its name.
    scratch.retain(|pk| managed.values().all(|folder| folder.pk != *pk));
    let parked = read_parked(client, profile, &scratch).await.map_err(api)?;
    reads_made.folder_rules += scratch.len() as u64;
    let unmanaged_rules = if full {
        let (held, folders_read) = read_unmanaged(client, profile, &remote, &managed, &scratch)
            .await
            .map_err(api)?;
        reads_made.root_rules = 1;
        reads_made.folder_rules += folders_read;
        held
    } else {
        held_at_last_apply(state, &managed)
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
        reads: reads_made,
    })
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

/// Hostnames a folder's source lists but the state records as excluded and no managed folder holds:
/// the last apply found them held by unmanaged rules. Planning them again would only repeat the
/// refused POST on every run, so they are skipped until `--refresh full` reads the unmanaged rules.
fn held_at_last_apply(
    state: Option<&ProfileState>,
    managed: &BTreeMap<String, CurrentFolder>,
) -> BTreeMap<Hostname, Holder> {
    let held_by_managed = |hostname: &str| managed.values().any(|f| f.rules.contains_key(hostname));
    state
        .map(|s| s.folders.values())
        .into_iter()
        .flatten()
        .flat_map(|folder| folder.excluded.keys())
        .filter(|hostname| !held_by_managed(hostname))
        .map(|hostname| (hostname.clone(), Holder::LastApply))
        .collect()
}

/// `--refresh none`: what the state says, without asking.
pub fn from_state(profile: &str, state: Option<&ProfileState>) -> CurrentProfile {
    let mut remote_folders = Vec::new();
    let mut managed = BTreeMap::new();
    for (key, folder) in state.map(|s| &s.folders).into_iter().flatten() {
        remote_folders.push(remote_of(folder));
        managed.insert(key.clone(), current_of(folder, Rules::clone(&folder.rules)));
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
        scratch,
        // No request now; an apply reads the folder list at the least.
        reads: RefreshReads::LIST_ONLY,
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
    let chosen = Found {
        remote,
        trusted: None,
        adopted: true,
        rivals: Vec::new(),
    };
    Ok((key, chosen.into_current(Rules::new(rules)), Some(duplicate)))
}

/// A managed folder found remotely: by its state PK, or adopted by name.
struct Found<'a> {
    remote: &'a RemoteFolder,
    /// Other remote folders of the same name, when adopting by name among several.
    rivals: Vec<&'a RemoteFolder>,
    /// The state's rules, when the folder matches the state exactly (no drift).
    trusted: Option<Rules>,
    adopted: bool,
}

impl Found<'_> {
    fn into_current(self, rules: Rules) -> CurrentFolder {
        CurrentFolder {
            pk: self.remote.pk,
            name: self.remote.name.clone(),
            action: self.remote.action.clone(),
            rules,
            adopted: self.adopted,
        }
    }
}

/// Pairs config keys with remote folders: state folders by PK (a PK gone remotely is absent), then
/// desired folders not yet found by name (adoption; among several of one name, the choice is made
/// once their rules are read).
fn match_folders<'a>(
    desired: &DesiredProfile,
    state: Option<&ProfileState>,
    remote: &'a [RemoteFolder],
) -> BTreeMap<String, Found<'a>> {
    let by_pk: BTreeMap<FolderPk, &RemoteFolder> = remote.iter().map(|f| (f.pk, f)).collect();
    let mut found = BTreeMap::new();
    for (key, folder) in state.map(|s| &s.folders).into_iter().flatten() {
        if let Some(remote) = by_pk.get(&folder.pk) {
            let trusted = unchanged(folder, remote).then(|| Rules::clone(&folder.rules));
            let adopted = false;
            found.insert(
                key.clone(),
                Found {
                    remote,
                    trusted,
                    adopted,
                    rivals: Vec::new(),
                },
            );
        }
    }
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
        match candidates.as_slice() {
            [] => {}
            [remote] => {
                adopted_pks.insert(remote.pk);
                let entry = Found {
                    remote,
                    trusted: None,
                    adopted: true,
                    rivals: Vec::new(),
                };
                found.insert(folder.key.clone(), entry);
            }
            [first, rest @ ..] => {
                adopted_pks.extend(candidates.iter().map(|r| r.pk));
                let entry = Found {
                    remote: first,
                    trusted: None,
                    adopted: true,
                    rivals: rest.to_vec(),
                };
                found.insert(folder.key.clone(), entry);
            }
        }
    }
    found
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

pub fn is_scratch_name(name: &str) -> bool {
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
/// how many folders were read for it.
async fn read_unmanaged(
    client: &Client,
    profile: &str,
    remote: &[RemoteFolder],
    managed: &BTreeMap<String, CurrentFolder>,
    scratch: &[FolderPk],
) -> Result<(BTreeMap<Hostname, Holder>, u64), ApiError> {
    let managed_pks: BTreeSet<FolderPk> = managed.values().map(|f| f.pk).collect();
    let mut held = BTreeMap::new();
    for hostname in read_rules(client, profile, None).await?.into_keys() {
        held.insert(hostname, Holder::Root);
    }
    let reads = remote
        .iter()
        .filter(|folder| !managed_pks.contains(&folder.pk) && !scratch.contains(&folder.pk))
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

fn current_of(folder: &FolderState, rules: Rules) -> CurrentFolder {
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
pub fn fingerprint(folders: &[RemoteFolder]) -> String {
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
