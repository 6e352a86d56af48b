//! `ctrld-sync probe --profile ID`: a live self-check of every API behaviour the tool relies on,
//! and of what is still unknown, run in a folder of its own with hostnames under a reserved name.
//!
//! It removes everything it made, also after an error or Ctrl-C, and a later run removes what an
//! interrupted one left (its folders are found by their name prefix). It never touches a folder
//! or a hostname it did not make.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use reqwest::Method;
use serde::Serialize;
use serde_json::Value;

use super::session::{ApiOverrides, Session};
use super::Context;
use crate::cli::{ProbeArgs, ProbeFormat};
use crate::config::{ApiConfig, ProfileConfig};
use crate::controld::{ApiError, Client, RawAnswer};
use crate::error::{Error, Result};
use crate::exit::ExitStatus;
use crate::model::{ActionKind, FolderAction, FolderPk, RuleAction};
use crate::plan::MAX_RULES_PER_PROFILE;
use crate::sync::lock;

mod settings;

use settings::{Setting, UPDATED_RESOLUTION};

/// Every folder the probe makes is named with this prefix (and a run id after it).
pub(crate) const PROBE_PREFIX: &str = "ctrld-sync probe ";

/// Hostnames live under `.invalid` (RFC 2606): a name no real traffic uses.
const RESERVED_DOMAIN: &str = "ctrld-sync-probe.invalid";

/// Rules the probe may hold at once (998 in the truncation check, plus a few), with a margin.
const HEADROOM: usize = 1_100;

/// How many hostnames the truncation check sends in one POST.
const CUT_HOSTNAMES: usize = 1_000;

/// One line of the report.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Check {
    pub check: String,
    pub expected: String,
    pub observed: String,
    pub ok: bool,
    /// The tool's correctness depends on it (else: either answer is handled).
    pub relied_upon: bool,
    /// What the tool would do wrong if this does not hold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consequence: Option<String>,
}

#[derive(Serialize)]
struct Report<'a> {
    profile: &'a str,
    ok: bool,
    interrupted: bool,
    checks: &'a [Check],
}

pub(crate) async fn run(context: &Context, args: ProbeArgs) -> Result<ExitStatus> {
    let profile = ProfileConfig {
        id: args.profile.clone(),
        name: None,
        token_env: None,
        folders: Vec::new(),
        settings: Default::default(),
    };
    let ids = std::slice::from_ref(&profile.id);
    let overrides = ApiOverrides {
        max_rps: args.max_rps,
        parallelism: None,
    };
    let mut session = Session::with_api(context, &ApiConfig::default(), ids, overrides)?;
    let client = session.client(&profile)?;
    let probe = Probe::new(client, args.profile.clone());
    probe.remove_leftovers(context).await?;
    probe.refuse_near_the_limit().await?;
    let outcome = tokio::select! {
        outcome = probe.run_checks() => outcome.map(|()| false),
        _ = tokio::signal::ctrl_c() => Ok(true),
    };
    let cleaned = probe.clean_up().await;
    let interrupted = matches!(outcome, Ok(true));
    let checks = probe.checks();
    report(context, &args, &checks, interrupted)?;
    cleaned?;
    outcome?;
    if interrupted {
        context
            .printer
            .error("interrupted: the probe stopped early and removed what it had made");
        return Ok(ExitStatus::Error);
    }
    Ok(verdict(context, &checks))
}

struct Probe {
    client: Client,
    profile: String,
    /// Unique per run, in every folder name and hostname.
    run_id: String,
    /// Folders made and not yet deleted; what `clean_up` removes when it cannot list the folders.
    created: Mutex<BTreeSet<FolderPk>>,
    /// Settings as they were before the probe changed them, until they are put back.
    settings_changed: Mutex<Vec<Setting>>,
    checks: Mutex<Vec<Check>>,
}

