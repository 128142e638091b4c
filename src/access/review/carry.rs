//! Carrying out a campaign's revoke decisions through the one write pipeline: each becomes a
//! change (a grant held through a group becomes the removal of that membership, one per
//! membership however many items it carries), planned on a fresh read, and every change that
//! lands is recorded in the campaign with the journal entry that carried it, before the next
//! write. Decisions already carried out are not applied again.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::access::apply::{self, Prepared, Shape};
use crate::access::change::{ChangePlan, Ledger};
use crate::access::journal::Change;
use crate::access::plan::{self, Action, ChangeResult, Item as WantItem, Status, Want};
use crate::access::record::{GrantRecord, Principal, ResourceKind, ResourceRef};
use crate::access::{Directory, wants};
use crate::segment::Client;

use super::campaign::{Campaign, OutcomeStatus};
use super::items::{Item, describe, membership_gives, same_binding};
use super::{Decision, ReviewError, person_key};

/// A campaign's pending revoke decisions as a change plan.
pub(crate) struct Carry {
    campaign: Campaign,
    prepared: Prepared,
    /// The changes asked, as `prepared` holds them (kept to match what lands).
    wants: Vec<Want>,
    /// Per change: the items it carries out.
    targets: Vec<Vec<String>>,
    /// What the review adds to the plan: memberships and what goes with them, what was done.
    notes: Vec<String>,
    /// What recording in the campaign did, for the afterword.
    recorded: HashMap<&'static str, usize>,
    entries: BTreeSet<String>,
}

/// The pending revoke decisions of a campaign, planned against the workspace as it is now
/// (`dir`: read live, with users, invites, groups, roles and resources).
pub(crate) async fn plan(
    client: &Client,
    campaign: Campaign,
    dir: &Directory,
) -> Result<Carry, ReviewError> {
    let items = campaign.items()?;
    let decisions = campaign.decisions()?;
    let outcomes = campaign.outcomes()?;
    let revoke: Vec<&Item> = items
        .iter()
        .filter(|i| decisions.get(&i.id).map(|d| d.decision) == Some(Decision::Revoke))
        .collect();
    let mut already = 0;
    let mut done_entries: BTreeSet<String> = BTreeSet::new();
    let mut wanted: Vec<Want> = Vec::new();
    let mut targets: Vec<Vec<String>> = Vec::new();
    let mut by_key: HashMap<String, usize> = HashMap::new();
    for it in &revoke {
        if let Some(o) = outcomes.get(&it.id).filter(|o| o.status.done()) {
            already += 1;
            done_entries.extend(o.journal_entry.clone());
            continue;
        }
        let rec = normalize(dir, &it.record);
        let (key, record) = match &rec.via {
            Some(v) => (
                format!("{}|member|{}", it.person, v.id),
                membership(
                    &rec,
                    &v.id,
                    dir.group(&v.id)
                        .map(|g| g.name.clone())
                        .unwrap_or_else(|| v.name.clone()),
                ),
            ),
            None if rec.is_membership() => (
                format!("{}|member|{}", it.person, rec.resource.id),
                rec.clone(),
            ),
            None => (format!("{}|bind|{}", it.person, it.id), rec.clone()),
        };
        match by_key.get(&key) {
            Some(&i) => targets[i].push(it.id.clone()),
            None => {
                let mut w = wants::from_record(dir, Action::Revoke, 0, &record);
                w.line = None;
                by_key.insert(key, wanted.len());
                wanted.push(w);
                targets.push(vec![it.id.clone()]);
            }
        }
    }
    let notes = notes(
        &items,
        &decisions,
        &wanted,
        &targets,
        dir,
        already,
        &done_entries,
    );
    let shape = Shape {
        batch: true,
        fail_fast: false,
    };
    let prepared = apply::prepare(client, Action::Revoke, wanted.clone(), dir, shape).await;
    Ok(Carry {
        campaign,
        prepared,
        wants: wanted,
        targets,
        notes,
        recorded: HashMap::new(),
        entries: BTreeSet::new(),
    })
}

