//! `--sandbox`: the bundled emulator runs in-process on loopback instead of Control D.
//!
//! Its data lives in a git-ignored file in the state dir, so `apply --sandbox` then `plan --sandbox`
//! shows no changes; no token is needed. A new sandbox starts empty, so the first `apply` is a real
//! first sync. Folder PKs and state lineages are derived from names and profile ids, so that sync
//! writes the same state files every time (the example's committed `state/` stays byte-identical).

use std::path::{Path, PathBuf};

use controld_emulator::{Emulator, EmulatorConfig, ProfileDump};

use crate::controld::Token;
use crate::error::{Error, Result};
use crate::hash::sha256_hex;
use crate::printer::Printer;
use crate::state::{write_atomically, ProfileState, StateStore, SANDBOX_DATA_FILE};

/// The sandbox emulator accepts this token and nothing else; it guards nothing real.
const SANDBOX_TOKEN: &str = "sandbox";

/// What the command will do with the state files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateUse {
    /// `plan`, `init`: read only.
    Read,
    /// `apply`: a new (empty) sandbox starts its profiles' sandbox-made state files over.
    Write,
}

pub struct Sandbox {
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
    pub fn start(
        state_dir: &Path,
        profile_ids: &[String],
        state_use: StateUse,
        printer: &Printer,
    ) -> Result<Self> {
        std::fs::create_dir_all(state_dir).map_err(|err| Error::io(state_dir, err))?;
        let data_file = state_dir.join(SANDBOX_DATA_FILE);
        if !data_file.exists() && state_use == StateUse::Write {
            start_state_over(state_dir, profile_ids)?;
        }
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

    pub fn url(&self) -> String {
        self.emulator.url()
    }

    pub fn token(&self) -> Token {
        Token::new(SANDBOX_TOKEN)
    }
}

/// A new sandbox is empty: state files an earlier sandbox wrote describe folders that no longer
/// exist, so they start over (empty, serial 0) and the apply is a first sync that writes them again.
/// A profile without a state file gets an empty one, so its lineage is the sandbox's too. State files
/// of another lineage (not written by a sandbox) are left as they are.
fn start_state_over(state_dir: &Path, profile_ids: &[String]) -> Result<()> {
    let store = StateStore::open_read_only(state_dir)?;
    for id in profile_ids {
        let lineage = sandbox_lineage(id);
        let made_by_sandbox = match store.load(id)? {
            Some(state) => state.lineage == lineage,
            None => true,
        };
        if made_by_sandbox {
            let empty = ProfileState {
                lineage,
                ..ProfileState::new(id.clone())
            };
            write_atomically(&store.path(id), empty.to_json().as_bytes())?;
        }
    }
    Ok(())
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
    fn sandbox_lineage_is_fixed_per_profile_and_shaped_like_a_lineage() {
        let lineage = sandbox_lineage("1home2sandbox");
        assert_eq!(lineage, sandbox_lineage("1home2sandbox"));
        assert_ne!(lineage, sandbox_lineage("1kids2sandbox"));
        assert_eq!(lineage.len(), 16);
        assert!(lineage.chars().all(|c| c.is_ascii_hexdigit()));
    }
}
