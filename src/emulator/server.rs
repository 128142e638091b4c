//! The HTTP server: our own accept loop over hyper, so a handler can drop its TCP connection
//! without answering (the "reset" fault), which `axum::serve` cannot do.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::Body;
use axum::routing::{any, delete, get, post, put};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tower_service::Service;

use super::faults::FaultEngine;
use super::limits::Limiter;
use super::state::State;
use super::{AuditTrail, EmulatorConfig, EmulatorError, Faults, Latency, RateLimits, TokenSpec};
use super::{control, handlers, seed};

/// Knobs that can change while the emulator runs (`PATCH /_emulator/config`).
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Knobs {
    pub limits: RateLimits,
    pub latency: Latency,
    pub faults: Faults,
    pub rng_seed: u64,
    #[serde(default)]
    pub audit: AuditTrail,
}

#[derive(Debug, Default, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Stats {
    pub total_requests: u64,
    pub by_status: BTreeMap<u16, u64>,
    pub rate_limited: u64,
    pub faults: BTreeMap<String, u64>,
    pub by_route: BTreeMap<String, u64>,
    /// Milliseconds from the first Segment API request to the last answer: how long a client
    /// spent on the network, without its own start-up and output.
    pub span_ms: u64,
    #[serde(skip)]
    pub first_request: Option<std::time::Instant>,
}

pub(super) struct Shared {
    pub state: Mutex<State>,
    pub knobs: Mutex<Knobs>,
    pub tokens: Vec<TokenSpec>,
    pub limiter: Mutex<Limiter>,
    pub engine: Mutex<FaultEngine>,
    pub stats: Mutex<Stats>,
    /// One-shot test hooks (`POST /_emulator/hooks`).
    pub hooks: Mutex<Vec<control::Hook>>,
}

/// A poisoned lock only means another request panicked mid-update; the emulator keeps serving
/// rather than turning one bug into a cascade of failures.
pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Lets a handler drop the TCP connection it arrived on.
#[derive(Clone)]
pub(super) struct ConnKill(pub Arc<Notify>);

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(
            "/_emulator/state",
            get(control::get_state).post(control::post_state),
        )
        .route("/_emulator/stats", get(control::get_stats))
        .route("/_emulator/stats/reset", post(control::reset_stats))
        .route(
            "/_emulator/config",
            get(control::get_config)
                .put(control::patch_config)
                .patch(control::patch_config),
        )
        .route(
            "/_emulator/users/{user_id}/permissions",
            put(control::put_user_permissions),
        )
        .route(
            "/_emulator/groups/{group_id}/permissions",
            put(control::put_group_permissions),
        )
        .route(
            "/_emulator/group/{group_id}/users",
            put(control::put_group_users),
        )
        .route(
            "/_emulator/resources/{kind}/{id}",
            delete(control::delete_resource),
        )
        .route(
            "/_emulator/audit-events",
            get(control::get_audit_events).post(control::post_audit_event),
        )
        .route(
            "/_emulator/hooks",
            get(control::get_hooks).post(control::post_hook),
        )
        .route("/_emulator/{*rest}", any(control::not_found))
        .fallback(api_with_hooks)
        .with_state(shared)
}

/// Segment's API, then the test hooks: a hook fires after the answer is computed, so the
/// client gets the state before the change, as if the change landed right after its read.
async fn api_with_hooks(
    axum::extract::State(shared): axum::extract::State<Arc<Shared>>,
    req: axum::extract::Request,
) -> axum::response::Response {
    let is_get = req.method() == axum::http::Method::GET;
    let user_id = req
        .uri()
        .path()
        .strip_prefix("/users/")
        .filter(|rest| !rest.is_empty() && !rest.contains('/'))
        .map(str::to_string);
    let resp = handlers::api(axum::extract::State(shared.clone()), req).await;
    if let (true, Some(uid)) = (is_get && resp.status().is_success(), user_id) {
        control::after_user_get(&shared, &uid);
    }
    resp
}

/// A running emulator on the current tokio runtime.
pub struct RunningEmulator {
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningEmulator {
    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, drops open connections and waits for the accept loop to end.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}

/// Starts the emulator on `addr` (port 0 picks a free port) on the current tokio runtime.
pub async fn start(
    config: EmulatorConfig,
    addr: SocketAddr,
) -> Result<RunningEmulator, EmulatorError> {
    if config.tokens.is_empty() {
        return Err(EmulatorError::Config(
            "at least one token is required".into(),
        ));
    }
    let mut state = seed::build(&config.seed, config.rng_seed)?;
    state.audit_recording = config.audit.record;
    let shared = Arc::new(Shared {
        state: Mutex::new(state),
        knobs: Mutex::new(Knobs {
            limits: config.limits,
            latency: config.latency,
            faults: config.faults.clone(),
            rng_seed: config.rng_seed,
            audit: config.audit,
        }),
        tokens: config.tokens.clone(),
        limiter: Mutex::new(Limiter::default()),
        engine: Mutex::new(FaultEngine::new(config.rng_seed)),
        stats: Mutex::new(Stats::default()),
        hooks: Mutex::new(Vec::new()),
    });
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| EmulatorError::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| EmulatorError::Bind { addr, source })?;
    let (tx, rx) = watch::channel(false);
    let app = router(shared);
    let task = tokio::spawn(accept_loop(listener, app, rx));
    Ok(RunningEmulator {
        addr: local,
        shutdown: tx,
        task,
    })
}

async fn accept_loop(listener: TcpListener, app: Router, mut shutdown: watch::Receiver<bool>) {
    let mut conns = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let app = app.clone();
                let mut shutdown = shutdown.clone();
                conns.spawn(async move {
                    let kill = Arc::new(Notify::new());
                    let handle = ConnKill(kill.clone());
                    let svc = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                        req.extensions_mut().insert(handle.clone());
                        let mut app = app.clone();
                        app.call(req.map(Body::new))
                    });
                    let conn = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc);
                    // Dropping `conn` closes the socket with no response written.
                    tokio::select! {
                        _ = conn => {}
                        _ = kill.notified() => {}
                        _ = shutdown.changed() => {}
                    }
                });
                // Reap finished connections so the set does not grow without bound.
                while conns.try_join_next().is_some() {}
            }
        }
    }
    conns.abort_all();
    while conns.join_next().await.is_some() {}
}

/// An emulator on its own runtime in a background thread, for synchronous tests and tools.
pub struct BlockingEmulator {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BlockingEmulator {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for BlockingEmulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Runs the emulator on 127.0.0.1 (a free port) on its own tokio runtime in a background
/// thread; it shuts down when the returned value is dropped.
pub fn spawn_blocking(config: EmulatorConfig) -> Result<BlockingEmulator, EmulatorError> {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("segment-emulator".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready_tx.send(Err(EmulatorError::Runtime(e.to_string())));
                    return;
                }
            };
            rt.block_on(async move {
                let addr = SocketAddr::from(([127, 0, 0, 1], 0));
                match start(config, addr).await {
                    Ok(running) => {
                        let _ = ready_tx.send(Ok(running.addr()));
                        let _ = stop_rx.await;
                        running.shutdown().await;
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                }
            });
        })
        .map_err(|e| EmulatorError::Runtime(e.to_string()))?;
    let addr = ready_rx
        .recv()
        .map_err(|_| EmulatorError::Runtime("emulator thread exited early".into()))??;
    Ok(BlockingEmulator {
        addr,
        stop: Some(stop_tx),
        thread: Some(thread),
    })
}
