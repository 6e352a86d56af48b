//! The client's profile-settings calls against the real emulator over loopback HTTP, under each
//! settings knob where the answer depends on it.

use std::collections::BTreeMap;
use std::time::Duration;

use controld_emulator::{
    Behaviour, DefaultOmitted, Emulator, EmulatorConfig, RepeatWrite, ServiceOmitted,
    SettingsWrite, UpdatedMoves,
};
use ctrld_sync::controld::{ApiError, CallStats, Client, ClientConfig, OptionKind, Token};
use ctrld_sync::model::{ActionKind, RuleAction};

const PROFILE: &str = "p1";

fn start(behaviour: Behaviour) -> Emulator {
    let config = EmulatorConfig {
        behaviour,
        allow_redirect: true,
        ..EmulatorConfig::default()
    };
    Emulator::start_background(config).expect("the emulator starts")
}

fn client(emulator: &Emulator) -> Client {
    let mut config = ClientConfig::new(emulator.url().parse().unwrap(), Token::new("test-token"));
    config.retry_base_delay = Duration::from_millis(5);
    config.retry_max_delay = Duration::from_millis(50);
    config.timeout = Duration::from_secs(10);
    Client::new(config).unwrap()
}

fn assert_same_counts(client: &CallStats, emulator: &Emulator) {
    let server = emulator.stats();
    assert_eq!(client.total, server.total, "total");
    assert_eq!(client.by_method, server.by_method, "by method");
    assert_eq!(client.by_endpoint, server.by_route, "by route");
}

fn spoof(via: &str, via_v6: Option<&str>) -> RuleAction {
    RuleAction {
        kind: ActionKind::Spoof,
        enabled: true,
        via: Some(via.into()),
        via_v6: via_v6.map(str::to_string),
    }
}

fn disabled(action: RuleAction) -> RuleAction {
    RuleAction {
        enabled: false,
        ..action
    }
}

fn enabled_map(entries: &[(&str, Option<&str>)]) -> BTreeMap<String, Option<String>> {
    entries
        .iter()
        .map(|(name, level)| (name.to_string(), level.map(str::to_string)))
        .collect()
}

fn text_map(entries: &[(&str, &str)]) -> BTreeMap<String, String> {
    entries
        .iter()
        .map(|(pk, value)| (pk.to_string(), value.to_string()))
        .collect()
}

