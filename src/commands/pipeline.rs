//! The stages `plan` and `apply` share, in data-flow order: load the config and lock the state dir,
//! read the states, fetch the sources (desired), refresh (current), plan. Each stage is timed.
//!
//! Refresh's first read of each profile (`GET /groups`) needs nothing but the config, so it is sent
//! before the states and sources load and its round trip overlaps that work; the refresh stage's
//! time is what is left of it afterwards.

use std::collections::BTreeMap;
use std::time::Instant;

use futures_util::future::join_all;

use super::progress::Bars;
use super::session::Session;
use super::Context;
use crate::apply::{seconds, SourceCounts, StageTimes};
use crate::config::{Config, ProfileConfig};
use crate::controld::Client;
use crate::error::{Error, Result};
use crate::model::DesiredProfile;
use crate::plan::{self, CurrentProfile, Plan, PlanSettings};
use crate::refresh::{self, Listing, Target};
use crate::shared::blocking;
use crate::source::{self, FetchReport};
use crate::state::{self, ProfileState, StateStore};

/// The config and the locked state directory every later stage reads.
pub(crate) struct Workspace {
    pub config: Config,
    pub store: StateStore,
}

impl Workspace {
    pub(crate) fn open(context: &Context) -> Result<Self> {
        let config = Config::load(&context.config_path)?;
        let store = StateStore::open(&context.state_dir)?;
        Ok(Self { config, store })
    }
}

/// What to plan: which profiles (empty: all), how much to read, and whether destruction is allowed.
#[derive(Clone, Debug)]
pub(crate) struct Request<'a> {
    pub profiles: &'a [String],
    pub refresh: refresh::Mode,
    pub allow_destroy: bool,
}

/// A plan and what it was made from.
pub(crate) struct Planned {
    pub plan: Plan,
    pub states: BTreeMap<String, ProfileState>,
    /// One per profile of the plan, in the same order.
    pub currents: Vec<CurrentProfile>,
    pub stages: StageTimes,
    pub sources: SourceCounts,
}

/// Runs the stages up to and including the planner. Without a session (`--refresh none` in
/// `plan`) nothing is asked of the API and no token is needed.
pub(crate) async fn run_stages(
    context: &Context,
    workspace: &Workspace,
    mut session: Option<&mut Session>,
    request: &Request<'_>,
) -> Result<Planned> {
    let config = &workspace.config;
    let printer = &context.printer;
    let listings = start_listings(session.as_deref_mut(), config, request);
    let fetching = Instant::now();
    let states = load_states(context, &workspace.store, config, request.profiles).await?;
    printer.verbose(format!(
        "state: {} state files read from {}",
        states.len(),
        workspace.store.dir().display()
    ));
    let cache = state::source_cache(states.values());
    printer.verbose(format!(
        "sources: reading the folders' sources, {} at a time; an unchanged one is not parsed again",
        config.sources.concurrency
    ));
    let bars = Bars::new(printer);
    let desired =
        source::load_desired_reporting(config, request.profiles, &cache, printer, &bars).await?;
    let fetch = seconds(fetching.elapsed());

    let refreshing = Instant::now();
    let currents = refresh_profiles(
        context,
        config,
        session,
        &desired.profiles,
        &states,
        request,
        listings,
    )
    .await?;
    let refresh = seconds(refreshing.elapsed());

    let planning = Instant::now();
    printer.verbose("plan: comparing what the config asks for with what is there");
    let settings = settings(config, request.allow_destroy);
    let profiles = desired.profiles;
    let (plan, currents) = blocking::run(move || {
        let plan = plan::plan(profiles.iter().zip(&currents), &settings);
        (plan, currents)
    })
    .await;
    let mut plan = plan?;
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

/// Sends each selected profile's `GET /groups` now. A profile whose client cannot be made (no token)
/// gets none: the refresh stage reports that, after the config and sources had their say.
fn start_listings(
    session: Option<&mut Session>,
    config: &Config,
    request: &Request<'_>,
) -> BTreeMap<String, Listing> {
    // Every mode with a session reads the folder list (`apply --refresh none` checks the state
    // against it).
    let Some(session) = session else {
        return BTreeMap::new();
    };
    config
        .profiles
        .iter()
        .filter(|profile| is_selected(request.profiles, &profile.id))
        .filter_map(|profile| {
            let client = session.client(profile).ok()?;
            Some((profile.id.clone(), Listing::start(&client, &profile.id)))
        })
        .collect()
}

/// The refresh stage: every profile at once, each with its client when there is a session.
async fn refresh_profiles(
    context: &Context,
    config: &Config,
    mut session: Option<&mut Session>,
    profiles: &[DesiredProfile],
    states: &BTreeMap<String, ProfileState>,
    request: &Request<'_>,
    mut listings: BTreeMap<String, Listing>,
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
            listing: listings.remove(&desired.id),
        })
        .collect();
    for (id, client) in ids.iter().zip(&clients) {
        let stage = refresh_stage(request.refresh, client.is_some());
        context.printer.verbose(format!("profile {id}: {stage}"));
    }
    let currents = refresh::refresh_all(request.refresh, targets).await?;
    if let Some(session) = session {
        log_calls(context, session);
    }
    Ok(currents)
}

