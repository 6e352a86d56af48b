//! What the API cannot do is never planned: a folder PUT merges (an omitted field keeps its
//! value), so a folder's action (`do`) or `via` can be changed but never removed. Where the config
//! gives a folder no action, or no `via`, but the folder in Control D has one, the folder keeps it:
//! the desired action takes the current value, and the plan says so once in a note.

use std::borrow::Cow;

use super::current::CurrentProfile;
use crate::model::{DesiredProfile, FolderAction};

/// The desired profile with unremovable action fields settled, and one note per folder settled.
pub(super) fn settle_unremovable<'a>(
    desired: &'a DesiredProfile,
    current: &CurrentProfile,
) -> (Cow<'a, DesiredProfile>, Vec<String>) {
    let mut settled = Cow::Borrowed(desired);
    let mut notes = Vec::new();
    for (index, folder) in desired.folders.iter().enumerate() {
        let Some(now) = current.managed.get(&folder.key) else {
            continue;
        };
        let Some((action, kept)) = keep_unremovable(&folder.action, &now.action) else {
            continue;
        };
        notes.push(format!(
            "folder `{}` (\"{}\"): the config gives it no {kept}, the folder in Control D has \
             one ({}); left as it is, because the API cannot remove a folder's {kept}",
            folder.key,
            crate::quote::sanitize(&folder.name),
            crate::quote::escape(&now.action.to_string())
        ));
        settled.to_mut().folders[index].action = action;
    }
    (settled, notes)
}

/// The desired action with every field the API cannot clear taken from `now`, and what was
/// kept; `None` when nothing needs keeping.
fn keep_unremovable(
    desired: &FolderAction,
    now: &FolderAction,
) -> Option<(FolderAction, &'static str)> {
    // Quirk: PUT /groups/{pk} merges, so omitting `do` (or `via`) keeps the current one.
    let keep_kind = desired.kind.is_none() && now.kind.is_some();
    let keep_via = desired.via.is_none() && now.via.is_some();
    let kept = match (keep_kind, keep_via) {
        (false, false) => return None,
        (true, false) => "action",
        (false, true) => "via",
        (true, true) => "action and via",
    };
    let action = FolderAction {
        kind: desired.kind.or(now.kind),
        enabled: desired.enabled,
        via: desired.via.clone().or_else(|| now.via.clone()),
    };
    Some((action, kept))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ActionKind;

    #[test]
    fn an_action_the_config_does_not_give_is_kept() {
        let desired = FolderAction::none();
        let now = FolderAction::of(ActionKind::Block);
        let (action, kept) = keep_unremovable(&desired, &now).unwrap();
        assert_eq!(action, now);
        assert_eq!(kept, "action");
    }

    #[test]
    fn a_given_action_or_an_absent_one_on_both_sides_needs_nothing() {
        let block = FolderAction::of(ActionKind::Block);
        let allow = FolderAction::of(ActionKind::Allow);
        assert!(keep_unremovable(&allow, &block).is_none());
        assert!(keep_unremovable(&FolderAction::none(), &FolderAction::none()).is_none());
    }

    #[test]
    fn a_via_the_config_does_not_give_is_kept_with_the_new_kind() {
        let desired = FolderAction::of(ActionKind::Block);
        let now = FolderAction {
            kind: Some(ActionKind::Spoof),
            enabled: true,
            via: Some("1.2.3.4".into()),
        };
        let (action, kept) = keep_unremovable(&desired, &now).unwrap();
        assert_eq!(action.kind, Some(ActionKind::Block));
        assert_eq!(action.via.as_deref(), Some("1.2.3.4"));
        assert_eq!(kept, "via");
    }
}
