//! Command logic, one module per command; `cli.rs` only parses.

use std::path::{Path, PathBuf};

use crate::cli::{Cli, ColorChoice, Command, GlobalArgs, PlanFormat, Refresh};
use crate::error::Result;
use crate::exit::ExitStatus;
use crate::plan::render;
use crate::printer::{Printer, Verbosity};
use crate::refresh;

mod apply;
mod completions;
mod import_settings;
mod init;
mod pacing_memory;
pub(crate) mod pipeline;
pub(crate) mod plan;
pub(crate) mod probe;
mod progress;
pub(crate) mod sandbox;
mod schema;
pub(crate) mod session;
pub(crate) mod state;
mod validate;

/// What every command needs from the global flags.
#[derive(Clone, Debug)]
pub(crate) struct Context {
    pub printer: Printer,
    pub config_path: PathBuf,
    pub state_dir: PathBuf,
    pub api_url: Option<String>,
    pub sandbox: bool,
    /// `--sandbox` with no sandbox data yet: its own state files are read as empty
    /// ([`sandbox::read_states_as_new`]). Decided once, before anything runs.
    pub new_sandbox: bool,
    /// Where API tokens are read.
    pub tokens: TokenSource,
}

/// Where the API tokens (`CTRLD_API_TOKEN`, a profile's `token_env`) are read: the process
/// environment, or variables the caller gives (tests and programs that run commands in-process,
/// so that nobody sets a process-wide variable while other threads run).
#[derive(Clone, Default)]
pub enum TokenSource {
    #[default]
    Environment,
    Given(std::collections::BTreeMap<String, String>),
}

impl TokenSource {
    /// One variable's value.
    pub fn get(&self, variable: &str) -> Option<String> {
        match self {
            Self::Environment => std::env::var(variable).ok(),
            Self::Given(variables) => variables.get(variable).cloned(),
        }
    }
}

impl std::fmt::Debug for TokenSource {
    /// Names the variables, never their values (tokens).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Environment => f.write_str("Environment"),
            Self::Given(variables) => f.debug_tuple("Given").field(&variables.keys()).finish(),
        }
    }
}

impl Context {
    pub(crate) fn from_args(global: &GlobalArgs) -> Self {
        use std::io::IsTerminal;
        let no_color = std::env::var_os("NO_COLOR");
        let color_on = |terminal: bool| use_color(global.color, no_color.as_deref(), terminal);
        let printer = Printer::new(
            verbosity(global),
            global.no_progress,
            color_on(std::io::stderr().is_terminal()),
        )
        .with_stdout_color(color_on(std::io::stdout().is_terminal()));
        let state_dir = global
            .state_dir
            .clone()
            .or_else(|| crate::config::state_dir_setting(&global.config))
            .unwrap_or_else(|| default_state_dir(&global.config));
        Self {
            printer,
            config_path: global.config.clone(),
            api_url: global.api_url.clone(),
            sandbox: global.sandbox,
            new_sandbox: global.sandbox && sandbox::is_new(&state_dir),
            state_dir,
            tokens: TokenSource::Environment,
        }
    }
}

/// `state/` beside the config file (when neither `--state-dir` nor the config's `state_dir` names one).
fn default_state_dir(config: &Path) -> PathBuf {
    match config.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join("state"),
        _ => PathBuf::from("state"),
    }
}

fn verbosity(global: &GlobalArgs) -> Verbosity {
    match (global.quiet, global.verbose) {
        (true, _) => Verbosity::Quiet,
        (false, 0) => Verbosity::Normal,
        (false, 1) => Verbosity::Verbose,
        (false, _) => Verbosity::Debug,
    }
}

/// `--color`, then `NO_COLOR` (https://no-color.org: set and not empty), then whether the stream
/// is a terminal.
fn use_color(choice: ColorChoice, no_color: Option<&std::ffi::OsStr>, terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => no_color.is_none_or(|value| value.is_empty()) && terminal,
    }
}

/// Runs the parsed command line, with the API tokens from the process environment.
pub(crate) async fn run(cli: Cli) -> Result<ExitStatus> {
    run_with_tokens(cli, TokenSource::Environment).await
}

/// Runs the parsed command line, reading the API tokens from `tokens`.
pub(crate) async fn run_with_tokens(cli: Cli, tokens: TokenSource) -> Result<ExitStatus> {
    let mut context = Context::from_args(&cli.global);
    context.tokens = tokens;
    match cli.command {
        Command::Completions { shell } => completions::run(&context, shell),
        Command::Validate(args) => validate::run(&context, args).await,
        Command::Plan(args) => plan::run(&context, args).await,
        Command::State(crate::cli::StateCommand::Show { profiles }) => {
            state::show(&context, &profiles)
        }
        Command::Apply(args) => apply::run(&context, args).await,
        Command::Init(args) => init::run(&context, args).await,
        Command::Schema => schema::run(&context),
        Command::Probe(args) => probe::run(&context, args).await,
    }
}

/// The CLI's `--refresh` as the refresh stage's mode.
fn refresh_mode(refresh: Refresh) -> refresh::Mode {
    match refresh {
        Refresh::Auto => refresh::Mode::Auto,
        Refresh::Full => refresh::Mode::Full,
        Refresh::None => refresh::Mode::None,
    }
}

/// The CLI's `--format` as the renderer's format.
fn plan_format(format: PlanFormat) -> render::Format {
    match format {
        PlanFormat::Text => render::Format::Text,
        PlanFormat::Json => render::Format::Json,
        PlanFormat::Markdown => render::Format::Markdown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_on_a_terminal_unless_no_color_or_never_and_always_when_asked() {
        let set = Some(std::ffi::OsStr::new("1"));
        let empty = Some(std::ffi::OsStr::new(""));
        assert!(use_color(ColorChoice::Auto, None, true));
        assert!(use_color(ColorChoice::Auto, empty, true));
        assert!(!use_color(ColorChoice::Auto, set, true));
        assert!(!use_color(ColorChoice::Auto, None, false));
        assert!(!use_color(ColorChoice::Never, None, true));
        assert!(use_color(ColorChoice::Always, None, false));
    }

    #[test]
    fn given_tokens_are_read_by_name_and_never_shown_by_a_debug_print() {
        let tokens = TokenSource::Given([("HOME_TOKEN".to_string(), "s3cret".to_string())].into());
        assert_eq!(tokens.get("HOME_TOKEN").as_deref(), Some("s3cret"));
        assert_eq!(tokens.get("OTHER"), None);
        let shown = format!("{tokens:?}");
        assert!(
            shown.contains("HOME_TOKEN") && !shown.contains("s3cret"),
            "{shown}"
        );
    }
}
