//! `controld-emulator`: the fake Control D API as a standalone server.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use controld_emulator::{
    Behaviour, DefaultDisable, DefaultOmitted, Emulator, EmulatorConfig, FolderCount, FolderPks,
    GoneFolderDelete, OptionValues, PartialPut, RepeatWrite, SameFolderPut, ServiceOmitted,
    SettingsWrite, UpdatedMoves, DEFAULT_MAX_RULES, DEFAULT_TOKEN,
};

/// A faithful fake of the Control D API. Prints `listening on http://ADDR` first, then serves until killed.
#[derive(Parser, Debug)]
#[command(name = "controld-emulator", version)]
struct Args {
    /// Address to listen on (port 0 picks a free one)
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// The bearer token accepted
    #[arg(long, default_value = DEFAULT_TOKEN)]
    token: String,
    /// More bearer tokens accepted (comma-separated)
    #[arg(long, value_delimiter = ',')]
    extra_tokens: Vec<String>,
    /// Give each accepted token its own --rps/--burst bucket instead of one over all requests
    #[arg(long)]
    rate_limit_per_token: bool,
    /// Profile ids created empty at start
    #[arg(long, value_delimiter = ',', default_value = "p1")]
    profiles: Vec<String>,
    /// Sleep per API request, in milliseconds
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Requests per second allowed over all API requests (token bucket); unlimited when absent
    #[arg(long)]
    rps: Option<f64>,
    /// Token-bucket capacity (default: one second's worth of --rps)
    #[arg(long, default_value_t = 0)]
    burst: u32,
    /// Probability of an injected fault per API request, 0 to 1
    #[arg(long, default_value_t = 0.0)]
    fail_rate: f64,
    /// Seed of the fault-injection RNG
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Custom rules allowed per profile
    #[arg(long, default_value_t = DEFAULT_MAX_RULES)]
    max_rules: usize,
    /// Behave as a paid plan: allow REDIRECT (do=3)
    #[arg(long)]
    allow_redirect: bool,
    /// Directory served at /_lists/NAME
    #[arg(long)]
    serve_dir: Option<PathBuf>,
    /// The first N requests of each /_lists/ file answer 503 with Retry-After
    #[arg(long, default_value_t = 0)]
    lists_unavailable: u32,
    /// The Retry-After seconds sent with those 503s
    #[arg(long, default_value_t = 1)]
    lists_retry_after: u64,
    /// JSON file holding the data: loaded at start, saved after every change
    #[arg(long)]
    state_file: Option<PathBuf>,
    /// Folder PKs derived from profile id and folder name, whatever the order of requests
    #[arg(long)]
    stable_pks: bool,
    /// How folder PKs are numbered: per profile, a deleted folder's PK handed out again (as the
    /// live service does), or one counter that never reuses a PK
    #[arg(long, value_enum, default_value_t = FolderPks::PerProfileReused)]
    folder_pks: FolderPks,
    /// Unknown: what DELETE of a folder already gone answers
    #[arg(long, value_enum, default_value_t = GoneFolderDelete::NotFound)]
    gone_folder_delete: GoneFolderDelete,
    /// Unknown: what PUT /rules with `group` = the rules' current folder does
    #[arg(long, value_enum, default_value_t = SameFolderPut::Accepted)]
    same_folder_put: SameFolderPut,
    /// Unknown: whether a PUT naming one unknown hostname changes the others
    #[arg(long, value_enum, default_value_t = PartialPut::AllOrNothing)]
    partial_put: PartialPut,
    /// Unknown: whether a folder's `count` includes disabled rules
    #[arg(long, value_enum, default_value_t = FolderCount::All)]
    folder_count: FolderCount,
    /// Unknown: whether a profile's `updated` moves when one of its rules changes
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    updated_on_rule_change: bool,
    /// Unknown: cut JSON bodies after 1,001 variables like form bodies
    #[arg(long)]
    json_truncated: bool,
    /// Refuse form bodies with more than N variables (400 / 40003, nothing stored)
    #[arg(long)]
    refuse_form_variables_over: Option<usize>,
    /// Unknown: what a filter write that changes nothing answers
    #[arg(long, value_enum, default_value_t = RepeatWrite::SameBody)]
    filter_repeat: RepeatWrite,
    /// Unknown: whether filter writes move the profile's `updated`
    #[arg(long, value_enum, default_value_t = UpdatedMoves::EveryWrite)]
    filter_updated: UpdatedMoves,
    /// Unknown: what a service write that changes nothing answers
    #[arg(long, value_enum, default_value_t = RepeatWrite::SameBody)]
    service_repeat: RepeatWrite,
    /// Unknown: whether service writes move the profile's `updated`
    #[arg(long, value_enum, default_value_t = UpdatedMoves::EveryWrite)]
    service_updated: UpdatedMoves,
    /// Unknown: what a default-rule write that changes nothing answers
    #[arg(long, value_enum, default_value_t = RepeatWrite::SameBody)]
    default_repeat: RepeatWrite,
    /// Unknown: whether default-rule writes move the profile's `updated`
    #[arg(long, value_enum, default_value_t = UpdatedMoves::EveryWrite)]
    default_updated: UpdatedMoves,
    /// Unknown: what an option write that changes nothing answers
    #[arg(long, value_enum, default_value_t = RepeatWrite::SameBody)]
    option_repeat: RepeatWrite,
    /// Unknown: whether option writes move the profile's `updated`
    #[arg(long, value_enum, default_value_t = UpdatedMoves::EveryWrite)]
    option_updated: UpdatedMoves,
    /// Unknown: what a default-rule PUT does with omitted fields
    #[arg(long, value_enum, default_value_t = DefaultOmitted::Kept)]
    default_omitted: DefaultOmitted,
    /// Unknown: whether the default rule accepts status=0
    #[arg(long, value_enum, default_value_t = DefaultDisable::Accepted)]
    default_disable: DefaultDisable,
    /// Unknown: what a service PUT does with an omitted do or status
    #[arg(long, value_enum, default_value_t = ServiceOmitted::Kept)]
    service_omitted: ServiceOmitted,
    /// Unknown: what an option value out of range gets
    #[arg(long, value_enum, default_value_t = OptionValues::Rejected)]
    option_values: OptionValues,
}

