//! Reading each principal's current access, planning against it, and applying the plan: one
//! write per principal for permissions, one per group for memberships, every applied change
//! recorded with what it replaced.

use crate::segment::models::{Permission, UserGroup};
use crate::segment::{Client, Error};

use super::change::{ChangePlan, Ledger, stop_reason};
use super::directory::{Directory, ResourceNames};
use super::journal::Change;
use super::plan::{self, Action, Binding, ChangeResult, GroupRef, Item, PermPlan, Status, Want};
use super::record::Principal;
use super::trail;

/// Asked-for changes of one principal, with what it holds now.
#[derive(Debug)]
pub(crate) struct PrincipalWork {
    pub principal: Principal,
    /// Indexes into `Prepared::wants`.
    binds: Vec<usize>,
    members: Vec<usize>,
    pub perm_plan: Option<PermPlan>,
}

/// Every change, planned against a fresh read.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub action: Action,
    pub wants: Vec<Want>,
    /// Per want: decided before applying (noop, failed, skipped), or `None` when still to do.
    decided: Vec<Option<(Status, String)>>,
    pub principals: Vec<PrincipalWork>,
    names: ResourceNames,
    workspace_id: String,
    shape: Shape,
}

/// How a set of changes is applied.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Shape {
    /// A batch (a file of records) reports partial failure as exit 3 instead of failing.
    pub batch: bool,
    /// Stop at the first failure; the rest are reported as skipped.
    pub fail_fast: bool,
}

fn key(p: &Principal) -> String {
    match p {
        Principal::User { id, .. } => format!("user:{id}"),
        Principal::Invite { email } => format!("invite:{}", email.to_lowercase()),
        Principal::Group { id, .. } => format!("group:{id}"),
    }
}

/// A principal's permissions as Segment holds them now.
pub(crate) async fn read_perms(client: &Client, p: &Principal) -> Result<Vec<Permission>, Error> {
    Ok(match p {
        Principal::User { id, .. } => client.user(id).await?.permissions,
        Principal::Group { id, .. } => client.group(id).await?.permissions,
        Principal::Invite { .. } => None,
    }
    .unwrap_or_default())
}

/// Whether a principal is in a group now.
async fn is_member(client: &Client, p: &Principal, group_id: &str) -> Result<bool, Error> {
    match p {
        Principal::User { id, .. } => Ok(client
            .user_groups(id)
            .await?
            .iter()
            .any(|g| g.id == group_id)),
        Principal::Invite { email } => Ok(client
            .group_invites(group_id)
            .await?
            .iter()
            .any(|e| e.eq_ignore_ascii_case(email))),
        Principal::Group { .. } => Ok(false),
    }
}

fn email_of(p: &Principal) -> Option<&str> {
    match p {
        Principal::User { email, .. } | Principal::Invite { email } => Some(email),
        Principal::Group { .. } => None,
    }
}

