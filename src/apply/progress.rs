//! Progress of one profile: an indicatif bar on a terminal, plain log lines elsewhere.

use std::sync::atomic::{AtomicU64, Ordering};

use indicatif::{MultiProgress, ProgressBar};

use crate::plan::Step;
use crate::printer::Printer;

pub(super) struct Progress {
    printer: Printer,
    /// Every profile's bar drawn together; `None` when no bar is drawn.
    multi: Option<MultiProgress>,
    profile: String,
    bar: ProgressBar,
    rules_total: u64,
    rules_done: AtomicU64,
}

impl Progress {
    /// The bar counts requests; its message counts rules.
    pub(super) fn new(
        printer: &Printer,
        multi: &MultiProgress,
        profile: &str,
        steps: &[Step],
    ) -> Self {
        let rules_total = steps.iter().map(rules_in).sum();
        let mut bar = printer.progress_bar(steps.len() as u64, profile.to_string());
        // Adding a hidden bar to a MultiProgress would make it drawn: only real bars join.
        let multi = printer.shows_progress().then(|| multi.clone());
        if let Some(multi) = &multi {
            bar = multi.add(bar);
        }
        let progress = Self {
            printer: printer.clone(),
            multi,
            profile: profile.to_string(),
            bar,
            rules_total,
            rules_done: AtomicU64::new(0),
        };
        progress.show_rules(0);
        progress
    }

    /// One step finished.
    pub(super) fn step_done(&self, step: &Step) {
        let done = self.rules_done.fetch_add(rules_in(step), Ordering::Relaxed) + rules_in(step);
        self.bar.inc(1);
        self.show_rules(done);
        if !self.printer.shows_progress() {
            self.printer
                .verbose(format!("{}: {}", self.profile, describe(step)));
        }
    }

    /// A line that must not be torn by the bar.
    pub(super) fn note(&self, message: String) {
        self.suspended(|| self.printer.verbose(message));
    }

    pub(super) fn warn(&self, message: String) {
        self.suspended(|| self.printer.warn(message));
    }

    fn suspended(&self, print: impl FnOnce()) {
        match &self.multi {
            Some(multi) => multi.suspend(print),
            None => print(),
        }
    }

    pub(super) fn finish(&self) {
        self.bar.finish_and_clear();
    }

    fn show_rules(&self, done: u64) {
        self.bar
            .set_message(format!("requests, rules {done}/{}", self.rules_total));
    }
}

/// How many hostnames a step carries.
pub(super) fn rules_in(step: &Step) -> u64 {
    match step {
        Step::AddRules { hostnames, .. }
        | Step::ChangeRules { hostnames, .. }
        | Step::MoveRules { hostnames, .. }
        | Step::MoveToScratch { hostnames } => hostnames.len() as u64,
        Step::DeleteRule { .. } => 1,
        _ => 0,
    }
}

/// One log line per step, for `-v` without a terminal. Names, hostnames and actions may come from
/// Control D or a list source: escaped.
pub(super) fn describe(step: &Step) -> String {
    crate::quote::escape(&describe_unescaped(step)).into_owned()
}

fn describe_unescaped(step: &Step) -> String {
    match step {
        Step::CreateFolder { key, name, .. } => format!("created folder `{key}` (\"{name}\")"),
        Step::UpdateFolder { key, name, .. } => format!("updated folder `{key}` (\"{name}\")"),
        Step::AddRules {
            key,
            action,
            hostnames,
        } => format!("added {} {action} rules to `{key}`", hostnames.len()),
        Step::ChangeRules {
            key,
            action,
            hostnames,
        } => format!("changed {} rules in `{key}` to {action}", hostnames.len()),
        Step::MoveRules {
            to_key,
            action,
            hostnames,
        } => format!("moved {} {action} rules to `{to_key}`", hostnames.len()),
        Step::DeleteRule { hostname } => format!("deleted rule {hostname}"),
        Step::CreateScratch => "created the scratch folder".to_string(),
        Step::MoveToScratch { hostnames } => {
            format!(
                "moved {} rules to remove into the scratch folder",
                hostnames.len()
            )
        }
        Step::DeleteScratch => "deleted the scratch folder and the rules in it".to_string(),
        Step::DeleteFolder { key, pk } => format!("deleted folder `{key}` (PK {pk})"),
        Step::DeleteLeftoverScratch { pk } => format!("deleted leftover scratch folder PK {pk}"),
    }
}