impl Args {
    fn into_config(self) -> EmulatorConfig {
        EmulatorConfig {
            token: self.token,
            extra_tokens: self.extra_tokens,
            rate_limit_per_token: self.rate_limit_per_token,
            profiles: self.profiles,
            latency: Duration::from_millis(self.latency_ms),
            rps: self.rps,
            burst: self.burst,
            fail_rate: self.fail_rate,
            seed: self.seed,
            max_rules: self.max_rules,
            allow_redirect: self.allow_redirect,
            serve_dir: self.serve_dir,
            lists_unavailable: self.lists_unavailable,
            lists_retry_after: self.lists_retry_after,
            state_file: self.state_file,
            stable_pks: self.stable_pks,
            folder_pks: self.folder_pks,
            behaviour: Behaviour {
                gone_folder_delete: self.gone_folder_delete,
                same_folder_put: self.same_folder_put,
                partial_put: self.partial_put,
                folder_count: self.folder_count,
                updated_on_rule_change: self.updated_on_rule_change,
                json_truncated: self.json_truncated,
                refuse_form_variables_over: self.refuse_form_variables_over,
                filter_writes: SettingsWrite {
                    repeat: self.filter_repeat,
                    updated: self.filter_updated,
                },
                service_writes: SettingsWrite {
                    repeat: self.service_repeat,
                    updated: self.service_updated,
                },
                default_writes: SettingsWrite {
                    repeat: self.default_repeat,
                    updated: self.default_updated,
                },
                option_writes: SettingsWrite {
                    repeat: self.option_repeat,
                    updated: self.option_updated,
                },
                default_omitted: self.default_omitted,
                default_disable: self.default_disable,
                service_omitted: self.service_omitted,
                option_values: self.option_values,
            },
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let listen = args.listen;
    let emulator = Emulator::start(args.into_config(), listen)
        .await
        .context("controld-emulator could not start")?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "listening on {}", emulator.url())?;
    stdout.flush()?;
    tokio::signal::ctrl_c()
        .await
        .context("cannot wait for Ctrl-C")?;
    emulator.shutdown();
    Ok(())
}
