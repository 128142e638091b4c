//! Copying one principal's access to another ("the new hire gets what Alan has"): the roles it
//! holds directly, with their resources and labels, and the groups it is in. Access held only
//! through groups is copied as those memberships, never flattened into direct grants, so it
//! keeps following the group.

use crate::segment::{Client, Error};

use super::directory::Directory;
use super::plan::{self, Binding, GroupRef};
use super::record::Principal;

/// What a principal has that can be copied.
#[derive(Debug, Clone, Default)]
pub(crate) struct Access {
    pub(crate) bindings: Vec<Binding>,
    pub(crate) groups: Vec<GroupRef>,
    /// What could not be read or copied, for people.
    pub(crate) notes: Vec<String>,
}

/// Reads `like`'s direct bindings and memberships fresh. `dir` names resources and groups (and,
/// for an invite, holds the groups' pending members when they were loaded).
pub(crate) async fn access_of(
    client: &Client,
    dir: &Directory,
    like: &Principal,
) -> Result<Access, Error> {
    let mut out = Access::default();
    match like {
        Principal::User { id, .. } => {
            let (perms, groups) = tokio::try_join!(
                super::apply::read_perms(client, like),
                client.user_groups(id)
            )?;
            out.bindings = plan::bindings(&perms);
            out.groups = groups
                .into_iter()
                .map(|g| GroupRef {
                    id: g.id,
                    name: g.name,
                })
                .collect();
        }
        Principal::Group { .. } => {
            out.bindings = plan::bindings(&super::apply::read_perms(client, like).await?);
        }
        Principal::Invite { email } => {
            out.notes.push(format!(
                "the roles of invite:{email} cannot be read through Segment's API; only its groups are copied"
            ));
            for g in &dir.groups {
                let pending = match dir.group_invites.get(&g.id) {
                    Some(v) => v.clone(),
                    None => client.group_invites(&g.id).await?,
                };
                if pending.iter().any(|e| e.eq_ignore_ascii_case(email)) {
                    out.groups.push(GroupRef {
                        id: g.id.clone(),
                        name: g.name.clone(),
                    });
                }
            }
        }
    }
    for b in &mut out.bindings {
        b.resource_name = dir.resource_name(b.kind, &b.resource_id);
    }
    out.groups.sort_by_key(|g| g.name.to_lowercase());
    Ok(out)
}
