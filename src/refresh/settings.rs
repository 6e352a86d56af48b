//! Refresh of a profile's managed settings (filters, services, the default rule, options).
//!
//! A no-change run reads nothing per profile beyond its folder list: one `GET /profiles` per
//! account (token) carries each profile's `updated`, its counts of enabled filters and services and
//! its option values; when those are what the last apply recorded (the state's `mark`) and the
//! config names nothing new, the state's record is current. Otherwise the managed kinds are read,
//! and names the state does not know yet are checked against Control D's own catalogues (read once
//! per run, only when needed).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use futures_util::future::try_join_all;
use tokio::sync::OnceCell;

use super::error::RefreshError;
use super::Mode;
use crate::controld::{ApiError, Client, OptionInfo, OptionKind, RemoteProfile};
use crate::model::{
    is_external, CurrentFilter, CurrentSettings, FilterWant, Named, OptionWant, ProfileSettings,
    SettingsRecord,
};
use crate::plan::SettingsReads;
use crate::sync::lock;

/// The run's shared reads: each account's `GET /profiles` and the two catalogues, each read at
/// most once (a failed read is tried again by the next profile that needs it).
#[derive(Default)]
pub(crate) struct RunReads {
    /// By account (one client per token).
    rows: Mutex<BTreeMap<usize, Arc<AccountRows>>>,
    options: OnceCell<Vec<OptionInfo>>,
    services: OnceCell<BTreeSet<String>>,
}

/// One account's `GET /profiles`, once; `None` when it failed.
type AccountRows = OnceCell<Option<Arc<Vec<RemoteProfile>>>>;

/// A profile's settings as refresh found them.
#[derive(Debug, Default)]
pub(crate) struct SettingsFound {
    pub settings: CurrentSettings,
    pub mark: Option<String>,
    pub reads: SettingsReads,
}

/// Reads (or trusts the state for) the settings `wanted` manages. `client` is `None` with
/// `--refresh none` in `plan`: the state's record is used as it is.
pub(crate) async fn refresh_settings(
    mode: Mode,
    client: Option<&Client>,
    profile: &str,
    wanted: &ProfileSettings,
    record: Option<&SettingsRecord>,
    run: &RunReads,
) -> Result<SettingsFound, RefreshError> {
    if wanted.is_empty() {
        return Ok(SettingsFound::default());
    }
    let Some(client) = client else {
        return Ok(SettingsFound {
            settings: record.map(|r| r.values.clone()).unwrap_or_default(),
            mark: record.and_then(|r| r.mark.clone()),
            reads: SettingsReads::default(),
        });
    };
    let api = |source| RefreshError::Api {
        profile: profile.to_owned(),
        source: Box::new(source),
    };
    let mut reads = SettingsReads::default();
    let row = run.row(client, profile, &mut reads).await;
    let mark = row.as_ref().map(RemoteProfile::settings_mark);
    let known = record.map(|r| &r.managed);
    let trusted = record.filter(|record| {
        mode != Mode::Full
            && mark.is_some()
            && record.mark == mark
            && wanted.keys().is_subset(&record.managed)
    });
    if let Some(record) = trusted {
        return Ok(SettingsFound {
            settings: record.values.clone(),
            mark,
            reads,
        });
    }
    let row_options = row.as_ref().and_then(|row| row.settings.options.clone());
    let settings = read_settings(client, profile, wanted, row_options, &mut reads)
        .await
        .map_err(api)?;
    check_names(client, profile, wanted, &settings, known, run, &mut reads).await?;
    Ok(SettingsFound {
        settings: settings.current.managed_by(wanted),
        mark,
        reads,
    })
}

impl RunReads {
    /// This profile's row of its account's `GET /profiles`; `None` when that read failed or does
    /// not list the profile (its settings are then read, which is never wrong).
    async fn row(
        &self,
        client: &Client,
        profile: &str,
        reads: &mut SettingsReads,
    ) -> Option<RemoteProfile> {
        let cell = Arc::clone(lock(&self.rows).entry(client.account_key()).or_default());
        let mut read_here = false;
        let rows = cell
            .get_or_init(|| async {
                read_here = true;
                client.list_profiles().await.ok().map(Arc::new)
            })
            .await;
        reads.profile_lists += u64::from(read_here);
        rows.as_ref()?.iter().find(|row| row.id == profile).cloned()
    }

