//! The context every command runs in: its resolved settings, the terminal facts, its streams,
//! the prompter, the renderer, and the one API client of the command. As gh's IOStreams and
//! Prompter do, it lets a test run a command with scripted answers and captured output.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::access::{Progress, Source};
use crate::auth::Settings;
use crate::auth::settings::Flags;
use crate::output::{Format, Renderer, TableFlags, Tabular};
use crate::segment::{Client, ClientConfig, Token};

use super::error::CliError;
use super::prompt::{Prompter, TerminalPrompter};
use super::terminal::{Streams, Terminal};
use super::{GlobalArgs, color, progress};

/// How much of the workspace a read-only question needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Breadth {
    /// Every user's permissions: one request per user live, minutes on a large workspace;
    /// what the cache is for.
    Everyone,
    /// A list, one user or one group: a few requests live, fewer than a cache refresh.
    Few,
}

pub(crate) struct Context {
    pub global: GlobalArgs,
    pub settings: Settings,
    pub term: Terminal,
    pub io: Streams,
    pub prompter: Box<dyn Prompter>,
    pub renderer: Renderer,
    /// Where the journal lives (`SEGMENT_ACCESS_STATE_DIR`, else the platform's state
    /// directory); `None` when the platform has none.
    pub state_dir: Option<PathBuf>,
    client: Option<Client>,
    /// A long live read here could be answered from the cache instead (a read-only command
    /// that takes --cached, not using it): the progress line says so.
    cache_would_help: bool,
    demo: Option<crate::emulator::RunningEmulator>,
}

impl Context {
    /// The context of this process: its terminal, its streams, its config.
    pub(crate) fn new(global: GlobalArgs) -> Result<Context, CliError> {
        let settings = Settings::resolve(flags(&global))?;
        let term = Terminal::detect();
        let prompter = Box::new(TerminalPrompter::new(&term));
        let colors = color::decide(global.color_choice());
        if !global.quiet {
            for w in &settings.warnings {
                eprintln!("{w}");
            }
        }
        Context::with(
            global,
            settings,
            term,
            Streams::process(),
            prompter,
            colors.stdout,
            crate::access::journal::default_dir(),
        )
    }

    /// A context from parts: what `new` uses, and what tests build with fake streams.
    pub(crate) fn with(
        global: GlobalArgs,
        settings: Settings,
        term: Terminal,
        io: Streams,
        prompter: Box<dyn Prompter>,
        color: bool,
        state_dir: Option<PathBuf>,
    ) -> Result<Context, CliError> {
        let asked = if global.json {
            Some(Format::Json)
        } else {
            global.format
        };
        crate::output::check_jq(asked, global.jq.is_some())
            .map_err(|e| CliError::usage(e.to_string()))?;
        let format = asked.or(settings.format).unwrap_or(Format::Table);
        let flags = TableFlags {
            wide: global.wide,
            no_headers: global.no_headers,
        };
        let renderer = Renderer::new(format, global.jq.as_deref(), term.width, color)
            .map_err(|e| CliError::usage(e.to_string()))?
            .with_table_flags(flags);
        Ok(Context {
            global,
            settings,
            term,
            io,
            prompter,
            renderer,
            state_dir,
            client: None,
            cache_would_help: false,
            demo: None,
        })
    }

    /// The API client of this command (one per command, so pacing is shared by every request),
    /// starting the demo emulator first if asked.
    pub(crate) async fn client(&mut self) -> Result<Client, CliError> {
        if let Some(c) = &self.client {
            return Ok(c.clone());
        }
        let (url, token) = if self.global.demo {
            let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
            let emu = crate::emulator::start(crate::emulator::EmulatorConfig::default(), addr)
                .await
                .map_err(|e| CliError::failure(format!("cannot start the demo workspace: {e}")))?;
            let url = emu.url();
            self.demo = Some(emu);
            (url, Token::new(crate::emulator::DEFAULT_OWNER_TOKEN))
        } else {
            let token = self.settings.token(&mut self.io.stdin)?;
            (self.settings.api_url.clone(), token)
        };
        let mut cfg = ClientConfig::new(url, token);
        cfg.concurrency = usize::from(self.global.concurrency);
        cfg.timeout = Duration::from_secs(self.global.timeout);
        let client = Client::new(cfg)?;
        self.client = Some(client.clone());
        Ok(client)
    }

