//! `apply PLANFILE` refuses a plan computed from anything that has moved since: the config, a
//! state file, or the remote folders (one `GET /groups` per profile against its fingerprint).

use std::path::Path;

use super::error::ApplyError;
use crate::controld::{Client, RemoteFolder};
use crate::plan::{PlanFileProfile, Step, SCRATCH_PREFIX};
use crate::refresh::fingerprint;
use crate::state::ProfileState;

/// What moved since a saved plan was made, in words a person can act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Changed {
    /// The config file is not the one planned from.
    Config,
    /// The profile's state file changed: an apply ran since (or the file was replaced).
    State,
    /// The profile's folders in Control D are not as they were.
    Remote,
}

impl Changed {
    /// What the offline checks find moved: the config hash, then the profile's state lineage and
    /// serial (the state file as it was read, so a new sandbox's own states are read as empty).
    pub(crate) fn offline(
        planned_config_hash: &str,
        config_hash: &str,
        planned: &PlanFileProfile,
        state: Option<&ProfileState>,
    ) -> Option<Self> {
        if planned_config_hash != config_hash {
            return Some(Self::Config);
        }
        let lineage = state.map(|state| state.lineage.as_str());
        let serial = state.map_or(0, |state| state.serial);
        (lineage != planned.lineage.as_deref() || serial != planned.serial).then_some(Self::State)
    }

    fn describe(self, profile: &str) -> String {
        match self {
            Self::Config => "the config changed since the plan was made".to_string(),
            Self::State => format!(
                "profile {profile} changed since the plan was made: its state file was written by \
                 an apply since (or replaced)"
            ),
            Self::Remote => format!(
                "profile {profile} changed in Control D since the plan was made: its folders are \
                 not as they were"
            ),
        }
    }
}

/// The refusal of a stale plan: what changed, and to plan again.
pub(crate) fn refuse(path: &Path, profile: &str, changed: Changed) -> ApplyError {
    ApplyError::StalePlan {
        path: path.to_path_buf(),
        reason: changed.describe(profile),
    }
}

/// One `GET /groups`: the folders must be exactly as they were when planned.
pub(crate) async fn check_remote(
    path: &Path,
    profile: &str,
    planned: &PlanFileProfile,
    client: &Client,
) -> Result<(), ApplyError> {
    let folders = client.list_folders(&planned.profile).await;
    let folders = folders.map_err(|err| {
        ApplyError::api(
            &planned.profile,
            "checking the saved plan against Control D",
            err,
        )
    })?;
    if fingerprint(&folders) != planned.remote_fingerprint {
        return Err(refuse(path, profile, Changed::Remote));
    }
    check_leftover_scratch(path, planned, &folders)
}

/// A "leftover scratch folder" the plan deletes must be one: a folder of another name (an edited
/// plan) is refused before anything is sent.
fn check_leftover_scratch(
    path: &Path,
    planned: &PlanFileProfile,
    folders: &[RemoteFolder],
) -> Result<(), ApplyError> {
    for step in &planned.plan.steps {
        let Step::DeleteLeftoverScratch { pk } = step else {
            continue;
        };
        let folder = folders.iter().find(|folder| folder.pk == *pk);
        if let Some(folder) = folder.filter(|folder| !folder.name.starts_with(SCRATCH_PREFIX)) {
            return Err(ApplyError::BadPlanFile {
                path: path.to_path_buf(),
                reason: format!(
                    "profile {}: it deletes folder {} (PK {pk}) as a leftover scratch folder",
                    planned.profile,
                    crate::quote::quote(&folder.name)
                ),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::model::{ActionKind, DesiredProfile, FolderAction, FolderPk};
    use crate::plan::{plan_profile, PlanSettings};

    fn folder(pk: u64, name: &str) -> RemoteFolder {
        RemoteFolder {
            pk: FolderPk::new(pk),
            name: name.into(),
            action: FolderAction::of(ActionKind::Block),
            count: 0,
        }
    }

    /// A saved plan whose only step deletes PK `pk` as a leftover scratch folder.
    fn deleting(pk: u64) -> PlanFileProfile {
        let desired = DesiredProfile {
            id: "p1".into(),
            name: None,
            folders: Vec::new(),
            settings: Default::default(),
        };
        let current = crate::refresh::from_state("p1", None);
        let mut plan = plan_profile(&desired, &current, &PlanSettings::default()).unwrap();
        plan.steps = vec![Step::DeleteLeftoverScratch {
            pk: FolderPk::new(pk),
        }];
        PlanFileProfile {
            profile: "p1".into(),
            lineage: None,
            serial: 0,
            remote_fingerprint: String::new(),
            target: Arc::clone(&plan.target),
            plan,
        }
    }

    #[test]
    fn a_leftover_scratch_folder_among_others_may_be_deleted() {
        let folders = [folder(1, "Ads"), folder(9, SCRATCH_PREFIX)];
        let checked = check_leftover_scratch(Path::new("p.json"), &deleting(9), &folders);
        assert!(checked.is_ok(), "{checked:?}");
        // Gone since: nothing to refuse (the delete finds it gone).
        assert!(check_leftover_scratch(Path::new("p.json"), &deleting(9), &folders[..1]).is_ok());
    }

    #[test]
    fn a_folder_of_another_name_is_refused_as_leftover_scratch() {
        let folders = [folder(9, SCRATCH_PREFIX), folder(1, "Ads")];
        let err = check_leftover_scratch(Path::new("p.json"), &deleting(1), &folders).unwrap_err();
        assert!(
            err.to_string().contains("p.json")
                && matches!(&err, ApplyError::BadPlanFile { reason, .. }
                    if reason == "profile p1: it deletes folder `Ads` (PK 1) as a leftover scratch folder"),
            "{err:?}"
        );
    }
}
