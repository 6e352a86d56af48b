//! The apply's product: what it did, how long each stage took and what it cost in API calls.
//! Printed on stdout after the plan; with `--report FILE` also written as JSON.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use super::error::ApplyError;
use super::ledger::{SkippedHostname, Tally};
use super::run::ProfileOutcome;
use crate::controld::CallStats;

/// The JSON report's schema version.
pub(crate) const REPORT_FORMAT_VERSION: u32 = 1;

#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct ApplyReport {
    pub format_version: u32,
    pub stages: StageTimes,
    pub calls: CallStats,
    /// The plan's estimate of `calls.total`: equal when nothing failed or was retried (and without
    /// `--verify`).
    pub planned_calls: u64,
    pub folders: FolderCounts,
    pub rules: RuleCounts,
    /// Filters, services, the default rule and options written (absent when none).
    #[serde(skip_serializing_if = "is_zero")]
    pub settings_changed: u64,
    /// API calls (all of them, reads included) per 1,000 rules added, removed, moved or changed.
    pub calls_per_1000_rules_changed: Option<f64>,
    /// Rules added, removed, moved or changed per second of the apply stage.
    pub rules_per_second: f64,
    pub sources: SourceCounts,
    pub profiles: Vec<ProfileReport>,
}

/// Seconds per stage.
#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct StageTimes {
    pub fetch: f64,
    pub refresh: f64,
    pub plan: f64,
    pub apply: f64,
    pub total: f64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct FolderCounts {
    pub created: u64,
    pub updated: u64,
    pub deleted: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct RuleCounts {
    pub added: u64,
    pub removed: u64,
    pub moved: u64,
    pub changed: u64,
}

/// List sources: downloaded, answered 304, or downloaded but with an unchanged sha256.
#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct SourceCounts {
    pub fetched: u64,
    pub not_modified: u64,
    pub unchanged_by_hash: u64,
    pub bytes_downloaded: u64,
    /// Source fetches repeated after a 429, 5xx, timeout or connection failure.
    pub retries: u64,
    /// Folders whose source failed, kept as they were (`[sources] on_error = "keep"`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kept: Vec<crate::model::KeptFolder>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct ProfileReport {
    pub profile: String,
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Plan steps not done (0 when it succeeded).
    pub steps_left: usize,
    pub seconds: f64,
    pub tally: Tally,
    /// Hostnames left alone because an unmanaged rule holds them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<SkippedHostname>,
    /// The profile's page in the Control D dashboard; none for a `--sandbox` profile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dashboard: Option<String>,
}

/// The dashboard page of a profile's folders.
pub(crate) fn dashboard_url(profile: &str) -> String {
    format!("https://controld.com/dashboard/profiles/{profile}/filters")
}

impl ProfileReport {
    pub(crate) fn from_outcome(outcome: &ProfileOutcome) -> Self {
        Self {
            profile: outcome.profile.clone(),
            ok: outcome.ok(),
            error: outcome
                .error
                .as_ref()
                .map(|error| crate::shared::chain::chain(error)),
            steps_left: outcome.steps_left,
            seconds: seconds(outcome.elapsed),
            tally: outcome.tally.clone(),
            skipped: outcome.skipped.clone(),
            dashboard: Some(dashboard_url(&outcome.profile)),
        }
    }
}

impl ApplyReport {
    /// Fills the totals from the profiles' outcomes and the clients' counters.
    pub(crate) fn new(
        stages: StageTimes,
        calls: CallStats,
        planned_calls: u64,
        sources: SourceCounts,
        outcomes: &[ProfileOutcome],
    ) -> Self {
        let mut tally = Tally::default();
        for outcome in outcomes {
            tally.add(&outcome.tally);
        }
        let touched = tally.rules_touched();
        let calls_per_1000 =
            (touched > 0).then(|| round2(calls.total as f64 * 1000.0 / touched as f64));
        let rules_per_second = if stages.apply > 0.0 {
            round2(touched as f64 / stages.apply)
        } else {
            0.0
        };
        Self {
            format_version: REPORT_FORMAT_VERSION,
            stages,
            calls,
            planned_calls,
            folders: FolderCounts {
                created: tally.folders_created,
                updated: tally.folders_updated,
                deleted: tally.folders_deleted,
            },
            rules: RuleCounts {
                added: tally.rules_added,
                removed: tally.rules_removed,
                moved: tally.rules_moved,
                changed: tally.rules_changed,
            },
            settings_changed: tally.settings_changed,
            calls_per_1000_rules_changed: calls_per_1000,
            rules_per_second,
            sources,
            profiles: outcomes.iter().map(ProfileReport::from_outcome).collect(),
        }
    }

