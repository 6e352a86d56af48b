//! The applier: executes a plan's steps in an order that respects their constraints, with bounded
//! concurrency, saving the state after every completed request; then checks the touched folders
//! and reports.
//!
//! Protection never has a gap: a rule present before and desired after is never deleted, only
//! moved, and folders are deleted last. Each step starts once the steps it depends on are done
//! (`plan::order`): removing rules desired nowhere may overlap additions, except near the rule
//! limit, where the plan puts removals first and they finish first.
//!
//! Pacing (see `controld/pacing.rs`): every profile sharing an account token shares its client's
//! adaptive pacing controller; `--max-rps` (default config `api.max_rps`, else none) is a hard
//! ceiling over the whole run, and `--parallelism` (default `api.parallelism`, else 4) bounds each
//! profile's requests in flight.

mod baseline;
mod check;
mod error;
mod ledger;
mod progress;
mod report;
mod resolve;
mod run;
mod settings;
pub(crate) mod stale;

use futures_util::future::join_all;

pub(crate) use error::ApplyError;
pub(crate) use ledger::Tally;
pub(crate) use report::{seconds, ApplyReport, SourceCounts, StageTimes};
pub(crate) use run::{ProfileOutcome, RunSettings};

use crate::controld::Client;
use crate::plan::ProfilePlan;
use crate::printer::Printer;
use crate::shared::progress::Progress;
use crate::state::{ProfileState, StateStore};
use run::ProfileRun;

/// One profile to apply: its client, its plan, and its state as loaded before planning.
pub(crate) struct ProfileJob<'a> {
    pub client: &'a Client,
    pub plan: &'a ProfilePlan,
    pub state: Option<ProfileState>,
}

/// Applies every profile's plan concurrently. A failing profile does not stop the others; each
/// saves what it completed.
pub(crate) async fn apply_profiles(
    jobs: Vec<ProfileJob<'_>>,
    store: &StateStore,
    settings: RunSettings,
    printer: &Printer,
    progress: &dyn Progress,
) -> Vec<ProfileOutcome> {
    let runs = jobs.into_iter().map(|job| async move {
        let run = ProfileRun::new(
            job.client, store, job.state, job.plan, settings, printer, progress,
        );
        let outcome = run.run(&job.plan.steps).await;
        log_summary(printer, progress, &outcome);
        outcome
    });
    join_all(runs).await
}

/// One line per profile on stderr when no bar shows progress.
fn log_summary(printer: &Printer, progress: &dyn Progress, outcome: &ProfileOutcome) {
    if progress.drawn() {
        return;
    }
    let tally = &outcome.tally;
    if outcome.ok() && *tally == Tally::default() {
        printer.info(format!("profile {}: no changes", outcome.profile));
        return;
    }
    let settings = match tally.settings_changed {
        0 => String::new(),
        n => format!("; settings: {n} changed"),
    };
    let line = format!(
        "profile {}: rules: {} added, {} removed, {} moved, {} changed; folders: {} created, {} deleted{settings} ({:.1} s)",
        outcome.profile,
        tally.rules_added,
        tally.rules_removed,
        tally.rules_moved,
        tally.rules_changed,
        tally.folders_created,
        tally.folders_deleted,
        outcome.elapsed.as_secs_f64()
    );
    match &outcome.error {
        None => printer.info(line),
        Some(error) => printer.error(format!(
            "{line}; failed: {}; {} step(s) left",
            crate::shared::chain::chain(error),
            outcome.steps_left
        )),
    }
}
