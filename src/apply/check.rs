//! After the writes: one `GET /groups` compares each touched folder's `count` with what the run
//! believes; a mismatch (or `--verify`, for every touched folder) reads the folder and repairs it:
//! missing rules pushed again, wrong actions changed, strays removed, rules another managed folder
//! wants moved there.

use std::collections::BTreeMap;

use super::error::ApplyError;
use super::run::ProfileRun;
use crate::controld::{RemoteFolder, MAX_HOSTNAMES_PER_REQUEST};
use crate::model::{FolderPk, Hostname, RuleAction};

impl ProfileRun<'_> {
    pub(super) async fn check_folders(&self, verify: bool) -> Result<(), ApplyError> {
        let remote = self.client.list_folders(&self.profile).await;
        let remote = remote.map_err(|err| self.api("checking the folders' counts", err))?;
        for (key, pk) in self.touched_folders() {
            let expected = self.ledger().rule_count(&key).unwrap_or(0);
            let enabled = self.ledger().enabled_rule_count(&key).unwrap_or(0);
            let count = remote.iter().find(|folder| folder.pk == pk).map(count_of);
            // Unknown whether `count` covers disabled rules: either reading is a match.
            let matches = count == Some(expected) || count == Some(enabled);
            if verify || !matches {
                if !verify {
                    self.progress.warn(format!(
                        "profile {}: folder `{key}` holds {} rules, expected {expected}; reading it back",
                        self.profile,
                        count.map_or("no".to_string(), |count| count.to_string()),
                    ));
                }
                self.repair(&key, pk).await?;
            }
        }
        Ok(())
    }

    /// Reads the folder, records what is true, and pushes whatever differs from the target.
    async fn repair(&self, key: &str, pk: FolderPk) -> Result<(), ApplyError> {
        let present = self.read_folder(key, pk).await?;
        self.record(|ledger| ledger.folder_read(key, present.clone()))?;
        let Some(target) = self.ledger().target_rules(key).cloned() else {
            return Ok(());
        };
        let missing = by_action(
            target
                .iter()
                .filter(|(hostname, _)| !present.contains_key(*hostname)),
        );
        for (action, hostnames) in missing {
            for batch in hostnames.chunks(MAX_HOSTNAMES_PER_REQUEST) {
                self.add_rules(key, pk, &action, batch.to_vec()).await?;
            }
        }
        let wrong = by_action(target.iter().filter(|(hostname, action)| {
            present
                .get(*hostname)
                .is_some_and(|actual| actual != *action)
        }));
        for (action, hostnames) in wrong {
            for batch in hostnames.chunks(MAX_HOSTNAMES_PER_REQUEST) {
                self.change_rules(key, &action, batch).await?;
            }
        }
        self.remove_strays(key, &target, &present).await?;
        self.move_misplaced(&target, &present).await
    }

    /// Rules in this folder that another managed folder wants (a dashboard edit put them here):
    /// moved there, with that folder's action, so one run repairs both folders.
    async fn move_misplaced(
        &self,
        target: &BTreeMap<Hostname, RuleAction>,
        present: &BTreeMap<Hostname, RuleAction>,
    ) -> Result<(), ApplyError> {
        let mut moves: BTreeMap<(String, FolderPk, RuleAction), Vec<Hostname>> = BTreeMap::new();
        {
            let ledger = self.ledger();
            for hostname in present
                .keys()
                .filter(|hostname| !target.contains_key(*hostname))
            {
                let Some(wanted_by) = ledger.target_key_wanting(hostname) else {
                    continue;
                };
                let action = ledger
                    .target_rules(wanted_by)
                    .and_then(|rules| rules.get(hostname));
                if let (Some(pk), Some(action)) = (ledger.pk_of(wanted_by), action) {
                    let place = (wanted_by.to_string(), pk, action.clone());
                    moves.entry(place).or_default().push(hostname.clone());
                }
            }
        }
        for ((key, pk, action), hostnames) in moves {
            for batch in hostnames.chunks(MAX_HOSTNAMES_PER_REQUEST) {
                self.move_rules(&key, pk, &action, batch).await?;
            }
        }
        Ok(())
    }

    /// Rules in a managed folder that no managed folder wants: deleted one by one.
    async fn remove_strays(
        &self,
        key: &str,
        target: &BTreeMap<Hostname, RuleAction>,
        present: &BTreeMap<Hostname, RuleAction>,
    ) -> Result<(), ApplyError> {
        let strays: Vec<&Hostname> = {
            let ledger = self.ledger();
            present
                .keys()
                .filter(|hostname| !target.contains_key(*hostname))
                .filter(|hostname| ledger.target_key_wanting(hostname).is_none())
                .collect()
        };
        for hostname in strays {
            let result = self.client.delete_rule(&self.profile, hostname).await;
            result.map_err(|err| self.api(format!("removing {hostname} from `{key}`"), err))?;
            self.record(|ledger| ledger.rule_deleted(hostname))?;
        }
        Ok(())
    }

    /// Touched folders that still exist and are desired, with their PKs.
    fn touched_folders(&self) -> Vec<(String, FolderPk)> {
        let ledger = self.ledger();
        ledger
            .touched()
            .iter()
            .filter(|key| ledger.target_rules(key).is_some())
            .filter_map(|key| ledger.pk_of(key).map(|pk| (key.clone(), pk)))
            .filter(|(key, _)| ledger.state.folders.contains_key(key))
            .collect()
    }
}

fn count_of(folder: &RemoteFolder) -> usize {
    usize::try_from(folder.count).unwrap_or(usize::MAX)
}

fn by_action<'a>(
    rules: impl Iterator<Item = (&'a Hostname, &'a RuleAction)>,
) -> BTreeMap<RuleAction, Vec<Hostname>> {
    let mut grouped: BTreeMap<RuleAction, Vec<Hostname>> = BTreeMap::new();
    for (hostname, action) in rules {
        grouped
            .entry(action.clone())
            .or_default()
            .push(hostname.clone());
    }
    grouped
}
