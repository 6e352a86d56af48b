//! One profile's apply: each step starts once the steps it waits for are done (see
//! `plan::order`), up to `parallelism` at once; the state is saved after every completed request.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures_util::stream::{FuturesUnordered, StreamExt};

use super::baseline::baseline;
use super::error::ApplyError;
use super::ledger::{Ledger, SkippedHostname, Tally};
use super::progress::ProfileProgress;
use super::resolve::Places;
use crate::controld::{ApiError, Client, RuleTarget};
use crate::model::{FolderPk, Hostname, RuleAction};
use crate::plan::{
    order, parked_rule_action, scratch_folder_action, ProfilePlan, Step, SCRATCH_PREFIX,
};
use crate::printer::Printer;
use crate::shared::progress::Progress;
use crate::state::{ProfileState, StateStore, StateWriter};
use crate::sync::lock;

/// How one profile's apply ended.
#[derive(Debug)]
pub(crate) struct ProfileOutcome {
    pub profile: String,
    pub error: Option<ApplyError>,
    /// Steps of the plan not completed (0 when it succeeded).
    pub steps_left: usize,
    pub tally: Tally,
    pub skipped: Vec<SkippedHostname>,
    pub elapsed: Duration,
}

impl ProfileOutcome {
    pub(crate) fn ok(&self) -> bool {
        self.error.is_none()
    }
}

/// What the run needs besides the plan.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RunSettings {
    /// Requests of one profile in flight at once.
    pub parallelism: usize,
    /// Re-read every touched folder at the end and fix any difference.
    pub verify: bool,
}

pub(super) struct ProfileRun<'a> {
    pub(super) client: &'a Client,
    pub(super) profile: String,
    /// Saves each new state in the background (coalesced), off the requests' path.
    writer: StateWriter,
    /// Shared with the writer, which snapshots `ledger.state` when it saves.
    ledger: Arc<Mutex<Ledger>>,
    pub(super) places: Places,
    pub(super) progress: ProfileProgress<'a>,
    settings: RunSettings,
    /// The config manages this profile's settings (see [`ProfilePlan::manages_settings`]).
    manages_settings: bool,
}

impl<'a> ProfileRun<'a> {
    pub(super) fn new(
        client: &'a Client,
        store: &StateStore,
        on_disk: Option<ProfileState>,
        plan: &ProfilePlan,
        settings: RunSettings,
        printer: &Printer,
        progress: &'a dyn Progress,
    ) -> Self {
        let start = baseline(on_disk.as_ref(), plan);
        let ledger = Arc::new(Mutex::new(Ledger::new(start, Arc::clone(&plan.target))));
        let shared = Arc::clone(&ledger);
        let snapshot = move || lock(&shared).state.clone();
        Self {
            client,
            profile: plan.profile.clone(),
            writer: StateWriter::new(store, &plan.profile, on_disk, snapshot),
            ledger,
            places: Places::default(),
            progress: ProfileProgress::new(printer, progress, &plan.profile, &plan.steps),
            settings,
            manages_settings: plan.manages_settings,
        }
    }

    /// Runs every step, checks the touched folders, saves; never panics on an API failure.
    pub(super) async fn run(self, steps: &[Step]) -> ProfileOutcome {
        let started = Instant::now();
        let (done, mut error) = self.run_steps(steps).await;
        // Settings writes touch no folder: the folders' check read is for folder writes.
        if error.is_none() && steps.iter().any(|step| !step.is_setting()) {
            error = self.check_folders(self.settings.verify).await.err();
        }
        if error.is_none() && self.settings.verify && steps.iter().any(Step::is_setting) {
            error = self.verify_settings(steps).await.err();
        }
        if error.is_none() && self.manages_settings && !steps.is_empty() {
            let mark = self.settings_mark().await;
            self.ledger().settings_complete(mark);
        }
        let saved = self.save_final().await;
        error = error.or(saved.err());
        self.progress.finish();
        let ledger = self.ledger();
        ProfileOutcome {
            profile: self.profile.clone(),
            steps_left: steps.len() - done,
            error,
            tally: ledger.tally.clone(),
            skipped: ledger.skipped.clone(),
            elapsed: started.elapsed(),
        }
    }

