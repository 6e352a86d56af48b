//! The stages `plan` and `apply` share, in data-flow order: load the config and lock the state dir,
//! read the states, fetch the sources (desired), refresh (current), plan. Each stage is timed.

use std::collections::BTreeMap;
use std::time::Instant;

use super::session::Session;
use super::Context;
use crate::apply::{seconds, SourceCounts, StageTimes};
use crate::config::{Config, ProfileConfig};
use crate::controld::Client;
use crate::error::{Error, Result};
use crate::model::DesiredProfile;
use crate::plan::{self, CurrentProfile, Plan, PlanSettings};
use crate::refresh::{self, Target};
use crate::source::{self, FetchReport};
use crate::state::{self, ProfileState, StateStore};

/// The config and the locked state directory every later stage reads.
pub struct Workspace {
    pub config: Config,
    pub store: StateStore,
}

impl Workspace {
    pub fn open(context: &Context) -> Result<Self> {
        let config = Config::load(&context.config_path)?;
        let store = StateStore::open(&context.state_dir)?;
        Ok(Self { config, store })
    }
}

/// What to plan: which profiles (empty: all), how much to read, and whether destruction is allowed.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    pub profiles: &'a [String],
    pub refresh: refresh::Mode,
    pub allow_destroy: bool,
}

/// A plan and what it was made from.
pub struct Planned {
    pub plan: Plan,
    pub states: BTreeMap<String, ProfileState>,
    /// One per profile of the plan, in the same order.
    pub currents: Vec<CurrentProfile>,
    pub stages: StageTimes,
    pub sources: SourceCounts,
}

/// Runs the stages up to the plan. Without a session (`--refresh none` in `plan`) nothing is asked
/// of the API and no token is needed.
pub async fn plan(
    context: &Context,
    workspace: &Workspace,
    session: Option<&mut Session>,
    request: &Request<'_>,
) -> Result<Planned> {
    let config = &workspace.config;
    let fetching = Instant::now();
    let states = load_states(&workspace.store, config, request.profiles)?;
    let cache = state::source_cache(states.values());
    let desired = source::load_desired(config, request.profiles, &cache, &context.printer).await?;
    let fetch = seconds(fetching.elapsed());

    let refreshing = Instant::now();
    let currents = refresh_profiles(
        context,
        config,
        session,
        &desired.profiles,
        &states,
        request,
    )
    .await?;
    let refresh = seconds(refreshing.elapsed());

    let planning = Instant::now();
    let settings = settings(config, request.allow_destroy);
    let mut plan = plan::plan(desired.profiles.iter().zip(&currents), &settings)?;
    plan.kept = desired.report.kept.clone();
    Ok(Planned {
        plan,
        states,
        currents,
        stages: StageTimes {
            fetch,
            refresh,
            plan: seconds(planning.elapsed()),
            ..StageTimes::default()
        },
        sources: source_counts(&desired.report),
    })
}

/// The refresh stage: every profile at once, each with its client when there is a session.
async fn refresh_profiles(
    context: &Context,
    config: &Config,
    mut session: Option<&mut Session>,
    profiles: &[DesiredProfile],
    states: &BTreeMap<String, ProfileState>,
    request: &Request<'_>,
) -> Result<Vec<CurrentProfile>> {
    let ids: Vec<&str> = profiles.iter().map(|profile| profile.id.as_str()).collect();
    let clients = match session.as_deref_mut() {
        Some(session) => clients(session, config, &ids)?
            .into_iter()
            .map(Some)
            .collect(),
        None => vec![None; profiles.len()],
    };
    let targets: Vec<Target<'_>> = profiles
        .iter()
        .zip(&clients)
        .map(|(desired, client)| Target {
            desired,
            state: states.get(&desired.id),
            client: client.as_ref(),
        })
        .collect();
    for id in &ids {
        context
            .printer
            .verbose(format!("profile {id}: refreshing ({:?})", request.refresh));
    }
    let currents = refresh::refresh_all(request.refresh, &targets).await?;
    if let Some(session) = session {
        log_calls(context, session);
    }
    Ok(currents)
}

fn log_calls(context: &Context, session: &Session) {
    let stats = session.stats();
    context.printer.verbose(format!(
        "refresh: {} API calls ({})",
        stats.total,
        stats
            .by_endpoint
            .iter()
            .map(|(endpoint, n)| format!("{endpoint}: {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
}

/// The client of each profile, in order (profiles sharing a token share one client).
pub fn clients(session: &mut Session, config: &Config, ids: &[&str]) -> Result<Vec<Client>> {
    ids.iter()
        .map(|id| session.client(profile_config(config, id)?))
        .collect()
}

fn profile_config<'a>(config: &'a Config, id: &str) -> Result<&'a ProfileConfig> {
    config.profile(id).ok_or_else(|| {
        Error::Usage(format!(
            "profile {id} is not in the config {}",
            config.path.display()
        ))
    })
}

/// The planner's settings from `[safety]`; `allow_destroy` is the CLI flag or the config's.
pub fn settings(config: &Config, allow_destroy: bool) -> PlanSettings {
    PlanSettings {
        max_delete_percent: config.safety.max_delete_percent,
        min_rules: config.safety.min_rules,
        allow_destroy: allow_destroy || config.safety.allow_destroy,
        max_rules: plan::MAX_RULES_PER_PROFILE,
    }
}

/// The state of each selected profile that has one (unknown `--profile` ids are reported by the
/// source loader, which names the config file).
pub fn load_states(
    store: &StateStore,
    config: &Config,
    selected: &[String],
) -> Result<BTreeMap<String, ProfileState>> {
    let mut states = BTreeMap::new();
    for profile in &config.profiles {
        if !selected.is_empty() && !selected.contains(&profile.id) {
            continue;
        }
        if let Some(state) = store.load(&profile.id)? {
            states.insert(profile.id.clone(), state);
        }
    }
    Ok(states)
}

fn source_counts(report: &FetchReport) -> SourceCounts {
    SourceCounts {
        fetched: report.fetched as u64,
        not_modified: report.not_modified as u64,
        unchanged_by_hash: report.unchanged_by_hash as u64,
        bytes_downloaded: report.bytes_downloaded,
        retries: report.retries,
        kept: report.kept.clone(),
    }
}
