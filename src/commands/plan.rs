//! `ctrld-sync plan`: config -> state (locked) -> desired -> refresh -> plan -> stdout (+ plan file).

use std::collections::BTreeMap;

use super::session::{ApiOverrides, Session};
use super::Context;
use crate::cli::{PlanArgs, Refresh};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::exit::ExitStatus;
use crate::model::DesiredProfile;
use crate::plan::{self, refresh, CurrentProfile, Plan, PlanFile, PlanFileProfile, PlanSettings};
use crate::source;
use crate::state::{self, ProfileState, StateStore};

pub async fn run(context: &Context, args: PlanArgs) -> Result<ExitStatus> {
    let printer = &context.printer;
    let config = Config::load(&context.config_path)?;
    let store = StateStore::open(&context.state_dir)?;
    let states = load_states(&store, &config, &args.profiles)?;
    let cache = state::source_cache(states.values());
    let desired = source::load_desired(&config, &args.profiles, &cache, printer).await?;
    let currents = refresh_all(context, &config, &desired.profiles, &states, args.refresh).await?;
    let settings = settings(&config, true);
    let plan = plan::plan(desired.profiles.iter().zip(&currents), &settings)?;
    for offense in plan.profiles.iter().flat_map(|p| &p.destructive) {
        printer.warn(format!(
            "apply will refuse this unless --allow-destroy: {offense}"
        ));
    }
    printer
        .stdout(&plan::render::render(&plan, args.format))
        .map_err(|err| Error::io("<stdout>", err))?;
    if let Some(path) = &args.out {
        plan_file(&config, &states, &currents, &plan).save(path)?;
        printer.info(format!("plan saved to {}", path.display()));
    }
    Ok(match (args.detailed_exitcode, plan.has_changes()) {
        (true, true) => ExitStatus::Changes,
        _ => ExitStatus::Success,
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

/// Reads each profile as `mode` says; no client (and no token) with `--refresh none`.
pub async fn refresh_all(
    context: &Context,
    config: &Config,
    profiles: &[DesiredProfile],
    states: &BTreeMap<String, ProfileState>,
    mode: Refresh,
) -> Result<Vec<CurrentProfile>> {
    let mut session = match mode {
        Refresh::None => None,
        _ => Some(Session::new(context, config, ApiOverrides::default())?),
    };
    let mut currents = Vec::new();
    for desired in profiles {
        let client = match (&mut session, config.profile(&desired.id)) {
            (Some(session), Some(profile)) => Some(session.client(profile)?),
            _ => None,
        };
        context
            .printer
            .verbose(format!("profile {}: refreshing ({mode:?})", desired.id));
        let state = states.get(&desired.id);
        currents.push(refresh::refresh(mode, client.as_ref(), desired, state).await?);
    }
    if let Some(session) = &session {
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
    Ok(currents)
}

/// What `--out` saves: the plan and what it was computed from. No token.
pub fn plan_file(
    config: &Config,
    states: &BTreeMap<String, ProfileState>,
    currents: &[CurrentProfile],
    plan: &Plan,
) -> PlanFile {
    let profiles = plan
        .profiles
        .iter()
        .zip(currents)
        .map(|(profile, current)| {
            let state = states.get(&profile.profile);
            PlanFileProfile {
                profile: profile.profile.clone(),
                lineage: state.map(|s| s.lineage.clone()),
                serial: state.map_or(0, |s| s.serial),
                remote_fingerprint: current.fingerprint.clone(),
                target: profile.target.clone(),
                plan: profile.clone(),
            }
        })
        .collect();
    PlanFile {
        format_version: plan::PLAN_FILE_VERSION,
        config_hash: config.hash.clone(),
        profiles,
    }
}