    async fn option_catalogue(
        &self,
        client: &Client,
        reads: &mut SettingsReads,
    ) -> Result<&[OptionInfo], ApiError> {
        let mut read_here = false;
        let catalogue = self
            .options
            .get_or_try_init(|| async {
                read_here = true;
                client.option_catalogue().await
            })
            .await?;
        reads.option_catalogue += u64::from(read_here);
        Ok(catalogue)
    }

    /// Every service PK of every category.
    async fn service_catalogue(
        &self,
        client: &Client,
        reads: &mut SettingsReads,
    ) -> Result<&BTreeSet<String>, ApiError> {
        let mut counted = SettingsReads::default();
        let catalogue = self
            .services
            .get_or_try_init(|| async {
                counted.service_categories = 1;
                let categories = client.service_categories().await?;
                counted.category_services = categories.len() as u64;
                let lists = categories
                    .iter()
                    .map(|category| client.category_services(category));
                let lists = try_join_all(lists).await?;
                Ok::<_, ApiError>(lists.into_iter().flatten().collect())
            })
            .await?;
        reads.service_categories += counted.service_categories;
        reads.category_services += counted.category_services;
        Ok(catalogue)
    }
}

/// What was read, with the listings the name checks need.
struct ReadSettings {
    current: CurrentSettings,
    /// Every filter listed (native and, when read, external), with its levels.
    filters: BTreeMap<String, CurrentFilter>,
    /// Every service with a rule in the profile.
    services: BTreeSet<String>,
}

async fn read_settings(
    client: &Client,
    profile: &str,
    wanted: &ProfileSettings,
    row_options: Option<BTreeMap<String, String>>,
    reads: &mut SettingsReads,
) -> Result<ReadSettings, ApiError> {
    let mut current = CurrentSettings::default();
    let mut filters = BTreeMap::new();
    let mut services = BTreeSet::new();
    let wants_external = wanted.filters.iter().any(|f| is_external(&f.name));
    let (native, external, listed_services, default, options) = tokio::try_join!(
        optional(!wanted.filters.is_empty(), client.list_filters(profile)),
        optional(wants_external, client.list_external_filters(profile)),
        optional(!wanted.services.is_empty(), client.list_services(profile)),
        optional(wanted.default.is_some(), client.get_default(profile)),
        // The row's `profile.opt.data` already holds the option values.
        optional(
            !wanted.options.is_empty() && row_options.is_none(),
            client.list_options(profile)
        ),
    )?;
    reads.filters += u64::from(native.is_some());
    reads.external_filters += u64::from(external.is_some());
    reads.services += u64::from(listed_services.is_some());
    reads.default += u64::from(default.is_some());
    reads.options += u64::from(options.is_some());
    for row in native.into_iter().chain(external).flatten() {
        let (pk, filter) = row.into_current();
        filters.insert(pk, filter);
    }
    current.filters = filters.clone();
    for row in listed_services.into_iter().flatten() {
        services.insert(row.pk.clone());
        current.services.insert(row.pk, row.action);
    }
    current.default = default;
    current.options = options.or(row_options).unwrap_or_default();
    Ok(ReadSettings {
        current,
        filters,
        services,
    })
}

async fn optional<T>(
    wanted: bool,
    read: impl std::future::Future<Output = Result<T, ApiError>>,
) -> Result<Option<T>, ApiError> {
    match wanted {
        true => read.await.map(Some),
        false => Ok(None),
    }
}