/// The record with the names the workspace gives its ids now (a source renamed since the
/// snapshot is still the same source: ids decide what changes).
fn normalize(dir: &Directory, rec: &GrantRecord) -> GrantRecord {
    let mut r = rec.clone();
    if let Some(role) = &mut r.role
        && let Some(live) = dir.roles.iter().find(|x| x.id == role.id)
    {
        role.name = live.name.clone();
    }
    match r.resource.kind {
        ResourceKind::Group => {
            if let Some(g) = dir.group(&r.resource.id) {
                r.resource.name = Some(g.name.clone());
            }
        }
        k => {
            if let Some(t) = k.api_type()
                && let Some(name) = dir.resource_name(t, &r.resource.id)
            {
                r.resource.name = Some(name);
            }
        }
    }
    if let Principal::Group { id, name } = &mut r.principal
        && let Some(g) = dir.group(id)
    {
        *name = g.name.clone();
    }
    if let Some(v) = &mut r.via
        && let Some(g) = dir.group(&v.id)
    {
        v.name = g.name.clone();
    }
    r
}

/// The membership record a grant held through group `group_id` comes from.
fn membership(rec: &GrantRecord, group_id: &str, group_name: String) -> GrantRecord {
    GrantRecord {
        principal: rec.principal.clone(),
        role: None,
        resource: ResourceRef {
            kind: ResourceKind::Group,
            id: group_id.to_string(),
            name: Some(group_name),
        },
        labels: Vec::new(),
        via: None,
    }
}

/// What the review adds to the plan's lines: for each membership to remove, the decisions it
/// carries and everything else the person loses with it (naming what this review decided to
/// keep); for a group's own grant, that every member loses it; what is already done.
fn notes(
    items: &[Item],
    decisions: &HashMap<String, super::campaign::Decided>,
    wanted: &[Want],
    targets: &[Vec<String>],
    dir: &Directory,
    already: usize,
    done_entries: &BTreeSet<String>,
) -> Vec<String> {
    let by_id: HashMap<&str, &Item> = items.iter().map(|i| (i.id.as_str(), i)).collect();
    let mut out = Vec::new();
    let decided = targets.iter().map(Vec::len).sum::<usize>();
    if decided > 0 {
        out.push(format!(
            "review: {decided} revoke decision(s), carried out by {} change(s)",
            wanted.len()
        ));
    }
    for (w, ids) in wanted.iter().zip(targets) {
        match &w.item {
            WantItem::Member(g) => {
                let what: Vec<String> = ids
                    .iter()
                    .filter_map(|id| by_id.get(id.as_str()))
                    .map(|i| describe(&i.record))
                    .collect();
                out.push(format!(
                    "  {} leaves group:{}, for: {}",
                    w.principal.display(),
                    g.name,
                    what.join("; ")
                ));
                if ids
                    .iter()
                    .filter_map(|id| by_id.get(id.as_str()))
                    .any(|i| i.record.via.is_some())
                {
                    out.push(
                        "    a grant held through a group cannot be taken from one member: the membership goes instead"
                            .to_string(),
                    );
                }
                let revoked: Vec<&Item> = ids
                    .iter()
                    .filter_map(|id| by_id.get(id.as_str()).copied())
                    .collect();
                let gives: Vec<String> = membership_gives(dir, &g.id)
                    .iter()
                    .filter(|r| !revoked.iter().any(|i| same_binding(&i.record, r)))
                    .map(|r| {
                        let mut s = format!(
                            "{} on {}",
                            r.role.as_ref().map(|x| x.name.as_str()).unwrap_or("?"),
                            r.resource.display()
                        );
                        if !r.labels.is_empty() {
                            s.push_str(&format!(" [{}]", r.labels_display()));
                        }
                        s
                    })
                    .collect();
                if !gives.is_empty() {
                    out.push(format!(
                        "    with the membership {} also loses: {}",
                        w.principal.display(),
                        gives.join(", ")
                    ));
                }
                let person = person_key(&w.principal);
                let kept: Vec<String> = items
                    .iter()
                    .filter(|i| i.person == person)
                    .filter(|i| {
                        i.record.via.as_ref().is_some_and(|v| v.id == g.id)
                            || (i.record.is_membership() && i.record.resource.id == g.id)
                    })
                    .filter(|i| decisions.get(&i.id).map(|d| d.decision) == Some(Decision::Keep))
                    .map(|i| describe(&i.record))
                    .collect();
                if !kept.is_empty() {
                    out.push(format!(
                        "    note: decided keep in this review, but goes with the membership: {}",
                        kept.join("; ")
                    ));
                }
            }
            WantItem::Bind(b) => {
                if let Principal::Group { name, .. } = &w.principal {
                    out.push(format!(
                        "  group:{name} loses {}: so does every member who holds it through the group",
                        b.display()
                    ));
                }
            }
            WantItem::Refused { .. } => {}
        }
    }
    if already > 0 {
        let entries = if done_entries.is_empty() {
            String::new()
        } else {
            format!(
                " (journal entr{} {})",
                if done_entries.len() == 1 { "y" } else { "ies" },
                done_entries.iter().cloned().collect::<Vec<_>>().join(", ")
            )
        };
        out.push(format!(
            "review: {already} revoke decision(s) already carried out{entries}: not applied again"
        ));
    }
    out
}

