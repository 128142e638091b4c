//! The tool among its neighbours: shell completions, man pages, the environment topic, colour
//! conventions and the version string, all checked on the built binary.

use std::path::Path;
use std::process::{Command as Process, Stdio};

use clap::{CommandFactory, ValueEnum};
use clap_complete::Shell;
use segment_access::cli::Cli;

use crate::support::{BIN, OWNER, clean_bin, have_tool, small, stdout_of, temp_dir};

/// Every visible command below the root, as its path of names: ["list", "grants"], ...
fn command_paths() -> Vec<Vec<String>> {
    fn walk(cmd: &clap::Command, prefix: &[String], out: &mut Vec<Vec<String>>) {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            let mut path = prefix.to_vec();
            path.push(sub.get_name().to_string());
            walk(sub, &path, out);
            out.push(path);
        }
    }
    let mut out = Vec::new();
    walk(&Cli::command(), &[], &mut out);
    out
}

fn find<'a>(root: &'a clap::Command, path: &[String]) -> &'a clap::Command {
    path.iter().fold(root, |c, name| {
        c.find_subcommand(name)
            .unwrap_or_else(|| panic!("no subcommand {name}"))
    })
}

#[test]
fn completions_name_every_command_and_global_flag_in_every_shell() {
    let paths = command_paths();
    // The list is derived, so it must at least hold what this branch adds.
    for name in ["list", "emulator", "completions", "man", "environment"] {
        assert!(paths.iter().any(|p| p == &[name.to_string()]), "{name}");
    }
    let root = Cli::command();
    let flags: Vec<String> = root
        .get_arguments()
        .filter_map(|a| a.get_long())
        .map(|l| format!("--{l}"))
        .collect();
    assert!(flags.contains(&"--color".to_string()));
    for shell in Shell::value_variants() {
        let name = shell
            .to_possible_value()
            .expect("named")
            .get_name()
            .to_string();
        let script = stdout_of(clean_bin().args(["completions", &name]));
        assert!(script.len() > 1000, "{name}: {} bytes", script.len());
        for path in &paths {
            let leaf = path.last().expect("non-empty path");
            assert!(script.contains(leaf.as_str()), "{name} lacks {path:?}");
        }
        for flag in &flags {
            // fish spells a long flag `-l color`; the others write it out.
            let spelled = match shell {
                Shell::Fish => format!("-l {}", &flag[2..]),
                _ => flag.clone(),
            };
            assert!(script.contains(&spelled), "{name} lacks {flag}");
        }
    }
    // The fixed values of --color are offered, not just the flag.
    let bash = stdout_of(clean_bin().args(["completions", "bash"]));
    assert!(
        bash.contains("auto always never"),
        "bash offers --color values"
    );
}

#[test]
fn completions_reject_an_unknown_shell() {
    clean_bin()
        .args(["completions", "tcsh"])
        .assert()
        .code(2)
        .stdout("");
}

