//! What every command that changes access hands the write pipeline: a plan that can be shown in
//! words, previewed, counted, and applied, reporting each change to a ledger as it lands.

use crate::segment::Client;

use super::journal::Change;
use super::plan::ChangeResult;

/// Where applied changes go as they land (the journal).
pub(crate) trait Ledger {
    /// A change that reached Segment, recorded before the next write is sent. An error stops
    /// the plan: what follows is skipped, never written unrecorded.
    fn landed(&mut self, change: Change) -> Result<(), String>;
    /// Whether to stop before the next write (a signal arrived).
    fn stop_requested(&self) -> bool {
        false
    }
    /// The journal entry the changes go to, once there is one (none under --demo).
    fn entry_id(&self) -> Option<String> {
        None
    }
}

/// Why the rest of a plan was not attempted, when a ledger says stop.
pub(crate) fn stop_reason(ledger: &dyn Ledger, failed: Option<&str>) -> Option<String> {
    if let Some(why) = failed {
        return Some(format!(
            "not attempted: the journal could not record an earlier change ({why})"
        ));
    }
    ledger
        .stop_requested()
        .then(|| "not attempted: interrupted before this change".to_string())
}

pub(crate) trait ChangePlan {
    /// The command's verb, as the journal records it: grant, revoke, invite, ...
    fn command(&self) -> &'static str;
    /// The line above the plan.
    fn heading(&self) -> &'static str {
        "plan:"
    }
    /// The plan for people: before/after in words, one line each.
    fn describe(&self) -> Vec<String>;
    /// Changes still to apply.
    fn pending(&self) -> usize;
    /// The report as it stands: pending changes as `planned`.
    fn preview(&self) -> Vec<ChangeResult>;
    /// What to ask before applying.
    fn question(&self) -> String;
    /// The workspace the changes are made in.
    fn workspace_id(&self) -> String;
    /// A batch reports partial failure as exit 3 instead of failing.
    fn batch(&self) -> bool {
        false
    }
    /// Items refused because the input contradicts the workspace (malformed records).
    fn invalid(&self) -> usize {
        0
    }
    /// Applies what is pending; every change that lands goes to `ledger` before the next write.
    async fn apply(&mut self, client: &Client, ledger: &mut dyn Ledger) -> Vec<ChangeResult>;
    /// For an undo: the journal entry it closed, when it undid all of it.
    fn undoes(&self, _results: &[ChangeResult]) -> Option<String> {
        None
    }
    /// What a person should know once the plan was applied, beyond the report.
    fn afterword(&self, _results: &[ChangeResult]) -> Option<String> {
        None
    }
}
