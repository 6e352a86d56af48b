//! A faithful fake of the Control D API over real HTTP, for tests, benchmarks and `--sandbox`.
//!
//! It reproduces the API's envelope and error codes (auth failures as HTTP 400 / 40001), folders
//! with integer PKs and `count`, profile-wide hostname uniqueness, whole-request atomicity, the
//! silent truncation of form bodies after 1,001 variables, the rule limit, and one-hostname
//! DELETE, and a profile's settings beyond folders (native and external filters, service rules,
//! the default rule, options). Knobs add latency, a rate limit (429 + `Retry-After`) and seeded
//! faults, and choose an answer to each point the API facts leave unknown ([`Behaviour`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), controld_emulator::EmulatorError> {
//! use controld_emulator::{Emulator, EmulatorConfig};
//! let emulator = Emulator::start(EmulatorConfig::default(), "127.0.0.1:0".parse().unwrap()).await?;
//! println!("{}", emulator.url()); // token "test-token", one empty profile "p1"
//! # Ok(()) }
//! ```

#![warn(unreachable_pub)]

mod api_error;
mod behaviour;
mod catalogue;
mod config;
mod dump;
mod envelope;
mod error;
mod faults;
mod fields;
mod form;
mod http;
mod limiter;
mod lists;
mod options;
mod persist;
mod route;
mod settings;
mod settings_api;
mod settings_fields;
mod settings_route;
mod settings_views;
mod shared;
mod stats;
mod store;
mod views;

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::oneshot;

pub use behaviour::{
    Behaviour, DefaultDisable, DefaultOmitted, FolderCount, GoneFolderDelete, OptionValues,
    PartialPut, RepeatWrite, SameFolderPut, ServiceOmitted, SettingsWrite, UpdatedMoves,
};
pub use config::{EmulatorConfig, FolderPks, DEFAULT_MAX_RULES, DEFAULT_TOKEN};
pub use dump::{ActionDump, Dump, FolderDump, ProfileDump, RuleDump, SettingsDump};
pub use error::EmulatorError;
pub use form::{MAX_FORM_VARIABLES, REFUSED_HOSTNAME_VARIABLES};
pub use stats::Stats;

use shared::Shared;

/// How long a stopping server may take to finish in-flight requests.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// A running emulator. Stops on [`Emulator::shutdown`] or when dropped.
pub struct Emulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// A server running as a task of the current runtime.
struct Running {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

async fn launch(config: EmulatorConfig, listen: SocketAddr) -> Result<Running, EmulatorError> {
    let shared = Arc::new(Shared::new(config)?);
    let bind_error = |source| EmulatorError::Bind {
        addr: listen,
        source,
    };
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(bind_error)?;
    let addr = listener.local_addr().map_err(bind_error)?;
    let (stop, stopped) = oneshot::channel::<()>();
    let app = http::router(shared.clone());
    let task = tokio::spawn(async move {
        let server = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = stopped.await;
        });
        if let Err(error) = server.await {
            eprintln!("controld-emulator: server on {addr} failed: {error}");
        }
    });
    Ok(Running {
        shared,
        addr,
        stop,
        task,
    })
}

impl Emulator {
    /// Starts on `listen` inside the current tokio runtime.
    pub async fn start(
        config: EmulatorConfig,
        listen: SocketAddr,
    ) -> Result<Emulator, EmulatorError> {
        let running = launch(config, listen).await?;
        Ok(Emulator {
            shared: running.shared,
            addr: running.addr,
            stop: Some(running.stop),
            thread: None,
        })
    }

