//! Asking a person: the one `Prompter` every command uses, as gh's Prompter works. The real one
//! draws on the terminal (stderr) with dialoguer; tests use a scripted one.
//!
//! Every prompt has the same three ways out: an answer; Esc (or q in a list), which is `None`
//! and means back or cancel; and Ctrl-C, which is an `Interrupted` error. A person can always
//! leave a prompt without changing anything.

use dialoguer::{Confirm, FuzzySelect, MultiSelect, Password, Select};

use super::error::CliError;
use super::terminal::Terminal;

pub(crate) trait Prompter: Send {
    /// Whether a person can answer: a terminal to draw on and to read keys from.
    fn available(&self) -> bool;
    /// Yes, no, or `None` for Esc. No is the default: Enter alone never changes anything.
    fn confirm(&mut self, question: &str) -> Result<Option<bool>, CliError>;
    /// One of a few `items`, with the arrow keys.
    fn select(&mut self, prompt: &str, items: &[String]) -> Result<Option<usize>, CliError>;
    /// One of `items`, found by typing part of it.
    fn fuzzy(&mut self, prompt: &str, items: &[String]) -> Result<Option<usize>, CliError>;
    /// Any number of `items`, marked with space.
    fn multi_select(
        &mut self,
        prompt: &str,
        items: &[String],
    ) -> Result<Option<Vec<usize>>, CliError>;
    /// A secret, without echo.
    fn password(&mut self, prompt: &str) -> Result<String, CliError>;
}

/// Prompts on the terminal with dialoguer. It draws on stderr and reads keys from stdin, or from
/// the controlling terminal (/dev/tty) when stdin is a pipe, as gh does: `... | segment-access
/// revoke --from-file -` typed at a terminal still asks there.
pub(super) struct TerminalPrompter {
    available: bool,
}

impl TerminalPrompter {
    pub(super) fn new(term: &Terminal) -> TerminalPrompter {
        TerminalPrompter {
            available: term.stderr && (term.stdin || controlling_terminal()),
        }
    }
}

/// Whether this process has a terminal to read answers from besides stdin.
fn controlling_terminal() -> bool {
    cfg!(unix)
        && std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/tty")
            .is_ok()
}

/// Esc is an answer (`None`). Ctrl-C is an error: the prompt library raises SIGINT, which ends
/// the process unless a handler catches it; then the read fails as interrupted.
fn answer<T>(r: dialoguer::Result<Option<T>>) -> Result<Option<T>, CliError> {
    match r {
        Ok(v) => Ok(v),
        Err(dialoguer::Error::IO(e)) if e.kind() == std::io::ErrorKind::Interrupted => {
            // dialoguer hides the cursor while a list is open and returns early on Ctrl-C
            // without showing it again; the shell would be left without one.
            eprint!("\x1b[?25h");
            Err(CliError::interrupted("interrupted"))
        }
        Err(e) => Err(CliError::failure(format!(
            "cannot ask on the terminal: {e}"
        ))),
    }
}

fn nothing_to_choose(prompt: &str) {
    eprintln!("{prompt}: nothing to choose from");
}

impl Prompter for TerminalPrompter {
    fn available(&self) -> bool {
        self.available
    }

    fn confirm(&mut self, question: &str) -> Result<Option<bool>, CliError> {
        answer(
            Confirm::new()
                .with_prompt(question)
                .default(false)
                .interact_opt(),
        )
    }

    fn select(&mut self, prompt: &str, items: &[String]) -> Result<Option<usize>, CliError> {
        if items.is_empty() {
            nothing_to_choose(prompt);
            return Ok(None);
        }
        answer(
            Select::new()
                .with_prompt(prompt)
                .items(items)
                .default(0)
                .max_length(15)
                .interact_opt(),
        )
    }

    fn fuzzy(&mut self, prompt: &str, items: &[String]) -> Result<Option<usize>, CliError> {
        if items.is_empty() {
            nothing_to_choose(prompt);
            return Ok(None);
        }
        answer(
            FuzzySelect::new()
                .with_prompt(prompt)
                .items(items)
                .default(0)
                .max_length(15)
                .interact_opt(),
        )
    }

