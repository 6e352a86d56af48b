//! Ownership and convergence under the edits a person makes in the Control D dashboard, as a
//! property. A config of a few folders whose lists overlap is applied; then, round after round, a
//! person deletes, renames and creates folders (a new folder takes a freed PK, as on the live
//! service) and adds, removes, disables, flips and moves rules, and `apply` runs with the default
//! refresh. After every apply:
//! (a) every folder and rule that is the person's is byte-identical to what the person left;
//! (b) the managed folders equal the config exactly (config order settles overlaps; hostnames the
//!     person's rules hold are left to them);
//! (c) the next `plan --detailed-exitcode` exits 0 after exactly one API call (`GET /groups`);
//! (d) the apply itself exits 0.
//!
//! Ground truth (the model): folders the person made and the rules in them, and root rules, are
//! the person's. A managed folder the person renames stays the tool's only when its rules say so:
//! with S the hostnames the state records in it and R those it holds now, it is the managed folder
//! iff 2|R∩S| > |S| and 2|R∩S| > |R| (so an empty folder, or an empty record, is never taken as
//! ours); otherwise it is the person's from then on. A rule moved into a managed folder is managed.
//!
//! Two things the tool documents keep the model exact, so the generator avoids or follows them:
//! - the default refresh trusts a managed folder whose PK, name, action and rule count match the
//!   state, so an edit that changes a managed folder's rules but not its count (a flip, or a
//!   remove and an add) is not generated (only `--refresh full` sees it);
//! - a hostname a person's rule held at an apply is remembered and skipped until `--refresh full`,
//!   even after the person removes that rule, unless a managed folder holds it again.
//!
//! Folders the person makes hold at least as many hostnames of their own (never in any list) as
//! listed ones, so the rule above can never mistake one for a managed folder renamed, even when it
//! takes a deleted managed folder's PK.
//!
//! Runs the real command pipeline in-process (`commands::run` on a parsed command line) against an
//! in-process emulator, as `tests/it/converge.rs` does.

use crate::in_process;

use std::collections::{BTreeMap, BTreeSet};

use controld_emulator::{ActionDump, Emulator, EmulatorConfig, FolderDump, ProfileDump, RuleDump};
use ctrld_sync::controld::{Client, ClientConfig, RuleTarget, Token};
use ctrld_sync::model::{ActionKind, FolderPk, RuleAction};
use proptest::prelude::*;
use proptest::sample::Index;
use tempfile::TempDir;

const TOKEN: &str = "test-token";
const PROFILE: &str = "p1";
/// The hostnames the lists draw from (shared, so lists overlap).
const LISTED: usize = 10;
/// The person's own hostnames: in no list.
const PERSONAL: usize = 12;
/// The configured folders' names, in config order.
const NAMES: [&str; 3] = ["Ads", "Trackers", "Badware"];
const ROOT: u64 = 0;

fn listed(index: usize) -> String {
    format!("l{index}.example")
}

fn personal(index: usize) -> String {
    format!("p{index}.example")
}

fn is_listed(hostname: &str) -> bool {
    hostname.starts_with('l')
}

fn action(kind: u8, enabled: bool) -> ActionDump {
    ActionDump {
        kind: Some(kind),
        status: u8::from(enabled),
        via: None,
        via_v6: None,
    }
}

fn rule_action(kind: u8, enabled: bool) -> RuleAction {
    let kind = if kind == 1 {
        ActionKind::Allow
    } else {
        ActionKind::Block
    };
    RuleAction {
        enabled,
        ..RuleAction::new(kind)
    }
}

/// One configured folder: its action (0 block, 1 allow) and its list: hostnames (indices into the
/// listed pool, distinct, in list order) with their actions.
#[derive(Clone, Debug)]
struct ListCase {
    kind: u8,
    rules: Vec<(usize, u8)>,
}