#[tokio::test]
async fn every_settings_call_round_trips_and_counts_match_the_emulator() {
    let emulator = start(Behaviour::default());
    let client = client(&emulator);

    let catalogue = client.option_catalogue().await.unwrap();
    assert_eq!(catalogue.len(), 13);
    let kind = |pk: &str| &catalogue.iter().find(|o| o.pk == pk).unwrap().kind;
    assert_eq!(kind("safesearch"), &OptionKind::Toggle);
    assert_eq!(kind("ttl_blck"), &OptionKind::Field);
    let OptionKind::Dropdown(mut values) = kind("ai_malware").clone() else {
        panic!("{catalogue:?}");
    };
    values.sort();
    assert_eq!(values, ["0.5", "0.7", "0.9"]);

    let categories = client.service_categories().await.unwrap();
    assert_eq!(categories.len(), 12);
    assert!(categories.iter().any(|c| c == "social"));
    let social = client.category_services("social").await.unwrap();
    assert!(social.iter().any(|s| s == "tiktok"), "{social:?}");
    let missing = client.category_services("no such").await.unwrap_err();
    assert!(missing.is_not_found(), "{missing}");

    let natives = client.list_filters(PROFILE).await.unwrap();
    assert_eq!(natives.len(), 12);
    assert!(natives.iter().all(|f| f.active.is_empty()));
    let ads = natives.iter().find(|f| f.pk == "ads").unwrap();
    let levels: Vec<&str> = ads.levels.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(levels, ["ads_small", "ads_medium", "ads"]);
    let externals = client.list_external_filters(PROFILE).await.unwrap();
    assert!(externals
        .iter()
        .all(|f| f.pk.starts_with("x-") && f.levels.is_empty()));

    let answer = client.set_filter(PROFILE, "ads_small", true).await.unwrap();
    assert_eq!(answer, Some(enabled_map(&[("ads", Some("ads_small"))])));
    // Another level of the same family swaps it in one write (observed).
    let answer = client
        .set_filter(PROFILE, "ads_medium", true)
        .await
        .unwrap();
    assert_eq!(answer, Some(enabled_map(&[("ads", Some("ads_medium"))])));
    let answer = client
        .set_filter(PROFILE, "x-oisd-big", true)
        .await
        .unwrap();
    assert_eq!(
        answer,
        Some(enabled_map(&[
            ("ads", Some("ads_medium")),
            ("x-oisd-big", None)
        ]))
    );
    let natives = client.list_filters(PROFILE).await.unwrap();
    let ads = natives.iter().find(|f| f.pk == "ads").unwrap();
    assert_eq!(ads.active, ["ads_medium"]);
    let externals = client.list_external_filters(PROFILE).await.unwrap();
    let oisd = externals.iter().find(|f| f.pk == "x-oisd-big").unwrap();
    assert_eq!(oisd.active, ["x-oisd-big"]);
    let batch = [
        ("gambling".to_string(), true),
        ("ads".to_string(), false),
        ("x-oisd-big".to_string(), false),
    ];
    let answer = client.set_filters(PROFILE, &batch).await.unwrap();
    assert_eq!(answer, Some(enabled_map(&[("gambling", None)])));
    let answer = client.set_filter(PROFILE, "gambling", false).await.unwrap();
    assert_eq!(answer, Some(BTreeMap::new()), "`[]`: none enabled");

    assert!(client.list_services(PROFILE).await.unwrap().is_empty());
    let zoom = spoof("10.0.0.1", Some("::1"));
    let echo = client.set_service(PROFILE, "zoom", &zoom).await.unwrap();
    assert_eq!(echo, Some(zoom.clone()));
    let tiktok = disabled(RuleAction::block());
    let echo = client
        .set_service(PROFILE, "tiktok", &tiktok)
        .await
        .unwrap();
    assert_eq!(echo, Some(tiktok.clone()));
    let services = client.list_services(PROFILE).await.unwrap();
    let listed: Vec<(&str, &RuleAction)> = services
        .iter()
        .map(|s| (s.pk.as_str(), &s.action))
        .collect();
    assert_eq!(listed, [("tiktok", &tiktok), ("zoom", &zoom)]);

    assert_eq!(
        client.get_default(PROFILE).await.unwrap(),
        RuleAction::allow()
    );
    let redirect = RuleAction {
        via: Some("LOCAL".into()),
        ..RuleAction::new(ActionKind::Redirect)
    };
    let echo = client.set_default(PROFILE, &redirect).await.unwrap();
    assert_eq!(echo, Some(redirect.clone()));
    assert_eq!(client.get_default(PROFILE).await.unwrap(), redirect);

    assert!(client.list_options(PROFILE).await.unwrap().is_empty());
    let echo = client
        .set_option(PROFILE, "ai_malware", Some("0.7"))
        .await
        .unwrap();
    assert_eq!(echo, Some(text_map(&[("ai_malware", "0.7")])));
    let echo = client
        .set_option(PROFILE, "safesearch", Some("1"))
        .await
        .unwrap();
    assert_eq!(echo, Some(text_map(&[("safesearch", "1")])));
    let echo = client
        .set_option(PROFILE, "ttl_blck", Some("30"))
        .await
        .unwrap();
    assert_eq!(echo, Some(text_map(&[("ttl_blck", "30")])));
    let echo = client
        .set_option(PROFILE, "safesearch", None)
        .await
        .unwrap();
    assert_eq!(echo, Some(text_map(&[("safesearch", "0")])));
    let options = client.list_options(PROFILE).await.unwrap();
    assert_eq!(
        options,
        text_map(&[("ai_malware", "0.7"), ("ttl_blck", "30")])
    );

    let profiles = client.list_profiles().await.unwrap();
    let settings = &profiles.iter().find(|p| p.id == PROFILE).unwrap().settings;
    assert_eq!(
        settings.svc,
        Some(1),
        "the disabled tiktok rule is not counted"
    );
    assert_eq!((settings.flt, settings.cflt), (Some(0), Some(0)));
    assert_eq!(settings.opt, Some(2));
    assert_eq!(settings.options.as_ref(), Some(&options));

    let stats = client.stats();
    assert_eq!(stats.retries, 0);
    assert_eq!(
        stats.by_endpoint["PUT /profiles/{profile}/filters/filter/{filter}"],
        4
    );
    assert_eq!(stats.by_endpoint["PUT /profiles/{profile}/filters"], 1);
    assert_same_counts(&stats, &emulator);
}