impl Probe {
    fn new(client: Client, profile: String) -> Self {
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_millis());
        Self {
            client,
            profile,
            run_id: format!("r{millis:x}p{:x}", std::process::id()),
            created: Mutex::new(BTreeSet::new()),
            settings_changed: Mutex::new(Vec::new()),
            checks: Mutex::new(Vec::new()),
        }
    }

    fn checks(&self) -> Vec<Check> {
        lock(&self.checks).clone()
    }

    fn folder_name(&self, label: &str) -> String {
        format!("{PROBE_PREFIX}{} {label}", self.run_id)
    }

    fn hostname(&self, label: &str) -> String {
        format!("{label}.{}.{RESERVED_DOMAIN}", self.run_id)
    }

    fn hostnames(&self, count: usize) -> Vec<String> {
        (0..count)
            .map(|n| self.hostname(&format!("h{n}")))
            .collect()
    }

    fn record(&self, check: Check) {
        lock(&self.checks).push(check);
    }

    /// Deletes folders an interrupted earlier run left behind (found by the name prefix).
    async fn remove_leftovers(&self, context: &Context) -> Result<()> {
        let folders = self.client.list_folders(&self.profile).await?;
        for folder in folders.iter().filter(|f| f.name.starts_with(PROBE_PREFIX)) {
            context.printer.info(format!(
                "removing \"{}\" (PK {}), left by an interrupted probe",
                crate::quote::sanitize(&folder.name),
                folder.pk
            ));
            self.delete_folder_if_present(folder.pk).await?;
        }
        Ok(())
    }

    /// Counts every rule (root and each folder) and refuses when the probe's rules could pass
    /// the limit.
    async fn refuse_near_the_limit(&self) -> Result<()> {
        let mut total = self.client.list_rules(&self.profile, None).await?.len();
        for folder in self.client.list_folders(&self.profile).await? {
            total += self
                .client
                .list_rules(&self.profile, Some(folder.pk))
                .await?
                .len();
        }
        if total + HEADROOM > MAX_RULES_PER_PROFILE {
            return Err(Error::Usage(format!(
                "profile {} holds {total} rules; the probe needs {HEADROOM} free below the limit of \
                 {MAX_RULES_PER_PROFILE}, so it did not start (nothing was changed)",
                self.profile
            )));
        }
        Ok(())
    }

    async fn create_folder(&self, label: &str) -> std::result::Result<FolderPk, ApiError> {
        let name = self.folder_name(label);
        let action = FolderAction::of(ActionKind::Block);
        let folder = self
            .client
            .create_folder(&self.profile, &name, &action)
            .await;
        match folder {
            Ok(folder) => {
                lock(&self.created).insert(folder.pk);
                Ok(folder.pk)
            }
            Err(error) => {
                // The answer may have been lost after the folder was made: find it by name.
                let folders = self.client.list_folders(&self.profile).await?;
                if let Some(found) = folders.iter().find(|f| f.name == name) {
                    lock(&self.created).insert(found.pk);
                }
                Err(error)
            }
        }
    }

    async fn delete_folder_if_present(&self, pk: FolderPk) -> std::result::Result<(), ApiError> {
        match self.client.delete_folder(&self.profile, pk).await {
            Ok(()) => Ok(()),
            Err(error) if error.is_not_found() || error.code() == Some(40003) => {
                let folders = self.client.list_folders(&self.profile).await?;
                match folders.iter().any(|folder| folder.pk == pk) {
                    true => Err(error),
                    false => Ok(()),
                }
            }
            Err(error) => Err(error),
        }
    }

    /// Deletes a folder this run made, forgetting it first: its PK may be handed out again once
    /// it is gone, so only the listing under this run's name may bring it back to `clean_up`.
    async fn delete_own_folder(&self, pk: FolderPk) -> std::result::Result<(), ApiError> {
        lock(&self.created).remove(&pk);
        self.client.delete_folder(&self.profile, pk).await
    }

    /// Removes every folder this run made (their rules go with them): those listed under this
    /// run's name, which includes any made by a request whose answer never came (e.g. on Ctrl-C).
    /// Then checks none is left, and puts back every setting it changed.
    async fn clean_up(&self) -> Result<()> {
        let prefix = self.folder_name("");
        let mut failures = Vec::new();
        let mut not_put_back = Vec::new();
        let changed = lock(&self.settings_changed).clone();
        for setting in changed {
            if let Err(error) = self.put_back(&setting).await {
                not_put_back.push(format!("{} ({error})", setting.describe()));
            }
        }
        let made: BTreeSet<FolderPk> = match self.client.list_folders(&self.profile).await {
            // The listing decides: a PK this run made that is no longer listed under its name is
            // gone, or (the service hands freed PKs out again) someone else's folder now.
            Ok(folders) => folders
                .iter()
                .filter(|folder| folder.name.starts_with(&prefix))
                .map(|folder| folder.pk)
                .collect(),
            Err(error) => {
                failures.push(format!("could not list the folders: {error}"));
                lock(&self.created).clone()
            }
        };
        for pk in made {
            match self.delete_folder_if_present(pk).await {
                Ok(()) => {
                    lock(&self.created).remove(&pk);
                }
                Err(error) => failures.push(format!("PK {pk}: {error}")),
            }
        }
        let mut problems = Vec::new();
        if !failures.is_empty() {
            problems.push(format!(
                "the probe could not remove everything it made ({}); run `ctrld-sync probe \
                 --profile {}` again to remove it, or delete the folders named \"{PROBE_PREFIX}...\" \
                 in the dashboard",
                failures.join("; "),
                self.profile
            ));
        }
        if !not_put_back.is_empty() {
            problems.push(format!(
                "the probe could not put these settings back as they were; set them in the \
                 dashboard: {}",
                not_put_back.join("; ")
            ));
        }
        if problems.is_empty() {
            return Ok(());
        }
        Err(Error::Usage(format!(
            "profile {}: {}",
            self.profile,
            problems.join("; and ")
        )))
    }

    async fn raw(&self, method: Method, rest: &[&str], form: Option<String>) -> Result<RawAnswer> {
        let mut path = vec!["profiles".to_string(), self.profile.clone()];
        path.extend(rest.iter().map(|segment| segment.to_string()));
        Ok(self.client.raw(method, &path, form).await?)
    }

    /// The rules of a folder as listed, raw (to see `order`): hostname -> (do, status, order).
    async fn listed(&self, pk: FolderPk) -> Result<Vec<(String, Value, Value, Value)>> {
        let answer = self
            .raw(Method::GET, &["rules", &pk.to_string()], None)
            .await?;
        let rules = answer.envelope["body"]["rules"].as_array().cloned();
        Ok(rules
            .unwrap_or_default()
            .into_iter()
            .map(|rule| {
                let hostname = rule["PK"].as_str().unwrap_or_default().to_string();
                let action = &rule["action"];
                (
                    hostname,
                    action["do"].clone(),
                    action["status"].clone(),
                    rule["order"].clone(),
                )
            })
            .collect())
    }

    async fn run_checks(&self) -> Result<()> {
        self.run_folder_checks().await?;
        self.run_settings_checks().await
    }

    async fn run_folder_checks(&self) -> Result<()> {
        let cut_folder = self.check_create().await?;
        if let Some(pk) = cut_folder {
            self.check_cut(pk).await?;
            self.check_folder_delete(pk).await?;
            self.check_pk_reuse().await?;
        }
        let Some(main) = self.check_500().await? else {
            return Ok(());
        };
        self.check_duplicate(main).await?;
        let Some(moved_to) = self.check_move_and_merge().await? else {
            return Ok(());
        };
        self.check_same_folder(moved_to).await?;
        self.check_unknown_hostname(main).await?;
        self.check_delete_missing().await?;
        self.check_count(moved_to).await?;
        self.check_updated().await
    }

    /// A folder create answers with the new PK.
    async fn check_create(&self) -> Result<Option<FolderPk>> {
        let created = self.create_folder("cut").await;
        let (observed, pk) = match created {
            Ok(pk) => {
                let folders = self.client.list_folders(&self.profile).await?;
                let listed = folders.iter().any(|f| f.pk == pk);
                let text = format!("PK {pk}, {}", if listed { "listed" } else { "not listed" });
                (text, listed.then_some(pk))
            }
            Err(error) => (error.to_string(), None),
        };
        self.record(relied(
            "folder create answers with the new PK",
            "the answer's groups[0].PK, and the folder listed under it",
            observed,
            pk.is_some(),
            "every folder it creates would be left empty: it takes the new PK from the answer",
        ));
        Ok(pk)
    }

    /// Where the 1,001-variable cut falls: `do`, `status`, `group` and 1,000 hostnames.
    async fn check_cut(&self, pk: FolderPk) -> Result<()> {
        let group = pk.to_string();
        let hostnames = self.hostnames(CUT_HOSTNAMES);
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("do", "0")
            .append_pair("status", "1")
            .append_pair("group", &group);
        for hostname in &hostnames {
            form.append_pair("hostnames[]", hostname);
        }
        let answer = self
            .raw(Method::POST, &["rules"], Some(form.finish()))
            .await?;
        let stored = self.client.list_rules(&self.profile, Some(pk)).await?.len();
        let (observed, ok) = match answer.success() {
            true if stored == CUT_HOSTNAMES => ("all 1,000 stored: no cut".to_string(), true),
            true => (
                format!("{stored} stored: cut after {} form variables", stored + 3),
                stored + 3 >= 1_001,
            ),
            false => (
                format!("refused: {}; {stored} stored", describe(&answer)),
                false,
            ),
        };
        self.record(relied(
            "where the form-variable cut falls (do + status + group + 1,000 hostnames)",
            "HTTP 200 and 998 stored (cut after 1,001 variables), or all 1,000",
            observed,
            ok,
            "it sends up to 500 hostnames (505 form variables) per request, counting on the server \
             parsing at least 1,001; a lower limit would cut or refuse its batches",
        ));
        Ok(())
    }

    /// Folder DELETE removes its rules; a second DELETE of the same folder answers something.
    async fn check_folder_delete(&self, pk: FolderPk) -> Result<()> {
        // Made after `pk`, so `pk` is freed below a folder of ours: the live service hands out the
        // number above the highest in use, so nobody's new folder takes `pk` while this one stands.
        let guard = self.create_folder("guard").await?;
        self.delete_own_folder(pk).await?;
        let after = self.client.list_rules(&self.profile, Some(pk)).await;
        let gone = matches!(&after, Err(error) if error.is_not_found());
        let observed = match &after {
            Ok(rules) => format!("folder still lists {} rules", rules.len()),
            Err(error) if error.is_not_found() => "folder and its rules gone (404)".to_string(),
            Err(error) => error.to_string(),
        };
        self.record(relied(
            "folder DELETE removes its rules",
            "the folder's rules read 404 afterwards, and its hostnames can be added again",
            observed,
            gone,
            "removals through a scratch folder would leave the rules in place",
        ));
        let (observed, ok) = match self.delete_gone_folder(pk).await? {
            Some(Ok(())) => ("200".to_string(), true),
            Some(Err(error)) if error.is_not_found() => ("404 / 40401".to_string(), true),
            Some(Err(error)) if error.code() == Some(40003) => ("400 / 40003".to_string(), true),
            Some(Err(error)) => (error.to_string(), false),
            None => (format!("not sent: another folder holds PK {pk} now"), true),
        };
        self.record(unknown(
            "DELETE of a folder already gone",
            "200, 404/40401 or 400/40003 (each handled)",
            observed,
            ok,
        ));
        self.delete_own_folder(guard).await?;
        Ok(())
    }

    /// DELETE of `pk`, which this run deleted, unless a folder holds that PK again (someone
    /// else's: PKs are handed out again); `None` then, and nothing is sent.
    async fn delete_gone_folder(
        &self,
        pk: FolderPk,
    ) -> std::result::Result<Option<std::result::Result<(), ApiError>>, ApiError> {
        let folders = self.client.list_folders(&self.profile).await?;
        if folders.iter().any(|folder| folder.pk == pk) {
            return Ok(None);
        }
        Ok(Some(self.client.delete_folder(&self.profile, pk).await))
    }

    /// Whether a deleted folder's PK is handed out again: folder X is made and deleted, then Y is
    /// made. Observed, not relied upon: the tool never takes a folder for its own by PK alone.
    async fn check_pk_reuse(&self) -> Result<()> {
        let first = self.create_folder("freed").await?;
        self.delete_own_folder(first).await?;
        let second = self.create_folder("next").await?;
        let observed = match second == first {
            true => format!("yes: PK {first} again"),
            false => format!("no: PK {second} after {first}"),
        };
        self.record(unknown(
            "a deleted folder's PK is handed out again",
            "yes (seen on the live service) or no (each handled)",
            observed,
            true,
        ));
        Ok(())
    }

    /// A 500-hostname POST stores all 500 (the same hostnames as the deleted folder held).
    async fn check_500(&self) -> Result<Option<FolderPk>> {
        let pk = match self.create_folder("main").await {
            Ok(pk) => pk,
            Err(error) => return Err(error.into()),
        };
        let hostnames = self.hostnames(500);
        let block = RuleAction::block();
        let posted = self
            .client
            .create_rules(&self.profile, Some(pk), &block, &hostnames)
            .await;
        let stored = self.client.list_rules(&self.profile, Some(pk)).await?.len();
        let observed = match &posted {
            Ok(()) => format!("HTTP 200, {stored} stored"),
            Err(error) => format!("{error}; {stored} stored"),
        };
        self.record(relied(
            "a 500-hostname POST stores all 500",
            "HTTP 200 and 500 stored",
            observed,
            posted.is_ok() && stored == 500,
            "it pushes rules in batches of 500: rules would be missing while the state says they exist",
        ));
        Ok(posted.is_ok().then_some(pk))
    }

    /// One duplicate hostname fails the whole batch with 40003.
    async fn check_duplicate(&self, pk: FolderPk) -> Result<()> {
        let batch = vec![
            self.hostname("d0"),
            self.hostname("d1"),
            self.hostname("h0"),
        ];
        let block = RuleAction::block();
        let posted = self
            .client
            .create_rules(&self.profile, Some(pk), &block, &batch)
            .await;
        let stored = self.client.list_rules(&self.profile, Some(pk)).await?.len();
        let (observed, ok) = match &posted {
            Ok(()) => (format!("accepted; {} new stored", stored - 500), false),
            Err(error) if error.is_rule_exists() => {
                let text = format!("40003 \"already exists\"; {} new stored", stored - 500);
                (text, stored == 500)
            }
            Err(error) => (error.to_string(), false),
        };
        self.record(relied(
            "a duplicate hostname fails the whole batch",
            "400 / 40003 \"already exists\", nothing stored",
            observed,
            ok,
            "a batch meeting a hostname held elsewhere would leave rules the state does not record",
        ));
        Ok(())
    }

    /// `PUT /rules` of the probe's h0 and h1 with `do=1` and `group` = `pk`.
    async fn put_h0_h1_as_allow_into(&self, pk: FolderPk) -> Result<RawAnswer> {
        let (group, h0, h1) = (pk.to_string(), self.hostname("h0"), self.hostname("h1"));
        let body = form(&[
            ("do", "1"),
            ("group", &group),
            ("hostnames[]", &h0),
            ("hostnames[]", &h1),
        ]);
        self.raw(Method::PUT, &["rules"], Some(body)).await
    }

    /// PUT with `group` moves rules between folders and merges the fields it does not send.
    async fn check_move_and_merge(&self) -> Result<Option<FolderPk>> {
        let disable = form(&[("status", "0"), ("hostnames[]", &self.hostname("h1"))]);
        self.raw(Method::PUT, &["rules"], Some(disable)).await?;
        let target = self.create_folder("moved").await?;
        let (h0, h1) = (self.hostname("h0"), self.hostname("h1"));
        let answer = self.put_h0_h1_as_allow_into(target).await?;
        let listed = self.listed(target).await?;
        let state = |hostname: &str| {
            let found = listed.iter().find(|(h, ..)| h == hostname);
            found.map(|(_, kind, status, _)| (kind.to_string(), status.to_string()))
        };
        let moved = (state(&h0), state(&h1));
        let ok = answer.success()
            && moved.0 == Some(("1".into(), "1".into()))
            && moved.1 == Some(("1".into(), "0".into()));
        let observed = match answer.success() {
            true => format!(
                "h0 {}, h1 {}",
                describe_rule(moved.0.as_ref()),
                describe_rule(moved.1.as_ref())
            ),
            false => describe(&answer),
        };
        self.record(relied(
            "PUT moves rules between folders and merges fields",
            "both moved; h0 do=1 status=1, h1 do=1 status=0 (status kept)",
            observed,
            ok,
            "moving rules between folders (overlap changes, removals through a scratch folder) \
             would fail or reset fields",
        ));
        Ok(answer.success().then_some(target))
    }

    /// PUT with `group` = the folder the rules are already in.
    async fn check_same_folder(&self, pk: FolderPk) -> Result<()> {
        let before = self.listed(pk).await?;
        let answer = self.put_h0_h1_as_allow_into(pk).await?;
        let after = self.listed(pk).await?;
        let orders = |rules: &[(String, Value, Value, Value)]| {
            rules
                .iter()
                .map(|(h, _, _, order)| (h.clone(), order.to_string()))
                .collect::<BTreeSet<_>>()
        };
        let (observed, ok) = match (answer.success(), answer.code()) {
            (true, _) if orders(&before) == orders(&after) => ("accepted, order kept".into(), true),
            (true, _) => ("accepted, order changed".into(), true),
            (false, Some(40003)) => ("refused with 40003".into(), true),
            (false, _) => (describe(&answer), false),
        };
        self.record(unknown(
            "PUT with group = the current folder",
            "accepted or refused with 40003 (each handled)",
            observed,
            ok,
        ));
        Ok(())
    }

    /// PUT of an unknown hostname fails (and never creates it); does it change the others?
    async fn check_unknown_hostname(&self, pk: FolderPk) -> Result<()> {
        let (known, unknown_host) = (self.hostname("h2"), self.hostname("never-made"));
        let body = form(&[
            ("do", "1"),
            ("hostnames[]", &known),
            ("hostnames[]", &unknown_host),
        ]);
        let answer = self.raw(Method::PUT, &["rules"], Some(body)).await?;
        let listed = self.listed(pk).await?;
        let changed = listed
            .iter()
            .any(|(h, kind, ..)| *h == known && kind.as_u64() == Some(1));
        let created = listed.iter().any(|(h, ..)| *h == unknown_host);
        let others = if changed {
            "the other was changed"
        } else {
            "the other was not changed"
        };
        let (observed, ok) = match (answer.success(), answer.code()) {
            (false, Some(40003)) if !created => (format!("40003; {others}"), true),
            _ => (format!("{}; {others}", describe(&answer)), false),
        };
        self.record(relied(
            "PUT of an unknown hostname",
            "400 / 40003, nothing created (the other hostname changed or not: each handled)",
            observed,
            ok,
            "it relies on PUT never creating a rule and failing on a hostname that is gone",
        ));
        Ok(())
    }

    /// DELETE of a hostname that does not exist answers success.
    async fn check_delete_missing(&self) -> Result<()> {
        let hostname = self.hostname("never-made");
        let deleted = self.client.delete_rule(&self.profile, &hostname).await;
        let observed = match &deleted {
            Ok(()) => "success".to_string(),
            Err(error) => error.to_string(),
        };
        self.record(relied(
            "DELETE of a missing hostname",
            "success",
            observed,
            deleted.is_ok(),
            "removing a rule that is already gone would fail the apply",
        ));
        Ok(())
    }

    /// Whether a folder's `count` includes disabled rules (the folder holds one of each).
    async fn check_count(&self, pk: FolderPk) -> Result<()> {
        let folders = self.client.list_folders(&self.profile).await?;
        let count = folders.iter().find(|f| f.pk == pk).map(|f| f.count);
        let (observed, ok) = match count {
            Some(2) => ("2: disabled rules included".to_string(), true),
            Some(1) => ("1: enabled rules only".to_string(), true),
            other => (format!("{other:?}"), false),
        };
        self.record(unknown(
            "a folder's count includes disabled rules",
            "2 (all) or 1 (enabled only) for 1 enabled + 1 disabled (each handled)",
            observed,
            ok,
        ));
        Ok(())
    }

    /// Whether the profile's `updated` moves when one rule changes.
    async fn check_updated(&self) -> Result<()> {
        let before = self.updated().await?;
        tokio::time::sleep(UPDATED_RESOLUTION).await;
        let change = form(&[("status", "0"), ("hostnames[]", &self.hostname("h0"))]);
        self.raw(Method::PUT, &["rules"], Some(change)).await?;
        let after = self.updated().await?;
        let (observed, ok) = match (&before, &after) {
            (Some(before), Some(after)) if before != after => ("moved".to_string(), true),
            (Some(_), Some(_)) => ("did not move".to_string(), true),
            _ => ("no `updated` on the profile".to_string(), false),
        };
        self.record(unknown(
            "the profile's updated moves when a rule changes",
            "moves or not (not relied upon)",
            observed,
            ok,
        ));
        Ok(())
    }

    async fn updated(&self) -> Result<Option<String>> {
        let profiles = self.client.list_profiles().await?;
        let profile = profiles.into_iter().find(|p| p.id == self.profile);
        Ok(profile.and_then(|profile| profile.updated))
    }
}

