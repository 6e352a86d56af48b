//! The state one emulator's requests share: data, counters, limiter and fault RNG.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{json, Value};

use crate::api_error::ApiError;
use crate::behaviour::Behaviour;
use crate::config::EmulatorConfig;
use crate::dump::Dump;
use crate::error::EmulatorError;
use crate::faults::{Fault, FaultInjector};
use crate::fields::{FolderFields, RuleFields};
use crate::form::Body;
use crate::limiter::Limiter;
use crate::persist;
use crate::route::Route;
use crate::stats::Stats;
use crate::store::{Limits, Store, ROOT};

pub(crate) struct Shared {
    /// The bearer tokens accepted.
    pub tokens: Vec<String>,
    pub behaviour: Behaviour,
    pub latency: Duration,
    pub lists: crate::lists::Lists,
    state_file: Option<PathBuf>,
    store: Mutex<Store>,
    stats: Mutex<Stats>,
    /// API requests being answered now (kept across stats resets).
    in_flight: Mutex<u64>,
    limiter: Option<Limiter>,
    faults: Mutex<FaultInjector>,
    /// Per route template, the fates of its next requests (the random faults decide the rest).
    targeted: Mutex<BTreeMap<&'static str, VecDeque<Fault>>>,
    /// Folders deleted "by hand" just before the next request to a route template arrives.
    /// (requests to let through first, profile, folder PK).
    deleted_first: Mutex<BTreeMap<&'static str, (u32, String, u64)>>,
}

/// One API request being answered; see [`Shared::in_flight`].
pub(crate) struct InFlight<'a>(&'a Shared);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        *lock(&self.0.in_flight) -= 1;
    }
}

/// A poisoned lock only means another request panicked; the data is still usable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    /// Builds the initial data: the state file's content if it exists, plus the configured profiles.
    pub(crate) fn new(config: EmulatorConfig) -> Result<Self, EmulatorError> {
        let limits = Limits {
            max_rules: config.max_rules,
            allow_redirect: config.allow_redirect,
        };
        let mut store = Store::new(limits, &[]);
        store.set_stable_pks(config.stable_pks);
        store.set_folder_pks(config.folder_pks);
        store.set_behaviour(config.behaviour);
        if let Some(path) = &config.state_file {
            if let Some(dump) = persist::load(path)? {
                store.load(dump);
            }
        }
        store.ensure_profiles(&config.profiles);
        let mut tokens = vec![config.token];
        tokens.extend(config.extra_tokens);
        let bucket_tokens: &[String] = match config.rate_limit_per_token {
            true => &tokens,
            false => &[],
        };
        let limiter = config
            .rps
            .map(|rps| Limiter::new(rps, config.burst, bucket_tokens));
        Ok(Self {
            tokens,
            behaviour: config.behaviour,
            latency: config.latency,
            lists: crate::lists::Lists::new(
                config.serve_dir,
                config.lists_unavailable,
                config.lists_retry_after,
            ),
            state_file: config.state_file,
            store: Mutex::new(store),
            stats: Mutex::new(Stats::default()),
            in_flight: Mutex::new(0),
            limiter,
            faults: Mutex::new(FaultInjector::new(config.fail_rate, config.seed)),
            targeted: Mutex::new(BTreeMap::new()),
            deleted_first: Mutex::new(BTreeMap::new()),
        })
    }

    pub(crate) fn stats(&self) -> Stats {
        lock(&self.stats).clone()
    }

    /// Counts one API request as in flight until the guard is dropped.
    pub(crate) fn in_flight(&self) -> InFlight<'_> {
        let mut now = lock(&self.in_flight);
        *now += 1;
        let mut stats = lock(&self.stats);
        stats.peak_in_flight = stats.peak_in_flight.max(*now);
        InFlight(self)
    }

    pub(crate) fn reset_stats(&self) {
        *lock(&self.stats) = Stats::default();
    }

    pub(crate) fn dump(&self) -> Dump {
        lock(&self.store).dump()
    }

    pub(crate) fn load(&self, dump: Dump) {
        let mut store = lock(&self.store);
        store.load(dump);
        self.save(&store);
    }

    /// Adds a folder as the dashboard makes it (`via: -1`); returns its PK.
    pub(crate) fn add_dashboard_folder(
        &self,
        profile: &str,
        name: &str,
        kind: u8,
    ) -> Result<u64, ApiError> {
        let mut store = lock(&self.store);
        let pk = store.create_dashboard_folder(profile, name, kind)?.pk;
        self.save(&store);
        Ok(pk)
    }

    pub(crate) fn set_fail_rate(&self, rate: f64) {
        lock(&self.faults).set_rate(rate);
    }

    pub(crate) fn record(&self, method: &str, route: &Route) {
        lock(&self.stats).record(method, route.template());
    }

    /// Takes a rate-limit token (from the presented API token's bucket when each has its own), or
    /// counts the refusal and says how long to wait.
    pub(crate) fn take_token(&self, presented: Option<&str>) -> Result<(), Duration> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        let taken = limiter.try_take(presented, tokio::time::Instant::now());
        if taken.is_err() {
            lock(&self.stats).rate_limited += 1;
        }
        taken
    }

    /// The next `count` requests matching `template` are carried out and their answers lost.
    pub(crate) fn lose_next_answers(&self, template: &'static str, count: u32) {
        self.target(template, 0, Fault::After, count);
    }

    /// The next `count` requests matching `template` are answered 500 and not carried out.
    pub(crate) fn fail_next_requests(&self, template: &'static str, count: u32) {
        self.target(template, 0, Fault::Before, count);
    }

    /// The next `skip` requests matching `template` are answered normally; the one after is
    /// carried out and its answer lost.
    pub(crate) fn lose_answer_after(&self, template: &'static str, skip: u32) {
        self.target(template, skip, Fault::After, 1);
    }

    /// After `skip` requests matching `template`, the next one finds folder `pk` of `profile`
    /// deleted (with its rules), as if someone deleted it in the dashboard just before it arrived.
    pub(crate) fn delete_folder_before(
        &self,
        template: &'static str,
        skip: u32,
        profile: &str,
        pk: u64,
    ) {
        lock(&self.deleted_first).insert(template, (skip, profile.to_owned(), pk));
    }

    /// The folder to delete before this request, if its turn has come.
    fn folder_to_delete(&self, route: &Route) -> Option<(String, u64)> {
        let mut pending = lock(&self.deleted_first);
        let (skip, _, _) = pending.get_mut(route.template())?;
        if *skip > 0 {
            *skip -= 1;
            return None;
        }
        let (_, profile, pk) = pending.remove(route.template())?;
        Some((profile, pk))
    }

    /// Replaces what was targeted at `template`.
    fn target(&self, template: &'static str, skip: u32, fault: Fault, count: u32) {
        let fates = std::iter::repeat_n(Fault::None, skip as usize)
            .chain(std::iter::repeat_n(fault, count as usize));
        lock(&self.targeted).insert(template, fates.collect());
    }

    pub(crate) fn decide_fault(&self, route: &Route) -> Fault {
        let targeted = lock(&self.targeted)
            .get_mut(route.template())
            .and_then(VecDeque::pop_front);
        let fault = match targeted {
            Some(fault) => fault,
            None => lock(&self.faults).decide(route.is_write()),
        };
        if fault != Fault::None {
            lock(&self.stats).faults += 1;
        }
        fault
    }

    /// Runs one API request against the data; saves the state file after a successful write.
    pub(crate) fn execute(
        &self,
        route: &Route,
        body: Result<Body, ApiError>,
    ) -> Result<Value, ApiError> {
        let mut store = lock(&self.store);
        if let Some((profile, pk)) = self.folder_to_delete(route) {
            // Whatever it answers, the folder is gone afterwards.
            let _ = store.delete_folder(&profile, pk);
        }
        let answer = dispatch(&mut store, route, body)?;
        if route.is_write() {
            self.save(&store);
        }
        Ok(answer)
    }

    fn save(&self, store: &Store) {
        if let Some(path) = &self.state_file {
            if let Err(error) = persist::save(path, &store.dump()) {
                eprintln!("controld-emulator: {error}");
            }
        }
    }
}