    /// Drops the dashboard links: a `--sandbox` profile has no page in Control D.
    pub(crate) fn without_dashboard_links(mut self) -> Self {
        for profile in &mut self.profiles {
            profile.dashboard = None;
        }
        self
    }

    pub(crate) fn write_json(&self, path: &Path) -> Result<(), ApplyError> {
        let text = serde_json::to_string_pretty(self).expect("the report serialises to JSON");
        let mut text = crate::redact::text(&text);
        text.push('\n');
        std::fs::write(path, text).map_err(|source| ApplyError::Report {
            path: path.to_path_buf(),
            source,
        })
    }

    /// The human report for stdout.
    pub(crate) fn render_text(&self) -> String {
        let mut out = String::from("\nApply report\n");
        let rules = &self.rules;
        let folders = &self.folders;
        let _ = writeln!(
            out,
            "  rules: {} added, {} removed, {} moved, {} changed; folders: {} created, {} updated, {} deleted",
            rules.added, rules.removed, rules.moved, rules.changed, folders.created, folders.updated, folders.deleted
        );
        if self.settings_changed > 0 {
            // Only when settings were written: folder-only reports read as before.
            out.pop();
            let _ = writeln!(out, "; settings: {} changed", self.settings_changed);
        }
        let stages = &self.stages;
        let _ = writeln!(
            out,
            "  time: fetch {:.2} s, refresh {:.2} s, plan {:.2} s, apply {:.2} s, total {:.2} s",
            stages.fetch, stages.refresh, stages.plan, stages.apply, stages.total
        );
        let by_method = match self.calls.by_method.is_empty() {
            true => String::new(),
            false => format!(" ({})", join_counts(&self.calls.by_method)),
        };
        let _ = writeln!(
            out,
            "  API calls: {}{by_method}; retries {}, rate limited (429) {}",
            self.calls.total, self.calls.retries, self.calls.rate_limited
        );
        for (endpoint, count) in &self.calls.by_endpoint {
            let _ = writeln!(out, "    {count:>6}  {endpoint}");
        }
        let _ = writeln!(out, "  {}", pacing_line(&self.calls));
        if let Some(per_1000) = self.calls_per_1000_rules_changed {
            let _ = writeln!(
                out,
                "  {per_1000:.2} calls per 1,000 rules changed, {:.2} rules per second",
                self.rules_per_second
            );
        }
        let sources = &self.sources;
        let _ = writeln!(
            out,
            "  sources: {} fetched, {} not modified (304), {} unchanged by hash, {} bytes downloaded, {} retries",
            sources.fetched, sources.not_modified, sources.unchanged_by_hash, sources.bytes_downloaded, sources.retries
        );
        for kept in &sources.kept {
            let _ = writeln!(out, "    {kept}");
        }
        for profile in &self.profiles {
            render_profile(&mut out, profile);
        }
        out
    }
}

fn render_profile(out: &mut String, profile: &ProfileReport) {
    let status = if profile.ok { "ok" } else { "FAILED" };
    let link = profile
        .dashboard
        .as_ref()
        .map(|url| format!("  {url}"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "  profile {}: {status} in {:.2} s{link}",
        profile.profile, profile.seconds
    );
    if let Some(error) = &profile.error {
        let _ = writeln!(
            out,
            "    {error}\n    {} step(s) left; run `ctrld-sync apply` again to finish",
            profile.steps_left
        );
    }
    for skip in &profile.skipped {
        let _ = writeln!(
            out,
            "    skipped {} (folder `{}`): held by {}, not managed by ctrld-sync",
            skip.hostname, skip.key, skip.held_by
        );
    }
}

/// "pacing: 56 requests sent, 3 answered 429, final rate 3.8/s; 2.10 s waiting on pacing, 2.84 s in requests"
fn pacing_line(calls: &CallStats) -> String {
    let rate = calls
        .final_rps
        .map_or_else(|| "-".to_string(), |rate| format!("{rate}/s"));
    format!(
        "pacing: {} requests sent, {} answered 429, final rate {rate}; {:.2} s waiting on pacing, \
         {:.2} s in requests (summed over requests)",
        calls.total, calls.rate_limited, calls.pacing_wait_seconds, calls.request_seconds
    )
}

fn join_counts(counts: &std::collections::BTreeMap<String, u64>) -> String {
    let parts: Vec<String> = counts
        .iter()
        .map(|(method, count)| format!("{method} {count}"))
        .collect();
    parts.join(", ")
}

/// Seconds, to the millisecond.
pub(crate) fn seconds(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1000.0).round() / 1000.0
}

fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_calls_render_without_an_empty_list() {
        let text = ApplyReport::default().render_text();
        assert!(text.contains("  API calls: 0; retries 0"), "{text}");
        assert!(!text.contains("()"), "{text}");
    }
}