fn form(pairs: &[(&str, &str)]) -> String {
    let mut form = form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs {
        form.append_pair(key, value);
    }
    form.finish()
}

fn relied(check: &str, expected: &str, observed: String, ok: bool, consequence: &str) -> Check {
    Check {
        check: check.into(),
        expected: expected.into(),
        observed,
        ok,
        relied_upon: true,
        consequence: (!ok).then(|| consequence.to_string()),
    }
}

fn unknown(check: &str, expected: &str, observed: String, ok: bool) -> Check {
    Check {
        check: check.into(),
        expected: expected.into(),
        observed,
        ok,
        relied_upon: false,
        consequence: (!ok).then(|| "an answer the tool does not expect; please report it".into()),
    }
}

/// `HTTP 400, code 40003: message` (first line of the message, escaped).
fn describe(answer: &RawAnswer) -> String {
    let message = answer.envelope["error"]["message"]
        .as_str()
        .unwrap_or_default();
    let message = crate::quote::escape(message.lines().next().unwrap_or_default());
    match answer.code() {
        Some(code) => format!("HTTP {}, code {code}: {message}", answer.status),
        None => format!("HTTP {}", answer.status),
    }
}

fn describe_rule(state: Option<&(String, String)>) -> String {
    match state {
        Some((kind, status)) => format!("do={kind} status={status}"),
        None => "not in the folder".to_string(),
    }
}

