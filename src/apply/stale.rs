//! `apply PLANFILE` refuses a plan computed from anything that has moved since: the config, a
//! state file, or the remote folders (one `GET /groups` per profile against its fingerprint).

use std::path::Path;

use super::error::ApplyError;
use crate::controld::{Client, RemoteFolder};
use crate::plan::{PlanFileProfile, Step, SCRATCH_PREFIX};
use crate::refresh::fingerprint;
use crate::state::ProfileState;

/// Offline checks: the config hash and the profile's state lineage and serial.
pub fn check_offline(
    path: &Path,
    planned_config_hash: &str,
    config_hash: &str,
    planned: &PlanFileProfile,
    state: Option<&ProfileState>,
) -> Result<(), ApplyError> {
    if planned_config_hash != config_hash {
        return Err(stale(
            path,
            "the config changed since it was planned".into(),
        ));
    }
    let lineage = state.map(|state| state.lineage.as_str());
    let serial = state.map_or(0, |state| state.serial);
    if lineage != planned.lineage.as_deref() || serial != planned.serial {
        return Err(stale(
            path,
            format!(
                "the state of profile {} changed since it was planned (serial {} then, {} now)",
                planned.profile, planned.serial, serial
            ),
        ));
    }
    Ok(())
}

/// One `GET /groups`: the folders must be exactly as they were when planned.
pub async fn check_remote(
    path: &Path,
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
        return Err(stale(
            path,
            format!(
                "profile {}'s folders in Control D changed since it was planned",
                planned.profile
            ),
        ));
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

fn stale(path: &Path, reason: String) -> ApplyError {
    ApplyError::StalePlan {
        path: path.to_path_buf(),
        reason,
    }
}