/// One dashboard edit. `Index`es pick among what exists when the edit is made; an edit that finds
/// nothing to act on, or that the generator's rules forbid (see the module comment), is skipped.
#[derive(Clone, Debug)]
enum Edit {
    /// `newest`: the folder with the highest PK, whose PK the next new folder takes.
    DeleteFolder {
        folder: Index,
        newest: bool,
    },
    RenameFolder {
        folder: Index,
    },
    /// A folder with `own` of the person's hostnames and up to as many free listed ones.
    CreateFolder {
        kind: u8,
        own: Vec<Index>,
        from_lists: Vec<Index>,
    },
    /// A rule in the root or a folder (`place`), with a free hostname of either pool.
    AddRule {
        place: Index,
        hostname: Index,
        own: bool,
        kind: u8,
    },
    RemoveRule {
        rule: Index,
    },
    DisableRule {
        rule: Index,
    },
    FlipRule {
        rule: Index,
    },
    MoveRule {
        rule: Index,
        place: Index,
    },
}

#[derive(Clone, Debug)]
struct Case {
    lists: Vec<ListCase>,
    rounds: Vec<Vec<Edit>>,
}

fn list_case() -> impl Strategy<Value = ListCase> {
    (
        0u8..2,
        prop::sample::subsequence((0..LISTED).collect::<Vec<_>>(), 3..=8).prop_shuffle(),
        prop::collection::vec(0u8..2, 8),
    )
        .prop_map(|(kind, hostnames, kinds)| ListCase {
            kind,
            rules: hostnames.into_iter().zip(kinds).collect(),
        })
}

fn edit() -> impl Strategy<Value = Edit> {
    let index = any::<Index>;
    let delete =
        (index(), any::<bool>()).prop_map(|(folder, newest)| Edit::DeleteFolder { folder, newest });
    let create = (
        0u8..2,
        prop::collection::vec(index(), 1..=3),
        prop::collection::vec(index(), 0..=3),
    )
        .prop_map(|(kind, own, from_lists)| Edit::CreateFolder {
            kind,
            own,
            from_lists,
        });
    let add = (index(), index(), any::<bool>(), 0u8..2).prop_map(|(place, hostname, own, kind)| {
        Edit::AddRule {
            place,
            hostname,
            own,
            kind,
        }
    });
    // Deleting and creating folders weigh more: together they hand freed PKs out again.
    prop_oneof![
        2 => delete,
        1 => index().prop_map(|folder| Edit::RenameFolder { folder }),
        2 => create,
        1 => add,
        1 => index().prop_map(|rule| Edit::RemoveRule { rule }),
        1 => index().prop_map(|rule| Edit::DisableRule { rule }),
        1 => index().prop_map(|rule| Edit::FlipRule { rule }),
        1 => (index(), index()).prop_map(|(rule, place)| Edit::MoveRule { rule, place }),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec(list_case(), 2..=NAMES.len()),
        prop::collection::vec(prop::collection::vec(edit(), 1..=5), 1..=6),
    )
        .prop_map(|(lists, rounds)| Case { lists, rounds })
}

/// The profile as plain maps, to decide and check edits before they are made.
#[derive(Clone, Debug, PartialEq)]
struct Remote {
    /// PK -> (name, action).
    folders: BTreeMap<u64, (String, ActionDump)>,
    /// hostname -> (folder PK, or [`ROOT`]; action).
    rules: BTreeMap<String, (u64, ActionDump)>,
}

impl Remote {
    fn of(profile: &ProfileDump) -> Self {
        let mut rules: BTreeMap<String, (u64, ActionDump)> = profile
            .root
            .iter()
            .map(|rule| (rule.hostname.clone(), (ROOT, rule.action.clone())))
            .collect();
        let mut folders = BTreeMap::new();
        for folder in &profile.folders {
            folders.insert(folder.pk, (folder.name.clone(), folder.action.clone()));
            for rule in &folder.rules {
                rules.insert(rule.hostname.clone(), (folder.pk, rule.action.clone()));
            }
        }
        Self { folders, rules }
    }

    fn hostnames_in(&self, pk: u64) -> BTreeMap<String, ActionDump> {
        self.rules
            .iter()
            .filter(|(_, (group, _))| *group == pk)
            .map(|(hostname, (_, action))| (hostname.clone(), action.clone()))
            .collect()
    }

    /// The root, then each folder by PK.
    fn places(&self) -> Vec<u64> {
        std::iter::once(ROOT)
            .chain(self.folders.keys().copied())
            .collect()
    }

    fn free(&self, pool: usize, name: fn(usize) -> String) -> Vec<String> {
        (0..pool)
            .map(name)
            .filter(|hostname| !self.rules.contains_key(hostname))
            .collect()
    }
}

