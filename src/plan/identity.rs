//! Whose folder is it? A PK is not an identity on its own: the live service hands a deleted
//! folder's PK to the next folder created (a public sync log shows a folder deleted as PK 26 and
//! the next one created as PK 26). So a remote folder found at the PK the state records for a
//! managed folder, but under another name, is taken as that folder renamed in the dashboard only
//! when its rules say so:
//!
//! With S the hostnames the state records in the managed folder and R the hostnames the remote
//! folder holds now, it is ours when **more than half of S is in R, and more than half of R is in
//! S** (2·|R∩S| > |S| and 2·|R∩S| > |R|). An empty folder, or an empty record, is never ours: there
//! is no evidence either way, and a doubt leaves someone else's data alone. A folder that is not
//! ours is never renamed, emptied or deleted; the managed folder is created again beside it.
//!
//! A remote folder at that PK under the state's name, or under the name the config now gives the
//! folder, needs no evidence: a same-named folder is adopted anyway.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{FolderPk, Hostname, RuleAction};

/// What the rules of a renamed folder at a managed folder's PK said.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderIdentity {
    /// The managed folder's config key.
    pub key: String,
    pub pk: FolderPk,
    /// The name the state records for the managed folder.
    pub state_name: String,
    /// The name the folder at that PK has now.
    pub remote_name: String,
    /// Hostnames the state records in the managed folder (|S|).
    pub recorded: usize,
    /// Hostnames the folder at that PK holds now (|R|).
    pub holds: usize,
    /// Hostnames in both (|R∩S|).
    pub shared: usize,
    pub verdict: Verdict,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The managed folder, renamed in the dashboard: it is renamed back.
    Renamed,
    /// Someone else's folder that took a freed PK: left alone; the managed folder is created again.
    NotOurs,
}

impl FolderIdentity {
    /// Weighs the rules a folder at the managed folder's PK holds against what the state records.
    pub(crate) fn judge(
        key: &str,
        pk: FolderPk,
        state_name: &str,
        remote_name: &str,
        recorded: &BTreeMap<Hostname, RuleAction>,
        holds: &BTreeMap<Hostname, RuleAction>,
    ) -> Self {
        let shared = holds.keys().filter(|h| recorded.contains_key(*h)).count();
        let verdict = match is_ours(shared, recorded.len(), holds.len()) {
            true => Verdict::Renamed,
            false => Verdict::NotOurs,
        };
        Self {
            key: key.to_string(),
            pk,
            state_name: state_name.to_string(),
            remote_name: remote_name.to_string(),
            recorded: recorded.len(),
            holds: holds.len(),
            shared,
            verdict,
        }
    }

    pub(crate) fn is_ours(&self) -> bool {
        self.verdict == Verdict::Renamed
    }
}

/// More than half of what the state records is there, and more than half of what is there is
/// what the state records.
fn is_ours(shared: usize, recorded: usize, holds: usize) -> bool {
    2 * shared > recorded && 2 * shared > holds
}

impl std::fmt::Display for FolderIdentity {
    /// One line for the plan, saying which case was seen and why.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (key, pk, shared) = (&self.key, self.pk, self.shared);
        let now = crate::quote::quote(&self.remote_name);
        let was = crate::quote::quote(&self.state_name);
        let evidence = format!(
            "{shared} of its {} hostnames are among the {} the state records",
            self.holds, self.recorded
        );
        match self.verdict {
            Verdict::Renamed => write!(
                f,
                "identity: folder PK {pk} is named {now} in Control D, not {was}: taken as `{key}` \
                 renamed ({evidence})"
            ),
            Verdict::NotOurs => write!(
                f,
                "identity: folder PK {pk} is named {now} in Control D, not {was}, and is not `{key}` \
                 ({evidence}): left alone; `{key}` is created again"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::block_rules as rules;

    fn verdict(recorded: &[&str], holds: &[&str]) -> Verdict {
        FolderIdentity::judge(
            "ads",
            FolderPk::new(7),
            "Ads",
            "Mine",
            &rules(recorded),
            &rules(holds),
        )
        .verdict
    }

    #[test]
    fn a_renamed_folder_with_its_rules_is_ours() {
        assert_eq!(
            verdict(&["a", "b", "c"], &["a", "b", "c"]),
            Verdict::Renamed
        );
        // A person renamed it, added one rule and removed one: still clearly ours.
        assert_eq!(
            verdict(&["a", "b", "c"], &["a", "b", "x"]),
            Verdict::Renamed
        );
        assert_eq!(verdict(&["a"], &["a"]), Verdict::Renamed);
    }

    #[test]
    fn a_folder_that_took_a_freed_pk_is_not_ours() {
        // The person's own folder: none of the recorded hostnames.
        assert_eq!(verdict(&["a", "b", "c"], &["x", "y"]), Verdict::NotOurs);
        // Half of the record is not more than half.
        assert_eq!(verdict(&["a", "b"], &["a", "x"]), Verdict::NotOurs);
        // Even when all that is there is recorded.
        assert_eq!(verdict(&["a", "b"], &["a"]), Verdict::NotOurs);
        assert_eq!(
            verdict(&["a", "b", "c", "d"], &["a", "b"]),
            Verdict::NotOurs
        );
        assert_eq!(
            verdict(&["a", "b", "c", "d"], &["a", "b", "c"]),
            Verdict::Renamed
        );
        assert_eq!(
            verdict(&["a", "b", "c", "d"], &["a", "b", "x", "y"]),
            Verdict::NotOurs
        );
        // Most of the record, but mostly someone else's rules.
        assert_eq!(
            verdict(&["a", "b", "c"], &["a", "b", "c", "w", "x", "y"]),
            Verdict::NotOurs
        );
        assert_eq!(
            verdict(&["a", "b", "c"], &["a", "b", "c", "w", "x"]),
            Verdict::Renamed
        );
    }

    #[test]
    fn an_empty_folder_or_an_empty_record_is_never_ours() {
        assert_eq!(verdict(&[], &[]), Verdict::NotOurs);
        assert_eq!(verdict(&["a", "b"], &[]), Verdict::NotOurs);
        assert_eq!(verdict(&[], &["a"]), Verdict::NotOurs);
    }

    #[test]
    fn the_line_says_the_case_and_why() {
        let line = FolderIdentity::judge(
            "ads",
            FolderPk::new(26),
            "Ads",
            "Mine",
            &rules(&["a"]),
            &rules(&["x", "y"]),
        )
        .to_string();
        assert_eq!(
            line,
            "identity: folder PK 26 is named `Mine` in Control D, not `Ads`, and is not `ads` (0 of its 2 \
             hostnames are among the 1 the state records): left alone; `ads` is created again"
        );
        let renamed = FolderIdentity::judge(
            "ads",
            FolderPk::new(26),
            "Ads",
            "Mine\u{1b}[2J",
            &rules(&["a"]),
            &rules(&["a"]),
        );
        assert!(
            renamed.to_string().contains("`Mine\\u{1b}[2J`"),
            "{renamed}"
        );
        assert!(renamed.to_string().contains("taken as `ads` renamed"));
    }
}
