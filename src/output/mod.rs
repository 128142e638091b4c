//! Rendering: tables for people, JSON / NDJSON / CSV for scripts, `--jq` for both.
//!
//! Every list renders from one `Tabular` implementation, so the table, the CSV and the JSON of
//! a command can never disagree about what the rows are.

mod events;
pub(crate) mod jq;
mod rows;

use std::io::{self, Write};

use comfy_table::{Cell, CellAlignment, ContentArrangement, Table, presets};
use serde::Serialize;

pub(crate) use jq::{JqError, JqFilter};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Ndjson,
    Csv,
    /// A Markdown table (GitHub-flavoured), for reports pasted into tickets and reviews.
    #[value(name = "md", alias = "markdown")]
    Markdown,
}

/// How to render, decided once from the flags and the terminal.
pub(crate) struct Renderer {
    pub format: Format,
    jq: Option<JqFilter>,
    /// The terminal's width when stdout is one: tables fit it. `None` for pipes and files,
    /// which get whole values.
    pub width: Option<usize>,
    pub color: bool,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum OutputError {
    #[error(transparent)]
    Io(#[from] io::Error),
    #[error(transparent)]
    Jq(#[from] JqError),
    #[error("cannot write CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("cannot write JSON: {0}")]
    Json(#[from] serde_json::Error),
}

impl OutputError {
    /// The reader of the output went away (`| head`), whichever writer noticed.
    pub(crate) fn is_broken_pipe(&self) -> bool {
        let kind = match self {
            OutputError::Io(e) | OutputError::Jq(JqError::Io(e)) => Some(e.kind()),
            OutputError::Csv(e) => match e.kind() {
                csv::ErrorKind::Io(io) => Some(io.kind()),
                _ => None,
            },
            OutputError::Json(e) => e.io_error_kind(),
            OutputError::Jq(_) => None,
        };
        kind == Some(io::ErrorKind::BrokenPipe)
    }
}

/// A row type every format can render.
pub(crate) trait Tabular: Serialize {
    /// Column titles of the table.
    fn headers() -> Vec<&'static str>;
    fn cells(&self) -> Vec<String>;
    /// CSV wants flat, machine-friendly columns; by default the table's.
    fn csv_headers() -> Vec<&'static str> {
        Self::headers()
    }
    fn csv_row(&self) -> Vec<String> {
        self.cells()
    }
}

impl Renderer {
    /// `--jq` implies JSON when no machine format was chosen.
    pub(crate) fn new(
        format: Format,
        jq: Option<&str>,
        width: Option<usize>,
        color: bool,
    ) -> Result<Renderer, OutputError> {
        let jq = jq.map(JqFilter::compile).transpose()?;
        let format = match (format, &jq) {
            (Format::Table | Format::Csv | Format::Markdown, Some(_)) => Format::Json,
            (f, _) => f,
        };
        Ok(Renderer {
            format,
            jq,
            width,
            color,
        })
    }

    pub(crate) fn is_table(&self) -> bool {
        self.format == Format::Table
    }

    /// Renders a list. NDJSON and CSV stream row by row.
    pub(crate) fn list<T: Tabular>(
        &self,
        out: &mut dyn Write,
        rows: impl IntoIterator<Item = T>,
    ) -> Result<usize, OutputError> {
        let mut n = 0;
        match self.format {
            Format::Table => {
                let rows: Vec<T> = rows.into_iter().collect();
                n = rows.len();
                if !rows.is_empty() {
                    let mut t = self.table(&T::headers());
                    for r in &rows {
                        t.add_row(r.cells());
                    }
                    writeln!(out, "{}", trim_table(&t.to_string()))?;
                }
            }
            Format::Json if self.jq.is_some() => {
                let rows: Vec<T> = rows.into_iter().collect();
                n = rows.len();
                self.json_value(out, &to_value(&rows)?)?;
            }
            Format::Json => {
                // An array with one compact record per line: valid JSON that streams (a large
                // audit never sits in memory whole) and still reads and greps line by line.
                out.write_all(b"[")?;
                for r in rows {
                    out.write_all(if n == 0 { b"\n" } else { b",\n" })?;
                    serde_json::to_writer(&mut *out, &r)?;
                    n += 1;
                }
                out.write_all(if n == 0 { b"]\n" } else { b"\n]\n" })?;
            }
            Format::Ndjson => {
                for r in rows {
                    n += 1;
                    match &self.jq {
                        Some(f) => f.run_and_write(&to_value(&r)?, out)?,
                        None => {
                            serde_json::to_writer(&mut *out, &r)?;
                            out.write_all(b"\n")?;
                        }
                    }
                }
            }
            Format::Csv => {
                let mut w = csv::Writer::from_writer(&mut *out);
                w.write_record(T::csv_headers())?;
                for r in rows {
                    n += 1;
                    w.write_record(r.csv_row())?;
                }
                w.flush()?;
            }
            Format::Markdown => {
                write_md_row(out, &T::headers())?;
                let rule: Vec<&str> = T::headers().iter().map(|_| "---").collect();
                write_md_row(out, &rule)?;
                for r in rows {
                    n += 1;
                    write_md_row(out, &r.cells())?;
                }
            }
        }
        Ok(n)
    }

    /// Renders one object: a two-column table, or the object itself.
    pub(crate) fn one<T: Tabular>(&self, out: &mut dyn Write, item: &T) -> Result<(), OutputError> {
        match self.format {
            Format::Table => {
                let mut t = self.table(&[]);
                for (k, v) in T::headers().into_iter().zip(item.cells()) {
                    t.add_row(vec![Cell::new(k), Cell::new(v)]);
                }
                writeln!(out, "{}", trim_table(&t.to_string()))?;
            }
            Format::Json | Format::Ndjson => self.json_value(out, &to_value(item)?)?,
            Format::Csv | Format::Markdown => {
                self.list(out, std::iter::once(item))?;
            }
        }
        Ok(())
    }

    fn json_value(&self, out: &mut dyn Write, v: &serde_json::Value) -> Result<(), OutputError> {
        match &self.jq {
            Some(f) => f.run_and_write(v, out)?,
            None => {
                if self.format == Format::Ndjson {
                    serde_json::to_writer(&mut *out, v)
                } else {
                    serde_json::to_writer_pretty(&mut *out, v)
                }?;
                out.write_all(b"\n")?;
            }
        }
        Ok(())
    }

    fn table(&self, headers: &[&str]) -> Table {
        let mut t = Table::new();
        t.load_preset(presets::NOTHING);
        // The width is set explicitly because `force_no_tty` (no colour) would otherwise hide
        // the terminal from the layout too.
        if let Some(w) = self.width {
            t.set_content_arrangement(ContentArrangement::Dynamic);
            t.set_width(u16::try_from(w).unwrap_or(u16::MAX));
        } else {
            // Piped tables keep whole values on one line so grep and cut work.
            t.set_content_arrangement(ContentArrangement::Disabled);
        }
        if !self.color {
            t.force_no_tty();
        } else {
            t.enforce_styling();
        }
        if !headers.is_empty() {
            let cells: Vec<Cell> = headers
                .iter()
                .map(|h| {
                    let c = Cell::new(h).set_alignment(CellAlignment::Left);
                    if self.color {
                        c.add_attribute(comfy_table::Attribute::Bold)
                    } else {
                        c
                    }
                })
                .collect();
            t.set_header(cells);
            // Identifiers are copied and pasted: never wrap them; let prose columns wrap.
            for (i, h) in headers.iter().enumerate() {
                if matches!(*h, "ID" | "EMAIL" | "PRINCIPAL")
                    && let Some(col) = t.column_mut(i)
                {
                    col.set_constraint(comfy_table::ColumnConstraint::ContentWidth);
                }
            }
        }
        t
    }
}

impl<T: Tabular> Tabular for &T {
    fn headers() -> Vec<&'static str> {
        T::headers()
    }
    fn cells(&self) -> Vec<String> {
        (*self).cells()
    }
    fn csv_headers() -> Vec<&'static str> {
        T::csv_headers()
    }
    fn csv_row(&self) -> Vec<String> {
        (*self).csv_row()
    }
}

/// One Markdown table row; pipes and line breaks in values would break the table.
fn write_md_row<S: AsRef<str>>(out: &mut dyn Write, cells: &[S]) -> io::Result<()> {
    let cells: Vec<String> = cells
        .iter()
        .map(|c| {
            c.as_ref()
                .replace('\\', "\\\\")
                .replace('|', "\\|")
                .replace(['\n', '\r'], " ")
        })
        .collect();
    writeln!(out, "| {} |", cells.join(" | "))
}

fn to_value<T: Serialize>(v: &T) -> Result<serde_json::Value, OutputError> {
    Ok(serde_json::to_value(v)?)
}

/// comfy-table pads every cell by one space on both sides; the first column's left pad and
/// trailing spaces are noise in a borderless table.
fn trim_table(s: &str) -> String {
    s.lines()
        .map(|l| l.strip_prefix(' ').unwrap_or(l).trim_end())
        .collect::<Vec<_>>()
        .join("\n")
}
