//! Answers the profile-settings endpoints from the store.

use serde_json::{json, Value};

use crate::api_error::{ApiError, NO_SUCH_GROUP};
use crate::catalogue::{category_named, resolve_filter, services_in, CATEGORIES};
use crate::form::Body;
use crate::options::OPTIONS;
use crate::settings_fields::{batch_entries, ActionFields, FilterFields, OptionFields};
use crate::settings_route::SettingsRoute;
use crate::settings_views::{CategoryView, OptionInfoView, ServiceInfoView};
use crate::store::Store;

pub(crate) fn dispatch(
    store: &mut Store,
    route: &SettingsRoute,
    body: Result<Body, ApiError>,
) -> Result<Value, ApiError> {
    let behaviour = store.behaviour();
    let answer = match route {
        SettingsRoute::OptionCatalogue => json!({"options": option_catalogue()}),
        SettingsRoute::ServiceCategories => json!({"categories": categories()}),
        SettingsRoute::CategoryServices { category } => {
            json!({"services": category_services(category)?})
        }
        SettingsRoute::ListFilters { profile } => {
            json!({"filters": store.settings(profile)?.native_filter_rows()})
        }
        SettingsRoute::ListExternalFilters { profile } => {
            json!({"filters": store.settings(profile)?.external_filter_rows()})
        }
        SettingsRoute::SetFilter { profile, filter } => {
            let fields = FilterFields::from_body(&body?)?;
            let written = store.write_settings(profile, behaviour.filter_writes, |settings| {
                settings.set_filter(filter, fields.status, fields.level.as_deref())?;
                Ok(settings.enabled_filters())
            })?;
            written
                .map(|filters| json!({"filters": filters}))
                .unwrap_or_else(empty)
        }
        SettingsRoute::SetFilters { profile } => {
            let entries = batch_entries(&body?)?;
            let written = store.write_settings(profile, behaviour.filter_writes, |settings| {
                for (index, entry) in entries.iter().enumerate() {
                    if resolve_filter(&entry.filter).is_none() {
                        return Err(ApiError::bad_request(format!(
                            "Invalid filter name '{}' at index {index}",
                            entry.filter
                        )));
                    }
                    settings.set_filter(&entry.filter, entry.status, None)?;
                }
                Ok(settings.enabled_filters())
            })?;
            written
                .map(|filters| json!({"filters": filters}))
                .unwrap_or_else(empty)
        }
        SettingsRoute::ListServices { profile } => {
            json!({"services": store.settings(profile)?.service_rows()})
        }
        SettingsRoute::SetService { profile, service } => {
            let fields = ActionFields::from_body(&body?)?;
            store.check_plan(fields.kind)?;
            let written = store.write_settings(profile, behaviour.service_writes, |settings| {
                settings.set_service(service, &fields, behaviour.service_omitted)
            })?;
            // The answer echoes the action, flat, as rule writes do.
            written
                .map(|action| json!({"services": [action]}))
                .unwrap_or_else(empty)
        }
        SettingsRoute::GetDefault { profile } => {
            json!({"default": store.settings(profile)?.default_rule()})
        }
        SettingsRoute::SetDefault { profile } => {
            let fields = ActionFields::from_body(&body?)?;
            store.check_plan(fields.kind)?;
            let (omitted, disable) = (behaviour.default_omitted, behaviour.default_disable);
            let written = store.write_settings(profile, behaviour.default_writes, |settings| {
                settings.set_default(&fields, omitted, disable)
            })?;
            written
                .map(|action| json!({"default": action}))
                .unwrap_or_else(empty)
        }
        SettingsRoute::ListOptions { profile } => {
            json!({"options": store.settings(profile)?.option_values()})
        }
        SettingsRoute::SetOption { profile, option } => {
            let fields = OptionFields::from_body(&body?)?;
            let written = store.write_settings(profile, behaviour.option_writes, |settings| {
                settings.set_option(option, &fields, behaviour.option_values)
            })?;
            written
                .map(|value| json!({"options": [value]}))
                .unwrap_or_else(empty)
        }
    };
    Ok(answer)
}

/// The body of a no-change write under `RepeatWrite::EmptyBody`.
fn empty() -> Value {
    json!([])
}

fn option_catalogue() -> Vec<OptionInfoView> {
    OPTIONS
        .iter()
        .map(|spec| OptionInfoView {
            pk: spec.pk,
            title: spec.title,
            description: spec.description,
            kind: spec.kind(),
            default_value: spec.default_value(),
            info_url: format!(
                "https://docs.controld.com/docs/{}",
                spec.pk.replace('_', "-")
            ),
        })
        .collect()
}

fn categories() -> Vec<CategoryView> {
    CATEGORIES
        .iter()
        .map(|category| CategoryView {
            pk: category.pk,
            name: category.name,
            description: category.description,
            count: services_in(category.pk).count(),
        })
        .collect()
}

/// A bad category is 404 / 40401 (observed), unlike the settings' bad names (400 / 40003).
fn category_services(category: &str) -> Result<Vec<ServiceInfoView>, ApiError> {
    let category = category_named(category)
        .ok_or_else(|| ApiError::new(NO_SUCH_GROUP, "No such category exists."))?;
    Ok(services_in(category.pk)
        .map(|service| ServiceInfoView {
            pk: service.pk,
            name: service.name,
            category: service.category,
            unlock_location: service.unlock_location,
            warning: service.warning,
            locations: (!service.locations.is_empty()).then(|| service.locations.to_vec()),
        })
        .collect())
}
