//! `--role R [--on X]... [--label k=v]...`, repeatable: each `--on` and `--label` belongs to the
//! `--role` before it, as a person reads the command line (`invite ann@x.com --role 'Source
//! Admin' --on source:web --role 'Warehouse Read-only'`). clap's derive cannot pair options by
//! position, so this one is written out, using the indices clap keeps for every value.

use clap::{Arg, ArgAction, ArgMatches, Args, FromArgMatches};
use clap_complete::ArgValueCandidates;

/// One `--role` with the `--on` resources and `--label`s that follow it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct RoleSpec {
    pub(crate) role: String,
    pub(crate) on: Vec<String>,
    pub(crate) labels: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct RoleArgs {
    pub(crate) roles: Vec<RoleSpec>,
}

impl FromArgMatches for RoleArgs {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        let mut s = RoleArgs::default();
        s.update_from_arg_matches(m)?;
        Ok(s)
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        let values = |id: &str| -> Vec<(usize, String)> {
            match (m.indices_of(id), m.get_many::<String>(id)) {
                (Some(ix), Some(vs)) => ix.zip(vs.cloned()).collect(),
                _ => Vec::new(),
            }
        };
        let roles = values("role");
        let mut specs: Vec<(usize, RoleSpec)> = roles
            .into_iter()
            .map(|(i, role)| {
                (
                    i,
                    RoleSpec {
                        role,
                        ..RoleSpec::default()
                    },
                )
            })
            .collect();
        for (id, is_on) in [("on", true), ("label", false)] {
            for (i, v) in values(id) {
                let Some((_, spec)) = specs.iter_mut().rev().find(|(ri, _)| *ri < i) else {
                    return Err(clap::Error::raw(
                        clap::error::ErrorKind::ArgumentConflict,
                        format!("--{id} {v}: name the --role it belongs to first\n"),
                    ));
                };
                if is_on {
                    spec.on.push(v);
                } else {
                    spec.labels.push(v);
                }
            }
        }
        self.roles = specs.into_iter().map(|(_, s)| s).collect();
        Ok(())
    }
}

impl Args for RoleArgs {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        cmd.arg(
            Arg::new("role")
                .long("role")
                .value_name("ROLE")
                .action(ArgAction::Append)
                .add(ArgValueCandidates::new(super::completions::role_names))
                .help("Role name or id (repeatable: each --on and --label belongs to the --role before it)"),
        )
        .arg(
            Arg::new("on")
                .long("on")
                .value_name("RESOURCE")
                .action(ArgAction::Append)
                .add(ArgValueCandidates::new(super::completions::resources))
                .requires("role")
                .help("Resource the role before it is bound on (repeatable; default: workspace)"),
        )
        .arg(
            Arg::new("label")
                .long("label")
                .value_name("KEY=VALUE")
                .action(ArgAction::Append)
                .add(ArgValueCandidates::new(super::completions::labels))
                .requires("role")
                .help("Narrow the workspace-level binding of the role before it by label (repeatable)"),
        )
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        RoleArgs::augment_args(cmd)
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct T {
        #[command(flatten)]
        roles: RoleArgs,
    }

    #[test]
    fn each_on_and_label_belongs_to_the_role_before_it() {
        let t = T::try_parse_from([
            "t",
            "--role",
            "Source Admin",
            "--on",
            "source:a",
            "--on",
            "source:b",
            "--role",
            "Source Read-only",
            "--label",
            "env=prod",
            "--role",
            "Workspace Owner",
        ])
        .unwrap();
        let r = t.roles.roles;
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].on, ["source:a", "source:b"]);
        assert!(r[0].labels.is_empty());
        assert_eq!(r[1].labels, ["env=prod"]);
        assert!(r[1].on.is_empty());
        assert_eq!(r[2].role, "Workspace Owner");
    }

    #[test]
    fn an_on_before_any_role_is_an_error() {
        assert!(T::try_parse_from(["t", "--on", "source:a", "--role", "R"]).is_err());
        assert!(T::try_parse_from(["t", "--on", "source:a"]).is_err());
    }
}
