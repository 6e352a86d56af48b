//! The service-wide catalogues a profile's settings name: native filter families with their
//! levels, third-party (external) filters, and service categories with their services. The live
//! catalogues are larger (about 20 families, 12 categories of many services); these are small,
//! realistic samples with the same shapes.

/// What a filter level switches on. Levels of different kinds add up; one of each kind per
/// family is on at a time (observed on `malware`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LevelKind {
    Filter,
    IpFilter,
    /// The level is a profile option of the same name (see [`Level::opt`]).
    Option,
}

impl LevelKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            LevelKind::Filter => "filter",
            LevelKind::IpFilter => "ipfilter",
            LevelKind::Option => "option",
        }
    }
}

#[derive(Debug)]
pub(crate) struct Level {
    pub title: &'static str,
    pub kind: LevelKind,
    pub name: &'static str,
    /// For an option level: the value that turning the level on gives the option.
    pub opt: Option<&'static str>,
}

#[derive(Debug)]
pub(crate) struct Family {
    pub pk: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    /// Empty for a family that is simply on or off.
    pub levels: &'static [Level],
}

impl Family {
    /// The level turned on when the family itself is named: the one named like the family.
    pub(crate) fn own_level(&self) -> Option<&'static Level> {
        self.levels.iter().find(|level| level.name == self.pk)
    }
}

/// A third-party list offered as a filter (`x-` PKs, no levels).
#[derive(Debug)]
pub(crate) struct External {
    pub pk: &'static str,
    pub name: &'static str,
    pub description: &'static str,
}

const fn level(title: &'static str, kind: LevelKind, name: &'static str) -> Level {
    Level {
        title,
        kind,
        name,
        opt: None,
    }
}

const fn family(
    pk: &'static str,
    name: &'static str,
    description: &'static str,
    levels: &'static [Level],
) -> Family {
    Family {
        pk,
        name,
        description,
        levels,
    }
}

pub(crate) static FAMILIES: &[Family] = &[
    family(
        "ads",
        "Ads & Trackers",
        "Blocks advertising and tracking domains.",
        &[
            level("Relaxed", LevelKind::Filter, "ads_small"),
            level("Balanced", LevelKind::Filter, "ads_medium"),
            level("Strict", LevelKind::Filter, "ads"),
        ],
    ),
    family(
        "malware",
        "Malware",
        "Blocks domains that host malware, phishing and scams.",
        &[
            level("Relaxed", LevelKind::IpFilter, "ip_malware"),
            level("Balanced", LevelKind::Filter, "malware"),
            Level {
                title: "Strict",
                kind: LevelKind::Option,
                name: "ai_malware",
                opt: Some("0.7"),
            },
        ],
    ),
    family(
        "porn",
        "Adult Content",
        "Blocks adult websites.",
        &[
            level("Relaxed", LevelKind::Filter, "porn"),
            level("Strict", LevelKind::Filter, "porn_strict"),
        ],
    ),
    family(
        "nrd",
        "New Domains",
        "Blocks domains registered recently.",
        &[
            level("Last week", LevelKind::Filter, "nrd_small"),
            level("Last month", LevelKind::Filter, "nrd"),
        ],
    ),
    family(
        "typo",
        "Phishing",
        "Blocks typo-squatting and phishing domains.",
        &[],
    ),
    family(
        "gambling",
        "Gambling",
        "Blocks betting and casino websites.",
        &[],
    ),
    family("social", "Social Media", "Blocks social networks.", &[]),
    family("dating", "Dating", "Blocks dating websites and apps.", &[]),
    family(
        "drugs",
        "Drugs",
        "Blocks websites about illegal drugs.",
        &[],
    ),
    family(
        "games",
        "Games",
        "Blocks online games and gaming platforms.",
        &[],
    ),
    family(
        "cryptominers",
        "Crypto",
        "Blocks cryptocurrency miners and exchanges.",
        &[],
    ),
    family(
        "dnsvpn",
        "DNS & VPN Bypass",
        "Blocks public DNS-over-HTTPS resolvers and VPN services.",
        &[],
    ),
];

pub(crate) static EXTERNALS: &[External] = &[
    External {
        pk: "x-1hosts-lite",
        name: "1Hosts (Lite)",
        description: "A compact list of ad and tracking domains.",
    },
    External {
        pk: "x-1hosts-pro",
        name: "1Hosts (Pro)",
        description: "A broad list of ad and tracking domains.",
    },
    External {
        pk: "x-hagezi-light",
        name: "HaGeZi Light",
        description: "Ads, tracking and badware; few false positives.",
    },
    External {
        pk: "x-hagezi-pro",
        name: "HaGeZi Pro",
        description: "Ads, tracking and badware; balanced.",
    },
    External {
        pk: "x-oisd-small",
        name: "OISD Small",
        description: "A blocklist that breaks nothing.",
    },
    External {
        pk: "x-oisd-big",
        name: "OISD Big",
        description: "A large blocklist that breaks little.",
    },
];

/// The IP resolvers listed beside external filters (shape only; the values are not relied upon).
pub(crate) const EXTERNAL_RESOLVERS: (&str, &str) = ("76.76.2.11", "2606:1a40::11");

