//! The probe's checks of profile-settings writes (a filter, a service rule, the default rule and an
//! option): what a repeated write that changes nothing answers, and whether a write moves the
//! profile's `updated`. Observed, never relied upon. Each borrows one existing setting, changes it
//! for a few seconds and puts back exactly what it read, also after an error or Ctrl-C.

use std::time::Duration;

use super::{lock, unknown, Probe};
use crate::controld::{ApiError, OptionKind};
use crate::error::{Error, Result};
use crate::model::RuleAction;

/// `updated` may have a resolution of one second: the probe waits this long before a write
/// whose effect on it is measured.
pub(super) const UPDATED_RESOLUTION: Duration = Duration::from_millis(1_100);

/// The option the probe changes: a block TTL only changes how long a blocked answer is cached.
const PROBED_OPTION: &str = "ttl_blck";

/// One setting as read or as written: what the probe changes and puts back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Setting {
    /// A filter without levels (a native family or an external list), on or off.
    Filter {
        pk: String,
        external: bool,
        on: bool,
    },
    Service {
        pk: String,
        action: RuleAction,
    },
    Default(RuleAction),
    /// `None` is unset.
    Option {
        pk: String,
        value: Option<String>,
    },
}

impl Setting {
    /// `filter gambling on`, `service zoom: block disabled`, `option ttl_blck: unset`.
    pub(super) fn describe(&self) -> String {
        let name = |pk: &str| crate::quote::sanitize(pk);
        match self {
            Self::Filter { pk, on, .. } => {
                format!("filter {} {}", name(pk), if *on { "on" } else { "off" })
            }
            Self::Service { pk, action } => format!("service {}: {action}", name(pk)),
            Self::Default(action) => format!("default rule: {action}"),
            Self::Option { pk, value } => {
                let value = value.as_deref().map_or("unset".into(), name);
                format!("option {}: {value}", name(pk))
            }
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Self::Filter { .. } => "filter",
            Self::Service { .. } => "service",
            Self::Default(_) => "default-rule",
            Self::Option { .. } => "option",
        }
    }
}

/// What one kind's writes did.
struct Observed {
    change: std::result::Result<Option<String>, ApiError>,
    moved_on_change: Option<bool>,
    repeat: std::result::Result<Option<String>, ApiError>,
    moved_on_repeat: Option<bool>,
}

impl Probe {
    pub(super) async fn run_settings_checks(&self) -> Result<()> {
        self.check_filter_writes().await?;
        self.check_service_writes().await?;
        self.check_default_writes().await?;
        self.check_option_writes().await
    }

    /// A filter without levels, so on and off say all there is to put back; one that is off is
    /// preferred (switched on for a few seconds, it blocks more, never less).
    async fn check_filter_writes(&self) -> Result<()> {
        let natives = self.client.list_filters(&self.profile).await?;
        let externals = self.client.list_external_filters(&self.profile).await?;
        let candidates = natives
            .iter()
            .map(|filter| (filter, false))
            .chain(externals.iter().map(|filter| (filter, true)))
            .filter(|(filter, _)| filter.levels.is_empty());
        let mut chosen: Option<(String, bool, bool)> = None;
        for (filter, external) in candidates {
            let on = !filter.active.is_empty();
            if chosen.is_none() || !on {
                chosen = Some((filter.pk.clone(), external, on));
            }
            if !on {
                break;
            }
        }
        let Some((pk, external, on)) = chosen else {
            self.skipped("filter", "the profile lists no filter without levels");
            return Ok(());
        };
        let original = Setting::Filter {
            pk: pk.clone(),
            external,
            on,
        };
        let changed = Setting::Filter {
            pk,
            external,
            on: !on,
        };
        self.check_writes(original, changed).await
    }

    /// A service rule cannot be removed, so the probe borrows one the profile has and never makes
    /// one: its status is flipped, then the action put back.
    async fn check_service_writes(&self) -> Result<()> {
        let services = self.client.list_services(&self.profile).await?;
        let Some(service) = services.first() else {
            self.skipped(
                "service",
                "the profile has no service rule, and the probe makes none (one cannot be removed)",
            );
            return Ok(());
        };
        let original = Setting::Service {
            pk: service.pk.clone(),
            action: service.action.clone(),
        };
        let changed = Setting::Service {
            pk: service.pk.clone(),
            action: flipped(&service.action),
        };
        self.check_writes(original, changed).await
    }

