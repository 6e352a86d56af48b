//! Which steps of a plan must wait for which: the applier starts a step as soon as every earlier
//! step it depends on is done, instead of running the plan in strict waves. A step depends on an
//! earlier one only where the order matters:
//!
//! - a folder update (a rename, an action change, a status flip) and a folder delete are barriers:
//!   they wait for every earlier step and every later step waits for them, so rules change around
//!   a status flip exactly as the plan orders them, and rules move out of a folder before it goes;
//! - rules go into a new folder once that folder is created;
//! - rules are parked once the scratch folder exists, and the scratch folder is deleted once every
//!   parking is done;
//! - removals the plan puts before additions (near the rule limit, or rules leaving a folder that
//!   is about to be enabled) finish before any later addition, move, change or folder creation.
//!
//! Nothing else waits: additions, moves and action changes touch distinct hostnames, and a rule
//! being removed is desired nowhere, so parking it early opens no gap in protection and, outside
//! the rule-limit order, only lowers the rule count at every moment.

use super::Step;

/// For each step, the indices of the earlier steps it must wait for, in plan order.
pub fn prerequisites(steps: &[Step]) -> Vec<Vec<usize>> {
    steps
        .iter()
        .enumerate()
        .map(|(later, step)| {
            (0..later)
                .filter(|&earlier| must_wait(&steps[earlier], step))
                .collect()
        })
        .collect()
}

/// For each step, the number of steps in the longest chain that starts with it (itself included):
/// starting long chains first keeps the requests in flight busy until the end.
pub(crate) fn chain_lengths(prerequisites: &[Vec<usize>]) -> Vec<usize> {
    let mut lengths = vec![1; prerequisites.len()];
    for later in (0..prerequisites.len()).rev() {
        for &earlier in &prerequisites[later] {
            lengths[earlier] = lengths[earlier].max(lengths[later] + 1);
        }
    }
    lengths
}

fn must_wait(earlier: &Step, later: &Step) -> bool {
    use Step::{
        AddRules, ChangeRules, CreateFolder, CreateScratch, DeleteRule, DeleteScratch, MoveRules,
        MoveToScratch,
    };
    if is_barrier(earlier) || is_barrier(later) {
        return true;
    }
    match (earlier, later) {
        (CreateFolder { key, .. }, later) => rules_into(later) == Some(key),
        (CreateScratch, MoveToScratch { .. } | DeleteScratch) => true,
        (MoveToScratch { .. }, DeleteScratch) => true,
        (
            DeleteRule { .. } | MoveToScratch { .. } | DeleteScratch,
            AddRules { .. }
            | MoveRules { .. }
            | ChangeRules { .. }
            | CreateFolder { .. }
            | CreateScratch,
        ) => true,
        _ => false,
    }
}

fn is_barrier(step: &Step) -> bool {
    matches!(
        step,
        Step::UpdateFolder { .. } | Step::DeleteFolder { .. } | Step::DeleteLeftoverScratch { .. }
    )
}

/// The managed folder a step writes rules into.
fn rules_into(step: &Step) -> Option<&String> {
    match step {
        Step::AddRules { key, .. } | Step::ChangeRules { key, .. } => Some(key),
        Step::MoveRules { to_key, .. } => Some(to_key),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FolderAction, FolderPk, RuleAction};

    fn create(key: &str) -> Step {
        Step::CreateFolder {
            key: key.into(),
            name: key.to_uppercase(),
            action: FolderAction::none(),
        }
    }

    fn add(key: &str) -> Step {
        Step::AddRules {
            key: key.into(),
            action: RuleAction::block(),
            hostnames: vec![format!("{key}.example").into()],
        }
    }

    fn park(hostname: &str) -> Step {
        Step::MoveToScratch {
            hostnames: vec![hostname.into()],
        }
    }

    #[test]
    fn rules_wait_only_for_their_own_folder_and_parking_only_for_the_scratch_folder() {
        let steps = vec![
            create("a"),
            create("b"),
            add("a"),
            add("b"),
            add("old"),
            Step::CreateScratch,
            park("x.example"),
            park("y.example"),
            Step::DeleteScratch,
        ];
        let waits = prerequisites(&steps);
        assert_eq!(waits[2], vec![0], "into `a`: after `a` is created");
        assert_eq!(waits[3], vec![1]);
        assert!(waits[4].is_empty(), "into an existing folder: at once");
        assert!(waits[5].is_empty(), "the scratch folder: at once");
        assert_eq!(waits[6], vec![5], "parking: after the scratch folder only");
        assert_eq!(waits[8], vec![5, 6, 7], "its delete: after every parking");
        assert_eq!(chain_lengths(&waits), vec![2, 2, 1, 1, 1, 3, 2, 2, 1]);
    }

    #[test]
    fn updates_and_folder_deletes_are_barriers() {
        let update = Step::UpdateFolder {
            key: "a".into(),
            pk: FolderPk::new(1),
            name: "A".into(),
            action: FolderAction::none(),
        };
        let delete = Step::DeleteFolder {
            key: "old".into(),
            pk: FolderPk::new(9),
        };
        let steps = vec![add("b"), update, add("a"), park("x.example"), delete];
        let waits = prerequisites(&steps);
        assert_eq!(waits[1], vec![0]);
        assert_eq!(waits[2], vec![1]);
        assert_eq!(waits[4], vec![0, 1, 2, 3]);
    }

    #[test]
    fn removals_planned_first_finish_before_later_additions() {
        let steps = vec![
            Step::DeleteRule {
                hostname: "x.example".into(),
            },
            add("a"),
        ];
        assert_eq!(prerequisites(&steps)[1], vec![0]);
        let adding_first = vec![add("a"), Step::CreateScratch, park("x.example")];
        let waits = prerequisites(&adding_first);
        assert!(waits[1].is_empty() && waits[2] == vec![1]);
    }
}
