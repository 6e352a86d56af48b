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
        }
    }
}

impl Behaviour {
    /// The default, then each plausible alternative with one knob turned, named for test output.
    /// The form-variable refusal is left out: it breaks an assumption on purpose.
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
}
