//! The command line, as clap derive definitions and nothing else. Names here are public API.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "ctrld-sync",
    version,
    about = "Plan and apply Control D folders and rules from blocklists kept in git",
    long_about = "Plan and apply Control D folders and rules from blocklists kept in git.\n\n\
        Keep a TOML file that says which folders each profile must have and where their rules come \
        from; `plan` shows exactly what would change, `apply` makes it so with the fewest API calls \
        and records what it did in state files you commit.",
    after_help = "Examples:\n  ctrld-sync --sandbox apply              try it: the bundled emulator, no token\n  \
        ctrld-sync validate                     check the config and local lists offline\n  \
        ctrld-sync plan --format markdown       a plan for a pull request\n  \
        ctrld-sync apply                        make the profiles match the config"
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub(crate) struct GlobalArgs {
    /// The config file
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        default_value = "ctrld-sync.toml"
    )]
    pub config: PathBuf,

    /// Where state files live [default: `state/` beside the config]
    #[arg(long, global = true, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,

    /// Control D API base URL [default: config's `api.base_url`, else https://api.controld.com]
    #[arg(long, global = true, value_name = "URL", env = "CTRLD_API_URL")]
    pub api_url: Option<String>,

    /// Run against the bundled emulator on loopback instead of Control D (no token needed)
    #[arg(long, global = true)]
    pub sandbox: bool,

    /// More log lines on stderr (-vv for every request)
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Only errors on stderr
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Never draw progress bars (they are drawn only on a terminal anyway)
    #[arg(long, global = true)]
    pub no_progress: bool,

    /// When to use colour
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Write a starter config
    #[command(
        after_help = "Examples:\n  ctrld-sync init\n  ctrld-sync init --from-profile 1abcdefgh2ij"
    )]
    Init(InitArgs),

    /// Check the config and its local lists offline: no API call, no token, no download
    ///
    /// URL sources are listed, not fetched; `--fetch` downloads and parses them too.
    #[command(after_help = "Examples:\n  ctrld-sync validate\n  \
        ctrld-sync validate --fetch                     also download and parse every URL source\n  \
        ctrld-sync --config profiles.toml validate")]
    Validate(ValidateArgs),

    /// Show what apply would change
    #[command(after_help = "Examples:\n  ctrld-sync plan\n  \
        ctrld-sync plan --refresh none                   from state files only: no token, no API call\n  \
        ctrld-sync plan --format markdown > plan.md      for a pull-request comment\n  \
        ctrld-sync plan --out plan.json --detailed-exitcode")]
    Plan(PlanArgs),

    /// Make the profiles match the config, then save state
    #[command(after_help = "Examples:\n  ctrld-sync apply\n  \
        ctrld-sync apply plan.json                        apply a saved plan (refused if stale)\n  \
        ctrld-sync apply --profile 1abcdefgh2ij --report report.json")]
    Apply(ApplyArgs),

    /// Inspect state files
    #[command(subcommand)]
    State(StateCommand),

    /// Check, with a write token, that the live API still behaves as the tool relies on
    #[command(
        after_help = "Works in a folder it creates (\"ctrld-sync probe ...\") with hostnames \
        under .invalid, and removes everything it made, also after an error or Ctrl-C.\n\n\
        Examples:\n  ctrld-sync probe --profile 1abcdefgh2ij\n  \
        ctrld-sync probe --profile 1abcdefgh2ij --format json"
    )]
    Probe(ProbeArgs),

    /// Print a shell completion script
    #[command(
        after_help = "Examples:\n  ctrld-sync completions bash > /etc/bash_completion.d/ctrld-sync"
    )]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },

    /// Print the config's JSON Schema (for editors: taplo, Even Better TOML)
    #[command(
        after_help = "Examples:\n  ctrld-sync schema > ctrld-sync.schema.json\n  \
        then put `#:schema ./ctrld-sync.schema.json` on the config's first line"
    )]
    Schema,
}

#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// Also download and parse every URL source (reads `auth_env` variables; no API call)
    #[arg(long)]
    pub fetch: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ProbeArgs {
    /// The profile to probe (its rules and folders are never touched)
    #[arg(long, value_name = "ID")]
    pub profile: String,

    #[arg(long, value_enum, default_value_t = ProbeFormat::Text)]
    pub format: ProbeFormat,

    /// Requests per second, from 0.01 to 10000 (default 5)
    #[arg(long, value_name = "R", value_parser = crate::bounds::rate_per_second)]
    pub max_rps: Option<f64>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum ProbeFormat {
    /// A table: check, expected, observed, ✓ or ✗
    #[default]
    Text,
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// Read this profile's existing folders into config entries
    #[arg(long, value_name = "ID")]
    pub from_profile: Option<String>,

    /// Overwrite an existing config file
    #[arg(long)]
    pub force: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum Refresh {
    /// One `GET /groups` per profile; folders whose count drifted, or new to the state, are read
    #[default]
    Auto,
    /// Read every managed folder and the root
    Full,
    /// Plan from state files alone: no token, no API call
    None,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum PlanFormat {
    #[default]
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
pub(crate) struct PlanArgs {
    /// Only these profiles (repeatable) [default: every profile in the config]
    #[arg(long = "profile", value_name = "ID")]
    pub profiles: Vec<String>,

    /// How much of the remote profile to read
    #[arg(long, value_enum, default_value_t = Refresh::Auto)]
    pub refresh: Refresh,

    /// Save the plan for `apply PLANFILE`
    #[arg(long, value_name = "PLANFILE")]
    pub out: Option<PathBuf>,

    /// Output format on stdout
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,

    /// Exit 0 when there is nothing to change, 2 when there is, 1 on error
    #[arg(long)]
    pub detailed_exitcode: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ApplyArgs {
    /// A plan saved by `plan --out`; refused if the state, config or remote moved since
    #[arg(value_name = "PLANFILE")]
    pub plan: Option<PathBuf>,

    /// Only these profiles (repeatable) [default: every profile in the config]
    #[arg(long = "profile", value_name = "ID")]
    pub profiles: Vec<String>,

    /// How much of the remote profile to read before planning
    #[arg(long, value_enum, default_value_t = Refresh::Auto)]
    pub refresh: Refresh,

    /// Requests of one profile in flight at once, from 1 to 64 [default: config's
    /// `api.parallelism`, else 4]
    #[arg(long, value_name = "N", value_parser = crate::bounds::parallelism)]
    pub parallelism: Option<usize>,

    /// Hard ceiling on requests per second, all profiles and tokens together, from 0.01 to 10000
    /// [default: config's `api.max_rps`, else none: adaptive pacing alone]
    #[arg(long, value_name = "R", value_parser = crate::bounds::rate_per_second)]
    pub max_rps: Option<f64>,

    /// Allow deleting managed folders and removing more than `max_delete_percent` of a folder's rules
    #[arg(long)]
    pub allow_destroy: bool,

    /// Re-read every touched folder at the end and fix any difference
    #[arg(long)]
    pub verify: bool,

    /// Also write the report as JSON to this file
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum StateCommand {
    /// Print what the state files hold
    Show {
        /// Only these profiles (repeatable)
        #[arg(long = "profile", value_name = "ID")]
        profiles: Vec<String>,
    },
}
