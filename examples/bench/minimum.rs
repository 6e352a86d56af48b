//! The minimum number of API calls for a change UNDER THIS TOOL'S REQUEST MODEL, computed from what
//! the emulator holds before a run and what the lists say after it, independently of the planner.
//!
//! The model: read the folder list (no state is trusted without it), read a folder's rules only to
//! adopt it, write in batches of at most 500 hostnames per (folder, action), remove by single
//! DELETEs or a scratch folder, never delete a folder whose rules stay, and check the counts after
//! writing. Another model (no read, deleting and recreating folders, no check) can need fewer
//! calls for some changes; this is not a lower bound over every possible client.
//!
//! Per profile:
//! - 1 read (`GET /groups`), and 1 read per existing folder the tool has no state for and must
//!   adopt (`GET /rules/{folder}`);
//! - writes: folders to create + folders to delete + folder updates + per (folder, action)
//!   ceil(adds/500) POSTs + per (folder, action) ceil((moves + changes)/500) PUTs + for removals
//!   from folders that stay min(k, ceil(k/500) + 2) (single DELETEs, or a scratch folder);
//! - 1 verification read (`GET /groups`) when anything was written. It is counted, because the
//!   design requires the applier to check the folder counts after writing.

use std::collections::{BTreeMap, HashMap, HashSet};

use controld_emulator::FolderDump;

use super::data::{Act, EffectiveFolder};

/// Most hostnames one write may carry (the server silently drops form variables past ~1,001).
const BATCH: usize = 500;

/// A change between two states of one profile, in rules and in minimum calls.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Change {
    /// `GET /groups`: one per profile.
    pub profile_reads: usize,
    /// The final `GET /groups` of each profile with any write.
    pub verifications: usize,
    pub folders_created: usize,
    pub folders_deleted: usize,
    pub folders_updated: usize,
    pub adopted_reads: usize,
    pub added: usize,
    pub moved_or_changed: usize,
    /// Removed from folders that stay (rules that go with a deleted folder are in `dropped_with_folder`).
    pub removed: usize,
    pub dropped_with_folder: usize,
    pub write_calls: usize,
    /// Extra PUTs when moves into a (folder, action) and action changes within it are sent as
    /// separate requests instead of one PUT with `group` (a diagnostic, not part of the minimum).
    pub split_put_calls: usize,
}

impl Change {
    /// Rules changed, the denominator of "calls per 1,000 rules changed".
    pub fn rules_changed(&self) -> usize {
        self.added + self.moved_or_changed + self.removed + self.dropped_with_folder
    }

    /// Reads + writes + the verification reads of profiles with any write.
    pub fn minimum_calls(&self) -> usize {
        self.profile_reads + self.adopted_reads + self.write_calls + self.verifications
    }

    pub fn add(&mut self, other: &Change) {
        self.profile_reads += other.profile_reads;
        self.verifications += other.verifications;
        self.folders_created += other.folders_created;
        self.folders_deleted += other.folders_deleted;
        self.folders_updated += other.folders_updated;
        self.adopted_reads += other.adopted_reads;
        self.added += other.added;
        self.moved_or_changed += other.moved_or_changed;
        self.removed += other.removed;
        self.dropped_with_folder += other.dropped_with_folder;
        self.write_calls += other.write_calls;
        self.split_put_calls += other.split_put_calls;
    }
}

/// Where a hostname is now: folder name and action.
type Location<'a> = (&'a str, Act);

/// The change that takes `current` (the emulator's profile; every folder in it is managed) to
/// `desired`. `adopting` says the tool has no state, so each existing folder must be read once.
pub fn change(current: &[FolderDump], desired: &[EffectiveFolder], adopting: bool) -> Change {
    let mut change = Change::default();
    let desired_names: HashMap<&str, &EffectiveFolder> = desired
        .iter()
        .map(|folder| (folder.name.as_str(), folder))
        .collect();
    let mut where_now: HashMap<&str, Location> = HashMap::new();
    for folder in current {
        for rule in &folder.rules {
            let act = Act {
                kind: rule.action.kind.unwrap_or(0),
                status: rule.action.status,
            };
            where_now.insert(rule.hostname.as_str(), (folder.name.as_str(), act));
        }
    }
    count_folders(current, desired, &desired_names, adopting, &mut change);
    count_rules(current, desired, &where_now, &desired_names, &mut change);
    change.profile_reads = 1;
    change.verifications = usize::from(change.write_calls > 0);
    change
}

fn count_folders(
    current: &[FolderDump],
    desired: &[EffectiveFolder],
    desired_names: &HashMap<&str, &EffectiveFolder>,
    adopting: bool,
    change: &mut Change,
) {
    for folder in desired {
        match current.iter().find(|have| have.name == folder.name) {
            None => change.folders_created += 1,
            Some(have) => {
                if have.action.kind != folder.action.kind
                    || have.action.status != folder.action.status
                {
                    change.folders_updated += 1;
                }
                change.adopted_reads += usize::from(adopting);
            }
        }
    }
    change.folders_deleted = current
        .iter()
        .filter(|have| !desired_names.contains_key(have.name.as_str()))
        .count();
}

fn count_rules(
    current: &[FolderDump],
    desired: &[EffectiveFolder],
    where_now: &HashMap<&str, Location>,
    desired_names: &HashMap<&str, &EffectiveFolder>,
    change: &mut Change,
) {
    let mut posts: BTreeMap<(&str, Act), usize> = BTreeMap::new();
    let mut puts: BTreeMap<(&str, Act), usize> = BTreeMap::new();
    let mut changes: BTreeMap<(&str, Act), usize> = BTreeMap::new();
    let mut wanted: HashSet<&str> = HashSet::new();
    for folder in desired {
        for (host, act) in &folder.rules {
            wanted.insert(host.as_str());
            match where_now.get(host.as_str()) {
                None => *posts.entry((folder.name.as_str(), *act)).or_default() += 1,
                Some((there, have)) if *there == folder.name && have == act => {}
                Some((there, _)) => {
                    *puts.entry((folder.name.as_str(), *act)).or_default() += 1;
                    if *there == folder.name {
                        *changes.entry((folder.name.as_str(), *act)).or_default() += 1;
                    }
                }
            }
        }
    }
    for folder in current {
        let stays = desired_names.contains_key(folder.name.as_str());
        let gone = folder
            .rules
            .iter()
            .filter(|rule| !wanted.contains(rule.hostname.as_str()))
            .count();
        if stays {
            change.removed += gone;
        } else {
            change.dropped_with_folder += gone;
        }
    }
    change.added = posts.values().sum();
    change.moved_or_changed = puts.values().sum();
    let batches = |counts: &BTreeMap<(&str, Act), usize>| -> usize {
        counts.values().map(|n| n.div_ceil(BATCH)).sum()
    };
    change.split_put_calls = puts
        .iter()
        .map(|(group, all)| {
            let changed = changes.get(group).copied().unwrap_or(0);
            (all - changed).div_ceil(BATCH) + changed.div_ceil(BATCH) - all.div_ceil(BATCH)
        })
        .sum();
    let k = change.removed;
    let removals = if k == 0 {
        0
    } else {
        k.min(k.div_ceil(BATCH) + 2)
    };
    change.write_calls = change.folders_created
        + change.folders_deleted
        + change.folders_updated
        + batches(&posts)
        + batches(&puts)
        + removals;
}
