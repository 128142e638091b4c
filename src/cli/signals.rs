//! SIGINT and SIGTERM while access is being changed. Until the first change is applied, the
//! defaults hold: the process ends and nothing was written. While a plan is applied, the first
//! signal asks it to stop after the write in flight (which is journaled and reported, and the
//! command exits 130 or 143); a second one ends the process at once. Once a listener exists,
//! a signal outside of applying ends the process as the default would, after removing the
//! temporary files registered with [`remove_on_signal`] (a snapshot being written).

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

/// A signal asked the change in progress to stop: its number (2 or 15).
static REQUESTED: AtomicI32 = AtomicI32::new(0);
static APPLYING: AtomicBool = AtomicBool::new(false);
static LISTENING: AtomicBool = AtomicBool::new(false);

/// Files a signal that ends the process removes first.
static LEFT_BEHIND: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

pub(crate) const SIGINT: i32 = 2;
pub(crate) const SIGTERM: i32 = 15;

/// While alive, signals stop the plan being applied instead of the process.
pub(crate) struct Applying(());

impl Drop for Applying {
    fn drop(&mut self) {
        APPLYING.store(false, Ordering::SeqCst);
    }
}

/// Marks the start of applying a plan (inside a tokio runtime).
pub(crate) fn applying() -> Applying {
    REQUESTED.store(0, Ordering::SeqCst);
    APPLYING.store(true, Ordering::SeqCst);
    if !LISTENING.swap(true, Ordering::SeqCst) {
        listen();
    }
    Applying(())
}

/// While alive, a signal that ends the process removes a temporary file first: a snapshot's
/// (for a refresh, a copy of the old one, tens of MB) is otherwise left behind by Ctrl-C.
pub(crate) struct RemovedOnSignal(PathBuf);

impl Drop for RemovedOnSignal {
    fn drop(&mut self) {
        let mut files = LEFT_BEHIND.lock().unwrap_or_else(|e| e.into_inner());
        files.retain(|f| f != &self.0);
    }
}

/// Removes `path` if a signal ends the process while the guard lives (inside a tokio runtime).
pub(crate) fn remove_on_signal(path: PathBuf) -> RemovedOnSignal {
    LEFT_BEHIND
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(path.clone());
    if !LISTENING.swap(true, Ordering::SeqCst) {
        listen();
    }
    RemovedOnSignal(path)
}

/// The signal that asked the current plan to stop, if one did.
pub(crate) fn requested() -> Option<i32> {
    match REQUESTED.load(Ordering::SeqCst) {
        0 => None,
        n => Some(n),
    }
}

fn on_signal(signal: i32) {
    let applying = APPLYING.load(Ordering::SeqCst);
    if applying && REQUESTED.load(Ordering::SeqCst) == 0 {
        REQUESTED.store(signal, Ordering::SeqCst);
        eprintln!(
            "\nstopping after the change in flight; what landed is journaled (signal again to stop at once)"
        );
        return;
    }
    if applying {
        eprintln!(
            "\nstopped at once: the change in flight may or may not have landed and is not journaled; check with `segment-access list grants`"
        );
    }
    // A prompt may have hidden the cursor.
    if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        eprint!("\x1b[?25h");
    }
    for f in LEFT_BEHIND.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        let _ = std::fs::remove_file(f);
    }
    std::process::exit(128 + signal);
}

/// Registers the handlers now (so no signal between here and the first write takes the default
/// path), and serves them for the rest of the process.
#[cfg(unix)]
fn listen() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return;
    };
    tokio::spawn(async move {
        loop {
            let n = tokio::select! {
                _ = int.recv() => SIGINT,
                _ = term.recv() => SIGTERM,
            };
            on_signal(n);
        }
    });
}

#[cfg(not(unix))]
fn listen() {
    tokio::spawn(async {
        while tokio::signal::ctrl_c().await.is_ok() {
            on_signal(SIGINT);
        }
    });
}