/// An edit with everything picked: what is sent to the emulator.
#[derive(Clone, Debug)]
enum Made {
    DeleteFolder(u64),
    RenameFolder(u64, String),
    CreateFolder {
        name: String,
        kind: u8,
        hostnames: Vec<String>,
    },
    AddRule {
        place: u64,
        hostname: String,
        kind: u8,
    },
    RemoveRule(String),
    /// A PUT of one rule: its new action, and the place it moves to.
    PutRule {
        hostname: String,
        action: ActionDump,
        place: Option<u64>,
    },
}

/// The test's knowledge: who owns what, and what the last apply left.
#[derive(Default)]
struct Model {
    /// Folders that are the person's: made by them, or a managed folder the rule gave up.
    person: BTreeSet<u64>,
    /// Of those, the ones the person made (kept unambiguous by construction).
    made: BTreeSet<u64>,
    /// Per configured folder: its PK and rules as the last apply left them.
    applied: Vec<Option<(u64, BTreeMap<String, ActionDump>)>>,
    /// Listed hostnames the tool remembers as held by a person's rule.
    held: BTreeSet<String>,
    /// Numbers the names of folders the person makes or renames.
    names: usize,
}

/// The identity rule for a folder at a managed folder's PK under another name.
fn still_ours(now: &BTreeSet<&String>, recorded: &BTreeSet<&String>) -> bool {
    let common = now.intersection(recorded).count();
    2 * common > recorded.len() && 2 * common > now.len()
}

impl Model {
    /// Picks what an edit acts on; `None` when there is nothing to act on.
    fn pick(&mut self, edit: &Edit, remote: &Remote) -> Option<Made> {
        let folders: Vec<u64> = remote.folders.keys().copied().collect();
        let rules: Vec<(&String, &(u64, ActionDump))> = remote.rules.iter().collect();
        let pick_folder =
            |index: &Index| (!folders.is_empty()).then(|| folders[index.index(folders.len())]);
        let pick_rule =
            |index: &Index| (!rules.is_empty()).then(|| rules[index.index(rules.len())]);
        let places = remote.places();
        let made = match edit {
            Edit::DeleteFolder { newest: true, .. } => Made::DeleteFolder(*folders.last()?),
            Edit::DeleteFolder { folder, .. } => Made::DeleteFolder(pick_folder(folder)?),
            Edit::RenameFolder { folder } => {
                self.names += 1;
                Made::RenameFolder(pick_folder(folder)?, format!("Renamed {}", self.names))
            }
            Edit::CreateFolder {
                kind,
                own,
                from_lists,
            } => {
                let mut hostnames = pick_distinct(own, remote.free(PERSONAL, personal));
                if hostnames.is_empty() {
                    return None;
                }
                // Never more listed hostnames than its own: see the module comment.
                let shared = &from_lists[..from_lists.len().min(hostnames.len())];
                hostnames.extend(pick_distinct(shared, remote.free(LISTED, listed)));
                self.names += 1;
                Made::CreateFolder {
                    name: format!("Mine {}", self.names),
                    kind: *kind,
                    hostnames,
                }
            }
            Edit::AddRule {
                place,
                hostname,
                own,
                kind,
            } => {
                let free = match own {
                    true => remote.free(PERSONAL, personal),
                    false => remote.free(LISTED, listed),
                };
                let hostname =
                    (!free.is_empty()).then(|| free[hostname.index(free.len())].clone())?;
                Made::AddRule {
                    place: places[place.index(places.len())],
                    hostname,
                    kind: *kind,
                }
            }
            Edit::RemoveRule { rule } => Made::RemoveRule(pick_rule(rule)?.0.clone()),
            Edit::DisableRule { rule } => {
                let (hostname, (_, action)) = pick_rule(rule)?;
                Made::PutRule {
                    hostname: hostname.clone(),
                    action: ActionDump {
                        status: 0,
                        ..action.clone()
                    },
                    place: None,
                }
            }
            Edit::FlipRule { rule } => {
                let (hostname, (_, action)) = pick_rule(rule)?;
                Made::PutRule {
                    hostname: hostname.clone(),
                    action: ActionDump {
                        kind: Some(1 - action.kind.unwrap_or(0)),
                        ..action.clone()
                    },
                    place: None,
                }
            }
            Edit::MoveRule { rule, place } => {
                let (hostname, (from, action)) = pick_rule(rule)?;
                let to = places[place.index(places.len())];
                if to == *from {
                    return None;
                }
                Made::PutRule {
                    hostname: hostname.clone(),
                    action: action.clone(),
                    place: Some(to),
                }
            }
        };
        Some(made)
    }

