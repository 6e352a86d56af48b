//! `ctrld-sync plan`: the shared pipeline (config -> state -> desired -> refresh -> plan), then the
//! plan on stdout (+ plan file).

use std::collections::BTreeMap;

use super::pipeline::{self, Request, Workspace};
use super::session::{ApiOverrides, Session};
use super::{plan_format, refresh_mode, Context};
use crate::cli::PlanArgs;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::exit::ExitStatus;
use crate::plan::{self, CurrentProfile, Plan, PlanFile, PlanFileProfile};
use crate::printer::Verbosity;
use crate::refresh;
use crate::state::ProfileState;

pub(crate) async fn run(context: &Context, args: PlanArgs) -> Result<ExitStatus> {
    let printer = &context.printer;
    let workspace = Workspace::open(context)?;
    let request = Request {
        profiles: &args.profiles,
        refresh: refresh_mode(args.refresh),
        allow_destroy: true,
    };
    // `--refresh none` plans from the state files alone: no session, no token.
    let mut session = match request.refresh {
        refresh::Mode::None => None,
        _ => Some(Session::new(
            context,
            &workspace.config,
            ApiOverrides::default(),
        )?),
    };
    let mut planned = pipeline::run_stages(context, &workspace, session.as_mut(), &request).await?;
    if request.refresh == refresh::Mode::None {
        planned.plan.mark_state_only();
    }
    let plan = &planned.plan;
    for offense in plan.profiles.iter().flat_map(|p| &p.destructive) {
        printer.warn(format!(
            "apply will refuse this unless --allow-destroy: {offense}"
        ));
    }
    printer
        .stdout(&plan::render::render_styled(
            plan,
            plan_format(args.format),
            overlap_detail(context),
            printer.stdout_color(),
        ))
        .map_err(|err| Error::io("<stdout>", err))?;
    if let Some(path) = &args.out {
        plan_file(&workspace.config, &planned.states, &planned.currents, plan).save(path)?;
        printer.info(format!("plan saved to {}", path.display()));
    }
    // A folder kept because its source failed: the plan is shown, but the run fails.
    if !plan.kept.is_empty() {
        let kept = plan.kept.clone();
        return Err(crate::source::SourceError::Kept { kept }.into());
    }
    Ok(match (args.detailed_exitcode, plan.has_changes()) {
        (true, true) => ExitStatus::Changes,
        _ => ExitStatus::Success,
    })
}

/// `-v` lists every overlapping hostname in the text plan; otherwise one line per pair of folders.
pub(crate) fn overlap_detail(context: &Context) -> plan::render::Detail {
    match context.printer.verbosity() >= Verbosity::Verbose {
        true => plan::render::Detail::Hostnames,
        false => plan::render::Detail::Summary,
    }
}

/// What `--out` saves: the plan and what it was computed from. No token.
pub(crate) fn plan_file(
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
        kept: plan.kept.clone(),
        sha256: String::new(),
    }
}
