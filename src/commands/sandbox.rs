//! `--sandbox`: the bundled emulator runs in-process on loopback instead of Control D.
//!
//! Its data lives in a git-ignored file in the state dir, so `apply --sandbox` then `plan --sandbox`
//! shows no changes; no token is needed.

use std::path::{Path, PathBuf};

use controld_emulator::{
    ActionDump, Dump, Emulator, EmulatorConfig, FolderDump, ProfileDump, RuleDump,
};

use crate::controld::Token;
use crate::error::{Error, Result};
use crate::model::{FolderAction, RuleAction};
use crate::printer::Printer;
use crate::state::{ProfileState, StateStore, SANDBOX_DATA_FILE};

/// The sandbox emulator accepts this token and nothing else; it guards nothing real.
const SANDBOX_TOKEN: &str = "sandbox";

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
    pub fn start(state_dir: &Path, profile_ids: &[String], printer: &Printer) -> Result<Self> {
        std::fs::create_dir_all(state_dir).map_err(|err| Error::io(state_dir, err))?;
        let data_file = state_dir.join(SANDBOX_DATA_FILE);
        let seed = match data_file.exists() {
            true => None,
            false => Some(seed_from_state(state_dir, profile_ids)?),
        };
        let config = EmulatorConfig {
            token: SANDBOX_TOKEN.to_string(),
            profiles: profile_ids.to_vec(),
            state_file: Some(data_file.clone()),
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
        if let Some(seed) = seed {
            sandbox.emulator.load(seed);
        }
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

/// A new sandbox starts as the state files say the remote is, so a fresh clone's committed state and
/// its sandbox agree (a first `--sandbox apply` changes nothing); with no state it starts empty.
fn seed_from_state(state_dir: &Path, profile_ids: &[String]) -> Result<Dump> {
    let store = StateStore::open_read_only(state_dir)?;
    let mut dump = Dump::default();
    for id in profile_ids {
        let Some(state) = store.load(id)? else {
            continue;
        };
        dump.profiles.insert(id.clone(), profile_dump(&state));
    }
    // `next_pk` stays 0: loading raises it past every PK in the dump.
    Ok(dump)
}

fn profile_dump(state: &ProfileState) -> ProfileDump {
    let mut folders: Vec<FolderDump> = state
        .folders
        .values()
        .map(|folder| FolderDump {
            pk: folder.pk,
            name: folder.name.clone(),
            action: folder_action_dump(&folder.action),
            rules: folder
                .rules
                .iter()
                .map(|(hostname, action)| RuleDump {
                    hostname: hostname.clone(),
                    action: rule_action_dump(action),
                })
                .collect(),
        })
        .collect();
    folders.sort_by_key(|folder| folder.pk);
    ProfileDump {
        name: state.profile.clone(),
        root: Vec::new(),
        folders,
    }
}

fn folder_action_dump(action: &FolderAction) -> ActionDump {
    ActionDump {
        kind: action.kind.map(|kind| kind.code()),
        status: u8::from(action.enabled),
        via: action.via.clone(),
        via_v6: None,
    }
}

fn rule_action_dump(action: &RuleAction) -> ActionDump {
    ActionDump {
        kind: Some(action.kind.code()),
        status: u8::from(action.enabled),
        via: action.via.clone(),
        via_v6: action.via_v6.clone(),
    }
}