/// What a filter name in a request means.
#[derive(Clone, Copy, Debug)]
pub(crate) enum FilterName {
    Family(&'static Family),
    Level(&'static Family, &'static Level),
    External(&'static External),
}

/// A family's PK first (so `ads` is the family, whose own level is also named `ads`), then a
/// level name, then an external PK.
pub(crate) fn resolve_filter(name: &str) -> Option<FilterName> {
    if let Some(family) = FAMILIES.iter().find(|family| family.pk == name) {
        return Some(FilterName::Family(family));
    }
    let level = FAMILIES.iter().find_map(|family| {
        let level = family.levels.iter().find(|level| level.name == name)?;
        Some(FilterName::Level(family, level))
    });
    level.or_else(|| {
        EXTERNALS
            .iter()
            .find(|external| external.pk == name)
            .map(FilterName::External)
    })
}

pub(crate) struct Category {
    pub pk: &'static str,
    pub name: &'static str,
    pub description: &'static str,
}

pub(crate) struct Service {
    pub pk: &'static str,
    pub name: &'static str,
    pub category: &'static str,
    pub unlock_location: &'static str,
    pub warning: Option<&'static str>,
    /// Proxy locations the service can be redirected through (absent when empty).
    pub locations: &'static [&'static str],
}

const fn category(pk: &'static str, name: &'static str, description: &'static str) -> Category {
    Category {
        pk,
        name,
        description,
    }
}

/// Twelve categories, as on the live service.
pub(crate) static CATEGORIES: &[Category] = &[
    category("ai", "AI", "Chat assistants and AI tools."),
    category("audio", "Audio", "Music and podcast streaming."),
    category("career", "Career", "Job boards and professional networks."),
    category("finance", "Finance", "Payments and banking."),
    category("gaming", "Gaming", "Game stores and online games."),
    category("hosting", "Hosting", "File hosting and cloud storage."),
    category("news", "News", "News outlets and aggregators."),
    category("shop", "Shopping", "Online stores and marketplaces."),
    category("social", "Social", "Social networks and messengers."),
    category("tools", "Tools", "Work and communication tools."),
    category("video", "Video", "Video streaming."),
    category("vpn", "VPN", "VPN providers."),
];

const fn service(
    pk: &'static str,
    name: &'static str,
    category: &'static str,
    unlock_location: &'static str,
) -> Service {
    Service {
        pk,
        name,
        category,
        unlock_location,
        warning: None,
        locations: &[],
    }
}

const STREAMING_LOCATIONS: &[&str] = &["DFW", "JFK", "LAX", "LON", "TOR"];

pub(crate) static SERVICES: &[Service] = &[
    service("chatgpt", "ChatGPT", "ai", "DFW"),
    service("gemini", "Gemini", "ai", "DFW"),
    service("spotify", "Spotify", "audio", "DFW"),
    service("soundcloud", "SoundCloud", "audio", "DFW"),
    service("linkedin", "LinkedIn", "career", "DFW"),
    service("paypal", "PayPal", "finance", "DFW"),
    service("steam", "Steam", "gaming", "DFW"),
    service("roblox", "Roblox", "gaming", "DFW"),
    service("fortnite", "Fortnite", "gaming", "DFW"),
    service("dropbox", "Dropbox", "hosting", "DFW"),
    service("cnn", "CNN", "news", "JFK"),
    service("amazon", "Amazon", "shop", "DFW"),
    service("ebay", "eBay", "shop", "DFW"),
    Service {
        warning: Some("Blocking TikTok also blocks videos embedded on other sites."),
        ..service("tiktok", "TikTok", "social", "LAX")
    },
    service("facebook", "Facebook", "social", "DFW"),
    service("instagram", "Instagram", "social", "DFW"),
    service("snapchat", "Snapchat", "social", "DFW"),
    service("reddit", "Reddit", "social", "DFW"),
    service("zoom", "Zoom", "tools", "DFW"),
    service("slack", "Slack", "tools", "DFW"),
    Service {
        warning: Some("Blocking YouTube also blocks videos embedded on other sites."),
        ..service("youtube", "YouTube", "video", "DFW")
    },
    Service {
        locations: STREAMING_LOCATIONS,
        ..service("netflix", "Netflix", "video", "DFW")
    },
    Service {
        locations: STREAMING_LOCATIONS,
        ..service("disneyplus", "Disney+", "video", "JFK")
    },
    service("twitch", "Twitch", "video", "DFW"),
    service("nordvpn", "NordVPN", "vpn", "DFW"),
];

pub(crate) fn service_named(pk: &str) -> Option<&'static Service> {
    SERVICES.iter().find(|service| service.pk == pk)
}

pub(crate) fn category_named(pk: &str) -> Option<&'static Category> {
    CATEGORIES.iter().find(|category| category.pk == pk)
}

pub(crate) fn services_in(category: &str) -> impl Iterator<Item = &'static Service> + '_ {
    SERVICES
        .iter()
        .filter(move |service| service.category == category)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_family_first_then_level_then_external() {
        assert!(matches!(resolve_filter("ads"), Some(FilterName::Family(f)) if f.pk == "ads"));
        assert!(matches!(
            resolve_filter("ads_medium"),
            Some(FilterName::Level(f, l)) if f.pk == "ads" && l.name == "ads_medium"
        ));
        assert!(matches!(
            resolve_filter("x-oisd-big"),
            Some(FilterName::External(_))
        ));
        assert!(resolve_filter("foo").is_none());
    }

    #[test]
    fn every_family_with_levels_has_its_own_level_and_names_are_unique() {
        let mut names = std::collections::HashSet::new();
        for family in FAMILIES {
            assert!(family.levels.is_empty() || family.own_level().is_some());
            for level in family.levels {
                assert!(names.insert(level.name), "{}", level.name);
            }
        }
        assert_eq!(CATEGORIES.len(), 12);
        for category in CATEGORIES {
            assert!(services_in(category.pk).next().is_some(), "{}", category.pk);
        }
        assert!(SERVICES
            .iter()
            .all(|s| category_named(s.category).is_some()));
    }
}