/// Which of the changes asked a landed change carried out.
fn carried_by(change: &Change, wanted: &[Want]) -> Vec<usize> {
    match change {
        Change::Permissions {
            principal,
            before,
            after,
            ..
        } => {
            let gone: Vec<plan::Binding> = plan::bindings(before)
                .into_iter()
                .filter(|b| !plan::holds(after, b))
                .collect();
            let key = person_key(principal);
            wanted
                .iter()
                .enumerate()
                .filter(|(_, w)| person_key(&w.principal) == key)
                .filter(
                    |(_, w)| matches!(&w.item, WantItem::Bind(b) if gone.iter().any(|g| g.same(b))),
                )
                .map(|(i, _)| i)
                .collect()
        }
        Change::Membership {
            principal,
            group,
            added: false,
        } => {
            let key = person_key(principal);
            wanted
                .iter()
                .enumerate()
                .filter(|(_, w)| person_key(&w.principal) == key)
                .filter(|(_, w)| matches!(&w.item, WantItem::Member(g) if g.id == group.id))
                .map(|(i, _)| i)
                .collect()
        }
        _ => Vec::new(),
    }
}

/// Records each change in the campaign as it lands, right after the journal has it.
struct Recorder<'a> {
    inner: &'a mut dyn Ledger,
    campaign: &'a mut Campaign,
    wants: &'a [Want],
    targets: &'a [Vec<String>],
    done: &'a mut HashSet<usize>,
    entries: &'a mut BTreeSet<String>,
}

impl Ledger for Recorder<'_> {
    fn landed(&mut self, change: Change) -> Result<(), String> {
        let carried = carried_by(&change, self.wants);
        self.inner.landed(change)?;
        let entry = self.inner.entry_id();
        for i in carried {
            if !self.done.insert(i) {
                continue;
            }
            self.campaign
                .record_outcome(
                    &self.targets[i],
                    OutcomeStatus::Applied,
                    entry.as_deref(),
                    "",
                )
                .map_err(|e| format!("the review campaign could not record it: {e}"))?;
            self.entries.extend(entry.clone());
        }
        Ok(())
    }

    fn stop_requested(&self) -> bool {
        self.inner.stop_requested()
    }

    fn entry_id(&self) -> Option<String> {
        self.inner.entry_id()
    }
}