fn folder_pk(text: &str) -> Result<u64, ApiError> {
    text.parse().map_err(|_| ApiError::no_such_group())
}

fn dispatch(
    store: &mut Store,
    route: &Route,
    body: Result<Body, ApiError>,
) -> Result<Value, ApiError> {
    let answer = match route {
        Route::ListProfiles => json!({"profiles": store.list_profiles()}),
        Route::ListFolders { profile } => json!({"groups": store.list_folders(profile)?}),
        Route::CreateFolder { profile } => {
            let fields = FolderFields::from_body(&body?)?;
            json!({"groups": [store.create_folder(profile, fields)?]})
        }
        Route::UpdateFolder { profile, group } => {
            let fields = FolderFields::from_body(&body?)?;
            let pk = group
                .parse()
                .map_err(|_| ApiError::folder_does_not_exist())?;
            json!({"groups": [store.update_folder(profile, pk, fields)?]})
        }
        Route::DeleteFolder { profile, group } => {
            store.delete_folder(profile, folder_pk(group)?)?;
            json!([])
        }
        Route::ListRootRules { profile } => json!({"rules": store.list_rules(profile, ROOT)?}),
        // Undocumented but observed: every rule of the profile.
        Route::ListFolderRules { profile, group } if group == "all" => {
            json!({"rules": store.list_all_rules(profile)?})
        }
        Route::ListFolderRules { profile, group } => match folder_pk(group)? {
            // Observed: the root is `GET .../rules`; `rules/0` answers "No such group exists."
            ROOT => return Err(ApiError::no_such_group()),
            pk => json!({"rules": store.list_rules(profile, pk)?}),
        },
        Route::CreateRules { profile } => {
            let fields = RuleFields::from_body(&body?)?;
            json!({"rules": store.create_rules(profile, fields)?})
        }
        Route::UpdateRules { profile } => {
            let fields = RuleFields::from_body(&body?)?;
            json!({"rules": store.update_rules(profile, fields)?})
        }
        Route::DeleteRule { profile, hostname } => {
            store.delete_rule(profile, hostname)?;
            json!([])
        }
        // Answered with an empty 500 before the store is reached; this is the same in words.
        Route::ImportFolders { .. } => return Err(ApiError::new(50000, "Internal Server Error")),
        Route::Settings(route) => return crate::settings_api::dispatch(store, route, body),
        // Observed: bad paths never 404; they look like permission errors.
        Route::Other => return Err(ApiError::no_permission()),
    };
    Ok(answer)
}
