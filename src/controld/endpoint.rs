//! The API's endpoints: method, route template (the name calls are counted under) and idempotency.

/// One Control D endpoint this client calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Endpoint {
    ListProfiles,
    ListFolders,
    CreateFolder,
    UpdateFolder,
    DeleteFolder,
    ListRootRules,
    ListFolderRules,
    CreateRules,
    UpdateRules,
    DeleteRule,
    ListFilters,
    ListExternalFilters,
    SetFilter,
    SetFilters,
    ListServices,
    ServiceCategories,
    CategoryServices,
    SetService,
    GetDefault,
    SetDefault,
    OptionCatalogue,
    ListOptions,
    SetOption,
}

impl Endpoint {
    pub(super) fn method(self) -> reqwest::Method {
        match self {
            Self::ListProfiles
            | Self::ListFolders
            | Self::ListRootRules
            | Self::ListFolderRules
            | Self::ListFilters
            | Self::ListExternalFilters
            | Self::ListServices
            | Self::ServiceCategories
            | Self::CategoryServices
            | Self::GetDefault
            | Self::OptionCatalogue
            | Self::ListOptions => reqwest::Method::GET,
            Self::CreateFolder | Self::CreateRules => reqwest::Method::POST,
            Self::UpdateFolder
            | Self::UpdateRules
            | Self::SetFilter
            | Self::SetFilters
            | Self::SetService
            | Self::SetDefault
            | Self::SetOption => reqwest::Method::PUT,
            Self::DeleteFolder | Self::DeleteRule => reqwest::Method::DELETE,
        }
    }

    /// `"GET"`, `"POST"`, ...: the first word of the route.
    pub(super) fn method_name(self) -> &'static str {
        self.route()
            .split_once(' ')
            .map_or("", |(method, _)| method)
    }

    /// The route template calls are counted under; the emulator counts with the same names.
    pub(super) fn route(self) -> &'static str {
        match self {
            Self::ListProfiles => "GET /profiles",
            Self::ListFolders => "GET /profiles/{profile}/groups",
            Self::CreateFolder => "POST /profiles/{profile}/groups",
            Self::UpdateFolder => "PUT /profiles/{profile}/groups/{group}",
            Self::DeleteFolder => "DELETE /profiles/{profile}/groups/{group}",
            Self::ListRootRules => "GET /profiles/{profile}/rules",
            Self::ListFolderRules => "GET /profiles/{profile}/rules/{group}",
            Self::CreateRules => "POST /profiles/{profile}/rules",
            Self::UpdateRules => "PUT /profiles/{profile}/rules",
            Self::DeleteRule => "DELETE /profiles/{profile}/rules/{hostname}",
            Self::ListFilters => "GET /profiles/{profile}/filters",
            Self::ListExternalFilters => "GET /profiles/{profile}/filters/external",
            Self::SetFilter => "PUT /profiles/{profile}/filters/filter/{filter}",
            Self::SetFilters => "PUT /profiles/{profile}/filters",
            Self::ListServices => "GET /profiles/{profile}/services",
            Self::ServiceCategories => "GET /services/categories",
            Self::CategoryServices => "GET /services/categories/{category}",
            Self::SetService => "PUT /profiles/{profile}/services/{service}",
            Self::GetDefault => "GET /profiles/{profile}/default",
            Self::SetDefault => "PUT /profiles/{profile}/default",
            Self::OptionCatalogue => "GET /profiles/options",
            Self::ListOptions => "GET /profiles/{profile}/options",
            Self::SetOption => "PUT /profiles/{profile}/options/{option}",
        }
    }

    /// Whether sending the request twice leaves the same result as sending it once. A repeated
    /// POST fails "already exists" (rules) or makes a second folder, so POSTs are not; every
    /// settings write is a PUT that sets a value.
    pub(super) fn is_idempotent(self) -> bool {
        !matches!(self, Self::CreateFolder | Self::CreateRules)
    }
}

impl Endpoint {
    /// The profile-settings writes: whether one that changes nothing is refused is unknown.
    pub(super) fn is_settings_write(self) -> bool {
        matches!(
            self,
            Self::SetFilter
                | Self::SetFilters
                | Self::SetService
                | Self::SetDefault
                | Self::SetOption
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Endpoint; 23] = [
        Endpoint::ListProfiles,
        Endpoint::ListFolders,
        Endpoint::CreateFolder,
        Endpoint::UpdateFolder,
        Endpoint::DeleteFolder,
        Endpoint::ListRootRules,
        Endpoint::ListFolderRules,
        Endpoint::CreateRules,
        Endpoint::UpdateRules,
        Endpoint::DeleteRule,
        Endpoint::ListFilters,
        Endpoint::ListExternalFilters,
        Endpoint::SetFilter,
        Endpoint::SetFilters,
        Endpoint::ListServices,
        Endpoint::ServiceCategories,
        Endpoint::CategoryServices,
        Endpoint::SetService,
        Endpoint::GetDefault,
        Endpoint::SetDefault,
        Endpoint::OptionCatalogue,
        Endpoint::ListOptions,
        Endpoint::SetOption,
    ];

    #[test]
    fn route_starts_with_its_method() {
        for endpoint in ALL {
            let prefix = format!("{} /", endpoint.method());
            assert!(endpoint.route().starts_with(&prefix), "{endpoint:?}");
            assert_eq!(endpoint.method_name(), endpoint.method().as_str());
        }
    }

    #[test]
    fn settings_writes_are_the_puts_outside_folders_and_rules() {
        let settings: Vec<Endpoint> = ALL.into_iter().filter(|e| e.is_settings_write()).collect();
        let puts = ALL.into_iter().filter(|e| {
            e.method() == reqwest::Method::PUT
                && !e.route().contains("/groups")
                && !e.route().contains("/rules")
        });
        assert_eq!(settings, puts.collect::<Vec<_>>());
        assert_eq!(settings.len(), 5);
    }

    #[test]
    fn routes_are_distinct() {
        let routes: std::collections::BTreeSet<&str> = ALL.iter().map(|e| e.route()).collect();
        assert_eq!(routes.len(), ALL.len());
    }

    #[test]
    fn only_posts_are_not_idempotent() {
        assert!(!Endpoint::CreateRules.is_idempotent());
        assert!(!Endpoint::CreateFolder.is_idempotent());
        assert!(Endpoint::UpdateRules.is_idempotent());
        assert!(Endpoint::DeleteFolder.is_idempotent());
        assert!(Endpoint::ListFolders.is_idempotent());
        for endpoint in ALL
            .into_iter()
            .filter(|e| e.method() == reqwest::Method::PUT)
        {
            assert!(endpoint.is_idempotent(), "{endpoint:?}");
        }
    }
}