/// Groups the changes by principal and plans each against what it holds now. The directory's
/// groups (with their permissions) explain revokes of grants a user holds only through a group;
/// its resources name what the plan shows.
pub(crate) async fn prepare(
    client: &Client,
    action: Action,
    wants: Vec<Want>,
    dir: &Directory,
    shape: Shape,
) -> Prepared {
    let groups = &dir.groups;
    let mut decided: Vec<Option<(Status, String)>> = vec![None; wants.len()];
    let mut principals: Vec<PrincipalWork> = Vec::new();
    for (i, w) in wants.iter().enumerate() {
        let refusal = match (&w.item, &w.principal) {
            (Item::Refused {
                status, message, ..
            }, _) => Some((*status, message.clone())),
            (Item::Bind(_), Principal::Invite { .. }) => Some((
                Status::Failed,
                "Segment's API cannot change the roles of a pending invite: revoke-invite, then invite again with --role (or --like)".to_string(),
            )),
            (Item::Member(_), Principal::Group { .. }) => Some((
                Status::Failed,
                "a group cannot be a member of another group".to_string(),
            )),
            _ => None,
        };
        if let Some(r) = refusal {
            decided[i] = Some(r);
            continue;
        }
        let k = key(&w.principal);
        let idx = match principals.iter().position(|p| key(&p.principal) == k) {
            Some(idx) => idx,
            None => {
                principals.push(PrincipalWork {
                    principal: w.principal.clone(),
                    binds: Vec::new(),
                    members: Vec::new(),
                    perm_plan: None,
                });
                principals.len() - 1
            }
        };
        match &w.item {
            Item::Bind(_) => principals[idx].binds.push(i),
            _ => principals[idx].members.push(i),
        }
    }
    // Each principal is read and planned on its own, with the client's bounded concurrency
    // (a batch of a hundred principals is not a hundred round trips one after another).
    // plan_one reports failures per want, never as an error, so the fan-out cannot fail.
    let wants_ref = &wants;
    let planned = client
        .fan_out(principals.iter_mut(), |work| async move {
            Ok::<_, Error>(plan_one(client, action, wants_ref, work, groups).await)
        })
        .await
        .unwrap_or_default();
    for (i, decision) in planned.into_iter().flatten() {
        decided[i] = Some(decision);
    }
    Prepared {
        action,
        wants,
        decided,
        principals,
        names: ResourceNames::of(dir),
        workspace_id: dir
            .workspace
            .as_ref()
            .map(|w| w.id.clone())
            .unwrap_or_default(),
        shape,
    }
}

fn bind_of(w: &Want) -> Option<&Binding> {
    match &w.item {
        Item::Bind(b) => Some(b),
        _ => None,
    }
}

fn group_of(w: &Want) -> Option<&GroupRef> {
    match &w.item {
        Item::Member(g) => Some(g),
        _ => None,
    }
}

/// Reads one principal's current access and plans its changes against it; returns what it
/// decided before applying (noops and failures), by index into `wants`.
async fn plan_one(
    client: &Client,
    action: Action,
    wants: &[Want],
    work: &mut PrincipalWork,
    groups: &[UserGroup],
) -> Vec<(usize, (Status, String))> {
    let mut decided = Vec::new();
    if !work.binds.is_empty() {
        match read_perms(client, &work.principal).await {
            Ok(current) => {
                let asked: Vec<Binding> = work
                    .binds
                    .iter()
                    .filter_map(|&i| bind_of(&wants[i]).cloned())
                    .collect();
                let p = plan::plan_permissions(action, &current, &asked);
                for &i in &work.binds {
                    let Some(b) = bind_of(&wants[i]) else {
                        continue;
                    };
                    if p.already.iter().any(|a| a.same(b)) {
                        decided.push((
                            i,
                            match action {
                                Action::Grant => {
                                    (Status::Noop, "already held directly".to_string())
                                }
                                Action::Revoke => {
                                    not_held(client, &work.principal, b, &current, groups).await
                                }
                            },
                        ));
                    }
                }
                work.perm_plan = Some(p);
            }
            Err(e) => {
                let message = e.to_string();
                decided.extend(
                    work.binds
                        .iter()
                        .map(|&i| (i, (Status::Failed, message.clone()))),
                );
            }
        }
    }
    for &i in &work.members {
        let Some(g) = group_of(&wants[i]) else {
            continue;
        };
        match is_member(client, &work.principal, &g.id).await {
            Ok(member) => match (action, member) {
                (Action::Grant, true) => {
                    decided.push((i, (Status::Noop, format!("already a member of {}", g.name))))
                }
                (Action::Revoke, false) => {
                    decided.push((i, (Status::Noop, format!("not a member of {}", g.name))))
                }
                _ => {}
            },
            Err(e) => decided.push((i, (Status::Failed, e.to_string()))),
        }
    }
    decided
}

fn fail_all(decided: &mut [Option<(Status, String)>], idx: &[usize], message: &str) {
    for &i in idx {
        decided[i] = Some((Status::Failed, message.to_string()));
    }
}

