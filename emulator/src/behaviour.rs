//! Knobs for what nobody has probed on the live service yet (the *unknown* lines of the API
//! facts). The default of each is the most plausible answer; the tool must be correct under all.

use clap::ValueEnum;

/// `DELETE /groups/{pk}` of a folder that is already gone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum GoneFolderDelete {
    /// 404 / 40401 "No such group exists."
    #[default]
    NotFound,
    /// 200, as if it had been deleted now.
    Success,
    /// 400 / 40003 "This folder does not exist".
    Rejected,
}

/// `PUT /rules` with `group` = the folder the rules are already in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum SameFolderPut {
    /// Accepted; the rules keep their `order`.
    #[default]
    Accepted,
    /// Accepted; the rules get a new `order` (as if moved in again).
    Reorders,
    /// 400 / 40003: the whole request fails.
    Refused,
}

/// A multi-hostname `PUT /rules` naming one hostname that does not exist.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum PartialPut {
    /// 40003 and nothing changes.
    #[default]
    AllOrNothing,
    /// 40003, but the hostnames that exist were changed anyway.
    OthersChanged,
}

/// What a folder's `count` covers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum FolderCount {
    /// Every rule in the folder.
    #[default]
    All,
    /// Enabled rules only (as `GET /profiles` counts).
    EnabledOnly,
}

/// What a settings write that changes nothing answers (a filter, service, default rule or option
/// set to what it already is).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum RepeatWrite {
    /// Success with the same body a change would get.
    #[default]
    SameBody,
    /// Success with `"body": []`.
    EmptyBody,
    /// 400 / 40003: nothing to change.
    Rejected,
}

/// Whether a settings write moves the profile's `updated`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum UpdatedMoves {
    /// Every accepted write, a no-change one included.
    #[default]
    EveryWrite,
    /// Only a write that changes something.
    OnChange,
    /// Never: settings live outside the profile row.
    Never,
}

/// The unknowns shared by one kind of settings write.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SettingsWrite {
    pub repeat: RepeatWrite,
    pub updated: UpdatedMoves,
}

/// A `PUT /profiles/{p}/default` that omits `do`, `status` or `via`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum DefaultOmitted {
    /// Merged like every other PUT: omitted fields keep their values (`via` is cleared when
    /// `do` changes to block or bypass).
    #[default]
    Kept,
    /// Replaced: `do` is required (40002), an omitted `status` becomes 1 and an omitted `via` is cleared.
    Replaced,
    /// Both `do` and `status` are required (40002).
    Required,
}

/// A `PUT /profiles/{p}/default` with `status=0`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum DefaultDisable {
    /// Stored and shown as `status: 0`.
    #[default]
    Accepted,
    /// 400 / 40003.
    Rejected,
}

/// A `PUT /profiles/{p}/services/{s}` that omits `do` or `status` (an omitted `via_v6` is kept:
/// observed).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum ServiceOmitted {
    /// Merged: omitted fields keep their values; a new service needs `do` and gets `status` 1.
    #[default]
    Kept,
    /// An omitted `status` becomes 1 (enabled) again.
    StatusReset,
    /// Both `do` and `status` are required on every write (40002).
    Required,
}

/// An option value outside what the option allows (a TTL out of range, an unknown dropdown value).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum OptionValues {
    /// 400 / 40003 "Invalid value for option ...".
    #[default]
    Rejected,
    /// Stored as sent.
    Stored,
    /// Numbers are clamped into the option's range; other bad values are rejected.
    Clamped,
}

/// Every unknown behaviour, one knob each. `Default` is the most plausible answer to each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Behaviour {
    pub gone_folder_delete: GoneFolderDelete,
    pub same_folder_put: SameFolderPut,
    pub partial_put: PartialPut,
    pub folder_count: FolderCount,
    /// Whether a profile's `updated` moves when one of its rules changes (folder changes always move it).
    pub updated_on_rule_change: bool,
    /// Whether JSON bodies are cut after [`crate::MAX_FORM_VARIABLES`] variables like form bodies.
    pub json_truncated: bool,
    /// Form bodies with more variables than this are refused with 400 / 40003, storing nothing.
    pub refuse_form_variables_over: Option<usize>,
    /// `PUT .../filters/filter/{name}` and the batch `PUT .../filters`.
    pub filter_writes: SettingsWrite,
    /// `PUT .../services/{service}`.
    pub service_writes: SettingsWrite,
    /// `PUT .../default`.
    pub default_writes: SettingsWrite,
    /// `PUT .../options/{name}`.
    pub option_writes: SettingsWrite,
    pub default_omitted: DefaultOmitted,
    pub default_disable: DefaultDisable,
    pub service_omitted: ServiceOmitted,
    pub option_values: OptionValues,
}