impl ChangePlan for Carry {
    fn command(&self) -> &'static str {
        "review apply"
    }

    fn heading(&self) -> &'static str {
        self.prepared.heading()
    }

    fn describe(&self) -> Vec<String> {
        let mut lines = self.prepared.describe();
        lines.extend(self.notes.iter().cloned());
        lines
    }

    fn pending(&self) -> usize {
        self.prepared.pending()
    }

    fn preview(&self) -> Vec<ChangeResult> {
        self.prepared.preview()
    }

    fn question(&self) -> String {
        let decisions: usize = self.targets.iter().map(Vec::len).sum();
        format!(
            "Apply {} change(s) for {decisions} revoke decision(s) of campaign {}?",
            self.pending(),
            self.campaign.info.id
        )
    }

    fn workspace_id(&self) -> String {
        self.prepared.workspace_id()
    }

    fn batch(&self) -> bool {
        true
    }

    fn invalid(&self) -> usize {
        self.prepared.invalid()
    }

    async fn apply(&mut self, client: &Client, ledger: &mut dyn Ledger) -> Vec<ChangeResult> {
        let mut done: HashSet<usize> = HashSet::new();
        let results = {
            let mut recorder = Recorder {
                inner: ledger,
                campaign: &mut self.campaign,
                wants: &self.wants,
                targets: &self.targets,
                done: &mut done,
                entries: &mut self.entries,
            };
            self.prepared.apply(client, &mut recorder).await
        };
        for (i, r) in results.iter().enumerate() {
            let status = match r.status {
                Status::Applied if done.contains(&i) => {
                    *self.recorded.entry("applied").or_default() += self.targets[i].len();
                    continue;
                }
                Status::Applied => OutcomeStatus::Applied,
                Status::Noop => OutcomeStatus::Absent,
                Status::Failed => OutcomeStatus::Failed,
                Status::Skipped | Status::Planned => OutcomeStatus::Skipped,
            };
            let Some(ids) = self.targets.get(i) else {
                continue;
            };
            if self
                .campaign
                .record_outcome(ids, status, None, &r.message)
                .is_ok()
            {
                *self.recorded.entry(status.as_str()).or_default() += ids.len();
            }
        }
        results
    }

    fn afterword(&self, _results: &[ChangeResult]) -> Option<String> {
        let n = |k: &str| self.recorded.get(k).copied().unwrap_or(0);
        let mut parts = Vec::new();
        if n("applied") > 0 {
            let entries = self.entries.iter().cloned().collect::<Vec<_>>().join(", ");
            parts.push(if entries.is_empty() {
                format!("{} carried out", n("applied"))
            } else {
                format!("{} carried out by journal entry {entries}", n("applied"))
            });
        }
        if n("absent") > 0 {
            parts.push(format!("{} already gone", n("absent")));
        }
        let open = n("failed") + n("skipped");
        if open > 0 {
            parts.push(format!(
                "{open} not carried out (run `segment-access review apply` again once the report's reasons are fixed)"
            ));
        }
        if parts.is_empty() {
            return None;
        }
        Some(format!(
            "campaign {} ({}): revoke decisions {}",
            self.campaign.info.id,
            self.campaign.path().display(),
            parts.join("; ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::plan::{Binding, GroupRef};
    use crate::segment::models::{Permission, PermissionResource, ResourceType};

    fn ann() -> Principal {
        Principal::User {
            id: "u1".into(),
            email: "ann@x.com".into(),
            name: "Ann".into(),
        }
    }

    fn source(id: &str) -> PermissionResource {
        PermissionResource {
            id: id.into(),
            resource_type: ResourceType::Source,
            labels: None,
        }
    }

    fn bind(id: &str) -> Want {
        Want {
            principal: ann(),
            item: WantItem::Bind(Binding {
                role_id: "r1".into(),
                role_name: "Source Admin".into(),
                kind: ResourceType::Source,
                resource_id: id.into(),
                resource_name: None,
                labels: vec![],
            }),
            line: None,
        }
    }

    #[test]
    fn a_landed_change_carries_exactly_the_decisions_it_removed() {
        let wanted = vec![
            bind("s1"),
            bind("s2"),
            Want {
                principal: ann(),
                item: WantItem::Member(GroupRef {
                    id: "g1".into(),
                    name: "Analysts".into(),
                }),
                line: None,
            },
        ];
        let perm = |ids: &[&str]| Permission {
            role_id: "r1".into(),
            role_name: "Source Admin".into(),
            resources: ids.iter().map(|i| source(i)).collect(),
            labels: None,
        };
        // s1 went, s2 stayed (someone else's change, or a later one), s3 was never asked.
        let change = Change::permissions(
            &ann(),
            vec![perm(&["s1", "s2", "s3"])],
            vec![perm(&["s2", "s3"])],
        );
        assert_eq!(carried_by(&change, &wanted), vec![0]);
        let left = Change::Membership {
            principal: ann(),
            group: GroupRef {
                id: "g1".into(),
                name: "Analysts".into(),
            },
            added: false,
        };
        assert_eq!(carried_by(&left, &wanted), vec![2]);
        // Joining a group carries no revoke; nor does another person's change.
        let joined = Change::Membership {
            principal: ann(),
            group: GroupRef {
                id: "g1".into(),
                name: "Analysts".into(),
            },
            added: true,
        };
        assert!(carried_by(&joined, &wanted).is_empty());
        let bob = Change::permissions(
            &Principal::User {
                id: "u2".into(),
                email: "bob@x.com".into(),
                name: "Bob".into(),
            },
            vec![perm(&["s1"])],
            vec![],
        );
        assert!(carried_by(&bob, &wanted).is_empty());
    }
}