/// Why a revoke has nothing to remove: held only with other labels (named, since a binding is
/// role + resource + labels), held only through groups, or not held at all. The group case is a
/// failure, not a no-op: the access the revoke asked to end is still there (and a script
/// checking the exit code must not conclude otherwise).
async fn not_held(
    client: &Client,
    p: &Principal,
    b: &Binding,
    current: &[Permission],
    groups: &[UserGroup],
) -> (Status, String) {
    let other_labels: Vec<String> = plan::bindings(current)
        .into_iter()
        .filter(|h| h.role_id == b.role_id && h.kind == b.kind && h.resource_id == b.resource_id)
        .map(|h| {
            h.labels
                .iter()
                .map(|l| format!("--label {l}"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    if !other_labels.is_empty() {
        let hint = other_labels
            .iter()
            .map(|l| {
                if l.is_empty() {
                    "no --label"
                } else {
                    l.as_str()
                }
            })
            .collect::<Vec<_>>()
            .join(", or ");
        return (
            Status::Noop,
            format!(
                "{} does not hold {} with exactly these labels; it holds it narrowed differently: revoke with {hint}",
                p.display(),
                b.display()
            ),
        );
    }
    let Principal::User { id, .. } = p else {
        return (
            Status::Noop,
            format!("{} does not hold {}", p.display(), b.display()),
        );
    };
    let theirs = client.user_groups(id).await.unwrap_or_default();
    let through: Vec<&str> = groups
        .iter()
        .filter(|g| theirs.iter().any(|t| t.id == g.id))
        .filter(|g| plan::holds(g.permissions.as_deref().unwrap_or_default(), b))
        .map(|g| g.name.as_str())
        .collect();
    if through.is_empty() {
        (
            Status::Noop,
            format!("{} does not hold {} directly", p.display(), b.display()),
        )
    } else {
        (
            Status::Failed,
            format!(
                "not held directly; held through group {}: remove the membership (revoke --to {} --group '{}') or the group's grant",
                through.join(", "),
                p.display(),
                through[0]
            ),
        )
    }
}

impl ChangePlan for Prepared {
    fn command(&self) -> &'static str {
        match self.action {
            Action::Grant => "grant",
            Action::Revoke => "revoke",
        }
    }

    fn heading(&self) -> &'static str {
        "plan (- removed, + added, kept lines unmarked):"
    }

    fn pending(&self) -> usize {
        self.decided.iter().filter(|d| d.is_none()).count()
    }

    fn question(&self) -> String {
        format!("Apply {} change(s)?", self.pending())
    }

    fn workspace_id(&self) -> String {
        self.workspace_id.clone()
    }

    fn batch(&self) -> bool {
        self.shape.batch
    }

    fn invalid(&self) -> usize {
        self.wants
            .iter()
            .filter(|w| matches!(w.item, Item::Refused { invalid: true, .. }))
            .count()
    }

    fn preview(&self) -> Vec<ChangeResult> {
        self.wants
            .iter()
            .zip(&self.decided)
            .map(|(w, d)| match d {
                Some((s, m)) => w.result(self.action, *s, m.clone()),
                None => w.result(self.action, Status::Planned, ""),
            })
            .collect()
    }

    /// Before/after lines per principal with something to change.
    fn describe(&self) -> Vec<String> {
        let mut out = Vec::new();
        for work in &self.principals {
            let pending_binds = work.binds.iter().any(|&i| self.decided[i].is_none());
            let pending_members: Vec<&GroupRef> = work
                .members
                .iter()
                .filter(|&&i| self.decided[i].is_none())
                .filter_map(|&i| group_of(&self.wants[i]))
                .collect();
            if !pending_binds && pending_members.is_empty() {
                continue;
            }
            out.push(format!("{}:", work.principal.display()));
            if pending_binds && let Some(p) = &work.perm_plan {
                let lines = plan::diff_lines(&p.before, &p.after, &|t, id| self.names.get(t, id));
                if lines.is_empty() {
                    out.push("  (no permissions)".to_string());
                }
                out.extend(lines.into_iter().map(|l| format!("  {l}")));
            }
            for g in pending_members {
                let mark = match self.action {
                    Action::Grant => '+',
                    Action::Revoke => '-',
                };
                out.push(format!("  {mark} member of group:{}", g.name));
            }
        }
        out
    }

    /// Applies what is pending, principal by principal. With `fail_fast`, the first failure
    /// stops the rest, which are reported as skipped; so does a ledger that cannot record or a
    /// stop request.
    async fn apply(&mut self, client: &Client, ledger: &mut dyn Ledger) -> Vec<ChangeResult> {
        let mut stopped: Option<String> = None;
        let mut ledger_failed: Option<String> = None;
        let works = std::mem::take(&mut self.principals);
        for work in &works {
            let pending: Vec<usize> = work
                .binds
                .iter()
                .copied()
                .filter(|&i| self.decided[i].is_none())
                .collect();
            if stopped.is_none() {
                stopped = stop_reason(ledger, ledger_failed.as_deref());
            }
            if !pending.is_empty() {
                if let Some(why) = &stopped {
                    skip(&mut self.decided, &pending, why);
                } else {
                    let asked: Vec<Binding> = pending
                        .iter()
                        .filter_map(|&i| bind_of(&self.wants[i]).cloned())
                        .collect();
                    let r = match self.action {
                        Action::Grant => grant_perms(client, &work.principal, &asked).await,
                        Action::Revoke => revoke_perms(client, &work.principal, &asked).await,
                    };
                    match r {
                        Ok(done) => {
                            for &i in &pending {
                                let b = bind_of(&self.wants[i]);
                                let applied =
                                    b.is_some_and(|b| done.changed.iter().any(|c| c.same(b)));
                                self.decided[i] = Some(if applied {
                                    (Status::Applied, String::new())
                                } else {
                                    (Status::Noop, "already as asked when written".to_string())
                                });
                            }
                            if let Some(c) = done.change {
                                record(c.named(&self.names), ledger, &mut ledger_failed);
                            }
                        }
                        Err(f) => {
                            fail_all(&mut self.decided, &pending, &f.message);
                            // A write that landed is journaled even when it could not be
                            // verified, so it is reported and `undo` can put it back.
                            if let Some(c) = f.change {
                                record(c.named(&self.names), ledger, &mut ledger_failed);
                            }
                            if self.shape.fail_fast {
                                stopped = Some(
                                    "not attempted: an earlier change failed (--fail-fast)"
                                        .to_string(),
                                );
                            }
                        }
                    }
                }
            }
            for &i in &work.members {
                if self.decided[i].is_some() {
                    continue;
                }
                if stopped.is_none() {
                    stopped = stop_reason(ledger, ledger_failed.as_deref());
                }
                if let Some(why) = &stopped {
                    skip(&mut self.decided, &[i], why);
                    continue;
                }
                let Some(g) = group_of(&self.wants[i]).cloned() else {
                    continue;
                };
                match membership(client, self.action, &work.principal, &g).await {
                    Ok(c) => {
                        self.decided[i] = Some((Status::Applied, String::new()));
                        record(c.named(&self.names), ledger, &mut ledger_failed);
                    }
                    Err(e) => {
                        self.decided[i] = Some((Status::Failed, e.to_string()));
                        if self.shape.fail_fast {
                            stopped = Some(
                                "not attempted: an earlier change failed (--fail-fast)".to_string(),
                            );
                        }
                    }
                }
            }
        }
        self.principals = works;
        self.preview()
    }
}

fn skip(decided: &mut [Option<(Status, String)>], idx: &[usize], why: &str) {
    for &i in idx {
        decided[i] = Some((Status::Skipped, why.to_string()));
    }
}

struct Done {
    changed: Vec<Binding>,
    change: Option<Change>,
}

/// A permission write that did not go as asked. `change` is set when something was (or may
/// have been) written all the same: it must be journaled, not lost with the error.
struct Failed {
    message: String,
    change: Option<Change>,
}

impl Failed {
    fn nothing_written(message: impl Into<String>) -> Failed {
        Failed {
            message: message.into(),
            change: None,
        }
    }

    fn written(
        message: String,
        p: &Principal,
        before: Vec<Permission>,
        after: Vec<Permission>,
    ) -> Failed {
        Failed {
            message,
            change: Some(Change::permissions(p, before, after)),
        }
    }
}

/// Hands a landed change to the ledger, keeping the first failure to record one.
fn record(c: Change, ledger: &mut dyn Ledger, failed: &mut Option<String>) {
    if let Err(e) = ledger.landed(c) {
        failed.get_or_insert(e);
    }
}

/// Adds what is missing with the additive endpoint. Planned again on a fresh read, so what
/// someone granted in the meantime is not counted as ours.
async fn grant_perms(client: &Client, p: &Principal, asked: &[Binding]) -> Result<Done, Failed> {
    let before = read_perms(client, p)
        .await
        .map_err(|e| Failed::nothing_written(e.to_string()))?;
    let plan = plan::plan_permissions(Action::Grant, &before, asked);
    if plan.change.is_empty() {
        return Ok(Done {
            changed: Vec::new(),
            change: None,
        });
    }
    let body = plan::inputs_for(&plan.change);
    let written = match p {
        Principal::User { id, .. } => client.add_user_permissions(id, &body).await,
        Principal::Group { id, .. } => client.add_group_permissions(id, &body).await,
        Principal::Invite { .. } => {
            return Err(Failed::nothing_written("cannot grant roles to an invite"));
        }
    };
    if let Err(e) = written {
        // After an ambiguous failure the grant may have landed; the read below decides.
        if !e.is_ambiguous() {
            return Err(Failed::nothing_written(e.to_string()));
        }
    }
    let after = match read_perms(client, p).await {
        Ok(a) => a,
        Err(e) => {
            return Err(Failed::written(
                format!(
                    "the grant may have been applied but reading it back failed ({e}); check with `segment-access list grants`"
                ),
                p,
                before,
                plan.after,
            ));
        }
    };
    if let Some(b) = plan.change.iter().find(|b| !plan::holds(&after, b)) {
        let held_any = plan.change.iter().any(|b| plan::holds(&after, b));
        let message = format!(
            "Segment did not keep the grant: {} is not held on reading back",
            b.display()
        );
        return Err(if held_any {
            Failed::written(message, p, before, after)
        } else {
            Failed::nothing_written(message)
        });
    }
    Ok(Done {
        changed: plan.change,
        change: Some(Change::permissions(p, before, after)),
    })
}

/// How many times a revoke re-reads and rewrites after an ambiguous failure.
const REVOKE_ATTEMPTS: u32 = 4;

/// Removes exactly the asked bindings with a replace computed from a read made just before the
/// write, then reads back to verify.
///
/// Segment has no conditional write, so a change someone else makes between that read and the
/// replace would be overwritten; reading immediately before writing (not when the plan was
/// shown, which may be minutes earlier at a prompt) narrows that window to one round trip.
/// After an ambiguous failure (5xx, reset, timeout) the replace is not resent as it was: it may
/// or may not have landed, and resending an old list after a backoff would widen the window to
/// seconds. Instead the state is read again and the revoke planned again on it.
async fn revoke_perms(client: &Client, p: &Principal, asked: &[Binding]) -> Result<Done, Failed> {
    let watch = trail::watch(client, p).await;
    let mut sent = 0;
    let mut first_before: Option<Vec<Permission>> = None;
    let mut intended: Vec<Permission> = Vec::new();
    let mut removed: Vec<Binding> = Vec::new();
    let mut last_error = String::new();
    // One more read than writes: after the last ambiguous write, a read still decides whether
    // it landed.
    for attempt in 0..=REVOKE_ATTEMPTS {
        let current = match read_perms(client, p).await {
            Ok(c) => c,
            // After an earlier ambiguous replace, the outcome is unknown: journal what was
            // intended so the change is on record (undo checks the state before acting).
            Err(e) => {
                return Err(match first_before {
                    Some(before) => Failed::written(
                        format!(
                            "{last_error}; then reading back failed ({e}): the revoke may have been applied; check with `segment-access list grants`"
                        ),
                        p,
                        before,
                        intended,
                    ),
                    None => Failed::nothing_written(e.to_string()),
                });
            }
        };
        let plan = plan::plan_permissions(Action::Revoke, &current, asked);
        if plan.change.is_empty() {
            // Nothing (left) to remove: either it never was, or an earlier attempt landed.
            return Ok(match first_before {
                Some(before) => Done {
                    changed: removed,
                    change: Some(Change::permissions(p, before, current)),
                },
                None => Done {
                    changed: Vec::new(),
                    change: None,
                },
            });
        }
        if attempt == REVOKE_ATTEMPTS {
            break;
        }
        let before = first_before.get_or_insert_with(|| current.clone()).clone();
        for b in &plan.change {
            if !removed.iter().any(|r| r.same(b)) {
                removed.push(b.clone());
            }
        }
        let body = plan::inputs(&plan.after);
        intended = plan.after.clone();
        sent += 1;
        let written = match p {
            Principal::User { id, .. } => client.replace_user_permissions_once(id, &body).await,
            Principal::Group { id, .. } => client.replace_group_permissions_once(id, &body).await,
            Principal::Invite { .. } => {
                return Err(Failed::nothing_written("cannot revoke roles of an invite"));
            }
        };
        match written {
            Ok(_) => {
                let after = match read_perms(client, p).await {
                    Ok(a) => a,
                    Err(e) => {
                        return Err(Failed::written(
                            format!(
                                "the revoke was applied but reading it back failed ({e}); check with `segment-access list grants`"
                            ),
                            p,
                            before,
                            plan.after,
                        ));
                    }
                };
                if let Some(b) = asked.iter().find(|b| plan::holds(&after, b)) {
                    return Err(Failed::written(
                        format!(
                            "{} holds {} again right after the revoke: someone changed their access at the same time; run the revoke again",
                            p.display(),
                            b.display()
                        ),
                        p,
                        before,
                        after,
                    ));
                }
                if let Some(m) = concurrent(client, p, &watch, sent, &plan.after, &after).await {
                    return Err(Failed::written(m, p, before, after));
                }
                return Ok(Done {
                    changed: removed,
                    change: Some(Change::permissions(p, before, after)),
                });
            }
            Err(e) if e.is_ambiguous() => last_error = e.to_string(),
            Err(e) => return Err(Failed::nothing_written(e.to_string())),
        }
    }
    // Every attempt failed ambiguously and the last read still shows the bindings held: none
    // of the replaces landed.
    Err(Failed::nothing_written(format!(
        "gave up after {REVOKE_ATTEMPTS} attempts: {last_error}; run again: the revoke is planned on a fresh read each time"
    )))
}

/// Whether someone else changed the principal while this tool replaced its permissions: the
/// read-back differs from what was written, or the audit trail holds more changes than this
/// tool made. The message says what may have been overwritten and how to check.
pub(crate) async fn concurrent(
    client: &Client,
    p: &Principal,
    watch: &trail::Watch,
    sent: usize,
    intended: &[Permission],
    after: &[Permission],
) -> Option<String> {
    let differs = plan::diff_lines(intended, after, &|_, _| None)
        .into_iter()
        .filter(|l| !l.starts_with(' '))
        .collect::<Vec<_>>();
    if !differs.is_empty() {
        return Some(format!(
            "written, but {} changed again right after ({}); someone changed it at the same time: check with `segment-access list grants`",
            p.display(),
            differs.join(", ")
        ));
    }
    let others = trail::others(client, watch, sent).await?;
    Some(format!(
        "written, but the audit trail shows {} also changed while this tool was reading and writing it ({}): a change made in between may have been overwritten; check with `segment-access list events --principal {}` and `segment-access list grants`",
        p.display(),
        trail::describe(&others),
        p.display()
    ))
}

async fn membership(
    client: &Client,
    action: Action,
    p: &Principal,
    g: &GroupRef,
) -> Result<Change, Error> {
    let email = email_of(p).unwrap_or_default().to_string();
    match action {
        Action::Grant => {
            client
                .add_group_members(&g.id, std::slice::from_ref(&email))
                .await?;
        }
        Action::Revoke => {
            client
                .remove_group_members(&g.id, std::slice::from_ref(&email))
                .await?;
        }
    }
    Ok(Change::Membership {
        principal: p.clone(),
        group: g.clone(),
        added: action == Action::Grant,
    })
}

/// Every binding a user or group holds directly now (for `revoke --all`).
pub(crate) async fn direct_bindings(client: &Client, p: &Principal) -> Result<Vec<Binding>, Error> {
    Ok(plan::bindings(&read_perms(client, p).await?))
}