impl Default for Behaviour {
    fn default() -> Self {
        Self {
            gone_folder_delete: GoneFolderDelete::default(),
            same_folder_put: SameFolderPut::default(),
            partial_put: PartialPut::default(),
            folder_count: FolderCount::default(),
            updated_on_rule_change: true,
            json_truncated: false,
            refuse_form_variables_over: None,
            filter_writes: SettingsWrite::default(),
            service_writes: SettingsWrite::default(),
            default_writes: SettingsWrite::default(),
            option_writes: SettingsWrite::default(),
            default_omitted: DefaultOmitted::default(),
            default_disable: DefaultDisable::default(),
            service_omitted: ServiceOmitted::default(),
            option_values: OptionValues::default(),
        }
    }
}

impl Behaviour {
    /// The default, then each plausible alternative of the folder and rule knobs with one knob
    /// turned, named for test output. The form-variable refusal is left out: it breaks an
    /// assumption on purpose. The settings knobs are in [`Behaviour::settings_matrix`].
    pub fn matrix() -> Vec<(&'static str, Behaviour)> {
        let base = Behaviour::default();
        vec![
            ("default", base),
            (
                "gone-folder-delete=success",
                Behaviour {
                    gone_folder_delete: GoneFolderDelete::Success,
                    ..base
                },
            ),
            (
                "gone-folder-delete=rejected",
                Behaviour {
                    gone_folder_delete: GoneFolderDelete::Rejected,
                    ..base
                },
            ),
            (
                "same-folder-put=reorders",
                Behaviour {
                    same_folder_put: SameFolderPut::Reorders,
                    ..base
                },
            ),
            (
                "same-folder-put=refused",
                Behaviour {
                    same_folder_put: SameFolderPut::Refused,
                    ..base
                },
            ),
            (
                "partial-put=others-changed",
                Behaviour {
                    partial_put: PartialPut::OthersChanged,
                    ..base
                },
            ),
            (
                "folder-count=enabled-only",
                Behaviour {
                    folder_count: FolderCount::EnabledOnly,
                    ..base
                },
            ),
            (
                "updated-on-rule-change=false",
                Behaviour {
                    updated_on_rule_change: false,
                    ..base
                },
            ),
            (
                "json-truncated",
                Behaviour {
                    json_truncated: true,
                    ..base
                },
            ),
        ]
    }

    /// The default, then each plausible alternative of the profile-settings knobs (filters,
    /// services, default rule, options) with one knob turned, named for test output.
    pub fn settings_matrix() -> Vec<(String, Behaviour)> {
        let base = Behaviour::default();
        let mut matrix = vec![("default".to_string(), base)];
        for (kind, pick) in SETTINGS_WRITES {
            for (variant, knob) in WRITE_VARIANTS {
                let mut behaviour = base;
                *pick(&mut behaviour) = knob;
                matrix.push((format!("{kind}-{variant}"), behaviour));
            }
        }
        let single: [(&str, TurnKnob); 7] = [
            ("default-omitted=replaced", |b| {
                b.default_omitted = DefaultOmitted::Replaced
            }),
            ("default-omitted=required", |b| {
                b.default_omitted = DefaultOmitted::Required
            }),
            ("default-disable=rejected", |b| {
                b.default_disable = DefaultDisable::Rejected
            }),
            ("service-omitted=status-reset", |b| {
                b.service_omitted = ServiceOmitted::StatusReset
            }),
            ("service-omitted=required", |b| {
                b.service_omitted = ServiceOmitted::Required
            }),
            ("option-values=stored", |b| {
                b.option_values = OptionValues::Stored
            }),
            ("option-values=clamped", |b| {
                b.option_values = OptionValues::Clamped
            }),
        ];
        for (name, turn) in single {
            let mut behaviour = base;
            turn(&mut behaviour);
            matrix.push((name.to_string(), behaviour));
        }
        matrix
    }
}

type PickWrite = fn(&mut Behaviour) -> &mut SettingsWrite;

/// Turns one knob away from its default.
type TurnKnob = fn(&mut Behaviour);

/// Each kind of settings write, with its knob.
const SETTINGS_WRITES: [(&str, PickWrite); 4] = [
    ("filter", |b| &mut b.filter_writes),
    ("service", |b| &mut b.service_writes),
    ("default", |b| &mut b.default_writes),
    ("option", |b| &mut b.option_writes),
];

/// The alternatives to [`SettingsWrite::default`], one knob turned each.
const WRITE_VARIANTS: [(&str, SettingsWrite); 4] = [
    (
        "repeat=empty-body",
        SettingsWrite {
            repeat: RepeatWrite::EmptyBody,
            updated: UpdatedMoves::EveryWrite,
        },
    ),
    (
        "repeat=rejected",
        SettingsWrite {
            repeat: RepeatWrite::Rejected,
            updated: UpdatedMoves::EveryWrite,
        },
    ),
    (
        "updated=on-change",
        SettingsWrite {
            repeat: RepeatWrite::SameBody,
            updated: UpdatedMoves::OnChange,
        },
    ),
    (
        "updated=never",
        SettingsWrite {
            repeat: RepeatWrite::SameBody,
            updated: UpdatedMoves::Never,
        },
    ),
];
