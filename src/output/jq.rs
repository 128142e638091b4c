//! `--jq EXPR`: jq filters run in-process by jaq, so users without jq installed get them too.
//! Results print like `jq -r -c`: strings raw, everything else as compact JSON, one per line.

use std::io::Write;

use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Compiler, Ctx, Vars, data, unwrap_valr};
use jaq_json::Val;

#[derive(Debug, thiserror::Error)]
pub(crate) enum JqError {
    #[error("invalid --jq expression: {0}")]
    Compile(String),
    #[error("--jq: {0}")]
    Runtime(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

pub(crate) struct JqFilter {
    filter: jaq_core::Filter<data::JustLut<Val>>,
}

impl JqFilter {
    pub(crate) fn compile(code: &str) -> Result<JqFilter, JqError> {
        let defs = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs());
        let funs = jaq_core::funs()
            .chain(jaq_std::funs())
            .chain(jaq_json::funs());
        let loader = Loader::new(defs);
        let arena = Arena::default();
        let modules = loader
            .load(&arena, File { code, path: () })
            .map_err(|errs| {
                JqError::Compile(
                    errs.into_iter()
                        .map(|(_, e)| describe_load_error(&e))
                        .collect::<Vec<_>>()
                        .join("; "),
                )
            })?;
        let filter = Compiler::default()
            .with_funs(funs)
            .compile(modules)
            .map_err(|errs| {
                let names: Vec<String> = errs
                    .into_iter()
                    .flat_map(|(_, es)| es.into_iter().map(|(name, _)| name.to_string()))
                    .collect();
                JqError::Compile(format!("undefined: {}", names.join(", ")))
            })?;
        Ok(JqFilter { filter })
    }

    /// Runs the filter on one input and writes every result on its own line.
    pub(crate) fn run_and_write(
        &self,
        input: &serde_json::Value,
        out: &mut dyn Write,
    ) -> Result<(), JqError> {
        let bytes = serde_json::to_vec(input).map_err(|e| JqError::Runtime(e.to_string()))?;
        let val =
            jaq_json::read::parse_single(&bytes).map_err(|e| JqError::Runtime(e.to_string()))?;
        let ctx = Ctx::<data::JustLut<Val>>::new(&self.filter.lut, Vars::new([]));
        for result in self.filter.id.run((ctx, val)).map(unwrap_valr) {
            let v = result.map_err(|e| JqError::Runtime(e.to_string()))?;
            match &v {
                Val::TStr(s) => {
                    out.write_all(s)?;
                    out.write_all(b"\n")?;
                }
                other => writeln!(out, "{other}")?,
            }
        }
        Ok(())
    }
}

fn describe_load_error(e: &jaq_core::load::Error<&str>) -> String {
    use jaq_core::load::Error;
    match e {
        Error::Lex(errs) => errs
            .iter()
            .map(|(expect, _)| format!("expected {}", expect.as_str()))
            .collect::<Vec<_>>()
            .join(", "),
        Error::Parse(errs) => errs
            .iter()
            .map(|(expect, _)| format!("expected {}", expect.as_str()))
            .collect::<Vec<_>>()
            .join(", "),
        Error::Io(errs) => errs
            .iter()
            .map(|(path, msg)| format!("{path:?}: {msg}"))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(code: &str, input: serde_json::Value) -> String {
        let f = JqFilter::compile(code).unwrap();
        let mut out = Vec::new();
        f.run_and_write(&input, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn strings_raw_others_compact() {
        let input = serde_json::json!([{"a": "x", "b": [1, 2]}, {"a": "y", "b": []}]);
        assert_eq!(run(".[].a", input.clone()), "x\ny\n");
        assert_eq!(run(".[0].b", input.clone()), "[1,2]\n");
        assert_eq!(run("map(select(.a == \"y\")) | length", input), "1\n");
    }

    #[test]
    fn bad_expression_is_an_error() {
        assert!(matches!(
            JqFilter::compile(".[] | nosuchfn"),
            Err(JqError::Compile(_))
        ));
        assert!(matches!(
            JqFilter::compile(".[ |"),
            Err(JqError::Compile(_))
        ));
    }
}