    /// Starts on 127.0.0.1:0 in a background thread with its own runtime (for sync tests and for
    /// callers that must not depend on their runtime staying alive).
    pub fn start_background(config: EmulatorConfig) -> Result<Emulator, EmulatorError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("controld-emulator")
            .enable_all()
            .build()
            .map_err(EmulatorError::Runtime)?;
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let listen = SocketAddr::from(([127, 0, 0, 1], 0));
        let thread = std::thread::Builder::new()
            .name("controld-emulator".to_string())
            .spawn(move || run_background(runtime, config, listen, ready_tx, stopped))
            .map_err(EmulatorError::Runtime)?;
        let (shared, addr) = ready_rx.recv().map_err(|_| EmulatorError::ThreadDied)??;
        Ok(Emulator {
            shared,
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Request counts, the same shape as `GET /_emulator/stats`.
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    /// Requests received per `/_lists/` name (not counted in [`Emulator::stats`]).
    pub fn list_requests(&self) -> std::collections::BTreeMap<String, u32> {
        self.shared.lists.requests()
    }

    pub fn reset_stats(&self) {
        self.shared.reset_stats();
    }

    /// The whole data set; lists are sorted (folders by PK, rules by hostname).
    pub fn dump(&self) -> Dump {
        self.shared.dump()
    }

    /// Replaces the whole data set (and saves it to the state file, if any).
    pub fn load(&self, dump: Dump) {
        self.shared.load(dump);
    }

    /// Adds a folder as the Control D dashboard makes it: its action shows the integer `via: -1`.
    /// Returns the new PK. (Dumps do not record the dashboard origin.)
    pub fn add_dashboard_folder(&self, profile: &str, name: &str, kind: u8) -> Result<u64, String> {
        self.shared
            .add_dashboard_folder(profile, name, kind)
            .map_err(|error| error.to_string())
    }

    /// The next `count` requests to `template` (a route as the stats name it, e.g.
    /// `DELETE /profiles/{profile}/groups/{group}`) are carried out, then answered 502 as if the
    /// answer were lost on the way back.
    pub fn lose_next_answers(&self, template: &'static str, count: u32) {
        self.shared.lose_next_answers(template, count);
    }

    /// The next `count` requests to `template` are answered 500 (empty JSON) without being carried
    /// out: to a client that may not repeat the request, as unknown an outcome as a lost answer.
    pub fn fail_next_requests(&self, template: &'static str, count: u32) {
        self.shared.fail_next_requests(template, count);
    }

    /// After `skip` requests to `template`, the next one finds folder `pk` of `profile` already
    /// deleted with its rules, as if a person deleted it in the dashboard just before: a race no
    /// timing needs to win.
    pub fn delete_folder_before(&self, template: &'static str, skip: u32, profile: &str, pk: u64) {
        self.shared
            .delete_folder_before(template, skip, profile, pk);
    }

    /// The next `skip` requests to `template` are answered normally; the one after is carried out
    /// and answered 502, its answer lost.
    pub fn lose_answer_after(&self, template: &'static str, skip: u32) {
        self.shared.lose_answer_after(template, skip);
    }

    /// Tests flip faults on and off between phases.
    pub fn set_fail_rate(&self, p: f64) {
        self.shared.set_fail_rate(p);
    }

    /// Stops serving; also done on drop.
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop_now();
    }
}

type Ready = Result<(Arc<Shared>, SocketAddr), EmulatorError>;

/// The body of the background thread: serve until told to stop, then give in-flight requests a
/// short grace period and drop the runtime.
fn run_background(
    runtime: tokio::runtime::Runtime,
    config: EmulatorConfig,
    listen: SocketAddr,
    ready: std::sync::mpsc::Sender<Ready>,
    stopped: oneshot::Receiver<()>,
) {
    runtime.block_on(async move {
        let running = match launch(config, listen).await {
            Ok(running) => running,
            Err(error) => {
                let _ = ready.send(Err(error));
                return;
            }
        };
        let _ = ready.send(Ok((running.shared.clone(), running.addr)));
        let _ = stopped.await;
        let _ = running.stop.send(());
        let _ = tokio::time::timeout(SHUTDOWN_GRACE, running.task).await;
    });
    runtime.shutdown_timeout(Duration::from_millis(100));
}