/// What the refresh of one profile does, in words (`-v`); `reads`: it has a client.
fn refresh_stage(mode: refresh::Mode, reads: bool) -> &'static str {
    match (mode, reads) {
        (refresh::Mode::Auto, _) => {
            "reading the folder list; folders whose rule count moved, or new to the state file, are read"
        }
        (refresh::Mode::Full, _) => "reading every folder and the root (--refresh full)",
        (refresh::Mode::None, true) => {
            "reading the folder list only to check the state file (--refresh none); if they \
             differ, the profile is read as --refresh auto reads it"
        }
        (refresh::Mode::None, false) => {
            "planning from the state file alone (--refresh none): Control D is not read"
        }
    }
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
pub(crate) fn clients(session: &mut Session, config: &Config, ids: &[&str]) -> Result<Vec<Client>> {
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
pub(crate) fn settings(config: &Config, allow_destroy: bool) -> PlanSettings {
    PlanSettings {
        max_delete_percent: config.safety.max_delete_percent,
        min_rules: config.safety.min_rules,
        allow_destroy: allow_destroy || config.safety.allow_destroy,
        max_rules: plan::MAX_RULES_PER_PROFILE,
    }
}

/// The state of each selected profile that has one (unknown `--profile` ids are reported by the
/// source loader, which names the config file); with a new `--sandbox`, its own states are read as
/// empty ([`super::sandbox::read_states_as_new`]).
pub(crate) async fn load_states(
    context: &Context,
    store: &StateStore,
    config: &Config,
    selected: &[String],
) -> Result<BTreeMap<String, ProfileState>> {
    let ids: Vec<&str> = config
        .profiles
        .iter()
        .map(|profile| profile.id.as_str())
        .filter(|id| is_selected(selected, id))
        .collect();
    // Parsing is most of a no-change run's own work: the files are parsed in parallel.
    let loaded = join_all(ids.iter().map(|id| blocking::run(store.loader(id)))).await;
    let mut states = BTreeMap::new();
    for (id, state) in ids.iter().zip(loaded) {
        if let Some(state) = state? {
            states.insert(id.to_string(), state);
        }
    }
    if context.new_sandbox {
        super::sandbox::read_states_as_new(&mut states, &ids);
    }
    Ok(states)
}

/// `--profile` given: only those ids; not given: every profile. (Unknown ids are reported by the
/// source loader, which names the config file.)
fn is_selected(selected: &[String], id: &str) -> bool {
    selected.is_empty() || selected.iter().any(|wanted| wanted == id)
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
