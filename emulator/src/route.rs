//! Which API endpoint a request addresses, and the route template it is counted under.

use axum::http::Method;

use crate::settings_route::SettingsRoute;

/// An API endpoint with its path parameters (hostnames already percent-decoded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    ListProfiles,
    ListFolders {
        profile: String,
    },
    CreateFolder {
        profile: String,
    },
    UpdateFolder {
        profile: String,
        group: String,
    },
    DeleteFolder {
        profile: String,
        group: String,
    },
    ListRootRules {
        profile: String,
    },
    ListFolderRules {
        profile: String,
        group: String,
    },
    CreateRules {
        profile: String,
    },
    UpdateRules {
        profile: String,
    },
    DeleteRule {
        profile: String,
        hostname: String,
    },
    /// `POST /profiles/{p}/groups/import`: answers 500 with an empty body on the live service.
    ImportFolders {
        profile: String,
    },
    /// Filters, services, the default rule and options.
    Settings(SettingsRoute),
    /// A path the API does not have.
    Other,
}

impl Route {
    /// Matches a method and a raw (still percent-encoded) path.
    pub(crate) fn parse(method: &Method, path: &str) -> Route {
        let segments: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
        let decoded = |raw: &str| {
            percent_encoding::percent_decode_str(raw)
                .decode_utf8_lossy()
                .into_owned()
        };
        match (method.as_str(), segments.as_slice()) {
            ("GET", ["profiles"]) => Route::ListProfiles,
            ("GET", ["profiles", "options"]) => Route::Settings(SettingsRoute::OptionCatalogue),
            (method, ["services", rest @ ..]) => {
                SettingsRoute::parse_services(method, rest, decoded)
                    .map_or(Route::Other, Route::Settings)
            }
            (_, ["profiles", profile, rest @ ..]) if !profile.is_empty() => {
                let profile = decoded(profile);
                profile_route(method, profile, rest, decoded)
            }
            _ => Route::Other,
        }
    }

    /// The template counted in stats; the API client uses the same names.
    pub(crate) fn template(&self) -> &'static str {
        match self {
            Route::ListProfiles => "GET /profiles",
            Route::ListFolders { .. } => "GET /profiles/{profile}/groups",
            Route::CreateFolder { .. } => "POST /profiles/{profile}/groups",
            Route::UpdateFolder { .. } => "PUT /profiles/{profile}/groups/{group}",
            Route::DeleteFolder { .. } => "DELETE /profiles/{profile}/groups/{group}",
            Route::ListRootRules { .. } => "GET /profiles/{profile}/rules",
            Route::ListFolderRules { .. } => "GET /profiles/{profile}/rules/{group}",
            Route::CreateRules { .. } => "POST /profiles/{profile}/rules",
            Route::UpdateRules { .. } => "PUT /profiles/{profile}/rules",
            Route::DeleteRule { .. } => "DELETE /profiles/{profile}/rules/{hostname}",
            Route::ImportFolders { .. } => "POST /profiles/{profile}/groups/import",
            Route::Settings(route) => route.template(),
            Route::Other => "OTHER",
        }
    }

    /// Writes can lose their response after the change (fault injection).
    pub(crate) fn is_write(&self) -> bool {
        match self {
            Route::Settings(route) => route.is_write(),
            _ => matches!(
                self,
                Route::CreateFolder { .. }
                    | Route::UpdateFolder { .. }
                    | Route::DeleteFolder { .. }
                    | Route::CreateRules { .. }
                    | Route::UpdateRules { .. }
                    | Route::DeleteRule { .. }
            ),
        }
    }

    /// Whether the body is parsed keeping nested JSON (see `Body::parse_nested`).
    pub(crate) fn has_nested_body(&self) -> bool {
        matches!(self, Route::Settings(route) if route.has_nested_body())
    }

    /// Every endpoint but the public service catalogue needs the bearer token.
    pub(crate) fn needs_token(&self) -> bool {
        match self {
            Route::Settings(route) => route.needs_token(),
            _ => true,
        }
    }
}

fn profile_route(
    method: &Method,
    profile: String,
    rest: &[&str],
    decoded: impl Fn(&str) -> String,
) -> Route {
    match (method.as_str(), rest) {
        ("GET", ["groups"]) => Route::ListFolders { profile },
        ("POST", ["groups"]) => Route::CreateFolder { profile },
        ("POST", ["groups", "import"]) => Route::ImportFolders { profile },
        ("PUT", ["groups", group]) => Route::UpdateFolder {
            profile,
            group: decoded(group),
        },
        ("DELETE", ["groups", group]) => Route::DeleteFolder {
            profile,
            group: decoded(group),
        },
        ("GET", ["rules"]) => Route::ListRootRules { profile },
        ("POST", ["rules"]) => Route::CreateRules { profile },
        ("PUT", ["rules"]) => Route::UpdateRules { profile },
        ("GET", ["rules", group]) => Route::ListFolderRules {
            profile,
            group: decoded(group),
        },
        ("DELETE", ["rules", hostname]) => Route::DeleteRule {
            profile,
            hostname: decoded(hostname),
        },
        (method, rest) => SettingsRoute::parse_profile(method, profile, rest, decoded)
            .map_or(Route::Other, Route::Settings),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_templates() {
        let route = Route::parse(&Method::DELETE, "/profiles/p1/rules/%2A.ads.example");
        assert_eq!(
            route,
            Route::DeleteRule {
                profile: "p1".into(),
                hostname: "*.ads.example".into()
            }
        );
        assert_eq!(
            route.template(),
            "DELETE /profiles/{profile}/rules/{hostname}"
        );
        let folder_rules = Route::parse(&Method::GET, "/profiles/p1/rules/12");
        assert_eq!(
            folder_rules.template(),
            "GET /profiles/{profile}/rules/{group}"
        );
        assert_eq!(Route::parse(&Method::GET, "/profile").template(), "OTHER");
        assert_eq!(
            Route::parse(&Method::PATCH, "/profiles/p1/rules").template(),
            "OTHER"
        );
    }
}
