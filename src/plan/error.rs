//! Why a plan cannot be made. Each message names the profile and folder concerned.

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(
        "profile {profile}: folders `{first}` and `{second}` are both named \"{}\" (the second \
         from its source): a profile's managed folders need different names in Control D; set \
         `name` on one of them in the config",
        crate::quote::sanitize(.name)
    )]
    DuplicateFolderName {
        profile: String,
        first: String,
        second: String,
        name: String,
    },

    #[error(
        "profile {profile}: the plan would leave {after} rules ({managed} managed + {unmanaged} not managed), \
         over Control D's limit of {limit} per profile; nothing was sent. Remove folders from this profile \
         or split them over several profiles"
    )]
    RuleLimit {
        profile: String,
        after: usize,
        managed: usize,
        unmanaged: usize,
        limit: usize,
    },

    #[error(
        "refusing a destructive plan; pass --allow-destroy (or set `allow_destroy = true` under [safety]) \
         if this is intended:\n{}",
        offenses.iter().map(|offense| format!("  - {offense}")).collect::<Vec<_>>().join("\n")
    )]
    Destructive { offenses: Vec<String> },
}
