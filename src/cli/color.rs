//! The one place that decides whether output gets colour, for the tables on stdout and the log
//! lines on stderr alike.
//!
//! Precedence: `--color always|never` (and `--no-color`) > `NO_COLOR` > `CLICOLOR_FORCE` >
//! whether the stream is a terminal. See <https://no-color.org> and <https://bixense.com/clicolors/>.

use std::ffi::OsString;
use std::io::IsTerminal;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour on a terminal, unless NO_COLOR is set; forced by CLICOLOR_FORCE.
    #[default]
    Auto,
    /// Always colour, even into a pipe or file.
    Always,
    /// Never colour.
    Never,
}

/// Whether each stream gets colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Colors {
    pub stdout: bool,
    pub stderr: bool,
}

/// Decides for this process: its flags, its environment, its terminals.
pub(crate) fn decide(choice: ColorChoice) -> Colors {
    let env = Env {
        no_color: std::env::var_os("NO_COLOR"),
        clicolor_force: std::env::var_os("CLICOLOR_FORCE"),
    };
    Colors {
        stdout: decide_for(choice, &env, std::io::stdout().is_terminal()),
        stderr: decide_for(choice, &env, std::io::stderr().is_terminal()),
    }
}

/// The variables that bear on colour, read once so tests can supply their own.
#[derive(Debug, Default)]
pub(crate) struct Env {
    pub no_color: Option<OsString>,
    pub clicolor_force: Option<OsString>,
}

pub(crate) fn decide_for(choice: ColorChoice, env: &Env, is_terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            // Both conventions say an empty value counts as unset.
            if env.no_color.as_ref().is_some_and(|v| !v.is_empty()) {
                false
            } else if env
                .clicolor_force
                .as_ref()
                .is_some_and(|v| !v.is_empty() && v != "0")
            {
                true
            } else {
                is_terminal
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(no_color: Option<&str>, force: Option<&str>) -> Env {
        Env {
            no_color: no_color.map(OsString::from),
            clicolor_force: force.map(OsString::from),
        }
    }

    #[test]
    fn flags_win_over_everything() {
        for tty in [false, true] {
            assert!(decide_for(ColorChoice::Always, &env(Some("1"), None), tty));
            assert!(!decide_for(ColorChoice::Never, &env(None, Some("1")), tty));
        }
    }

    #[test]
    fn no_color_wins_over_clicolor_force_and_terminals() {
        assert!(!decide_for(
            ColorChoice::Auto,
            &env(Some("1"), Some("1")),
            true
        ));
        // Empty means unset.
        assert!(decide_for(ColorChoice::Auto, &env(Some(""), None), true));
    }

    #[test]
    fn clicolor_force_colours_pipes_unless_zero_or_empty() {
        assert!(decide_for(ColorChoice::Auto, &env(None, Some("1")), false));
        assert!(!decide_for(ColorChoice::Auto, &env(None, Some("0")), false));
        assert!(!decide_for(ColorChoice::Auto, &env(None, Some("")), false));
    }

    #[test]
    fn auto_follows_the_terminal() {
        assert!(decide_for(ColorChoice::Auto, &Env::default(), true));
        assert!(!decide_for(ColorChoice::Auto, &Env::default(), false));
    }
}
