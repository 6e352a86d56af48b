//! The API session of a command: base URL, token per profile, and one shared client per account
//! token (so one pacing controller per token), all under one `--max-rps` ceiling when set.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use super::pacing_memory;
use super::sandbox::Sandbox;
use super::{Context, TokenSource};
use crate::config::{ApiConfig, Config, ProfileConfig};
use crate::controld::{
    check_base_url, CallStats, Client, ClientConfig, RateCeiling, RequestLog, Token,
};
use crate::error::{Error, Result};
use crate::printer::{Printer, Verbosity};

/// Control D's API when neither `--api-url`, `CTRLD_API_URL` nor the config names another.
pub(crate) const DEFAULT_API_URL: &str = "https://api.controld.com";

pub(crate) use crate::config::DEFAULT_TOKEN_ENV;

/// Command-line overrides of the config's `[api]` settings (apply's `--max-rps`, `--parallelism`).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ApiOverrides {
    pub max_rps: Option<f64>,
    pub parallelism: Option<usize>,
}

/// Builds clients lazily: profiles sharing an account token share one client (one pacing
/// controller), whichever variables hold it.
#[derive(Debug)]
pub(crate) struct Session {
    base_url: Url,
    /// `--max-rps` / `[api] max_rps`: one ceiling over every client of the run.
    ceiling: Option<RateCeiling>,
    parallelism: usize,
    timeout: Duration,
    /// By sha256 of the token, so that not even a debug print shows a token.
    clients: BTreeMap<String, Client>,
    /// Each profile's handle on its token's client, with its own in-flight slots.
    by_profile: BTreeMap<String, Client>,
    /// With `--sandbox`, the in-process emulator every client talks to; it lives as long as the session.
    sandbox: Option<Sandbox>,
    /// With `-vv`: one stderr line per HTTP attempt of every client.
    request_log: Option<RequestLog>,
    /// Where the tokens are read (the environment, unless the caller gave them).
    tokens: TokenSource,
    /// With [`Session::remember_pacing_in`]: the state dir whose `.pacing` files seed each
    /// token's pacing, and each profile's token, to write them back after the run.
    pacing_memory: Option<PathBuf>,
    profile_tokens: BTreeMap<String, Token>,
}

impl Session {
    pub(crate) fn new(context: &Context, config: &Config, overrides: ApiOverrides) -> Result<Self> {
        let profile_ids: Vec<String> = config.profiles.iter().map(|p| p.id.clone()).collect();
        Self::with_api(context, &config.api, &profile_ids, overrides)
    }

    /// A session from `[api]` settings alone (`init --from-profile` has no config yet).
    pub(crate) fn with_api(
        context: &Context,
        api: &ApiConfig,
        profile_ids: &[String],
        overrides: ApiOverrides,
    ) -> Result<Self> {
        let sandbox = match context.sandbox {
            true => Some(start_sandbox(context, profile_ids)?),
            false => None,
        };
        let base_url = match &sandbox {
            Some(sandbox) => base_url(Some(&sandbox.url()), None)?,
            None => base_url(context.api_url.as_deref(), api.base_url.as_deref())?,
        };
        Ok(Self {
            base_url,
            ceiling: overrides.max_rps.or(api.max_rps).and_then(RateCeiling::new),
            parallelism: overrides
                .parallelism
                .or(api.parallelism)
                .unwrap_or(ClientConfig::DEFAULT_PARALLELISM),
            timeout: api.timeout.unwrap_or(ClientConfig::DEFAULT_TIMEOUT),
            clients: BTreeMap::new(),
            by_profile: BTreeMap::new(),
            sandbox,
            request_log: request_log(&context.printer),
            tokens: context.tokens.clone(),
            pacing_memory: None,
            profile_tokens: BTreeMap::new(),
        })
    }

    /// Seeds each token's pacing from the rate measured in an earlier run, kept in `state_dir`,
    /// and lets [`Session::save_pacing`] keep this run's. Never with `--sandbox`.
    pub(crate) fn remember_pacing_in(&mut self, state_dir: PathBuf) {
        if self.sandbox.is_none() {
            self.pacing_memory = Some(state_dir);
        }
    }

    /// Keeps each profile's token's measured rate for the next run (when remembering); says
    /// which files could not be written (the run's outcome does not depend on them).
    pub(crate) fn save_pacing(&self) -> Vec<String> {
        let Some(dir) = &self.pacing_memory else {
            return Vec::new();
        };
        let mut failed = Vec::new();
        for (profile, client) in &self.by_profile {
            let (Some(rps), Some(token)) =
                (client.measured_rps(), self.profile_tokens.get(profile))
            else {
                continue;
            };
            if let Err(err) = pacing_memory::remember(dir, profile, token, rps) {
                failed.push(err.to_string());
            }
        }
        failed
    }

    /// `profile`'s handle on the client of its token (built on first use of that token): the
    /// token's pacing, the profile's own `parallelism` requests in flight.
    pub(crate) fn client(&mut self, profile: &ProfileConfig) -> Result<Client> {
        if let Some(client) = self.by_profile.get(&profile.id) {
            return Ok(client.clone());
        }
        let client = self.token_client(profile)?.with_own_slots();
        self.by_profile.insert(profile.id.clone(), client.clone());
        Ok(client)
    }