#[tokio::test]
async fn an_empty_batch_sends_nothing_and_bad_names_are_rejected_as_one_path_segment() {
    let emulator = start(Behaviour::default());
    let client = client(&emulator);
    assert_eq!(client.set_filters(PROFILE, &[]).await.unwrap(), None);
    assert_eq!(client.stats().total, 0);

    // `/` is percent-encoded: the emulator sees one unknown name, not another path.
    let error = client.set_filter(PROFILE, "ads/x", true).await.unwrap_err();
    assert_eq!(error.code(), Some(40003), "{error}");
    let batch = [("ads".to_string(), true), ("foo".to_string(), true)];
    let error = client.set_filters(PROFILE, &batch).await.unwrap_err();
    assert!(error.to_string().contains("at index 1"), "{error}");
    let error = client
        .set_service(PROFILE, "no-such-service", &RuleAction::block())
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some(40003), "{error}");
    let error = client
        .set_option(PROFILE, "ai_malware", Some("0.1"))
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some(40003), "{error}");
    // Nothing of the batch was applied.
    let natives = client.list_filters(PROFILE).await.unwrap();
    assert!(natives.iter().all(|f| f.active.is_empty()));
    let stats = client.stats();
    assert_eq!(stats.retries, 0, "a 40003 is not retried");
    assert_same_counts(&stats, &emulator);
}

/// Each kind of write done twice: the second changes nothing, and what it answers follows the
/// `--*-repeat` knobs.
#[tokio::test]
async fn a_repeated_write_answers_as_each_repeat_knob_says() {
    for repeat in [
        RepeatWrite::SameBody,
        RepeatWrite::EmptyBody,
        RepeatWrite::Rejected,
    ] {
        let writes = SettingsWrite {
            repeat,
            updated: UpdatedMoves::OnChange,
        };
        let emulator = start(Behaviour {
            filter_writes: writes,
            service_writes: writes,
            default_writes: writes,
            option_writes: writes,
            ..Behaviour::default()
        });
        let client = client(&emulator);
        let block = RuleAction::block();
        let first = (
            client.set_filter(PROFILE, "porn", true).await.unwrap(),
            client.set_service(PROFILE, "zoom", &block).await.unwrap(),
            client.set_default(PROFILE, &block).await.unwrap(),
            client
                .set_option(PROFILE, "b_resp", Some("3"))
                .await
                .unwrap(),
        );
        assert!(first.0.is_some() && first.1.is_some() && first.2.is_some() && first.3.is_some());
        let filter = client.set_filter(PROFILE, "porn", true).await;
        // The batch write follows the filter knob too.
        let batch = client
            .set_filters(PROFILE, &[("porn".to_string(), true)])
            .await;
        let service = client.set_service(PROFILE, "zoom", &block).await;
        let default = client.set_default(PROFILE, &block).await;
        let option = client.set_option(PROFILE, "b_resp", Some("3")).await;
        match repeat {
            RepeatWrite::SameBody => {
                assert_eq!(filter.unwrap(), first.0);
                assert_eq!(batch.unwrap(), first.0);
                assert_eq!(service.unwrap(), first.1);
                assert_eq!(default.unwrap(), first.2);
                assert_eq!(option.unwrap(), first.3);
            }
            RepeatWrite::EmptyBody => {
                assert_eq!(filter.unwrap(), None);
                assert_eq!(batch.unwrap(), None);
                assert_eq!(service.unwrap(), None);
                assert_eq!(default.unwrap(), None);
                assert_eq!(option.unwrap(), None);
            }
            RepeatWrite::Rejected => {
                let codes = [
                    filter.map(drop),
                    batch.map(drop),
                    service.map(drop),
                    default.map(drop),
                    option.map(drop),
                ]
                .map(|result| result.map_err(|error: ApiError| error.code()));
                assert_eq!(codes, [Err(Some(40003)); 5], "{repeat:?}");
            }
        }
        let stats = client.stats();
        assert_eq!(stats.retries, 0, "{repeat:?}");
        assert_same_counts(&stats, &emulator);
    }
}