    /// Whether the profile after an edit stays within what the model can judge (module comment).
    fn allowed(&self, remote: &Remote) -> bool {
        self.persons_folders_unambiguous(remote) && self.no_unseen_drift(remote)
    }

    /// Every folder the person made holds at least as many of their own hostnames as listed ones.
    fn persons_folders_unambiguous(&self, remote: &Remote) -> bool {
        self.made.iter().all(|pk| {
            let held = remote.hostnames_in(*pk);
            let listed = held.keys().filter(|h| is_listed(h)).count();
            held.len() - listed >= listed
        })
    }

    /// No managed folder the default refresh trusts without reading (same PK, name, action and
    /// count as the state) holds other rules than the state records.
    fn no_unseen_drift(&self, remote: &Remote) -> bool {
        self.applied.iter().enumerate().all(|(index, applied)| {
            let Some((pk, recorded)) = applied else {
                return true;
            };
            let holds = remote.hostnames_in(*pk);
            let trusted = !self.person.contains(pk)
                && remote
                    .folders
                    .get(pk)
                    .is_some_and(|(name, _)| name == NAMES[index])
                && holds.len() == recorded.len();
            !trusted || holds == *recorded
        })
    }

    /// What the profile looks like after `made`; a new folder gets one above the highest PK, as
    /// the emulator (like the live service) hands it out.
    fn simulate(made: &Made, remote: &Remote) -> Remote {
        let mut after = remote.clone();
        match made {
            Made::DeleteFolder(pk) => {
                after.folders.remove(pk);
                after.rules.retain(|_, (group, _)| group != pk);
            }
            Made::RenameFolder(pk, name) => {
                if let Some(folder) = after.folders.get_mut(pk) {
                    folder.0 = name.clone();
                }
            }
            Made::CreateFolder {
                name,
                kind,
                hostnames,
            } => {
                let pk = after.folders.keys().max().map_or(1, |top| top + 1);
                after
                    .folders
                    .insert(pk, (name.clone(), action(*kind, true)));
                for hostname in hostnames {
                    after
                        .rules
                        .insert(hostname.clone(), (pk, action(*kind, true)));
                }
            }
            Made::AddRule {
                place,
                hostname,
                kind,
            } => {
                after
                    .rules
                    .insert(hostname.clone(), (*place, action(*kind, true)));
            }
            Made::RemoveRule(hostname) => {
                after.rules.remove(hostname);
            }
            Made::PutRule {
                hostname,
                action,
                place,
            } => {
                if let Some(rule) = after.rules.get_mut(hostname) {
                    rule.1 = action.clone();
                    if let Some(place) = place {
                        rule.0 = *place;
                    }
                }
            }
        }
        after
    }
}

/// Distinct picks from `pool`, one per index (each pick leaves the pool).
fn pick_distinct(indices: &[Index], mut pool: Vec<String>) -> Vec<String> {
    let mut picked = Vec::new();
    for index in indices {
        if pool.is_empty() {
            break;
        }
        picked.push(pool.remove(index.index(pool.len())));
    }
    picked
}

/// A running emulator, the person's client, the config dir and the model.
struct World {
    emulator: Emulator,
    client: Client,
    dir: TempDir,
    lists: Vec<ListCase>,
    model: Model,
}

impl World {
    fn new(lists: &[ListCase]) -> Self {
        let emulator = Emulator::start_background(EmulatorConfig {
            token: TOKEN.into(),
            profiles: vec![PROFILE.into()],
            ..EmulatorConfig::default()
        })
        .unwrap();
        let client = Client::new(ClientConfig::new(
            emulator.url().parse().unwrap(),
            Token::new(TOKEN),
        ))
        .unwrap();
        let dir = TempDir::new().unwrap();
        write_config(&dir, lists);
        Self {
            emulator,
            client,
            dir,
            lists: lists.to_vec(),
            model: Model {
                applied: vec![None; lists.len()],
                ..Model::default()
            },
        }
    }

