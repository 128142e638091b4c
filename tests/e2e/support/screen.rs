//! The binary on a real terminal: a detached tmux session on its own server socket (in the
//! test's temp dir), so tests never touch a person's tmux and can run in parallel. The pane
//! stays after the program ends (remain-on-exit) and the last line is `EXITED <code>`.

use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::time::Duration;

use segment_access::emulator::BlockingEmulator;
use tempfile::TempDir;

use super::{BIN, OWNER, have_tool, temp_dir, wait_until};

/// A Ctrl-C kills the binary but not the shell around it, which goes on to print the exit code.
/// (A trapped signal is reset to its default in the child; an ignored one would stay ignored.)
const TRAP: &str = "trap 'true' INT";

/// How long a screen may take to show what a test waits for.
const SCREEN_WAIT: Duration = Duration::from_secs(60);

/// What to run and on what terminal.
pub struct Spec<'a> {
    /// Names the temp dir.
    pub name: &'a str,
    /// Shell words after the binary's path.
    pub args: &'a str,
    pub width: u16,
    pub height: u16,
    /// The state directory (journal); `None`: the screen's own temp dir.
    pub state: Option<&'a Path>,
    /// Print `PID <n>` (the binary's own process id) before it runs, for tests that signal it.
    pub pid: bool,
    /// Keep every byte the terminal is sent (see [`Screen::raw`]), from before the binary
    /// starts: frames drawn and cleared again are in it, which no capture of the screen shows.
    pub record: bool,
}

impl<'a> Spec<'a> {
    pub fn new(name: &'a str, args: &'a str) -> Spec<'a> {
        Spec {
            name,
            args,
            width: 160,
            height: 50,
            state: None,
            pid: false,
            record: false,
        }
    }
}

pub struct Screen {
    socket: PathBuf,
    dir: TempDir,
}

impl Screen {
    /// Starts `segment-access <args>` against `emu` in a 160x50 terminal; `None` (the test
    /// skips) only outside CI when tmux is missing: in CI that fails the test.
    pub fn start(emu: &BlockingEmulator, name: &str, args: &str) -> Option<Screen> {
        Screen::start_with(emu, &Spec::new(name, args))
    }

    /// `start` in a terminal `width` columns wide.
    pub fn start_sized(
        emu: &BlockingEmulator,
        name: &str,
        args: &str,
        width: u16,
    ) -> Option<Screen> {
        Screen::start_with(
            emu,
            &Spec {
                width,
                ..Spec::new(name, args)
            },
        )
    }

    pub fn start_with(emu: &BlockingEmulator, spec: &Spec<'_>) -> Option<Screen> {
        if !have_tool("tmux", "tmux") {
            return None;
        }
        let dir = temp_dir(spec.name);
        let script = dir.path().join("run.sh");
        let state = spec.state.unwrap_or(dir.path());
        let run = if spec.pid {
            format!(
                "sh -c 'echo \"PID $$\"; exec \"$@\"' sh '{BIN}' {}",
                spec.args
            )
        } else {
            format!("'{BIN}' {}", spec.args)
        };
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nexport SEGMENT_API_URL='{url}' SEGMENT_TOKEN='{OWNER}' SEGMENT_ACCESS_STATE_DIR='{state}' HOME='{home}' NO_COLOR=1 TERM=xterm\n{TRAP}\n{wait}{run}\necho \"EXITED $?\"\n",
                url = emu.url(),
                state = state.display(),
                home = dir.path().display(),
                // A recorded screen waits for the recording to start.
                wait = if spec.record { "read go\n" } else { "" },
            ),
        )
        .expect("script");
        let config = dir.path().join("tmux.conf");
        std::fs::write(&config, "set-option -g remain-on-exit on\n").expect("tmux.conf");
        let socket = dir.path().join("tmux.sock");
        let status = Process::new("tmux")
            .arg("-S")
            .arg(&socket)
            .arg("-f")
            .arg(&config)
            .args(["new-session", "-d", "-x"])
            .arg(spec.width.to_string())
            .arg("-y")
            .arg(spec.height.to_string())
            .args(["-s", "t", "sh"])
            .arg(&script)
            .status()
            .expect("tmux runs");
        assert!(status.success(), "tmux session starts");
        let screen = Screen { socket, dir };
        if spec.record {
            let log = screen.dir.path().join("pane.log");
            let piped = screen
                .tmux()
                .args(["pipe-pane", "-t", "t"])
                .arg(format!("cat > '{}'", log.display()))
                .status()
                .expect("pipe-pane")
                .success();
            assert!(piped, "tmux records the pane");
            assert!(
                wait_until(SCREEN_WAIT, || log.exists()),
                "the recording starts"
            );
            screen.keys(&["Enter"]);
        }
        Some(screen)
    }

    /// Every byte the terminal was sent since the binary started (a screen started with
    /// `record`).
    pub fn raw(&self) -> String {
        let log = self.dir.path().join("pane.log");
        String::from_utf8_lossy(&std::fs::read(log).unwrap_or_default()).into_owned()
    }

    fn tmux(&self) -> Process {
        let mut c = Process::new("tmux");
        c.arg("-S").arg(&self.socket);
        c
    }

    /// Everything the pane shows and has scrolled past, lines joined where they wrapped.
    pub fn text(&self) -> String {
        self.capture(&["-J", "-S", "-1000"])
    }

    /// The visible screen, line by line as the terminal shows it (nothing joined).
    pub fn visible(&self) -> String {
        self.capture(&[])
    }

    fn capture(&self, how: &[&str]) -> String {
        let out = self
            .tmux()
            .args(["capture-pane", "-p"])
            .args(how)
            .args(["-t", "t"])
            .output()
            .expect("capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until the screen shows `what`, failing with the screen after `SCREEN_WAIT`.
    pub fn wait_for(&self, what: &str) -> String {
        let mut screen = String::new();
        let shown = wait_until(SCREEN_WAIT, || {
            screen = self.text();
            screen.contains(what)
        });
        assert!(shown, "timed out waiting for {what:?}; screen:\n{screen}");
        screen
    }

    /// Waits until the screen has `what` more often than it had before.
    pub fn wait_for_more(&self, what: &str, before: usize) -> String {
        let mut screen = String::new();
        let shown = wait_until(SCREEN_WAIT, || {
            screen = self.text();
            screen.matches(what).count() > before
        });
        assert!(
            shown,
            "timed out waiting for another {what:?}; screen:\n{screen}"
        );
        screen
    }

    pub fn count(&self, what: &str) -> usize {
        self.text().matches(what).count()
    }

    pub fn keys(&self, keys: &[&str]) {
        let status = self
            .tmux()
            .args(["send-keys", "-t", "t"])
            .args(keys)
            .status()
            .expect("send-keys");
        assert!(status.success());
    }

    /// Types text literally (no key-name lookup).
    pub fn type_text(&self, text: &str) {
        let status = self
            .tmux()
            .args(["send-keys", "-t", "t", "-l", text])
            .status()
            .expect("send-keys");
        assert!(status.success());
    }

    /// Presses one key at the prompt that shows `prompt`, then waits for `then`.
    pub fn press(&self, prompt: &str, key: &str, then: &str) -> String {
        self.wait_for(prompt);
        self.type_text(key);
        self.wait_for(then)
    }

    /// The binary's process id (a screen started with `pid`).
    pub fn pid(&self) -> String {
        let screen = self.wait_for("PID ");
        screen
            .lines()
            .find_map(|l| l.strip_prefix("PID "))
            .expect("a PID line")
            .trim()
            .to_string()
    }

    pub fn state_dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        let _ = self.tmux().arg("kill-server").status();
    }
}
