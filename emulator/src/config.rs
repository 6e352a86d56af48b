//! The emulator's knobs: who may call it, which profiles exist, and how hostile it is.

use std::path::PathBuf;
use std::time::Duration;

use clap::ValueEnum;

use crate::behaviour::Behaviour;

/// How a new folder's PK is chosen (unless `stable_pks`, which takes precedence).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum FolderPks {
    /// As the live service does (*observed*): numbered per profile, a new folder gets one above
    /// the highest PK in use in its profile (1 in an empty one), so deleting the highest folder and
    /// creating another hands its PK out again, and two profiles can hold the same PK.
    #[default]
    PerProfileReused,
    /// One counter for the whole emulator: every folder gets a PK never handed out before.
    GlobalCounter,
}

/// Everything that shapes an emulator; `Default` is a friendly, fast, fault-free free-plan account.
#[derive(Clone, Debug, PartialEq)]
pub struct EmulatorConfig {
    /// The bearer token accepted.
    pub token: String,
    /// More bearer tokens accepted besides `token` (several API tokens of one account).
    pub extra_tokens: Vec<String>,
    /// Each accepted token drains a bucket of its own (`rps`, `burst`) instead of all requests
    /// sharing one; requests without an accepted token share one more.
    pub rate_limit_per_token: bool,
    /// Profile ids created empty at start (unless the state file already holds them).
    pub profiles: Vec<String>,
    /// Sleep per API request (async, so concurrent requests overlap).
    pub latency: Duration,
    /// Token-bucket refill rate over all API requests; `None` = unlimited.
    pub rps: Option<f64>,
    /// Token-bucket capacity; 0 means "one second's worth of `rps`" (at least 1).
    pub burst: u32,
    /// Probability in [0, 1] that an API request is faulted.
    pub fail_rate: f64,
    /// Seed of the fault-injection RNG.
    pub seed: u64,
    /// Rules per profile, root and all folders together.
    pub max_rules: usize,
    /// Paid plan: REDIRECT (`do=3`) allowed instead of 402/40201.
    pub allow_redirect: bool,
    /// Directory served at `/_lists/NAME`.
    pub serve_dir: Option<PathBuf>,
    /// The first N requests of each `/_lists/` file answer 503 with `Retry-After` (a flaky CDN).
    pub lists_unavailable: u32,
    /// The `Retry-After` seconds sent with those 503s.
    pub lists_retry_after: u64,
    /// Dump file loaded at start and saved after every successful change.
    pub state_file: Option<PathBuf>,
    /// Folder PKs derived from the profile id and folder name instead of taken from a counter, so
    /// concurrent folder creations get the same PKs whatever order they arrive in (reproducible
    /// example state). A PK may come back after its folder is deleted and made again.
    pub stable_pks: bool,
    /// How folder PKs are numbered when not `stable_pks`.
    pub folder_pks: FolderPks,
    /// What the service does where its behaviour is unknown.
    pub behaviour: Behaviour,
}

/// Control D's documented per-profile custom rule limit.
pub const DEFAULT_MAX_RULES: usize = 10_000;

/// The token accepted when none is configured.
pub const DEFAULT_TOKEN: &str = "test-token";

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            token: DEFAULT_TOKEN.to_string(),
            extra_tokens: Vec::new(),
            rate_limit_per_token: false,
            profiles: vec!["p1".to_string()],
            latency: Duration::ZERO,
            rps: None,
            burst: 0,
            fail_rate: 0.0,
            seed: 0,
            max_rules: DEFAULT_MAX_RULES,
            allow_redirect: false,
            serve_dir: None,
            lists_unavailable: 0,
            lists_retry_after: 1,
            state_file: None,
            stable_pks: false,
            folder_pks: FolderPks::default(),
            behaviour: Behaviour::default(),
        }
    }
}
