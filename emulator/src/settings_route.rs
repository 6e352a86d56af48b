//! The profile-settings endpoints and the route templates they are counted under.

/// A settings endpoint with its path parameters (percent-decoded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SettingsRoute {
    /// `GET /profiles/options`: the option catalogue.
    OptionCatalogue,
    /// `GET /services/categories`: answered without a token (observed).
    ServiceCategories,
    CategoryServices {
        category: String,
    },
    ListFilters {
        profile: String,
    },
    ListExternalFilters {
        profile: String,
    },
    SetFilter {
        profile: String,
        filter: String,
    },
    /// The batch write, `PUT /profiles/{p}/filters` with a JSON `filters` array.
    SetFilters {
        profile: String,
    },
    ListServices {
        profile: String,
    },
    SetService {
        profile: String,
        service: String,
    },
    GetDefault {
        profile: String,
    },
    SetDefault {
        profile: String,
    },
    ListOptions {
        profile: String,
    },
    SetOption {
        profile: String,
        option: String,
    },
}

impl SettingsRoute {
    /// `/services/...` paths (the segments after `services`).
    pub(crate) fn parse_services(
        method: &str,
        rest: &[&str],
        decoded: impl Fn(&str) -> String,
    ) -> Option<SettingsRoute> {
        match (method, rest) {
            ("GET", ["categories"]) => Some(SettingsRoute::ServiceCategories),
            ("GET", ["categories", category]) if !category.is_empty() => {
                Some(SettingsRoute::CategoryServices {
                    category: decoded(category),
                })
            }
            _ => None,
        }
    }

    /// `/profiles/{profile}/...` paths (the segments after the profile).
    pub(crate) fn parse_profile(
        method: &str,
        profile: String,
        rest: &[&str],
        decoded: impl Fn(&str) -> String,
    ) -> Option<SettingsRoute> {
        let route = match (method, rest) {
            ("GET", ["filters"]) => SettingsRoute::ListFilters { profile },
            ("PUT", ["filters"]) => SettingsRoute::SetFilters { profile },
            ("GET", ["filters", "external"]) => SettingsRoute::ListExternalFilters { profile },
            ("PUT", ["filters", "filter", filter]) => SettingsRoute::SetFilter {
                profile,
                filter: decoded(filter),
            },
            ("GET", ["services"]) => SettingsRoute::ListServices { profile },
            ("PUT", ["services", service]) => SettingsRoute::SetService {
                profile,
                service: decoded(service),
            },
            ("GET", ["default"]) => SettingsRoute::GetDefault { profile },
            ("PUT", ["default"]) => SettingsRoute::SetDefault { profile },
            ("GET", ["options"]) => SettingsRoute::ListOptions { profile },
            ("PUT", ["options", option]) => SettingsRoute::SetOption {
                profile,
                option: decoded(option),
            },
            _ => return None,
        };
        Some(route)
    }

    pub(crate) fn template(&self) -> &'static str {
        match self {
            SettingsRoute::OptionCatalogue => "GET /profiles/options",
            SettingsRoute::ServiceCategories => "GET /services/categories",
            SettingsRoute::CategoryServices { .. } => "GET /services/categories/{category}",
            SettingsRoute::ListFilters { .. } => "GET /profiles/{profile}/filters",
            SettingsRoute::ListExternalFilters { .. } => "GET /profiles/{profile}/filters/external",
            SettingsRoute::SetFilter { .. } => "PUT /profiles/{profile}/filters/filter/{filter}",
            SettingsRoute::SetFilters { .. } => "PUT /profiles/{profile}/filters",
            SettingsRoute::ListServices { .. } => "GET /profiles/{profile}/services",
            SettingsRoute::SetService { .. } => "PUT /profiles/{profile}/services/{service}",
            SettingsRoute::GetDefault { .. } => "GET /profiles/{profile}/default",
            SettingsRoute::SetDefault { .. } => "PUT /profiles/{profile}/default",
            SettingsRoute::ListOptions { .. } => "GET /profiles/{profile}/options",
            SettingsRoute::SetOption { .. } => "PUT /profiles/{profile}/options/{option}",
        }
    }

    pub(crate) fn is_write(&self) -> bool {
        matches!(
            self,
            SettingsRoute::SetFilter { .. }
                | SettingsRoute::SetFilters { .. }
                | SettingsRoute::SetService { .. }
                | SettingsRoute::SetDefault { .. }
                | SettingsRoute::SetOption { .. }
        )
    }

    /// The service catalogue's category list answers without a token (observed).
    pub(crate) fn needs_token(&self) -> bool {
        *self != SettingsRoute::ServiceCategories
    }

    /// The batch filter write's JSON nests an array of objects.
    pub(crate) fn has_nested_body(&self) -> bool {
        matches!(self, SettingsRoute::SetFilters { .. })
    }
}