    /// The default rule's status is flipped (a disabled default leaves names unfiltered, as the
    /// usual bypass default does), then the rule put back.
    async fn check_default_writes(&self) -> Result<()> {
        let action = self.client.get_default(&self.profile).await?;
        let changed = Setting::Default(flipped(&action));
        self.check_writes(Setting::Default(action), changed).await
    }

    async fn check_option_writes(&self) -> Result<()> {
        let catalogue = self.client.option_catalogue().await?;
        let known = catalogue
            .iter()
            .any(|option| option.pk == PROBED_OPTION && option.kind == OptionKind::Field);
        if !known {
            let why = format!("the option catalogue has no field `{PROBED_OPTION}`");
            self.skipped("option", &why);
            return Ok(());
        }
        let options = self.client.list_options(&self.profile).await?;
        let value = options.get(PROBED_OPTION).cloned();
        let other = match value.as_deref() {
            Some("10") => "20",
            _ => "10",
        };
        let original = Setting::Option {
            pk: PROBED_OPTION.to_string(),
            value,
        };
        let changed = Setting::Option {
            pk: PROBED_OPTION.to_string(),
            value: Some(other.to_string()),
        };
        self.check_writes(original, changed).await
    }

    /// Changes `original` to `changed`, writes the value that is then current again (a write that
    /// changes nothing), puts `original` back, and records both checks.
    async fn check_writes(&self, original: Setting, changed: Setting) -> Result<()> {
        let kind = original.kind();
        // Remembered before the first write: an interrupted run puts it back in `clean_up`.
        lock(&self.settings_changed).push(original.clone());
        let observed = self.observe(&original, &changed).await;
        let restored = self.put_back(&original).await;
        let observed = observed?;
        restored?;
        self.record(repeat_check(kind, &observed));
        self.record(updated_check(kind, &observed));
        Ok(())
    }

    async fn observe(&self, original: &Setting, changed: &Setting) -> Result<Observed> {
        let before = self.updated().await?;
        tokio::time::sleep(UPDATED_RESOLUTION).await;
        let change = self.write(changed).await;
        let after_change = self.updated().await?;
        let current = if change.is_ok() { changed } else { original };
        tokio::time::sleep(UPDATED_RESOLUTION).await;
        let repeat = self.write(current).await;
        let after_repeat = self.updated().await?;
        Ok(Observed {
            change,
            moved_on_change: moved(&before, &after_change),
            repeat,
            moved_on_repeat: moved(&after_change, &after_repeat),
        })
    }

    /// Writes the setting; the answer's echo as text (`None`: no readable echo), to compare.
    async fn write(&self, setting: &Setting) -> std::result::Result<Option<String>, ApiError> {
        let profile = &self.profile;
        let client = &self.client;
        let echo = match setting {
            Setting::Filter { pk, on, .. } => client
                .set_filter(profile, pk, *on)
                .await?
                .map(|echo| format!("{echo:?}")),
            Setting::Service { pk, action } => client
                .set_service(profile, pk, action)
                .await?
                .map(|echo| echo.to_string()),
            Setting::Default(action) => client
                .set_default(profile, action)
                .await?
                .map(|echo| echo.to_string()),
            Setting::Option { pk, value } => client
                .set_option(profile, pk, value.as_deref())
                .await?
                .map(|echo| format!("{echo:?}")),
        };
        Ok(echo)
    }

    /// The setting `like` names, as it is now.
    async fn read(&self, like: &Setting) -> Result<Setting> {
        let profile = &self.profile;
        let current = match like {
            Setting::Filter { pk, external, .. } => {
                let filters = match external {
                    true => self.client.list_external_filters(profile).await?,
                    false => self.client.list_filters(profile).await?,
                };
                let on = filters
                    .iter()
                    .any(|filter| filter.pk == *pk && !filter.active.is_empty());
                Setting::Filter {
                    pk: pk.clone(),
                    external: *external,
                    on,
                }
            }
            Setting::Service { pk, .. } => {
                let services = self.client.list_services(profile).await?;
                let Some(service) = services.into_iter().find(|service| service.pk == *pk) else {
                    return Err(Error::Usage(format!(
                        "profile {profile}: the service rule `{}` is no longer listed",
                        crate::quote::sanitize(pk)
                    )));
                };
                Setting::Service {
                    pk: pk.clone(),
                    action: service.action,
                }
            }
            Setting::Default(_) => Setting::Default(self.client.get_default(profile).await?),
            Setting::Option { pk, .. } => Setting::Option {
                pk: pk.clone(),
                value: self.client.list_options(profile).await?.remove(pk),
            },
        };
        Ok(current)
    }