/// Filter names and levels against the listings read; service and option names the state does
/// not know against the catalogues; option values against the option's kind.
async fn check_names(
    client: &Client,
    profile: &str,
    wanted: &ProfileSettings,
    read: &ReadSettings,
    known: Option<&BTreeSet<String>>,
    run: &RunReads,
    reads: &mut SettingsReads,
) -> Result<(), RefreshError> {
    let api = |source| RefreshError::Api {
        profile: profile.to_owned(),
        source: Box::new(source),
    };
    let unknown = |named_spot: &crate::model::Spot, message: String| RefreshError::Setting {
        file: wanted.file.clone(),
        line: named_spot.line,
        column: named_spot.column,
        message: format!("profile {profile}: {message}"),
    };
    for filter in &wanted.filters {
        check_filter(filter, &read.filters).map_err(|m| unknown(&filter.spot, m))?;
    }
    let is_new = |key: String| known.is_none_or(|known| !known.contains(&key));
    let new_services: Vec<_> = wanted
        .services
        .iter()
        .filter(|s| !read.services.contains(&s.name) && is_new(format!("service:{}", s.name)))
        .collect();
    if !new_services.is_empty() {
        let catalogue = run.service_catalogue(client, reads).await.map_err(api)?;
        for service in new_services {
            if !catalogue.contains(&service.name) {
                let names = catalogue.iter().map(String::as_str);
                let message = not_found("service", &service.name, names);
                return Err(unknown(&service.spot, message));
            }
        }
    }
    let new_options: Vec<_> = wanted
        .options
        .iter()
        .filter(|o| is_new(format!("option:{}", o.name)))
        .collect();
    if !new_options.is_empty() {
        let catalogue = run.option_catalogue(client, reads).await.map_err(api)?;
        for option in new_options {
            check_option(option, catalogue).map_err(|m| unknown(&option.spot, m))?;
        }
    }
    Ok(())
}

fn check_filter(
    filter: &Named<FilterWant>,
    listed: &BTreeMap<String, CurrentFilter>,
) -> Result<(), String> {
    let Some(family) = listed.get(&filter.name) else {
        let names = listed.keys().map(String::as_str);
        return Err(not_found("filter", &filter.name, names));
    };
    match &filter.want {
        FilterWant::Level(level) if level != &filter.name && !family.levels.contains_key(level) => {
            let levels = family.levels.keys().map(String::as_str);
            Err(not_found(
                &format!("level of filter `{}`", filter.name),
                level,
                levels,
            ))
        }
        _ => Ok(()),
    }
}

fn check_option(option: &Named<OptionWant>, catalogue: &[OptionInfo]) -> Result<(), String> {
    let Some(info) = catalogue.iter().find(|info| info.pk == option.name) else {
        let names = catalogue.iter().map(|info| info.pk.as_str());
        return Err(not_found("option", &option.name, names));
    };
    let name = &option.name;
    // Any option can be turned off (`false`); that and what is not refused below is fine.
    match (&info.kind, &option.want) {
        (OptionKind::Toggle, OptionWant::On) => Ok(()),
        (OptionKind::Toggle, OptionWant::Value(_)) => {
            Err(format!("option `{name}` is a toggle: write true or false"))
        }
        (_, OptionWant::On) => Err(format!(
            "option `{name}` takes a value{}, or false to turn it off",
            choices(&info.kind)
        )),
        (OptionKind::Dropdown(allowed), OptionWant::Value(value))
            if !allowed.iter().any(|a| crate::model::same_value(a, value)) =>
        {
            Err(format!(
                "option `{name}` does not take \"{}\"{}",
                crate::quote::sanitize(value),
                choices(&info.kind)
            ))
        }
        _ => Ok(()),
    }
}

fn choices(kind: &OptionKind) -> String {
    match kind {
        OptionKind::Dropdown(allowed) => format!(": one of {}", quoted(allowed.iter())),
        _ => String::new(),
    }
}

