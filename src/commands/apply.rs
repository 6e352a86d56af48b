//! `ctrld-sync apply [PLANFILE]`: the shared pipeline (or a saved plan, checked not stale), print the
//! plan, execute it, print the report (and write it with `--report`).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use super::pipeline::{self, load_states, Request, Workspace};
use super::progress::Bars;
use super::refresh_mode;
use super::session::{ApiOverrides, Session};
use super::Context;
use crate::apply::{
    self, stale, ApplyError, ApplyReport, ProfileJob, RunSettings, SourceCounts, StageTimes,
};
use crate::cli::ApplyArgs;
use crate::config::Config;
use crate::controld::{Client, ClientConfig};
use crate::error::{Error, Result};
use crate::exit::ExitStatus;
use crate::plan::{render, Plan, PlanError, PlanFile, PlanFileProfile};
use crate::state::ProfileState;

/// A plan ready to execute, with what the report needs from how it was made.
struct Prepared {
    plan: Plan,
    states: BTreeMap<String, ProfileState>,
    /// One per profile of the plan, in the same order.
    clients: Vec<Client>,
    stages: StageTimes,
    sources: SourceCounts,
}

pub(super) async fn run(context: &Context, args: ApplyArgs) -> Result<ExitStatus> {
    let started = Instant::now();
    let workspace = Workspace::open(context)?;
    let config = &workspace.config;
    let store = &workspace.store;
    let overrides = ApiOverrides {
        max_rps: args.max_rps,
        parallelism: args.parallelism,
    };
    let mut session = Session::new(context, config, overrides)?;
    session.remember_pacing_in(context.state_dir.clone());
    let prepared = match &args.plan {
        None => plan_now(context, &workspace, &mut session, &args).await?,
        Some(path) => load_saved(context, &workspace, &mut session, &args, path).await?,
    };
    context
        .printer
        .stdout(&render::render_styled(
            &prepared.plan,
            render::Format::Text,
            super::plan::overlap_detail(context),
            context.printer.stdout_color(),
        ))
        .map_err(|err| Error::io("<stdout>", err))?;

    let applying = Instant::now();
    let run_settings = RunSettings {
        parallelism: args
            .parallelism
            .or(config.api.parallelism)
            .unwrap_or(ClientConfig::DEFAULT_PARALLELISM),
        verify: args.verify,
    };
    let mut states = prepared.states;
    let jobs = prepared
        .plan
        .profiles
        .iter()
        .zip(&prepared.clients)
        .map(|(plan, client)| ProfileJob {
            client,
            plan,
            state: states.remove(&plan.profile),
        })
        .collect();
    let bars = Bars::new(&context.printer);
    let outcomes = apply::apply_profiles(jobs, store, run_settings, &context.printer, &bars).await;
    for failure in session.save_pacing() {
        context.printer.warn(format!(
            "the measured API rate is not kept for the next run: {failure}"
        ));
    }

    let mut stages = prepared.stages;
    stages.apply = apply::seconds(applying.elapsed());
    stages.total = apply::seconds(started.elapsed());
    let kept = prepared.sources.kept.clone();
    let planned_calls = prepared.plan.estimate.total;
    let calls = session.stats();
    let mut report = ApplyReport::new(stages, calls, planned_calls, prepared.sources, &outcomes);
    if context.sandbox {
        report = report.without_dashboard_links();
    }
    context
        .printer
        .stdout(&report.render_text())
        .map_err(|err| Error::io("<stdout>", err))?;
    if let Some(path) = &args.report {
        report.write_json(path)?;
    }
    let failed: Vec<String> = outcomes
        .iter()
        .filter(|outcome| !outcome.ok())
        .map(|outcome| outcome.profile.clone())
        .collect();
    if !failed.is_empty() {
        return Err(ApplyError::ProfilesFailed(failed).into());
    }
    // A folder kept because its source failed: the rest is applied, but CI must show red.
    match kept.is_empty() {
        true => Ok(ExitStatus::Success),
        false => Err(crate::source::SourceError::Kept { kept }.into()),
    }
}