    /// Puts the setting back unless it already is as it was (a write that changes nothing may be
    /// refused), then reads it again; forgets it once it is back.
    pub(super) async fn put_back(&self, original: &Setting) -> Result<()> {
        if self.read(original).await? != *original {
            self.write(original).await?;
            let now = self.read(original).await?;
            if now != *original {
                return Err(Error::Usage(format!(
                    "profile {}: the probe wrote \"{}\" back but reads \"{}\"",
                    self.profile,
                    original.describe(),
                    now.describe()
                )));
            }
        }
        lock(&self.settings_changed).retain(|setting| setting != original);
        Ok(())
    }

    /// Both checks of a kind the probe could not try, with why.
    fn skipped(&self, kind: &str, why: &str) {
        let observed = format!("not checked: {why}");
        self.record(unknown(
            &repeat_name(kind),
            REPEAT_EXPECTED,
            observed.clone(),
            true,
        ));
        self.record(unknown(
            &updated_name(kind),
            UPDATED_EXPECTED,
            observed,
            true,
        ));
    }
}

const REPEAT_EXPECTED: &str = "the same body, an empty body or 400/40003 (each handled)";
const UPDATED_EXPECTED: &str = "moves on every write, on a change only or never (not relied upon)";

fn repeat_name(kind: &str) -> String {
    format!("a repeated {kind} write that changes nothing")
}

fn updated_name(kind: &str) -> String {
    let article = if kind.starts_with('o') { "an" } else { "a" };
    format!("{article} {kind} write moves the profile's updated")
}

fn repeat_check(kind: &str, observed: &Observed) -> super::Check {
    let (text, ok) = match (&observed.repeat, &observed.change) {
        (Ok(Some(echo)), Ok(Some(first))) if echo == first => {
            ("success, the same body as the change".to_string(), true)
        }
        (Ok(Some(_)), Ok(Some(_))) => ("success, a body unlike the change's".to_string(), true),
        (Ok(Some(_)), _) => ("success, a readable body".to_string(), true),
        (Ok(None), _) => ("success, an empty body".to_string(), true),
        (Err(error), _) if error.code() == Some(40003) => {
            ("rejected: 400 / 40003".to_string(), true)
        }
        (Err(error), _) => (error.to_string(), false),
    };
    let text = match &observed.change {
        Ok(_) => text,
        Err(error) => format!("{text} (the change before it was refused: {error})"),
    };
    unknown(&repeat_name(kind), REPEAT_EXPECTED, text, ok)
}

fn updated_check(kind: &str, observed: &Observed) -> super::Check {
    let word = |moved: Option<bool>| match moved {
        Some(true) => "moved",
        Some(false) => "did not move",
        None => "no `updated` on the profile",
    };
    let change = match &observed.change {
        Ok(_) => format!("a change: {}", word(observed.moved_on_change)),
        Err(_) => "a change: refused".to_string(),
    };
    let repeat = match &observed.repeat {
        Ok(_) => format!(
            "a write changing nothing: {}",
            word(observed.moved_on_repeat)
        ),
        Err(_) => "a write changing nothing: refused".to_string(),
    };
    let ok = observed.moved_on_change.is_some() && observed.moved_on_repeat.is_some();
    unknown(
        &updated_name(kind),
        UPDATED_EXPECTED,
        format!("{change}; {repeat}"),
        ok,
    )
}

fn moved(before: &Option<String>, after: &Option<String>) -> Option<bool> {
    match (before, after) {
        (Some(before), Some(after)) => Some(before != after),
        _ => None,
    }
}

/// The same action with its status turned over.
fn flipped(action: &RuleAction) -> RuleAction {
    RuleAction {
        enabled: !action.enabled,
        ..action.clone()
    }
}