    fn profile(&self) -> ProfileDump {
        self.emulator.dump().profiles[PROFILE].clone()
    }

    /// Makes one edit, if there is something to act on and the model can still judge the result.
    async fn edit(&mut self, edit: &Edit) -> Result<(), TestCaseError> {
        let remote = Remote::of(&self.profile());
        let Some(made) = self.model.pick(edit, &remote) else {
            return Ok(());
        };
        let after = Model::simulate(&made, &remote);
        if !self.model.allowed(&after) {
            return Ok(());
        }
        self.send(&made).await?;
        let now = Remote::of(&self.profile());
        prop_assert_eq!(now, after, "the edit {:?} did not do what it should", made);
        Ok(())
    }

    /// Sends one edit as the dashboard does.
    async fn send(&mut self, made: &Made) -> Result<(), TestCaseError> {
        let sent = match made {
            Made::DeleteFolder(pk) => {
                self.model.person.remove(pk);
                self.model.made.remove(pk);
                self.client.delete_folder(PROFILE, FolderPk::new(*pk)).await
            }
            Made::RenameFolder(pk, name) => {
                let path = ["profiles", PROFILE, "groups", &pk.to_string()].map(String::from);
                let body = form_urlencoded::Serializer::new(String::new())
                    .append_pair("name", name)
                    .finish();
                let answer = self
                    .client
                    .raw(reqwest::Method::PUT, &path, Some(body))
                    .await;
                prop_assert!(answer.is_ok_and(|answer| answer.success()), "rename {}", pk);
                Ok(())
            }
            Made::CreateFolder {
                name,
                kind,
                hostnames,
            } => {
                let pk = self
                    .emulator
                    .add_dashboard_folder(PROFILE, name, *kind)
                    .unwrap();
                self.model.person.insert(pk);
                self.model.made.insert(pk);
                let action = rule_action(*kind, true);
                self.client
                    .create_rules(PROFILE, Some(FolderPk::new(pk)), &action, hostnames)
                    .await
            }
            Made::AddRule {
                place,
                hostname,
                kind,
            } => {
                let folder = (*place != ROOT).then_some(FolderPk::new(*place));
                let action = rule_action(*kind, true);
                self.client
                    .create_rules(PROFILE, folder, &action, &[hostname])
                    .await
            }
            Made::RemoveRule(hostname) => self.client.delete_rule(PROFILE, hostname).await,
            Made::PutRule {
                hostname,
                action,
                place,
            } => {
                let target = place.map(|pk| match pk {
                    ROOT => RuleTarget::Root,
                    pk => RuleTarget::Folder(FolderPk::new(pk)),
                });
                let action = rule_action(action.kind.unwrap_or(0), action.status == 1);
                self.client
                    .update_rules(PROFILE, target, &action, &[hostname])
                    .await
            }
        };
        prop_assert!(sent.is_ok(), "{:?}: {:?}", made, sent);
        Ok(())
    }

    /// Applies, then checks (a) to (d) against the model, and moves the model on.
    async fn apply_and_check(&mut self) -> Result<(), TestCaseError> {
        let before = self.profile();
        let managed = self.resolve(&before);
        let expected = self.expected(&before, &managed);
        let applied = run(&self.dir, &self.emulator.url(), &["apply"]).await;
        prop_assert_eq!(
            applied,
            Ok(0),
            "(d) apply failed; before: {}",
            show(&before)
        );
        let after = self.profile();
        self.check_persons_untouched(&before, &after)?;
        let placed = self.check_managed(&expected, &before, &after)?;
        self.emulator.reset_stats();
        let planned = run(
            &self.dir,
            &self.emulator.url(),
            &["plan", "--detailed-exitcode"],
        )
        .await;
        prop_assert_eq!(
            planned,
            Ok(0),
            "(c) the plan after apply shows changes; {}",
            show(&after)
        );
        let stats = self.emulator.stats();
        prop_assert_eq!(stats.total, 1, "(c) {:?}", stats);
        prop_assert_eq!(
            stats
                .by_route
                .get("GET /profiles/{profile}/groups")
                .copied(),
            Some(1)
        );
        self.remember(&before, &managed, placed, expected);
        Ok(())
    }

