//! `segment-access completions SHELL`: completion scripts generated from the same clap
//! definitions as `--help`, so they can never offer a flag the parser rejects.

use std::ffi::OsStr;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, CommandFactory};
use clap_complete::Shell;
use clap_complete::engine::{CompletionCandidate, PathCompleter, ValueCompleter};

use super::{Cli, CliError, ExitCode};
use crate::access::{Directory, Need};
use crate::output::OutputError;

pub(crate) const AFTER_HELP: &str = "\
The scripts below complete subcommands, flags and fixed values (--format, --region, --color,
shells). To complete names too (profiles, roles, groups, user emails, resources, labels, and
`live` for diff), let the shell ask the binary as you type instead; names come from the
snapshot named on the line (--snapshot), else from the profile's cache when --cached has made
one, else from one quick read of the workspace (at most two seconds; nothing is offered when it
fails):
  bash        echo 'source <(COMPLETE=bash segment-access)' >> ~/.bashrc
  zsh         echo 'source <(COMPLETE=zsh segment-access)' >> ~/.zshrc
  fish        echo 'COMPLETE=fish segment-access | source' > ~/.config/fish/completions/segment-access.fish
  elvish      echo 'eval (E:COMPLETE=elvish segment-access | slurp)' >> ~/.config/elvish/rc.elv
  powershell  $env:COMPLETE = \"powershell\"; segment-access | Out-String | Invoke-Expression; Remove-Item Env:\\COMPLETE

Static scripts:
  bash        segment-access completions bash > ~/.local/share/bash-completion/completions/segment-access
  zsh         segment-access completions zsh > ~/.zfunc/_segment-access
              (with `fpath+=~/.zfunc` before `compinit` in ~/.zshrc)
  fish        segment-access completions fish > ~/.config/fish/completions/segment-access.fish
  powershell  segment-access completions powershell | Out-String | Invoke-Expression
              (in $PROFILE)
  elvish      eval (segment-access completions elvish | slurp)
              (in ~/.config/elvish/rc.elv)

Open a new shell afterwards.";

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Profile names from the config file, for `--profile` (dynamic completion only). A config
/// that cannot be read completes nothing rather than failing the shell.
pub(crate) fn profile_names() -> Vec<clap_complete::CompletionCandidate> {
    crate::auth::profiles::Config::load()
        .map(|(c, _)| {
            c.profiles
                .keys()
                .map(clap_complete::CompletionCandidate::new)
                .collect()
        })
        .unwrap_or_default()
}

/// The kinds of workspace names dynamic completion offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Roles,
    Groups,
    Users,
    Invites,
    /// Users by email, `group:<name>`, `invite:<email>`: what --to takes.
    Principals,
    /// `workspace`, `source:<slug>`, `warehouse:<name>`, ...: what --on and --resource take.
    Resources,
    /// `key=value`: what --label takes.
    Labels,
}

pub(crate) fn role_names() -> Vec<CompletionCandidate> {
    candidates(Kind::Roles)
}

pub(crate) fn group_names() -> Vec<CompletionCandidate> {
    candidates(Kind::Groups)
}

pub(crate) fn user_emails() -> Vec<CompletionCandidate> {
    candidates(Kind::Users)
}

pub(crate) fn invite_emails() -> Vec<CompletionCandidate> {
    candidates(Kind::Invites)
}

pub(crate) fn principals() -> Vec<CompletionCandidate> {
    candidates(Kind::Principals)
}

pub(crate) fn resources() -> Vec<CompletionCandidate> {
    candidates(Kind::Resources)
}

pub(crate) fn labels() -> Vec<CompletionCandidate> {
    candidates(Kind::Labels)
}

/// `diff`'s sides: `live`, or a snapshot file.
pub(crate) fn snapshot_or_live(current: &OsStr) -> Vec<CompletionCandidate> {
    let mut out = Vec::new();
    if "live".starts_with(&*current.to_string_lossy()) {
        out.push(CompletionCandidate::new("live").help(Some("the workspace as it is now".into())));
    }
    out.extend(PathCompleter::file().complete(current));
    out
}

