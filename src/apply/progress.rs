//! Progress of one profile: a counter of requests ([`Progress`], drawn by the command layer),
//! plain log lines when nothing is drawn.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::plan::Step;
use crate::printer::Printer;
use crate::shared::progress::{Counter, Progress};

pub(super) struct ProfileProgress<'a> {
    printer: Printer,
    progress: &'a dyn Progress,
    profile: String,
    counter: Box<dyn Counter>,
    rules_total: u64,
    rules_done: AtomicU64,
}

impl<'a> ProfileProgress<'a> {
    /// The counter counts requests; its message counts rules.
    pub(super) fn new(
        printer: &Printer,
        progress: &'a dyn Progress,
        profile: &str,
        steps: &[Step],
    ) -> Self {
        let rules_total = steps.iter().map(rules_in).sum();
        let progress = Self {
            printer: printer.clone(),
            progress,
            profile: profile.to_string(),
            counter: progress.counter(profile, steps.len() as u64),
            rules_total,
            rules_done: AtomicU64::new(0),
        };
        progress.show_rules(0);
        progress
    }

    /// One step finished.
    pub(super) fn step_done(&self, step: &Step) {
        let done = self.rules_done.fetch_add(rules_in(step), Ordering::Relaxed) + rules_in(step);
        self.counter.advance(1);
        self.show_rules(done);
        if !self.progress.drawn() {
            self.printer
                .verbose(format!("{}: {}", self.profile, describe(step)));
        }
    }

    /// A line that must not be torn by the bar.
    pub(super) fn note(&self, message: String) {
        let mut message = Some(message);
        self.progress.suspend(&mut || {
            if let Some(message) = message.take() {
                self.printer.verbose(message);
            }
        });
    }

    pub(super) fn warn(&self, message: String) {
        let mut message = Some(message);
        self.progress.suspend(&mut || {
            if let Some(message) = message.take() {
                self.printer.warn(message);
            }
        });
    }

    pub(super) fn finish(&self) {
        self.counter.finish();
    }

    fn show_rules(&self, done: u64) {
        self.counter
            .describe(format!("requests, rules {done}/{}", self.rules_total));
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
        Step::SetFilters { filters } => {
            let names: Vec<String> = filters
                .iter()
                .map(|f| format!("{} {}", f.name, if f.enabled { "on" } else { "off" }))
                .collect();
            format!("set filters: {}", names.join(", "))
        }
        Step::SetService { service, action } => {
            format!(
                "set service {service}: {}",
                crate::model::shown_action(action)
            )
        }
        Step::SetDefault { action } => {
            format!(
                "set the default rule: {}",
                crate::model::shown_action(action)
            )
        }
        Step::SetOption { option, value } => match value {
            Some(value) => format!("set option {option}: {value}"),
            None => format!("turned option {option} off"),
        },
    }
}