    /// Which folders at the state's PKs are still the managed ones (PK -> list index); the others
    /// become the person's.
    fn resolve(&mut self, before: &ProfileDump) -> BTreeMap<u64, usize> {
        let remote = Remote::of(before);
        let mut managed = BTreeMap::new();
        for (index, applied) in self.model.applied.iter().enumerate() {
            let Some((pk, recorded)) = applied else {
                continue;
            };
            if self.model.person.contains(pk) {
                continue; // deleted, and the person's new folder took its PK
            }
            let Some((name, _)) = remote.folders.get(pk) else {
                continue; // deleted
            };
            let now = remote.hostnames_in(*pk);
            let ours = name == NAMES[index]
                || still_ours(&now.keys().collect(), &recorded.keys().collect());
            match ours {
                true => {
                    managed.insert(*pk, index);
                }
                false => {
                    self.model.person.insert(*pk);
                }
            }
        }
        managed
    }

    /// Hostnames the tool leaves alone at this apply: held by a person's rule now, or remembered
    /// as held and not brought back into a managed folder.
    fn skipped(&self, before: &ProfileDump, managed: &BTreeMap<u64, usize>) -> BTreeSet<String> {
        let remote = Remote::of(before);
        let mut skipped: BTreeSet<String> = self
            .model
            .held
            .iter()
            .filter(|hostname| {
                remote
                    .rules
                    .get(*hostname)
                    .is_none_or(|(group, _)| !managed.contains_key(group))
            })
            .cloned()
            .collect();
        skipped.extend(person_held(&remote, managed));
        skipped
    }

    /// Per configured folder: the rules config order gives it, minus the skipped hostnames.
    fn expected(
        &self,
        before: &ProfileDump,
        managed: &BTreeMap<u64, usize>,
    ) -> Vec<BTreeMap<String, ActionDump>> {
        let skipped = self.skipped(before, managed);
        let mut taken = BTreeSet::new();
        self.lists
            .iter()
            .map(|list| {
                list.rules
                    .iter()
                    .map(|(index, kind)| (listed(*index), *kind))
                    .filter(|(hostname, _)| !skipped.contains(hostname))
                    .filter(|(hostname, _)| taken.insert(hostname.clone()))
                    .map(|(hostname, kind)| (hostname, action(kind, true)))
                    .collect()
            })
            .collect()
    }

    /// (a) The root and every folder of the person's are exactly as the person left them.
    fn check_persons_untouched(
        &self,
        before: &ProfileDump,
        after: &ProfileDump,
    ) -> Result<(), TestCaseError> {
        prop_assert_eq!(
            &after.root,
            &before.root,
            "(a) the root changed; before: {}",
            show(before)
        );
        for pk in &self.model.person {
            let was = before.folders.iter().find(|f| f.pk == *pk);
            let is = after.folders.iter().find(|f| f.pk == *pk);
            prop_assert_eq!(
                is,
                was,
                "(a) the person's folder {} changed; before: {}; after: {}",
                pk,
                show(before),
                show(after)
            );
        }
        Ok(())
    }

    /// (b) Every other folder is a configured one, each exactly once, exactly as expected.
    /// Returns each configured folder's PK.
    fn check_managed(
        &self,
        expected: &[BTreeMap<String, ActionDump>],
        before: &ProfileDump,
        after: &ProfileDump,
    ) -> Result<Vec<u64>, TestCaseError> {
        let others: Vec<&FolderDump> = after
            .folders
            .iter()
            .filter(|f| !self.model.person.contains(&f.pk))
            .collect();
        let context = || format!("before: {}; after: {}", show(before), show(after));
        prop_assert_eq!(
            others.len(),
            self.lists.len(),
            "(b) managed folders; {}",
            context()
        );
        let mut pks = Vec::new();
        for (index, list) in self.lists.iter().enumerate() {
            let found: Vec<&&FolderDump> =
                others.iter().filter(|f| f.name == NAMES[index]).collect();
            prop_assert_eq!(found.len(), 1, "(b) folder {}; {}", NAMES[index], context());
            let folder = found[0];
            prop_assert_eq!(
                &folder.action,
                &action(list.kind, true),
                "(b) {}",
                NAMES[index]
            );
            let rules: BTreeMap<String, ActionDump> = folder
                .rules
                .iter()
                .map(|rule| (rule.hostname.clone(), rule.action.clone()))
                .collect();
            prop_assert_eq!(
                &rules,
                &expected[index],
                "(b) the rules of {}; {}",
                NAMES[index],
                context()
            );
            pks.push(folder.pk);
        }
        Ok(pks)
    }