    fn multi_select(
        &mut self,
        prompt: &str,
        items: &[String],
    ) -> Result<Option<Vec<usize>>, CliError> {
        if items.is_empty() {
            nothing_to_choose(prompt);
            return Ok(None);
        }
        answer(
            MultiSelect::new()
                .with_prompt(prompt)
                .items(items)
                .max_length(15)
                .interact_opt(),
        )
    }

    fn password(&mut self, prompt: &str) -> Result<String, CliError> {
        answer(Password::new().with_prompt(prompt).interact().map(Some))
            .map(Option::unwrap_or_default)
    }
}

/// One scripted answer.
#[cfg(test)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Scripted {
    Yes,
    No,
    /// Leaves the prompt: `None`.
    Esc,
    /// Ctrl-C: an `Interrupted` error.
    CtrlC,
    /// The item at this index (select, fuzzy).
    Pick(usize),
    /// The item whose text contains this (select, fuzzy).
    PickText(String),
    /// These indexes (multi-select).
    Picks(Vec<usize>),
}

#[cfg(test)]
/// Answers from a script, in order, for tests. Running out of answers, or an answer of the
/// wrong kind, is a failure the test sees; every question asked is kept for assertions.
pub(super) struct ScriptedPrompter {
    answers: std::collections::VecDeque<Scripted>,
    pub asked: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

#[cfg(test)]
impl ScriptedPrompter {
    pub(super) fn new(answers: impl IntoIterator<Item = Scripted>) -> ScriptedPrompter {
        ScriptedPrompter {
            answers: answers.into_iter().collect(),
            asked: Default::default(),
        }
    }

    fn next(&mut self, question: &str) -> Result<Scripted, CliError> {
        if let Ok(mut a) = self.asked.lock() {
            a.push(question.to_string());
        }
        match self.answers.pop_front() {
            Some(Scripted::CtrlC) => Err(CliError::interrupted("interrupted")),
            Some(a) => Ok(a),
            None => Err(CliError::failure(format!(
                "scripted prompter: no answer left for {question:?}"
            ))),
        }
    }

    fn wrong(question: &str, a: &Scripted) -> CliError {
        CliError::failure(format!(
            "scripted prompter: answer {a:?} does not fit {question:?}"
        ))
    }

    fn pick(&mut self, prompt: &str, items: &[String]) -> Result<Option<usize>, CliError> {
        match self.next(prompt)? {
            Scripted::Esc => Ok(None),
            Scripted::Pick(i) if i < items.len() => Ok(Some(i)),
            Scripted::PickText(t) => items
                .iter()
                .position(|s| s.contains(&t))
                .map(Some)
                .ok_or_else(|| {
                    CliError::failure(format!("scripted prompter: no {t:?} in {items:?}"))
                }),
            other => Err(ScriptedPrompter::wrong(prompt, &other)),
        }
    }
}

#[cfg(test)]
impl Prompter for ScriptedPrompter {
    fn available(&self) -> bool {
        true
    }

    fn confirm(&mut self, question: &str) -> Result<Option<bool>, CliError> {
        match self.next(question)? {
            Scripted::Yes => Ok(Some(true)),
            Scripted::No => Ok(Some(false)),
            Scripted::Esc => Ok(None),
            other => Err(ScriptedPrompter::wrong(question, &other)),
        }
    }

    fn select(&mut self, prompt: &str, items: &[String]) -> Result<Option<usize>, CliError> {
        self.pick(prompt, items)
    }

    fn fuzzy(&mut self, prompt: &str, items: &[String]) -> Result<Option<usize>, CliError> {
        self.pick(prompt, items)
    }

    fn multi_select(
        &mut self,
        prompt: &str,
        items: &[String],
    ) -> Result<Option<Vec<usize>>, CliError> {
        match self.next(prompt)? {
            Scripted::Esc => Ok(None),
            Scripted::Picks(v) if v.iter().all(|i| *i < items.len()) => Ok(Some(v)),
            other => Err(ScriptedPrompter::wrong(prompt, &other)),
        }
    }

    fn password(&mut self, prompt: &str) -> Result<String, CliError> {
        let a = self.next(prompt)?;
        Err(ScriptedPrompter::wrong(prompt, &a))
    }
}