    fn token_client(&mut self, profile: &ProfileConfig) -> Result<Client> {
        let token = match &self.sandbox {
            Some(sandbox) => sandbox.token(),
            None => read_token(profile, token_variable(profile), &self.tokens)?,
        };
        let key = crate::hash::sha256_hex(token.expose().as_bytes());
        let seed = self.pacing_memory.as_deref().and_then(|dir| {
            self.profile_tokens
                .insert(profile.id.clone(), token.clone());
            pacing_memory::recall(dir, &profile.id, &token)
        });
        if let Some(client) = self.clients.get(&key) {
            return Ok(client.clone());
        }
        let mut config = ClientConfig::new(self.base_url.clone(), token);
        config.ceiling = self.ceiling.clone();
        config.parallelism = self.parallelism;
        config.timeout = self.timeout;
        config.request_log = self.request_log.clone();
        let client = Client::new(config)?;
        if let Some(rps) = seed {
            client.seed_pacing(rps);
        }
        self.clients.insert(key, client.clone());
        Ok(client)
    }

    /// Calls made by every client of this session.
    pub(crate) fn stats(&self) -> CallStats {
        let mut total = CallStats::default();
        for stats in self.clients.values().map(Client::stats) {
            total.merge(&stats);
        }
        total
    }
}

/// `-vv`: every API request on stderr, as `api: GET /profiles/p1/groups -> 200 in 12 ms, retry 0`.
fn request_log(printer: &Printer) -> Option<RequestLog> {
    if printer.verbosity() < Verbosity::Debug {
        return None;
    }
    let printer = printer.clone();
    Some(RequestLog::new(move |record| {
        printer.debug(format!("api: {record}"))
    }))
}

fn start_sandbox(context: &Context, profile_ids: &[String]) -> Result<Sandbox> {
    if context.api_url.is_some() {
        context.printer.warn(
            "--sandbox ignores --api-url / CTRLD_API_URL: it talks only to the bundled emulator",
        );
    }
    Sandbox::start(&context.state_dir, profile_ids, &context.printer)
}

/// `--api-url` (or `CTRLD_API_URL`) > config `api.base_url` > [`DEFAULT_API_URL`], checked by the
/// client's one base-URL check (https; plain http only for loopback hosts; no credentials).
pub(crate) fn base_url(flag: Option<&str>, config: Option<&str>) -> Result<Url> {
    let (text, origin) = match (flag, config) {
        (Some(url), _) => (url, "--api-url / CTRLD_API_URL"),
        (None, Some(url)) => (url, "the config's api.base_url"),
        (None, None) => (DEFAULT_API_URL, "the default"),
    };
    let url = Url::parse(text.trim()).map_err(|err| {
        Error::Usage(format!(
            "API URL `{text}` from {origin} is not a URL: {err}"
        ))
    })?;
    check_base_url(&url).map_err(|err| Error::Usage(format!("{err} (from {origin})")))?;
    Ok(url)
}

fn token_variable(profile: &ProfileConfig) -> &str {
    profile.token_env.as_deref().unwrap_or(DEFAULT_TOKEN_ENV)
}

fn read_token(profile: &ProfileConfig, variable: &str, tokens: &TokenSource) -> Result<Token> {
    match tokens.get(variable) {
        Some(token) if !token.trim().is_empty() => Ok(Token::new(token.trim())),
        _ => Err(Error::Usage(format!(
            "profile {}: no API token in ${variable}; create an API token in the Control D dashboard under \
             Preferences > API, then export {variable}=... (or plan from state files alone with \
             --refresh none)",
            profile.id
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(id: &str, token_env: &str) -> ProfileConfig {
        ProfileConfig {
            id: id.into(),
            name: None,
            token_env: Some(token_env.into()),
            folders: Vec::new(),
            settings: Default::default(),
        }
    }

    #[test]
    fn profiles_share_one_client_per_token_whichever_variables_hold_it() {
        let given = [
            ("A", "token-one"),
            ("B", " token-one\n"),
            ("C", "token-two"),
        ]
        .map(|(name, token)| (format!("CTRLD_SYNC_SESSION_TEST_{name}"), token.to_string()));
        let context = Context {
            printer: Printer::new(Verbosity::Quiet, true, false),
            config_path: "ctrld-sync.toml".into(),
            state_dir: "state".into(),
            api_url: Some("http://127.0.0.1:9".into()),
            sandbox: false,
            new_sandbox: false,
            tokens: TokenSource::Given(given.into_iter().collect()),
        };
        let mut session = Session::with_api(
            &context,
            &ApiConfig::default(),
            &[],
            ApiOverrides::default(),
        )
        .unwrap();
        for (id, variable) in [("p1", "A"), ("p2", "B"), ("p3", "C"), ("p1", "A")] {
            let variable = format!("CTRLD_SYNC_SESSION_TEST_{variable}");
            session.client(&profile(id, &variable)).unwrap();
        }
        assert_eq!(
            session.clients.len(),
            2,
            "one client (one pacing) per token"
        );
        assert_eq!(
            session.by_profile.len(),
            3,
            "one handle (own slots) per profile"
        );
    }

    #[test]
    fn url_precedence_and_loopback_rule() {
        let url = base_url(Some("http://127.0.0.1:8080"), Some("https://x.example")).unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:8080/");
        let url = base_url(None, Some("https://x.example")).unwrap();
        assert_eq!(url.host_str(), Some("x.example"));
        assert_eq!(
            base_url(None, None).unwrap().as_str(),
            "https://api.controld.com/"
        );
        let err = base_url(Some("http://api.example.com"), None).unwrap_err();
        assert!(err.to_string().contains("plain http"), "{err}");
    }
}
