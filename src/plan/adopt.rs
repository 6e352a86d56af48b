//! Adoption by name when several remote folders carry it (the old tool leaves duplicates behind
//! after failures): one is taken, deterministically; the others are left alone and reported.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{FolderPk, Hostname, RuleAction};

/// Several remote folders named like a desired folder: which was adopted, which were left alone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicateFolders {
    /// The config key of the desired folder.
    pub key: String,
    pub name: String,
    pub adopted: FolderPk,
    /// Not managed: never changed, their rules count as unmanaged.
    pub left_alone: Vec<FolderPk>,
}

/// The candidate holding the most of the desired hostnames is adopted; ties go to the lowest PK.
/// Returns the adopted PK and the others in PK order; `None` without candidates.
pub(crate) fn choose_adoption(
    desired: &BTreeMap<Hostname, RuleAction>,
    candidates: &[(FolderPk, &BTreeMap<Hostname, RuleAction>)],
) -> Option<(FolderPk, Vec<FolderPk>)> {
    let matching = |rules: &BTreeMap<Hostname, RuleAction>| {
        rules.keys().filter(|h| desired.contains_key(*h)).count()
    };
    let adopted = candidates
        .iter()
        .max_by(|(pk_a, a), (pk_b, b)| matching(a).cmp(&matching(b)).then(pk_b.cmp(pk_a)))
        .map(|(pk, _)| *pk)?;
    let mut others: Vec<FolderPk> = candidates
        .iter()
        .map(|(pk, _)| *pk)
        .filter(|pk| *pk != adopted)
        .collect();
    others.sort_unstable();
    Some((adopted, others))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::block_rules as rules;

    #[test]
    fn the_folder_with_the_most_matching_rules_is_adopted() {
        let desired = rules(&["a", "b", "c"]);
        let (few, many, stray) = (rules(&["a", "x", "y", "z"]), rules(&["a", "b"]), rules(&[]));
        let pk = FolderPk::new;
        let candidates = [(pk(9), &few), (pk(12), &many), (pk(3), &stray)];
        assert_eq!(
            choose_adoption(&desired, &candidates),
            Some((pk(12), vec![pk(3), pk(9)]))
        );
    }

    #[test]
    fn ties_go_to_the_lowest_pk_whatever_the_order() {
        let desired = rules(&["a"]);
        let pk = FolderPk::new;
        let (one, other) = (rules(&["a"]), rules(&["a", "q"]));
        assert_eq!(
            choose_adoption(&desired, &[(pk(8), &one), (pk(7), &other)]),
            Some((pk(7), vec![pk(8)]))
        );
        assert_eq!(
            choose_adoption(&desired, &[(pk(7), &other), (pk(8), &one)]),
            Some((pk(7), vec![pk(8)]))
        );
        assert_eq!(choose_adoption(&desired, &[]), None);
    }
}