/// The shared pipeline (fetch -> refresh -> plan), then each planned profile's client.
async fn plan_now(
    context: &Context,
    workspace: &Workspace,
    session: &mut Session,
    args: &ApplyArgs,
) -> Result<Prepared> {
    let request = Request {
        profiles: &args.profiles,
        refresh: refresh_mode(args.refresh),
        allow_destroy: args.allow_destroy,
    };
    let planned = pipeline::run_stages(context, workspace, Some(&mut *session), &request).await?;
    let ids: Vec<&str> = planned
        .plan
        .profiles
        .iter()
        .map(|p| p.profile.as_str())
        .collect();
    let clients = pipeline::clients(session, &workspace.config, &ids)?;
    Ok(Prepared {
        plan: planned.plan,
        states: planned.states,
        clients,
        stages: planned.stages,
        sources: planned.sources,
    })
}

/// A saved plan, refused if the config, a state file or the remote folders moved since: before
/// any request for what can be told offline, and always before any write of a file or to Control D.
async fn load_saved(
    context: &Context,
    workspace: &Workspace,
    session: &mut Session,
    args: &ApplyArgs,
    path: &Path,
) -> Result<Prepared> {
    let (config, store) = (&workspace.config, &workspace.store);
    let file = PlanFile::load(path)?;
    let selected: Vec<_> = file
        .profiles
        .iter()
        .filter(|profile| args.profiles.is_empty() || args.profiles.contains(&profile.profile))
        .collect();
    let states = load_states(context, store, config, &[]).await?;
    for planned in &selected {
        let state = states.get(&planned.profile);
        let profile = profile_label(config, &planned.profile);
        let changed = stale::Changed::offline(&file.config_hash, &config.hash, planned, state);
        changed.map_or(Ok(()), |changed| {
            Err(stale::refuse(path, &profile, changed))
        })?;
    }
    refuse_destructive(config, args, &selected, &states)?;
    let checking = Instant::now();
    let ids: Vec<&str> = selected.iter().map(|p| p.profile.as_str()).collect();
    let clients = pipeline::clients(session, config, &ids)?;
    let mut profiles = Vec::new();
    for (planned, client) in selected.into_iter().zip(&clients) {
        let profile = profile_label(config, &planned.profile);
        stale::check_remote(path, &profile, planned, client).await?;
        let mut profile = planned.plan.clone();
        profile.target = planned.target.clone();
        profiles.push(profile);
    }
    let mut plan = Plan::new(profiles);
    plan.kept = file.kept.clone();
    Ok(Prepared {
        plan,
        states,
        clients,
        stages: StageTimes {
            refresh: apply::seconds(checking.elapsed()),
            ..StageTimes::default()
        },
        sources: SourceCounts {
            kept: file.kept.clone(),
            ..SourceCounts::default()
        },
    })
}

/// "Home (abcdefgh1234)" when the config names the profile, else its id.
fn profile_label(config: &Config, id: &str) -> String {
    match config
        .profile(id)
        .and_then(|profile| profile.name.as_deref())
    {
        Some(name) => format!("{name} ({id})"),
        None => id.to_string(),
    }
}

/// A saved plan may hold destructive changes (the plan command shows them); applying them still
/// needs `--allow-destroy`. What is destructive is worked out from the plan's steps and the state
/// files, never from the plan's own list, which an edit could empty.
fn refuse_destructive(
    config: &Config,
    args: &ApplyArgs,
    selected: &[&PlanFileProfile],
    states: &BTreeMap<String, ProfileState>,
) -> Result<()> {
    if args.allow_destroy || config.safety.allow_destroy {
        return Ok(());
    }
    let settings = pipeline::settings(config, false);
    let offenses: Vec<String> = selected
        .iter()
        .flat_map(|planned| {
            let state = states.get(&planned.profile);
            crate::plan::audit::destructive_steps(&planned.plan, state, &settings)
        })
        .collect();
    if offenses.is_empty() {
        Ok(())
    } else {
        Err(PlanError::Destructive { offenses }.into())
    }
}