    /// Starts each step as soon as the steps it waits for are done ([`order::prerequisites`]), at
    /// most `parallelism` at once; among ready steps, the one with the longest chain of steps
    /// waiting behind it first ([`order::chain_lengths`]), then plan order. After the first failure
    /// nothing new starts; what is in flight finishes. Returns the steps done and the first failure.
    async fn run_steps(&self, steps: &[Step]) -> (usize, Option<ApplyError>) {
        let waits = order::prerequisites(steps);
        let chains = order::chain_lengths(&waits);
        let mut started = vec![false; steps.len()];
        let mut finished = vec![false; steps.len()];
        let mut running = FuturesUnordered::new();
        let (mut done, mut failure) = (0, None);
        loop {
            while failure.is_none() && running.len() < self.settings.parallelism.max(1) {
                let ready = (0..steps.len())
                    .filter(|&index| !started[index])
                    .filter(|&index| waits[index].iter().all(|&before| finished[before]))
                    .min_by_key(|&index| (std::cmp::Reverse(chains[index]), index));
                let Some(index) = ready else { break };
                started[index] = true;
                running.push(async move { (index, self.execute(&steps[index]).await) });
            }
            let Some((index, result)) = running.next().await else {
                break;
            };
            match result {
                Ok(()) => {
                    self.progress.step_done(&steps[index]);
                    finished[index] = true;
                    done += 1;
                }
                Err(error) => {
                    failure.get_or_insert(error);
                }
            }
        }
        (done, failure)
    }

    async fn execute(&self, step: &Step) -> Result<(), ApplyError> {
        match step {
            Step::CreateFolder { key, name, action } => {
                let pk = self.create_folder(name, action).await?;
                self.record(|ledger| ledger.folder_created(key, pk, name, action))
            }
            Step::UpdateFolder {
                key,
                pk,
                name,
                action,
            } => {
                let result = self.client.update_folder(&self.profile, *pk, name, action);
                result
                    .await
                    .map_err(|err| self.api(format!("folder `{key}`"), err))?;
                self.record(|ledger| ledger.folder_updated(key, name, action))
            }
            Step::AddRules {
                key,
                action,
                hostnames,
            } => {
                let pk = self.pk_of(key)?;
                self.add_rules(key, pk, action, hostnames.clone()).await
            }
            Step::ChangeRules {
                key,
                action,
                hostnames,
            } => self.change_rules(key, action, hostnames).await,
            Step::MoveRules {
                to_key,
                action,
                hostnames,
            } => {
                let pk = self.pk_of(to_key)?;
                self.move_rules(to_key, pk, action, hostnames).await
            }
            Step::DeleteRule { hostname } => {
                let result = self.client.delete_rule(&self.profile, hostname).await;
                result.map_err(|err| self.api(format!("rule {hostname}"), err))?;
                self.record(|ledger| ledger.rule_deleted(hostname))
            }
            Step::CreateScratch => {
                let pk = self
                    .create_folder(SCRATCH_PREFIX, &scratch_folder_action())
                    .await?;
                self.record(|ledger| ledger.scratch_created(pk))
            }
            Step::MoveToScratch { hostnames } => self.move_to_scratch(hostnames).await,
            Step::DeleteScratch => {
                let pk = self.ledger().scratch().ok_or_else(|| self.no_scratch())?;
                self.delete_folder(pk, "the scratch folder").await?;
                self.record(|ledger| ledger.scratch_deleted(pk))
            }
            Step::DeleteFolder { key, pk } => {
                self.delete_folder(*pk, &format!("folder `{key}`")).await?;
                self.record(|ledger| ledger.folder_deleted(key))
            }
            Step::DeleteLeftoverScratch { pk } => {
                self.delete_folder(*pk, "a leftover scratch folder").await?;
                self.record(|ledger| ledger.scratch_deleted(*pk))
            }
            Step::SetFilters { filters } => self.set_filters(filters).await,
            Step::SetService { service, action } => self.set_service(service, action).await,
            Step::SetDefault { action } => self.set_default(action).await,
            Step::SetOption { option, value } => self.set_option(option, value.as_deref()).await,
        }
    }

    pub(super) async fn change_rules(
        &self,
        key: &str,
        action: &RuleAction,
        hostnames: &[Hostname],
    ) -> Result<(), ApplyError> {
        let result = self
            .client
            .update_rules(&self.profile, None, action, hostnames);
        result
            .await
            .map_err(|err| self.api(format!("changing rules in `{key}`"), err))?;
        self.record(|ledger| ledger.rules_changed(key, action, hostnames))
    }

    pub(super) async fn move_rules(
        &self,
        to_key: &str,
        pk: FolderPk,
        action: &RuleAction,
        hostnames: &[Hostname],
    ) -> Result<(), ApplyError> {
        let target = Some(RuleTarget::Folder(pk));
        let result = self
            .client
            .update_rules(&self.profile, target, action, hostnames)
            .await;
        match result {
            Ok(()) => Ok(()),
            // Unknown: a PUT whose `group` is the folder some rules are already in may be refused
            // (40003); then those rules get their action without `group`, the others are moved.
            Err(err) if err.code() == Some(40003) => {
                self.move_rules_split(pk, action, hostnames).await
            }
            Err(err) => Err(err),
        }
        .map_err(|err| self.api(format!("moving rules to `{to_key}`"), err))?;
        self.record(|ledger| ledger.rules_moved(to_key, action, hostnames))
    }

