//! Rendering: tables for people, JSON / NDJSON / CSV for scripts, `--jq` for both.
//!
//! Every list renders from one `Tabular` implementation, so the table, the CSV and the JSON of
//! a command can never disagree about what the rows are.

mod events;
pub(crate) mod jq;
mod rows;
pub(crate) mod table;

use std::io::{self, Write};

use serde::Serialize;

pub(crate) use jq::{JqError, JqFilter};
pub(crate) use table::Give;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Columns for people; on a terminal, fitted to its width (long cells cut short).
    Table,
    /// A table with every value whole, however wide (the same as --wide).
    Wide,
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
    /// and for --wide, which get whole values.
    pub width: Option<usize>,
    pub color: bool,
    /// Table and CSV header lines (off with --no-headers).
    pub headers: bool,
}

/// What the command line says about the shape of tables.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TableFlags {
    /// --wide: whole values even on a terminal.
    pub wide: bool,
    /// --no-headers.
    pub no_headers: bool,
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
    /// Flags that cannot go together.
    #[error("{0}")]
    Usage(String),
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
            OutputError::Jq(_) | OutputError::Usage(_) => None,
        };
        kind == Some(io::ErrorKind::BrokenPipe)
    }
}

/// A row type every format can render.
pub(crate) trait Tabular: Serialize {
    /// Column titles of the table.
    fn headers() -> Vec<&'static str>;
    fn cells(&self) -> Vec<String>;
    /// CSV wants flat, machine-friendly columns; by default the table's (written in lower
    /// case, spaces as `_`, as every CSV header is).
    fn csv_headers() -> Vec<&'static str> {
        Self::headers()
    }
    fn csv_row(&self) -> Vec<String> {
        self.cells()
    }
    /// How each table column gives way on a narrow terminal; by default from its header
    /// (`table::give_for`).
    fn give() -> Vec<Give> {
        Self::headers().into_iter().map(table::give_for).collect()
    }
}

impl Format {
    /// The name `--format` takes.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Wide => "wide",
            Format::Json => "json",
            Format::Ndjson => "ndjson",
            Format::Csv => "csv",
            Format::Markdown => "md",
        }
    }
}

/// `--jq` filters JSON: with a `--format` asked for on the command line that is not JSON, it is
/// a usage error rather than a silent switch to JSON. (`--jq` alone implies JSON.)
pub(crate) fn check_jq(asked: Option<Format>, jq: bool) -> Result<(), OutputError> {
    match asked {
        Some(f @ (Format::Table | Format::Wide | Format::Csv | Format::Markdown)) if jq => {
            Err(OutputError::Usage(format!(
                "--jq filters JSON, and --format {} is not JSON: use --format json or ndjson with --jq, or leave --format out",
                f.name()
            )))
        }
        _ => Ok(()),
    }
}

impl Renderer {
    /// `--jq` implies JSON when the format is not a machine one (a profile's table); a
    /// command line that asks for a non-JSON `--format` with `--jq` is refused before, by
    /// `check_jq`. `wide` is a table with whole values.
    pub(crate) fn new(
        format: Format,
        jq: Option<&str>,
        width: Option<usize>,
        color: bool,
    ) -> Result<Renderer, OutputError> {
        let jq = jq.map(JqFilter::compile).transpose()?;
        let format = match (format, &jq) {
            (Format::Table | Format::Wide | Format::Csv | Format::Markdown, Some(_)) => {
                Format::Json
            }
            (f, _) => f,
        };
        let (format, width) = match format {
            Format::Wide => (Format::Table, None),
            f => (f, width),
        };
        Ok(Renderer {
            format,
            jq,
            width,
            color,
            headers: true,
        })
    }

    /// The same renderer with what `--wide` and `--no-headers` say about tables.
    pub(crate) fn with_table_flags(mut self, flags: TableFlags) -> Renderer {
        if flags.wide {
            self.width = None;
        }
        self.headers = !flags.no_headers;
        self
    }

    /// How a table is laid out here.
    pub(crate) fn style(&self) -> table::Style {
        table::Style {
            width: self.width,
            headers: self.headers,
            bold: self.color,
        }
    }

    /// Writes a table of any rows, fitted as `style` says.
    pub(crate) fn write_table(
        &self,
        out: &mut dyn Write,
        headers: &[&str],
        rows: &[Vec<String>],
        give: &[Give],
    ) -> io::Result<()> {
        for line in table::render(headers, rows, give, self.style()) {
            writeln!(out, "{line}")?;
        }
        Ok(())
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
        // Rows go out in blocks, not a write (and a redaction pass) per record: 57,000
        // grants as NDJSON took 1.6 s unbuffered. The caller flushes the end of the list.
        let mut buffered = io::BufWriter::with_capacity(64 * 1024, out);
        let out: &mut dyn Write = &mut buffered;
        let mut n = 0;
        match self.format {
            Format::Table | Format::Wide => {
                let rows: Vec<Vec<String>> = rows.into_iter().map(|r| r.cells()).collect();
                n = rows.len();
                if !rows.is_empty() {
                    self.write_table(out, &T::headers(), &rows, &T::give())?;
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
                if self.headers {
                    w.write_record(csv_headers::<T>())?;
                }
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
        buffered.flush()?;
        Ok(n)
    }

    /// Renders one object: a two-column table, or the object itself.
    pub(crate) fn one<T: Tabular>(&self, out: &mut dyn Write, item: &T) -> Result<(), OutputError> {
        match self.format {
            Format::Table | Format::Wide => {
                let rows: Vec<Vec<String>> = T::headers()
                    .into_iter()
                    .zip(item.cells())
                    .map(|(k, v)| vec![k.to_string(), v])
                    .collect();
                let style = table::Style {
                    headers: false,
                    ..self.style()
                };
                for line in table::render(
                    &["", ""],
                    &rows,
                    &[table::CUT_LAST, table::CUT_FIRST],
                    style,
                ) {
                    writeln!(out, "{line}")?;
                }
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
    fn give() -> Vec<Give> {
        T::give()
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

/// A CSV header line: lower case, `_` for spaces, whatever a row type says.
fn csv_headers<T: Tabular>() -> Vec<String> {
    T::csv_headers()
        .iter()
        .map(|h| h.to_lowercase().replace(' ', "_"))
        .collect()
}

fn to_value<T: Serialize>(v: &T) -> Result<serde_json::Value, OutputError> {
    Ok(serde_json::to_value(v)?)
}
