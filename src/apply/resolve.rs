//! Writes whose outcome is not simply "done": a POST whose answer was lost (read back, continue
//! from what is true, never repeat blindly) and a POST refused because a hostname already exists
//! somewhere in the profile (find where; move it if ours, leave it if not).

use std::collections::{BTreeMap, BTreeSet};

use tokio::sync::OnceCell;

use super::error::ApplyError;
use super::run::ProfileRun;
use crate::controld::{RemoteRule, MAX_HOSTNAMES_PER_REQUEST};
use crate::model::{FolderAction, FolderPk, Hostname, RuleAction};
use crate::plan::{Holder, SCRATCH_PREFIX};

/// How many times one batch is sent again after being resolved in part.
const MAX_ROUNDS: usize = 8;

/// Where a hostname lives outside the managed folders.
#[derive(Clone, Debug)]
pub(super) enum Place {
    /// A scratch folder: ours to take back.
    Scratch,
    /// The root or a folder ctrld-sync does not manage: never touched.
    Unmanaged(Holder),
}

/// The root's and the unmanaged folders' rules, read once per profile when first needed.
#[derive(Default)]
pub(super) struct Places(OnceCell<BTreeMap<Hostname, Place>>);

impl ProfileRun<'_> {
    /// POST a folder; a lost answer is resolved by listing the folders.
    pub(super) async fn create_folder(
        &self,
        name: &str,
        action: &FolderAction,
    ) -> Result<FolderPk, ApplyError> {
        let what = || format!("creating folder \"{name}\"");
        for _ in 0..MAX_ROUNDS {
            let known = self.known_pks();
            let error = match self.client.create_folder(&self.profile, name, action).await {
                Ok(folder) => return Ok(folder.pk),
                Err(err) if err.is_ambiguous() => err,
                Err(err) => return Err(self.api(what(), err)),
            };
            self.progress.note(format!(
                "{}: {error}; reading the folders back",
                self.profile
            ));
            let folders = self.client.list_folders(&self.profile).await;
            let folders = folders.map_err(|err| self.api(what(), err))?;
            let made = folders
                .iter()
                .find(|folder| folder.name == name && !known.contains(&folder.pk));
            if let Some(folder) = made {
                return Ok(folder.pk);
            }
        }
        Err(ApplyError::Unresolved {
            profile: self.profile.clone(),
            key: name.to_string(),
            count: 1,
            first: "the folder itself".to_string(),
        })
    }

    /// POST rules into a managed folder, resolving lost answers and "already exists" refusals.
    pub(super) async fn add_rules(
        &self,
        key: &str,
        pk: FolderPk,
        action: &RuleAction,
        hostnames: Vec<Hostname>,
    ) -> Result<(), ApplyError> {
        let mut pending = hostnames;
        for _ in 0..MAX_ROUNDS {
            if pending.is_empty() {
                return Ok(());
            }
            let sent = self
                .client
                .create_rules(&self.profile, Some(pk), action, &pending)
                .await;
            let before = pending.len();
            pending = match sent {
                Ok(()) => return self.record(|ledger| ledger.rules_added(key, action, &pending)),
                Err(err) if err.is_ambiguous() => {
                    self.progress.note(format!(
                        "{}: {err}; reading folder `{key}` back",
                        self.profile
                    ));
                    self.read_back(key, pk, action, pending).await?
                }
                Err(err) if err.is_rule_exists() => {
                    let remaining = self.resolve_existing(key, pk, action, pending).await?;
                    if remaining.len() == before {
                        return Err(self.unresolved(key, &remaining));
                    }
                    remaining
                }
                // The 10,000-rule limit: the POST stored nothing; going on would only fail again.
                Err(err) if err.is_rule_limit() => {
                    return Err(ApplyError::RuleLimit {
                        profile: self.profile.clone(),
                        key: key.to_string(),
                        pk,
                        count: pending.len(),
                        limit: crate::plan::MAX_RULES_PER_PROFILE,
                    })
                }
                Err(err) => return Err(self.api(format!("adding rules to `{key}`"), err)),
            };
        }
        if pending.is_empty() {
            Ok(())
        } else {
            Err(self.unresolved(key, &pending))
        }
    }

    /// After a lost answer: what is in the folder now is recorded; what is not is returned.
    async fn read_back(
        &self,
        key: &str,
        pk: FolderPk,
        action: &RuleAction,
        pending: Vec<Hostname>,
    ) -> Result<Vec<Hostname>, ApplyError> {
        let present = self.read_folder(key, pk).await?;
        let (here, absent): (Vec<_>, Vec<_>) = pending
            .into_iter()
            .partition(|hostname| present.contains_key(hostname));
        self.take_present(key, action, &here, &present).await?;
        Ok(absent)
    }

    /// After "already exists": in this folder -> recorded; in another managed or a scratch
    /// folder -> moved here; held by an unmanaged rule -> skipped and reported. The rest is
    /// returned to be sent again.
    async fn resolve_existing(
        &self,
        key: &str,
        pk: FolderPk,
        action: &RuleAction,
        pending: Vec<Hostname>,
    ) -> Result<Vec<Hostname>, ApplyError> {
        let present = self.read_folder(key, pk).await?;
        let places = self.places().await?;
        let mut here = Vec::new();
        let mut to_move = Vec::new();
        let mut remaining = Vec::new();
        for hostname in pending {
            if present.contains_key(&hostname) {
                here.push(hostname);
            } else if self.ledger().key_holding(&hostname).is_some() {
                to_move.push(hostname);
            } else {
                match places.get(&hostname) {
                    Some(Place::Scratch) => to_move.push(hostname),
                    Some(Place::Unmanaged(holder)) => self.skip(key, &hostname, holder)?,
                    None => remaining.push(hostname),
                }
            }
        }
        if !remaining.is_empty() {
            let found = self.locate_in_managed(key, &remaining).await?;
            remaining.retain(|hostname| !found.contains(hostname));
            to_move.extend(found);
        }
        self.take_present(key, action, &here, &present).await?;
        for batch in to_move.chunks(MAX_HOSTNAMES_PER_REQUEST) {
            self.move_rules(key, pk, action, batch).await?;
        }
        Ok(remaining)
    }

    /// The state did not know where these are: read the other managed folders (recording what
    /// they really hold) and return the hostnames found there.
    async fn locate_in_managed(
        &self,
        key: &str,
        hostnames: &[Hostname],
    ) -> Result<BTreeSet<Hostname>, ApplyError> {
        let others: Vec<(String, FolderPk)> = {
            let ledger = self.ledger();
            let folders = ledger.state.folders.iter();
            folders
                .filter(|(other, _)| other.as_str() != key)
                .map(|(other, folder)| (other.clone(), folder.pk))
                .collect()
        };
        let mut found = BTreeSet::new();
        for (other, pk) in others {
            let rules = self.read_folder(&other, pk).await?;
            found.extend(hostnames.iter().filter(|h| rules.contains_key(*h)).cloned());
            self.record(|ledger| ledger.folder_read(&other, rules))?;
            if found.len() == hostnames.len() {
                break;
            }
        }
        Ok(found)
    }

    /// Records hostnames found in the folder; those with another action are changed to `action`.
    async fn take_present(
        &self,
        key: &str,
        action: &RuleAction,
        here: &[Hostname],
        present: &BTreeMap<Hostname, RuleAction>,
    ) -> Result<(), ApplyError> {
        let (same, differ): (Vec<Hostname>, Vec<Hostname>) = here
            .iter()
            .cloned()
            .partition(|hostname| present.get(hostname) == Some(action));
        if !same.is_empty() {
            self.record(|ledger| ledger.rules_added(key, action, &same))?;
        }
        for batch in differ.chunks(MAX_HOSTNAMES_PER_REQUEST) {
            self.change_rules(key, action, batch).await?;
        }
        Ok(())
    }

    /// `GET /rules/{folder}`: the folder's rules as they are.
    pub(super) async fn read_folder(
        &self,
        key: &str,
        pk: FolderPk,
    ) -> Result<BTreeMap<Hostname, RuleAction>, ApplyError> {
        let rules = self.client.list_rules(&self.profile, Some(pk)).await;
        let rules = rules.map_err(|err| self.api(format!("reading folder `{key}`"), err))?;
        Ok(rule_map(rules))
    }

    fn skip(&self, key: &str, hostname: &Hostname, holder: &Holder) -> Result<(), ApplyError> {
        self.progress.warn(format!(
            "profile {}: {hostname} (folder `{key}`) is held by {holder}, which ctrld-sync does not \
             manage: left alone",
            self.profile
        ));
        self.record(|ledger| ledger.skip_unmanaged(key, hostname, holder.clone()))
    }

    /// The root and every unmanaged or scratch folder, read once.
    async fn places(&self) -> Result<&BTreeMap<Hostname, Place>, ApplyError> {
        self.places.0.get_or_try_init(|| self.read_places()).await
    }

    async fn read_places(&self) -> Result<BTreeMap<Hostname, Place>, ApplyError> {
        let what = "reading the root and unmanaged folders";
        let folders = self.client.list_folders(&self.profile).await;
        let folders = folders.map_err(|err| self.api(what, err))?;
        let (managed, scratch) = {
            let ledger = self.ledger();
            (ledger.managed_pks(), ledger.state.scratch.clone())
        };
        let root = self.client.list_rules(&self.profile, None).await;
        let mut places: BTreeMap<Hostname, Place> = root
            .map_err(|err| self.api(what, err))?
            .into_iter()
            .map(|rule| (rule.hostname, Place::Unmanaged(Holder::Root)))
            .collect();
        for folder in folders
            .iter()
            .filter(|folder| !managed.contains(&folder.pk))
        {
            let rules = self.client.list_rules(&self.profile, Some(folder.pk)).await;
            let is_scratch =
                folder.name.starts_with(SCRATCH_PREFIX) || scratch.contains(&folder.pk);
            for rule in rules.map_err(|err| self.api(what, err))? {
                let place = if is_scratch {
                    Place::Scratch
                } else {
                    Place::Unmanaged(Holder::Folder {
                        pk: folder.pk,
                        name: folder.name.clone(),
                    })
                };
                places.insert(rule.hostname, place);
            }
        }
        Ok(places)
    }

    fn known_pks(&self) -> BTreeSet<FolderPk> {
        let ledger = self.ledger();
        let mut known = ledger.managed_pks();
        known.extend(ledger.state.scratch.iter().copied());
        known
    }

    fn unresolved(&self, key: &str, hostnames: &[Hostname]) -> ApplyError {
        ApplyError::Unresolved {
            profile: self.profile.clone(),
            key: key.to_string(),
            count: hostnames.len(),
            first: hostnames.first().map(|h| h.to_string()).unwrap_or_default(),
        }
    }
}

pub(super) fn rule_map(rules: Vec<RemoteRule>) -> BTreeMap<Hostname, RuleAction> {
    rules
        .into_iter()
        .map(|rule| (rule.hostname, rule.action))
        .collect()
}