    async fn move_rules_split(
        &self,
        pk: FolderPk,
        action: &RuleAction,
        hostnames: &[Hostname],
    ) -> Result<(), ApiError> {
        let target = Some(RuleTarget::Folder(pk));
        let mut pending = hostnames.to_vec();
        let mut refused = None;
        loop {
            let present = self.client.list_rules(&self.profile, Some(pk)).await?;
            let present: HashSet<&str> = present.iter().map(|rule| &*rule.hostname).collect();
            let (here, elsewhere): (Vec<Hostname>, Vec<Hostname>) = pending
                .iter()
                .cloned()
                .partition(|hostname| present.contains(&**hostname));
            if let Some(err) = refused.take() {
                if here.is_empty() {
                    return Err(err);
                }
            }
            self.client
                .update_rules(&self.profile, None, action, &here)
                .await?;
            match self
                .client
                .update_rules(&self.profile, target, action, &elsewhere)
                .await
            {
                // The retry of a move whose answer was lost finds the rules already moved: the
                // same refusal; read the folder again.
                Err(err) if err.code() == Some(40003) => {
                    refused = Some(err);
                    pending = elsewhere;
                }
                result => return result,
            }
        }
    }

    async fn move_to_scratch(&self, hostnames: &[Hostname]) -> Result<(), ApplyError> {
        let pk = self.ledger().scratch().ok_or_else(|| self.no_scratch())?;
        let target = Some(RuleTarget::Folder(pk));
        // Removal is inert: the PUT that parks the rules also disables them (`status=0` sent
        // explicitly, since PUTs merge), whatever the scratch folder's own state.
        let parked = parked_rule_action();
        let result = self
            .client
            .update_rules(&self.profile, target, &parked, hostnames);
        result
            .await
            .map_err(|err| self.api("moving rules to the scratch folder", err))?;
        self.record(|ledger| ledger.moved_to_scratch(hostnames))
    }

    /// A folder already gone counts as deleted: DELETE is what we wanted.
    async fn delete_folder(&self, pk: FolderPk, what: &str) -> Result<(), ApplyError> {
        let context = || format!("deleting {what} (PK {pk})");
        match self.client.delete_folder(&self.profile, pk).await {
            Ok(()) => Ok(()),
            Err(err) if err.is_not_found() => Ok(()),
            // Unknown: a folder already gone may answer 400/40003 instead of 404; a listing tells.
            Err(err) if err.code() == Some(40003) => {
                let folders = self.client.list_folders(&self.profile).await;
                let folders = folders.map_err(|err| self.api(context(), err))?;
                match folders.iter().any(|folder| folder.pk == pk) {
                    false => Ok(()),
                    true => Err(self.api(context(), err)),
                }
            }
            Err(err) => Err(self.api(context(), err)),
        }
    }

    /// What `GET /profiles` says of this profile's settings now that the writes are done (they
    /// move its `updated` and counts); `None` when it cannot be read: the next run then reads the
    /// settings, which costs a few reads and nothing else.
    async fn settings_mark(&self) -> Option<String> {
        let rows = self.client.list_profiles().await.ok()?;
        let row = rows.iter().find(|row| row.id == self.profile)?;
        Some(row.settings_mark())
    }

    /// Updates the ledger and queues its state to be saved (atomically, in the background).
    pub(super) fn record(&self, change: impl FnOnce(&mut Ledger)) -> Result<(), ApplyError> {
        change(&mut self.ledger());
        self.writer
            .submit()
            .map_err(|source| self.state_error(source))
    }

    /// Settles every folder and hands the ledger's state to the writer as the run's last save: the
    /// steps are done, so nothing else reads it, and a snapshot would only be dropped.
    async fn save_final(&self) -> Result<(), ApplyError> {
        // Writes still under way snapshot the ledger: they finish before its state is taken.
        self.writer
            .flush()
            .await
            .map_err(|source| self.state_error(source))?;
        let state = {
            let mut ledger = self.ledger();
            ledger.settle_all();
            let placeholder = ProfileState::new(ledger.state.profile.clone());
            std::mem::replace(&mut ledger.state, placeholder)
        };
        self.writer
            .finish(state)
            .await
            .map_err(|source| self.state_error(source))
    }

    fn state_error(&self, source: crate::state::StateError) -> ApplyError {
        ApplyError::State {
            profile: self.profile.clone(),
            source,
        }
    }

    pub(super) fn ledger(&self) -> MutexGuard<'_, Ledger> {
        lock(&self.ledger)
    }

    pub(super) fn pk_of(&self, key: &str) -> Result<FolderPk, ApplyError> {
        self.ledger()
            .pk_of(key)
            .ok_or_else(|| ApplyError::UnknownFolder {
                profile: self.profile.clone(),
                key: key.to_string(),
            })
    }

    pub(super) fn api(
        &self,
        what: impl Into<String>,
        err: crate::controld::ApiError,
    ) -> ApplyError {
        ApplyError::api(&self.profile, what, err)
    }

    fn no_scratch(&self) -> ApplyError {
        ApplyError::NoScratch {
            profile: self.profile.clone(),
        }
    }
}