fn candidates(kind: Kind) -> Vec<CompletionCandidate> {
    let line = Line::of_this_completion();
    let Some(dir) = names(&line, kind) else {
        return Vec::new();
    };
    let mut values = values(&dir, kind);
    values.sort_by_key(|v| v.to_lowercase());
    values.dedup();
    values.into_iter().map(CompletionCandidate::new).collect()
}

/// The names of one kind in a directory, as the command line writes them.
fn values(dir: &Directory, kind: Kind) -> Vec<String> {
    let users = || dir.users.iter().map(|u| u.email.clone());
    match kind {
        Kind::Roles => dir.roles.iter().map(|r| r.name.clone()).collect(),
        Kind::Groups => dir.groups.iter().map(|g| g.name.clone()).collect(),
        Kind::Users => users().collect(),
        Kind::Invites => dir.invites.clone(),
        Kind::Principals => users()
            .chain(dir.invites.iter().map(|e| format!("invite:{e}")))
            .chain(dir.groups.iter().map(|g| format!("group:{}", g.name)))
            .collect(),
        Kind::Resources => {
            let r = &dir.resources;
            std::iter::once("workspace".to_string())
                .chain(r.sources.iter().map(|s| format!("source:{}", s.slug)))
                .chain(
                    r.warehouses.iter().map(|w| {
                        format!("warehouse:{}", crate::access::directory::warehouse_name(w))
                    }),
                )
                .chain(
                    r.functions.iter().map(|f| {
                        format!("function:{}", crate::access::directory::function_name(f))
                    }),
                )
                .chain(
                    r.spaces.iter().map(|s| {
                        format!("space:{}", s.slug.clone().unwrap_or_else(|| s.name.clone()))
                    }),
                )
                .collect()
        }
        Kind::Labels => dir
            .labels
            .iter()
            .map(|l| format!("{}={}", l.key, l.value))
            .collect(),
    }
}

/// What the command line being completed says about where names come from.
#[derive(Debug, Default)]
struct Line {
    demo: bool,
    profile: Option<String>,
    api_url: Option<String>,
    snapshot: Option<PathBuf>,
    token_stdin: bool,
}

impl Line {
    /// The words after `--` of `COMPLETE=<shell> segment-access -- segment-access ...`.
    fn of_this_completion() -> Line {
        let words: Vec<String> = std::env::args().skip_while(|a| a != "--").skip(1).collect();
        Line::parse(&words)
    }

    fn parse(words: &[String]) -> Line {
        let mut line = Line::default();
        let mut it = words.iter().peekable();
        while let Some(w) = it.next() {
            let (flag, inline) = match w.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
                _ => (w.as_str(), None),
            };
            let mut value = || inline.clone().or_else(|| it.peek().map(|v| v.to_string()));
            match flag {
                "--demo" => line.demo = true,
                "--token-stdin" => line.token_stdin = true,
                "--profile" => line.profile = value(),
                "--api-url" => line.api_url = value(),
                "--snapshot" => line.snapshot = value().map(PathBuf::from),
                _ => {}
            }
        }
        line
    }
}

/// How long completion may wait for the workspace before offering nothing.
const QUICK: Duration = Duration::from_secs(2);