fn report(context: &Context, args: &ProbeArgs, checks: &[Check], interrupted: bool) -> Result<()> {
    let text = match args.format {
        ProbeFormat::Json => {
            let report = Report {
                profile: &args.profile,
                ok: !interrupted && checks.iter().all(|c| c.ok || !c.relied_upon),
                interrupted,
                checks,
            };
            let mut json = serde_json::to_string_pretty(&report).unwrap_or_default();
            json.push('\n');
            json
        }
        ProbeFormat::Text => table(checks),
    };
    context.printer.stdout(&text).map_err(|source| Error::Io {
        path: "stdout".into(),
        source,
    })
}

/// The checks as an aligned table: check, expected, observed, ✓ or ✗.
fn table(checks: &[Check]) -> String {
    let header = ["check", "expected", "observed", ""];
    let rows: Vec<[String; 4]> = checks
        .iter()
        .map(|c| {
            let mark = if c.ok { "✓" } else { "✗" };
            [
                c.check.clone(),
                c.expected.clone(),
                c.observed.clone(),
                mark.to_string(),
            ]
        })
        .collect();
    let width = |column: usize| {
        let cells = rows.iter().map(|row| row[column].chars().count());
        cells.chain([header[column].len()]).max().unwrap_or(0)
    };
    let widths = [width(0), width(1), width(2)];
    let line = |cells: [&str; 4]| {
        let mut out = String::new();
        for (column, cell) in cells.iter().take(3).enumerate() {
            let pad = widths[column] - cell.chars().count();
            out.push_str(cell);
            out.push_str(&" ".repeat(pad + 2));
        }
        out.push_str(cells[3]);
        out.trim_end().to_string() + "\n"
    };
    let mut out = line(header);
    for row in &rows {
        out.push_str(&line([&row[0], &row[1], &row[2], &row[3]]));
    }
    out
}

/// Exit 0 when every relied-upon assumption held; else one stderr line per broken one.
fn verdict(context: &Context, checks: &[Check]) -> ExitStatus {
    let broken: Vec<&Check> = checks.iter().filter(|c| !c.ok).collect();
    for check in &broken {
        let kind = if check.relied_upon {
            "assumption broken"
        } else {
            "unexpected answer"
        };
        context.printer.error(format!(
            "{kind}: {} (expected {}, observed {}): {}",
            check.check,
            check.expected,
            check.observed,
            check.consequence.as_deref().unwrap_or_default()
        ));
    }
    match broken.is_empty() {
        true => ExitStatus::Success,
        false => {
            context.printer.error(
                "please report this output (it holds no token) to the ctrld-sync issue tracker",
            );
            ExitStatus::Error
        }
    }
}