/// Renders a page as plain text; groff's own warnings (-ww) come back as the error.
fn groff(page: &Path) -> Result<String, String> {
    // A wide line keeps phrases whole (no breaks, no hyphens); -P-cbou asks grotty for plain
    // characters instead of SGR escapes or overstrikes.
    let out = Process::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-rLL=400n", "-P-cbou"])
        .arg(page)
        .output()
        .expect("groff is installed (scripts/test.sh installs groff-base)");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    if !out.status.success() || !stderr.trim().is_empty() {
        return Err(stderr);
    }
    Ok(String::from_utf8(out.stdout).expect("UTF-8 page"))
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn man_writes_a_page_per_command_that_renders_cleanly() {
    let tmp = temp_dir("man");
    // Neither exists yet: `man --out` creates its directory, and HOME is only a path.
    let dir = tmp.path().join("pages");
    let home = tmp.path().join("home");
    let out = clean_bin()
        .env("HOME", &home)
        .args(["man", "--out"])
        .arg(&dir)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let root = Cli::command();
    let mut expected = vec![(vec![], "segment-access.1".to_string())];
    for p in command_paths() {
        expected.push((p.clone(), format!("segment-access-{}.1", p.join("-"))));
    }
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .expect("out dir exists")
        .map(|e| e.expect("entry").file_name().to_string_lossy().to_string())
        .collect();
    on_disk.sort();
    let mut names: Vec<String> = expected.iter().map(|(_, n)| n.clone()).collect();
    names.sort();
    assert_eq!(on_disk, names, "one page per command, nothing else");
    assert!(names.contains(&"segment-access-list-grants.1".to_string()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for (path, file) in &expected {
        assert!(stderr.contains(file.as_str()), "stderr names {file}");
        let text = groff(&dir.join(file)).unwrap_or_else(|e| panic!("{file}: groff says {e}"));
        let about = find(&root, path)
            .get_about()
            .unwrap_or_else(|| panic!("{file}: command has an about"))
            .to_string();
        assert!(
            squash(&text).contains(&squash(&about)),
            "{file} holds its summary {about:?}"
        );
    }
    // Pages are read on other machines: no paths of the one that rendered them.
    let env_page = groff(&dir.join("segment-access-environment.1")).expect("renders");
    assert!(env_page.contains("SEGMENT_TOKEN"));
    assert!(env_page.contains("XDG_CONFIG_HOME"));
    assert!(
        !env_page.contains(&*home.to_string_lossy()),
        "no local home path"
    );
}

#[test]
fn man_without_out_prints_the_top_page() {
    let page = stdout_of(clean_bin().arg("man"));
    assert!(
        page.contains(".TH segment-access 1"),
        "{}",
        &page[..page.len().min(300)]
    );
    let tmp = temp_dir("man-stdout");
    let file = tmp.path().join("segment-access.1");
    std::fs::write(&file, &page).expect("write");
    let text = groff(&file).unwrap_or_else(|e| panic!("groff says {e}"));
    assert!(squash(&text).contains("Audit and change who has access to a Segment workspace"));
    assert!(text.contains("completions"), "subcommands listed");
}

#[test]
fn every_command_has_a_summary_and_examples() {
    let root = Cli::command();
    assert!(
        root.get_after_help()
            .is_some_and(|h| h.to_string().contains("Examples:"))
    );
    for path in command_paths() {
        let cmd = find(&root, &path);
        let about = cmd.get_about().map(|a| a.to_string()).unwrap_or_default();
        assert!(!about.trim().is_empty(), "{path:?} has a summary");
        assert!(!about.contains('\n'), "{path:?}: the summary is one line");
        if cmd.has_subcommands() {
            continue;
        }
        let after = cmd
            .get_after_help()
            .or(cmd.get_after_long_help())
            .map(|h| h.to_string())
            .unwrap_or_default();
        // environment's long help is its own example: the topic itself.
        if path == ["environment"] {
            continue;
        }
        assert!(
            after.contains("segment-access "),
            "{path:?} shows an example invocation"
        );
    }
}

/// Runs `args` on a pseudo-terminal (util-linux `script`), so stdout and stderr are TTYs.
fn on_pty(envs: &[(&str, &str)], args: &str) -> String {
    // The pty starts 0 columns wide; give it a real width so tables lay out normally.
    let line = format!("stty cols 120 rows 40; exec '{BIN}' {args}");
    let mut c = Process::new("script");
    c.args(["-qfec", &line, "/dev/null"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .stdin(Stdio::null());
    for (k, v) in envs {
        c.env(k, v);
    }
    let out = c
        .output()
        .expect("script is installed (scripts/test.sh installs bsdutils)");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{args}: {text}");
    assert!(text.contains("ada.lovelace@acme.example"), "{args}: {text}");
    text
}

const ESC: char = '\u{1b}';

#[test]
fn no_color_keeps_a_terminal_plain() {
    // The control: the same terminal gets colour when nothing says otherwise, so the pty is
    // really seen as one and the plain runs below prove something.
    assert!(on_pty(&[], "--demo list users").contains(ESC));
    assert!(!on_pty(&[("NO_COLOR", "1")], "--demo --color auto list users").contains(ESC));
    assert!(
        !on_pty(
            &[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")],
            "--demo list users"
        )
        .contains(ESC),
        "NO_COLOR wins over CLICOLOR_FORCE"
    );
    assert!(!on_pty(&[], "--demo --color never list users").contains(ESC));
    assert!(!on_pty(&[], "--demo --no-color list users").contains(ESC));
    // The flag wins over NO_COLOR.
    assert!(on_pty(&[("NO_COLOR", "1")], "--demo --color always list users").contains(ESC));
}

#[test]
fn colour_can_be_forced_into_a_pipe() {
    let run = |envs: &[(&str, &str)], args: &[&str]| {
        let mut c = clean_bin();
        for (k, v) in envs {
            c.env(k, v);
        }
        let out = stdout_of(c.args(args));
        assert!(out.contains("ada.lovelace@acme.example"), "{args:?}: {out}");
        out
    };
    let list = ["--demo", "list", "users"];
    assert!(!run(&[], &list).contains(ESC), "pipes are plain by default");
    assert!(run(&[], &["--demo", "--color", "always", "list", "users"]).contains(ESC));
    assert!(run(&[("CLICOLOR_FORCE", "1")], &list).contains(ESC));
    assert!(!run(&[("CLICOLOR_FORCE", "0")], &list).contains(ESC));
    assert!(!run(&[("CLICOLOR_FORCE", "")], &list).contains(ESC));
    assert!(
        !run(
            &[("CLICOLOR_FORCE", "1")],
            &["--demo", "--color", "never", "list", "users"]
        )
        .contains(ESC)
    );
    // --no-color is --color never, and of the two the later one wins.
    assert!(
        run(
            &[],
            &["--demo", "--no-color", "--color", "always", "list", "users"]
        )
        .contains(ESC)
    );
    assert!(
        !run(
            &[],
            &["--demo", "--color", "always", "--no-color", "list", "users"]
        )
        .contains(ESC)
    );
    // Machine formats never carry colour, whatever is forced.
    assert!(
        !run(
            &[("CLICOLOR_FORCE", "1")],
            &["--demo", "list", "users", "--json"]
        )
        .contains(ESC)
    );
}

#[test]
fn version_names_the_commit() {
    let out = stdout_of(clean_bin().arg("--version"));
    let line = out.trim();
    let rest = line
        .strip_prefix(&format!("segment-access {} (", env!("CARGO_PKG_VERSION")))
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or_else(|| panic!("unexpected --version: {line:?}"));
    let hash = rest.strip_suffix("-dirty").unwrap_or(rest);
    // This repository is a git checkout, so `unknown` would be a build.rs failure here.
    assert_eq!(hash.len(), 12, "{line:?}");
    assert!(hash.chars().all(|c| c.is_ascii_hexdigit()), "{line:?}");
    let head = Process::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("git runs");
    let head = String::from_utf8_lossy(&head.stdout).trim().to_string();
    // Equal unless a commit happened after the build; then build.rs reruns on the next build.
    assert_eq!(hash, head, "--version names the checked-out commit");
}

/// Names of environment variables the sources read: `env = "X"` (clap), `var("X")`,
/// `var_os("X")` and `..._ENV: &str = "X"` constants.
fn variables_in_sources() -> Vec<String> {
    fn walk(dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).expect("readable src") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).expect("UTF-8 source");
                for pat in ["env = \"", "var(\"", "var_os(\"", "_ENV: &str = \""] {
                    for (i, _) in text.match_indices(pat) {
                        let rest = &text[i + pat.len()..];
                        let name: String = rest.chars().take_while(|c| *c != '"').collect();
                        if !name.is_empty()
                            && name
                                .chars()
                                .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit())
                            && !out.contains(&name)
                        {
                            out.push(name);
                        }
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut out);
    out
}

#[test]
fn help_environment_lists_every_variable_read() {
    let topic = stdout_of(clean_bin().args(["help", "environment"]));
    let command = stdout_of(clean_bin().arg("environment"));
    let mut names: Vec<String> = [
        "SEGMENT_TOKEN",
        "SEGMENT_PROFILE",
        "SEGMENT_API_URL",
        "SEGMENT_REGION",
        "SEGMENT_ACCESS_CONFIG_DIR",
        "NO_COLOR",
        "CLICOLOR_FORCE",
    ]
    .map(String::from)
    .to_vec();
    let found = variables_in_sources();
    assert!(
        found.contains(&"SEGMENT_TOKEN".to_string()),
        "the scan works: {found:?}"
    );
    names.extend(found);
    for name in &names {
        assert!(
            topic.contains(name.as_str()),
            "help environment lacks {name}"
        );
        assert!(command.contains(name.as_str()), "environment lacks {name}");
    }
}

#[cfg(target_os = "linux")]
#[test]
fn environment_shows_this_machines_paths() {
    let tmp = temp_dir("env-home");
    // A HOME of its own, which need not exist.
    let home = tmp.path().join("home");
    let out = stdout_of(clean_bin().env("HOME", &home).arg("environment"));
    let config = home.join(".config/segment-access/config.toml");
    assert!(out.contains(&*config.to_string_lossy()), "{out}");
    assert!(out.contains(&*home.join(".local/state/segment-access").to_string_lossy()));
    let out = stdout_of(
        clean_bin()
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", "/xdg/conf")
            .arg("environment"),
    );
    assert!(
        out.contains("/xdg/conf/segment-access/config.toml"),
        "{out}"
    );
    let out = stdout_of(
        clean_bin()
            .env("HOME", &home)
            .env("SEGMENT_ACCESS_CONFIG_DIR", "/elsewhere")
            .args(["help", "environment"]),
    );
    assert!(out.contains("/elsewhere/config.toml"), "{out}");
}

#[test]
fn profile_names_complete_dynamically() {
    let tmp = temp_dir("complete");
    let dir = tmp.path();
    std::fs::write(
        dir.join("config.toml"),
        "default_profile = \"prod\"\n[profiles.prod]\nregion = \"us\"\n[profiles.eu-prod]\nregion = \"eu\"\n",
    )
    .unwrap();
    // The fish protocol is the simplest to drive: the words after `--`, the last one being
    // completed, one candidate per output line.
    let out = clean_bin()
        .env("SEGMENT_ACCESS_CONFIG_DIR", dir)
        .env("COMPLETE", "fish")
        .args(["--", "segment-access", "--profile", ""])
        .output()
        .unwrap();
    assert!(out.status.success());
    let got: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split('\t').next().unwrap_or_default().to_string())
        .collect();
    assert_eq!(got, ["eu-prod", "prod"]);

    // Subcommands complete the same way, and the bash registration script calls the binary.
    let out = clean_bin()
        .env("COMPLETE", "fish")
        .args(["--", "segment-access", "list", "gr"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("grants") && text.contains("groups"), "{text}");
    let out = clean_bin().env("COMPLETE", "bash").output().unwrap();
    let script = String::from_utf8(out.stdout).unwrap();
    assert!(
        script.contains("segment-access") && script.contains("complete"),
        "{script}"
    );
}

/// Every page has the sections people look for; synopses name each flag's value; examples
/// keep their lines even where the page is narrower than them.
#[test]
fn man_pages_have_examples_exit_status_environment_and_see_also() {
    let tmp = temp_dir("man-sections");
    let dir = tmp.path().join("man1");
    stdout_of(clean_bin().args(["man", "--out"]).arg(&dir).arg("-q"));
    for entry in std::fs::read_dir(&dir).expect("pages") {
        let path = entry.expect("entry").path();
        let text = groff(&path).unwrap_or_else(|e| panic!("{}: groff says {e}", path.display()));
        for section in ["SYNOPSIS", "EXIT STATUS", "ENVIRONMENT", "SEE ALSO"] {
            assert!(text.contains(section), "{}: {section}", path.display());
        }
    }
    let grant = groff(&dir.join("segment-access-grant.1")).expect("renders");
    assert!(
        grant.contains("[--to PRINCIPAL] [--role ROLE] [--on RESOURCE]..."),
        "{grant}"
    );
    assert!(
        grant.contains("GLOBAL OPTIONS"),
        "global flags in their own section"
    );
    assert!(grant.contains("EXAMPLES"));
    assert!(grant.contains("SEGMENT_TOKEN"));
    assert!(grant.contains("segment-access(1)"), "see also the top page");
    // At 60 columns the example commands stay one line each: no filling, no hyphenation.
    let out = Process::new("groff")
        .args(["-man", "-Tutf8", "-rLL=60n", "-P-cbou"])
        .arg(dir.join("segment-access-grant.1"))
        .output()
        .expect("groff");
    let narrow = String::from_utf8_lossy(&out.stdout);
    assert!(
        narrow
            .lines()
            .any(|l| l.trim() == "segment-access grant --to ann@example.com --role 'Source Admin' --on source:web-prod"),
        "{narrow}"
    );
    let top = groff(&dir.join("segment-access.1")).expect("renders");
    assert!(
        top.contains("segment-access [GLOBAL OPTIONS] COMMAND"),
        "{top}"
    );
    assert!(top.contains("segment-access-list(1)"), "{top}");
}

/// Help lists each command's own flags first and the global ones under their own heading;
/// the emulator comes after the everyday commands.
#[test]
fn help_puts_own_flags_first_and_everyday_commands_first() {
    let help = stdout_of(clean_bin().args(["grant", "--help"]));
    let own = help.find("--to <PRINCIPAL>").expect("own flag");
    let heading = help.find("Global options:").expect("global heading");
    let global = help.find("--profile <NAME>").expect("global flag");
    assert!(own < heading && heading < global, "{help}");
    let top = stdout_of(clean_bin().arg("--help"));
    let pos = |name: &str| {
        top.find(&format!("\n  {name} "))
            .unwrap_or_else(|| panic!("{name} listed: {top}"))
    };
    for everyday in ["list", "grant", "revoke", "invite", "browse", "report"] {
        assert!(
            pos(everyday) < pos("emulator"),
            "{everyday} before emulator"
        );
    }
}

/// Runs bash's completion of `words` (the last one being completed) with the completion
/// script `script` sourced: the candidates it offers, one per line.
fn bash_complete(script: &str, words: &[&str], env: &[(&str, &str)]) -> Vec<String> {
    let tmp = temp_dir("bash-complete");
    let file = tmp.path().join("completion.bash");
    std::fs::write(&file, script).expect("script");
    let quoted: Vec<String> = words
        .iter()
        .map(|w| format!("'{}'", w.replace('\'', "'\\''")))
        .collect();
    let driver = format!(
        r#"source '{file}'
fn=$(complete -p segment-access | sed -E 's/.* -F ([^ ]+) .*/\1/')
COMP_WORDS=({words})
COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
COMP_LINE="${{COMP_WORDS[*]}}"
COMP_POINT=${{#COMP_LINE}}
COMP_TYPE=9
"$fn" segment-access "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\n' "${{COMPREPLY[@]}}"
"#,
        file = file.display(),
        words = quoted.join(" "),
    );
    let mut bash = Process::new("bash");
    bash.arg("--norc").arg("--noprofile").arg("-c").arg(&driver);
    bash.current_dir(tmp.path());
    // The completion calls `segment-access` by the path the script names; the test's binary.
    let bin_dir = std::path::Path::new(BIN).parent().expect("bin dir");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // No cache but the one a test names: a developer's own must not answer.
    bash.env("PATH", path)
        .env("HOME", tmp.path())
        .env("SEGMENT_ACCESS_CACHE_DIR", tmp.path().join("cache"));
    for (k, v) in env {
        bash.env(k, v);
    }
    let out = bash.output().expect("bash runs");
    assert!(
        out.status.success(),
        "bash: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .filter(|l| !l.is_empty())
        .collect()
}

/// The static bash script completes below the top level (clap's generator spelled the states
/// of a hyphenated program two ways, so `list <TAB>` offered files).
#[test]
fn static_bash_completion_completes_subcommands_and_their_flags() {
    if !have_tool("bash", "bash") {
        return;
    }
    let script = stdout_of(clean_bin().args(["completions", "bash"]));
    let got = bash_complete(&script, &["segment-access", "list", ""], &[]);
    for want in ["grants", "users", "groups", "labels", "members"] {
        assert!(
            got.iter().any(|c| c == want),
            "list <TAB> offers {want}: {got:?}"
        );
    }
    let got = bash_complete(&script, &["segment-access", "list", "grants", "--r"], &[]);
    assert!(got.iter().any(|c| c == "--role"), "{got:?}");
    assert!(got.iter().any(|c| c == "--resource"), "{got:?}");
    let got = bash_complete(&script, &["segment-access", "grant", "--format", ""], &[]);
    assert!(
        got.iter().any(|c| c == "ndjson") && got.iter().any(|c| c == "wide"),
        "{got:?}"
    );
    let got = bash_complete(&script, &["segment-access", "revoke-invite", "--d"], &[]);
    assert_eq!(got, ["--dry-run", "--demo"], "{got:?}");
}

/// Dynamic completion offers the workspace's own names, read quickly from it (or a snapshot on
/// the line), and `live` for diff; against a server that cannot answer it offers nothing and
/// says nothing.
#[test]
fn dynamic_bash_completion_offers_workspace_names() {
    if !have_tool("bash", "bash") {
        return;
    }
    let emu = small();
    let out = clean_bin().env("COMPLETE", "bash").output().expect("runs");
    let script = String::from_utf8(out.stdout).expect("utf-8");
    let env = [
        ("SEGMENT_API_URL", emu.url()),
        ("SEGMENT_TOKEN", OWNER.to_string()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let cases: [(&[&str], &str); 8] = [
        (
            &["segment-access", "grant", "--role", "Source"],
            "Source Admin",
        ),
        (
            &["segment-access", "grant", "--to", "alan"],
            "alan.turing@acme.example",
        ),
        (
            &["segment-access", "grant", "--to", "group:"],
            "group:Data Engineering",
        ),
        (
            &["segment-access", "grant", "--group", "Mob"],
            "Mobile Team",
        ),
        (
            &["segment-access", "revoke", "--on", "source:w"],
            "source:website-prod",
        ),
        (
            &["segment-access", "list", "grants", "--user", "grace"],
            "grace.hopper@acme.example",
        ),
        (
            &["segment-access", "revoke-invite", "int"],
            "intern@acme.example",
        ),
        (&["segment-access", "diff", "li"], "live"),
    ];
    for (words, want) in cases {
        let got = bash_complete(&script, words, &env);
        assert!(
            got.iter().any(|c| c == want),
            "{words:?} offers {want}: {got:?}"
        );
    }
    // Unreachable: nothing offered, nothing printed, quickly.
    let dead = [
        ("SEGMENT_API_URL", "http://127.0.0.1:9"),
        ("SEGMENT_TOKEN", OWNER),
    ];
    let started = std::time::Instant::now();
    let got = bash_complete(&script, &["segment-access", "grant", "--role", "S"], &dead);
    assert!(got.is_empty(), "{got:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[test]
fn completion_offers_names_from_the_profiles_cache_without_a_server() {
    if !have_tool("bash", "bash") {
        return;
    }
    let tmp = temp_dir("complete-cache");
    let cache = tmp.path().join("cache");
    let cache_s = cache.to_str().expect("utf-8 path");
    {
        let emu = small();
        // --cached writes the cache of the default profile.
        let (code, _, err) = crate::support::run(
            crate::support::bin(&emu.url(), OWNER)
                .env("SEGMENT_ACCESS_CACHE_DIR", cache_s)
                .args(["--cached", "list", "roles"]),
        );
        assert_eq!(code, Some(0), "{err}");
    }
    assert!(cache.join("default.db").is_file());
    // The emulator is gone: only the cache can name Alan.
    let out = clean_bin().env("COMPLETE", "bash").output().expect("runs");
    let script = String::from_utf8(out.stdout).expect("utf-8");
    let env = [
        ("SEGMENT_API_URL", "http://127.0.0.1:9"),
        ("SEGMENT_TOKEN", OWNER),
        ("SEGMENT_ACCESS_CACHE_DIR", cache_s),
    ];
    let got = bash_complete(&script, &["segment-access", "grant", "--to", "alan"], &env);
    assert_eq!(got, ["alan.turing@acme.example"]);
    // Another profile has no cache: nothing, as before.
    let got = bash_complete(
        &script,
        &[
            "segment-access",
            "--profile",
            "other",
            "grant",
            "--to",
            "alan",
        ],
        &env,
    );
    assert!(got.is_empty(), "{got:?}");
}