/// The names completion offers, from the first place that has them: a snapshot named on the
/// line, else the profile's cache (`--cached`) when one exists, as it is (completion does not
/// wait for a refresh), else one quick live read of just what `kind` needs. `None`, silently,
/// on any failure: completion never prints an error into the middle of a command line.
fn names(line: &Line, kind: Kind) -> Option<Directory> {
    if let Some(path) = &line.snapshot {
        return crate::snapshot::read(path).ok().map(|s| s.dir);
    }
    if !line.demo
        && let Some(dir) = cached(line)
    {
        return Some(dir);
    }
    if line.token_stdin {
        // The token would come from standard input, which is the shell's, not ours.
        return None;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    runtime.block_on(async {
        tokio::time::timeout(QUICK, read_live(line, kind))
            .await
            .ok()
            .flatten()
    })
}

/// The settings the line and the environment give (completion sees no parsed arguments).
fn flags(line: &Line) -> crate::auth::settings::Flags {
    crate::auth::settings::Flags {
        profile: line
            .profile
            .clone()
            .or_else(|| std::env::var("SEGMENT_PROFILE").ok()),
        api_url: line
            .api_url
            .clone()
            .or_else(|| std::env::var("SEGMENT_API_URL").ok()),
        ..Default::default()
    }
}

/// The profile's cache, if `--cached` has written one.
fn cached(line: &Line) -> Option<Directory> {
    use crate::snapshot::cache;
    let settings = crate::auth::Settings::resolve(flags(line)).ok()?;
    let file = cache::path(&cache::default_dir()?, &settings.profile);
    if !file.is_file() {
        return None;
    }
    crate::snapshot::read(&file).ok().map(|s| s.dir)
}

async fn read_live(line: &Line, kind: Kind) -> Option<Directory> {
    let mut demo = None;
    let (url, token) = if line.demo {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        let emu = crate::emulator::start(crate::emulator::EmulatorConfig::default(), addr)
            .await
            .ok()?;
        let url = emu.url();
        demo = Some(emu);
        (
            url,
            crate::segment::Token::new(crate::emulator::DEFAULT_OWNER_TOKEN),
        )
    } else {
        let settings = crate::auth::Settings::resolve(flags(line)).ok()?;
        let token = settings.token(&mut std::io::empty()).ok()?;
        (settings.api_url.clone(), token)
    };
    let mut cfg = crate::segment::ClientConfig::new(url, token);
    cfg.timeout = QUICK;
    cfg.max_attempts = 1;
    let client = crate::segment::Client::new(cfg).ok()?;
    let need = match kind {
        Kind::Roles => Need {
            roles: true,
            ..Need::default()
        },
        Kind::Groups => Need {
            groups: true,
            ..Need::default()
        },
        Kind::Users => Need {
            users: true,
            ..Need::default()
        },
        Kind::Invites => Need {
            invites: true,
            ..Need::default()
        },
        Kind::Principals => Need {
            users: true,
            invites: true,
            groups: true,
            ..Need::default()
        },
        Kind::Resources => Need {
            resources: true,
            ..Need::default()
        },
        Kind::Labels => Need {
            labels: true,
            ..Need::default()
        },
    };
    let dir = Directory::load(&client, need, std::sync::Arc::new(crate::access::Quiet))
        .await
        .ok();
    if let Some(emu) = demo {
        emu.shutdown().await;
    }
    dir
}

pub(crate) fn run(args: CompletionsArgs) -> Result<ExitCode, CliError> {
    let script = script(args.shell);
    let mut out = std::io::stdout().lock();
    out.write_all(&script)
        .and_then(|()| out.flush())
        .map_err(|e| CliError::from(OutputError::Io(e)))?;
    Ok(ExitCode::Ok)
}

/// The completion script, in memory: clap_complete panics when its writer fails, and a closed
/// pipe (`| head`) must end us quietly instead.
pub(crate) fn script(shell: Shell) -> Vec<u8> {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, BIN, &mut buf);
    if shell == Shell::Bash {
        buf = fix_bash(&buf);
    }
    buf
}

const BIN: &str = "segment-access";

/// clap_complete's bash script names the state of each command two ways when the program's
/// name has a hyphen: the loop that walks the words sets `segment__access__subcmd__list`,
/// but the cases that offer candidates are labelled `segment__subcmd__access__subcmd__list`,
/// so nothing below the top level matched and bash fell back to file names. One spelling
/// for both.
fn fix_bash(script: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(script);
    let wrong = BIN.replace('-', "__subcmd__");
    let right = BIN.replace('-', "__");
    text.replace(&wrong, &right).into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_says_where_names_come_from() {
        let words: Vec<String> = [
            "segment-access",
            "--profile=prod",
            "list",
            "grants",
            "--snapshot",
            "a.db",
            "--role",
            "",
        ]
        .map(String::from)
        .to_vec();
        let line = Line::parse(&words);
        assert_eq!(line.profile.as_deref(), Some("prod"));
        assert_eq!(line.snapshot, Some(PathBuf::from("a.db")));
        assert!(!line.demo);
        assert!(Line::parse(&["x".into(), "--demo".into()]).demo);
    }

    #[test]
    fn the_bash_script_names_each_state_one_way() {
        let text = String::from_utf8(script(Shell::Bash)).expect("utf-8");
        assert!(!text.contains("segment__subcmd__access"));
        assert!(text.contains("segment__access__subcmd__list)"));
    }
}