    /// Whether the answer to a read-only question of `breadth` comes from the profile's cache:
    /// with `--cached` always; with the profile's `cached = true` when it needs everyone's
    /// permissions (a narrow question costs fewer requests live than a refresh does); never
    /// with `--live` or for the demo workspace, which is new every run.
    pub(crate) fn use_cache(&self, breadth: Breadth) -> bool {
        !self.global.demo
            && !self.global.live
            && (self.global.cached || (self.settings.cached && breadth == Breadth::Everyone))
    }

    /// The workspace from the profile's cache, refreshed first; says on stderr how old it is
    /// and how it was refreshed.
    pub(crate) async fn cached_directory(
        &mut self,
        what: &str,
    ) -> Result<(crate::access::Directory, String), CliError> {
        use crate::snapshot::cache;
        let client = self.client().await?;
        self.settings.checked_config()?;
        let dir = cache::default_dir().ok_or_else(|| {
            CliError::failure(format!(
                "no cache directory on this system; set {} or use --live",
                cache::CACHE_DIR_ENV
            ))
        })?;
        let file = cache::path(&dir, &self.settings.profile);
        let _removed = super::signals::remove_on_signal(crate::snapshot::write::tmp_path(&file));
        let progress = self.progress(what);
        let cached = cache::load(
            &client,
            &file,
            &self.settings.profile,
            self.settings.cache_max_age_secs,
            super::VERSION,
            progress,
        )
        .await
        .map_err(|e| match e {
            cache::CacheError::Api(a) => CliError::from(a),
            other => CliError::failure(other.to_string()),
        })?;
        self.note(&cached.note);
        Ok((cached.dir, cached.api_url))
    }

    /// Where the answer to a read-only question of `breadth` comes from: a snapshot file when
    /// one is named, else the cache (see `use_cache`), else Segment.
    pub(crate) async fn source(
        &mut self,
        snapshot: Option<&Path>,
        breadth: Breadth,
    ) -> Result<Source, CliError> {
        match snapshot {
            Some(path) => {
                let snap = crate::snapshot::read(path)?;
                let api_url = snap.api_url();
                Ok(Source::loaded(snap.dir, api_url))
            }
            None if self.use_cache(breadth) => {
                let (dir, api_url) = self.cached_directory("Refreshing the cache").await?;
                Ok(Source::loaded(dir, api_url))
            }
            None => {
                if breadth == Breadth::Everyone {
                    self.reading_live();
                }
                Ok(Source::live(self.client().await?))
            }
        }
    }

    /// A live read for a read-only command that could have used the cache (see `source`).
    pub(crate) fn reading_live(&mut self) {
        self.cache_would_help = !self.global.demo;
    }

    /// A progress display on stderr, only on a terminal and without --quiet.
    pub(crate) fn progress(&self, what: &str) -> Arc<dyn Progress> {
        if self.term.stderr && !self.global.quiet {
            let hint = self.cache_would_help.then_some("--cached is faster");
            Arc::new(progress::Bar::new(what, self.client.clone(), hint))
        } else {
            Arc::new(crate::access::Quiet)
        }
    }

    /// A note for people on stderr (suppressed by --quiet).
    pub(crate) fn note(&mut self, msg: &str) {
        if !self.global.quiet {
            let _ = writeln!(self.io.err, "{msg}");
        }
    }

    /// Renders rows on stdout in the chosen format; the count of rows.
    pub(crate) fn print_list<T: Tabular>(
        &mut self,
        rows: impl IntoIterator<Item = T>,
    ) -> Result<usize, CliError> {
        let n = self.renderer.list(&mut self.io.out, rows)?;
        self.io.out.flush().map_err(CliError::stdout)?;
        Ok(n)
    }

    /// Renders one object on stdout.
    pub(crate) fn print_one<T: Tabular>(&mut self, item: &T) -> Result<(), CliError> {
        self.renderer.one(&mut self.io.out, item)?;
        self.io.out.flush().map_err(CliError::stdout)
    }

    pub(crate) async fn shutdown(mut self) {
        if let Some(d) = self.demo.take() {
            d.shutdown().await;
        }
    }
}

/// The settings the command line gives.
fn flags(global: &GlobalArgs) -> Flags {
    Flags {
        profile: global.profile.clone(),
        api_url: global.api_url.clone(),
        region: global.region,
        token_stdin: global.token_stdin,
    }
}