/// The client always sends `do` and `status`, so a service write means the same whatever the
/// server does with omitted fields; only an omitted `via_v6` is kept (observed).
#[tokio::test]
async fn service_writes_mean_the_same_under_every_service_omitted_knob() {
    for omitted in [
        ServiceOmitted::Kept,
        ServiceOmitted::StatusReset,
        ServiceOmitted::Required,
    ] {
        let emulator = start(Behaviour {
            service_omitted: omitted,
            ..Behaviour::default()
        });
        let client = client(&emulator);
        let steps = [
            disabled(RuleAction::block()),
            disabled(spoof("10.0.0.1", Some("::1"))),
            spoof("10.0.0.2", None),
            RuleAction::allow(),
        ];
        let mut stored = Vec::new();
        for action in &steps {
            let echo = client.set_service(PROFILE, "zoom", action).await.unwrap();
            let listed = client.list_services(PROFILE).await.unwrap();
            assert_eq!(listed.len(), 1, "{omitted:?}");
            assert_eq!(echo.as_ref(), Some(&listed[0].action), "{omitted:?}");
            stored.push(listed[0].action.to_string());
        }
        assert_eq!(
            stored,
            [
                "block disabled",
                "spoof via=10.0.0.1 via_v6=::1 disabled",
                // An omitted via_v6 is kept (observed): it cannot be cleared but by leaving spoof.
                "spoof via=10.0.0.2 via_v6=::1",
                "allow",
            ],
            "{omitted:?}"
        );
    }
}

/// The client always sends `do`, `status` and any `via`, so the default rule ends as written
/// whatever the server does with omitted fields.
#[tokio::test]
async fn default_writes_mean_the_same_under_every_default_omitted_knob() {
    for omitted in [
        DefaultOmitted::Kept,
        DefaultOmitted::Replaced,
        DefaultOmitted::Required,
    ] {
        let emulator = start(Behaviour {
            default_omitted: omitted,
            ..Behaviour::default()
        });
        let client = client(&emulator);
        for action in [
            spoof("10.0.0.1", None),
            disabled(RuleAction::block()),
            RuleAction {
                via: Some("DFW".into()),
                ..RuleAction::new(ActionKind::Redirect)
            },
            RuleAction::allow(),
        ] {
            let echo = client.set_default(PROFILE, &action).await.unwrap();
            assert_eq!(echo.as_ref(), Some(&action), "{omitted:?}");
            let stored = client.get_default(PROFILE).await.unwrap();
            assert_eq!(stored, action, "{omitted:?}");
        }
    }
}

/// A settings PUT whose answer is lost is retried (they are idempotent); the value is set once.
#[tokio::test]
async fn a_settings_write_whose_answer_is_lost_is_retried() {
    let emulator = start(Behaviour::default());
    let client = client(&emulator);
    emulator.lose_next_answers("PUT /profiles/{profile}/options/{option}", 1);
    let echo = client
        .set_option(PROFILE, "ttl_pass", Some("60"))
        .await
        .unwrap();
    assert_eq!(echo, Some(text_map(&[("ttl_pass", "60")])));
    let stats = client.stats();
    assert_eq!(stats.retries, 1);
    assert_eq!(
        client.list_options(PROFILE).await.unwrap(),
        text_map(&[("ttl_pass", "60")])
    );
}

/// Under a server refusing writes that change nothing, the repeat of a write whose answer was
/// lost is refused although the first went through: the outcome is unknown, not a rejection.
#[tokio::test]
async fn a_refused_repeat_after_a_lost_answer_is_an_unknown_outcome() {
    let rejected = SettingsWrite {
        repeat: RepeatWrite::Rejected,
        updated: UpdatedMoves::EveryWrite,
    };
    let emulator = start(Behaviour {
        service_writes: rejected,
        option_writes: rejected,
        ..Behaviour::default()
    });
    let client = client(&emulator);
    emulator.lose_next_answers("PUT /profiles/{profile}/services/{service}", 1);
    let error = client
        .set_service(PROFILE, "zoom", &RuleAction::block())
        .await
        .unwrap_err();
    assert!(error.is_ambiguous(), "{error}");
    assert_eq!(error.code(), None);
    let text = error.to_string();
    assert!(
        text.contains(
            "an answer was lost and the repeated request was refused (Nothing to update)"
        ),
        "{text}"
    );
    let services = client.list_services(PROFILE).await.unwrap();
    assert_eq!(
        services[0].action,
        RuleAction::block(),
        "the first attempt made it"
    );
    // Without a lost answer, a refused write is a plain rejection.
    let error = client
        .set_option(PROFILE, "ttl_pass", Some("0"))
        .await
        .unwrap_err();
    assert!(
        !error.is_ambiguous() && error.code() == Some(40003),
        "{error}"
    );
}