/// "unknown service `tiktk`; did you mean `tiktok`?" with up to three closest names, or the
/// first few valid ones when none is close.
fn not_found<'a>(what: &str, name: &str, valid: impl Iterator<Item = &'a str>) -> String {
    let valid: Vec<&str> = valid.collect();
    let mut close: Vec<(f64, &str)> = valid
        .iter()
        .map(|candidate| (strsim::jaro_winkler(name, candidate), *candidate))
        .filter(|(score, _)| *score >= 0.7)
        .collect();
    close.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    let name = crate::quote::sanitize(name);
    match close.as_slice() {
        [] if valid.is_empty() => format!("Control D lists no {what} `{name}` (it lists none)"),
        [] => format!(
            "Control D lists no {what} `{name}`; it lists {}{}",
            quoted(valid.iter().take(8)),
            if valid.len() > 8 { ", ..." } else { "" }
        ),
        close => format!(
            "Control D lists no {what} `{name}`; did you mean {}?",
            quoted(close.iter().take(3).map(|(_, n)| n))
        ),
    }
}

fn quoted<T: AsRef<str>>(names: impl Iterator<Item = T>) -> String {
    names
        .map(|n| format!("`{}`", crate::quote::sanitize(n.as_ref())))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Spot;

    fn named<T>(name: &str, want: T) -> Named<T> {
        Named {
            name: name.into(),
            want,
            spot: Spot::default(),
        }
    }

    #[test]
    fn a_misspelt_name_gets_the_closest_ones() {
        let message = not_found("service", "tiktk", ["tiktok", "twitch", "zoom"].into_iter());
        assert_eq!(
            message,
            "Control D lists no service `tiktk`; did you mean `tiktok`, `twitch`?"
        );
        let far = not_found("option", "qqqq", ["safesearch", "ttl_blck"].into_iter());
        assert!(far.ends_with("it lists `safesearch`, `ttl_blck`"), "{far}");
        assert_eq!(
            not_found("filter", "ads", std::iter::empty()),
            "Control D lists no filter `ads` (it lists none)"
        );
    }

    #[test]
    fn filters_and_levels_are_checked_against_the_listing() {
        let mut listed = BTreeMap::new();
        listed.insert(
            "ads".to_owned(),
            CurrentFilter {
                levels: ["ads_small", "ads_medium", "ads"]
                    .iter()
                    .map(|l| (l.to_string(), "filter".to_string()))
                    .collect(),
                active: vec![],
            },
        );
        assert!(check_filter(&named("ads", FilterWant::On), &listed).is_ok());
        assert!(check_filter(
            &named("ads", FilterWant::Level("ads_small".into())),
            &listed
        )
        .is_ok());
        let level = check_filter(&named("ads", FilterWant::Level("ads_smal".into())), &listed);
        assert!(level.unwrap_err().contains("did you mean `ads_small`"));
        let family = check_filter(&named("adz", FilterWant::Off), &listed);
        assert!(family
            .unwrap_err()
            .contains("no filter `adz`; did you mean `ads`?"));
    }

    #[test]
    fn option_values_follow_the_option_kind() {
        let catalogue = vec![
            OptionInfo {
                pk: "safesearch".into(),
                title: String::new(),
                kind: OptionKind::Toggle,
            },
            OptionInfo {
                pk: "ai_malware".into(),
                title: String::new(),
                kind: OptionKind::Dropdown(vec!["0.9".into(), "0.7".into(), "0.5".into()]),
            },
            OptionInfo {
                pk: "ttl_blck".into(),
                title: String::new(),
                kind: OptionKind::Field,
            },
        ];
        let check = |name: &str, want: OptionWant| check_option(&named(name, want), &catalogue);
        assert!(check("safesearch", OptionWant::On).is_ok());
        assert!(check("safesearch", OptionWant::Value("1".into()))
            .unwrap_err()
            .contains("toggle"));
        assert!(check("ai_malware", OptionWant::Value("0.70".into())).is_ok());
        assert!(check("ai_malware", OptionWant::Value("0.8".into()))
            .unwrap_err()
            .contains("one of `0.9`, `0.7`, `0.5`"));
        assert!(check("ai_malware", OptionWant::On)
            .unwrap_err()
            .contains("takes a value"));
        assert!(check("ttl_blck", OptionWant::Value("10".into())).is_ok());
        assert!(check("ai_malware", OptionWant::Off).is_ok());
        assert!(check("safe_search", OptionWant::On)
            .unwrap_err()
            .contains("did you mean `safesearch`"));
    }
}