    /// After a successful apply: the state the tool now holds, as the model sees it.
    fn remember(
        &mut self,
        before: &ProfileDump,
        managed: &BTreeMap<u64, usize>,
        placed: Vec<u64>,
        expected: Vec<BTreeMap<String, ActionDump>>,
    ) {
        let remote = Remote::of(before);
        let in_managed: BTreeSet<&String> = remote
            .rules
            .iter()
            .filter(|(_, (group, _))| managed.contains_key(group))
            .map(|(hostname, _)| hostname)
            .collect();
        self.model
            .held
            .retain(|hostname| !in_managed.contains(hostname));
        self.model.held.extend(person_held(&remote, managed));
        self.model.applied = placed.into_iter().zip(expected).map(Some).collect();
    }
}

/// Listed hostnames in the root or in folders that are not managed.
fn person_held(remote: &Remote, managed: &BTreeMap<u64, usize>) -> Vec<String> {
    remote
        .rules
        .iter()
        .filter(|(hostname, (group, _))| is_listed(hostname) && !managed.contains_key(group))
        .map(|(hostname, _)| hostname.clone())
        .collect()
}

/// One line per folder, for failure messages.
fn show(profile: &ProfileDump) -> String {
    let rules = |rules: &[RuleDump]| {
        rules
            .iter()
            .map(|rule| {
                let kind = if rule.action.kind == Some(1) {
                    "allow"
                } else {
                    "block"
                };
                let off = if rule.action.status == 0 { " off" } else { "" };
                format!("{} {kind}{off}", rule.hostname)
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = format!("\n  root: [{}]", rules(&profile.root));
    for folder in &profile.folders {
        out.push_str(&format!(
            "\n  {} {:?} do={:?}: [{}]",
            folder.pk,
            folder.name,
            folder.action.kind,
            rules(&folder.rules)
        ));
    }
    out
}

/// Writes the config and its Control D folder files (rules carry their own actions).
fn write_config(dir: &TempDir, lists: &[ListCase]) {
    // No pacing: the emulator has no rate limit.
    let keys: Vec<String> = (0..lists.len())
        .map(|index| format!("\"f{index}\""))
        .collect();
    let mut text = format!(
        "[api]\nmax_rps = 10000\n\n[[profile]]\nid = \"{PROFILE}\"\nfolders = [{}]\n\n",
        keys.join(", ")
    );
    for (index, list) in lists.iter().enumerate() {
        let rules: Vec<serde_json::Value> = list
            .rules
            .iter()
            .map(|(hostname, kind)| {
                serde_json::json!({"PK": listed(*hostname), "action": {"do": kind, "status": 1}})
            })
            .collect();
        let content = serde_json::json!({
            "group": {"group": NAMES[index], "action": {"do": list.kind, "status": 1}},
            "rules": rules,
        });
        let file = format!("f{index}.json");
        std::fs::write(dir.path().join(&file), content.to_string()).unwrap();
        text.push_str(&format!("[folder.f{index}]\npath = \"{file}\"\n\n"));
    }
    std::fs::write(dir.path().join("ctrld-sync.toml"), text).unwrap();
}

/// The exit code, or the error's message.
async fn run(dir: &TempDir, url: &str, args: &[&str]) -> Result<u8, String> {
    in_process::run(&dir.path().join("ctrld-sync.toml"), url, TOKEN, args).await
}

async fn converges(case: &Case) -> Result<(), TestCaseError> {
    let mut world = World::new(&case.lists);
    world.apply_and_check().await?;
    for round in &case.rounds {
        for edit in round {
            world.edit(edit).await?;
        }
        world.apply_and_check().await?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn after_every_apply_the_persons_edits_stand_and_the_managed_part_equals_the_config(
        case in case()
    ) {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(converges(&case))?;
    }
}
