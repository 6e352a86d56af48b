//! `--sandbox`: the bundled emulator runs in-process on loopback instead of Control D.
//!
//! Its data lives in a git-ignored file in the state dir, so `apply --sandbox` then `plan --sandbox`
//! shows no changes; no token is needed. A new sandbox (no data file yet) starts empty, so the first
//! `apply` is a real first sync, and `plan` shows exactly that sync. Folder PKs and state lineages
//! are derived from names and profile ids, so that sync writes the same state files every time (the
//! example's committed `state/` stays byte-identical).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use controld_emulator::{Emulator, EmulatorConfig, ProfileDump};

use crate::controld::Token;
use crate::error::{Error, Result};
use crate::hash::sha256_hex;
use crate::printer::Printer;
use crate::state::{ProfileState, SANDBOX_DATA_FILE};

/// The sandbox emulator accepts this token and nothing else; it guards nothing real.
const SANDBOX_TOKEN: &str = "sandbox";

pub(crate) struct Sandbox {
    emulator: Emulator,
    data_file: PathBuf,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("url", &self.url())
            .field("data_file", &self.data_file)
            .finish()
    }
}

impl Sandbox {
    /// Starts the emulator with every profile in `profile_ids` present, and says so on stderr.
    pub(crate) fn start(
        state_dir: &Path,
        profile_ids: &[String],
        printer: &Printer,
    ) -> Result<Self> {
        std::fs::create_dir_all(state_dir).map_err(|err| Error::io(state_dir, err))?;
        let data_file = state_dir.join(SANDBOX_DATA_FILE);
        let config = EmulatorConfig {
            token: SANDBOX_TOKEN.to_string(),
            profiles: profile_ids.to_vec(),
            state_file: Some(data_file.clone()),
            // The first sync's PKs must not depend on which concurrent request arrives first.
            stable_pks: true,
            ..EmulatorConfig::default()
        };
        let emulator = Emulator::start_background(config).map_err(|err| {
            Error::Sandbox(format!(
                "could not start the sandbox emulator (data file {}): {err}",
                data_file.display()
            ))
        })?;
        let sandbox = Self {
            emulator,
            data_file,
        };
        sandbox.ensure_profiles(profile_ids);
        printer.warn(format!(
            "sandbox: talking to the bundled Control D emulator at {}, not to Control D; its data is kept in {}",
            sandbox.url(),
            sandbox.data_file.display()
        ));
        Ok(sandbox)
    }

    /// A data file from an earlier run may predate a profile added to the config since.
    fn ensure_profiles(&self, profile_ids: &[String]) {
        let mut dump = self.emulator.dump();
        let mut added = false;
        for id in profile_ids {
            if !dump.profiles.contains_key(id) {
                dump.profiles.insert(
                    id.clone(),
                    ProfileDump {
                        name: id.clone(),
                        ..ProfileDump::default()
                    },
                );
                added = true;
            }
        }
        if added {
            self.emulator.load(dump);
        }
    }

    pub(crate) fn url(&self) -> String {
        self.emulator.url()
    }

    pub(crate) fn token(&self) -> Token {
        Token::new(SANDBOX_TOKEN)
    }
}

/// Whether the sandbox in `state_dir` is new: no data file yet (the emulator writes it on its
/// first change, so `plan` leaves a new sandbox new).
pub(crate) fn is_new(state_dir: &Path) -> bool {
    !state_dir.join(SANDBOX_DATA_FILE).exists()
}

/// A new sandbox is empty, so the state files an earlier sandbox wrote describe folders that do
/// not exist: each selected profile whose state is sandbox-made (or missing) is read as an empty
/// state of the sandbox's lineage, serial 0, and the apply writes it again. Nothing is written
/// here, so a plan made from a new sandbox and applied to it is not stale, and a refused apply
/// leaves every file as it was. State files of another lineage (not written by a sandbox) are read
/// as they are.
pub(crate) fn read_states_as_new(
    states: &mut BTreeMap<String, ProfileState>,
    profile_ids: &[&str],
) {
    for &id in profile_ids {
        let lineage = sandbox_lineage(id);
        let made_by_sandbox = states.get(id).is_none_or(|state| state.lineage == lineage);
        if made_by_sandbox {
            let empty = ProfileState {
                lineage,
                ..ProfileState::new(id)
            };
            states.insert(id.to_string(), empty);
        }
    }
}

/// A sandbox profile's state lineage: fixed per profile id, so a re-sync writes identical files.
fn sandbox_lineage(profile_id: &str) -> String {
    let digest = sha256_hex(format!("ctrld-sync sandbox\0{profile_id}").as_bytes());
    digest[..16].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_sandbox_reads_its_own_states_as_empty_and_others_as_they_are() {
        let mut states = BTreeMap::new();
        let mut synced = ProfileState::new("ownsandbox1");
        synced.lineage = sandbox_lineage("ownsandbox1");
        synced.serial = 3;
        synced.folders.insert(
            "ads".into(),
            crate::state::tests::sample().folders["ads"].clone(),
        );
        states.insert("ownsandbox1".to_string(), synced);
        let mut foreign = ProfileState::new("realprofile");
        foreign.serial = 7;
        states.insert("realprofile".to_string(), foreign.clone());
        read_states_as_new(&mut states, &["ownsandbox1", "realprofile", "missing1"]);
        let own = &states["ownsandbox1"];
        assert!(own.folders.is_empty());
        assert_eq!(
            (own.serial, own.lineage.as_str()),
            (0, &*sandbox_lineage("ownsandbox1"))
        );
        assert_eq!(
            states["realprofile"], foreign,
            "not a sandbox's: read as it is"
        );
        assert_eq!(states["missing1"].lineage, sandbox_lineage("missing1"));
    }

    #[test]
    fn sandbox_lineage_is_fixed_per_profile_and_shaped_like_a_lineage() {
        let lineage = sandbox_lineage("1home2sandbox");
        assert_eq!(lineage, sandbox_lineage("1home2sandbox"));
        assert_ne!(lineage, sandbox_lineage("1kids2sandbox"));
        assert_eq!(lineage.len(), 16);
        assert!(lineage.chars().all(|c| c.is_ascii_hexdigit()));
    }
}
