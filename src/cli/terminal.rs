//! What a command knows about where it runs: which standard streams are terminals, how wide the
//! terminal is, and the streams themselves. Commands write through these, never through
//! `std::io::stdout()` directly, so a test can run a command with fake streams and read what it
//! printed.

use std::io::{self, IsTerminal, Read, Write};

use crate::segment::redact::RedactingWriter;

/// The terminal facts of one process, read once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Terminal {
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    /// Columns of the terminal stdout is on; `None` when stdout is not a terminal or the
    /// terminal reports no usable width (some ptys say 0).
    pub width: Option<usize>,
    /// The same for stderr, where interactive commands (browse) show their tables.
    pub err_width: Option<usize>,
}

impl Terminal {
    pub(crate) fn detect() -> Terminal {
        let stdout = io::stdout().is_terminal();
        let stderr = io::stderr().is_terminal();
        let usable = |size: Option<(terminal_size::Width, terminal_size::Height)>| {
            size.map(|(w, _)| usize::from(w.0)).filter(|w| *w >= 20)
        };
        Terminal {
            stdin: io::stdin().is_terminal(),
            stdout,
            stderr,
            width: usable(
                stdout
                    .then(|| terminal_size::terminal_size_of(io::stdout()))
                    .flatten(),
            ),
            err_width: usable(
                stderr
                    .then(|| terminal_size::terminal_size_of(io::stderr()))
                    .flatten(),
            ),
        }
    }
}

/// The standard streams of a command.
pub(crate) struct Streams {
    pub stdin: Box<dyn Read + Send>,
    pub out: Box<dyn Write + Send>,
    pub err: Box<dyn Write + Send>,
}

impl Streams {
    /// The process's own streams. What goes out is redacted line by line: rows and messages
    /// may quote what a server said, and a server may echo the token.
    pub(crate) fn process() -> Streams {
        Streams {
            stdin: Box::new(io::stdin()),
            out: Box::new(RedactingWriter::new(io::stdout())),
            err: Box::new(RedactingWriter::new(io::stderr())),
        }
    }

    #[cfg(test)]
    /// Streams for tests: `stdin` is what the command reads; the returned buffers fill with
    /// what it writes to stdout and stderr.
    pub(crate) fn capture(stdin: &str) -> (Streams, Captured, Captured) {
        let out = Captured::default();
        let err = Captured::default();
        let streams = Streams {
            stdin: Box::new(io::Cursor::new(stdin.as_bytes().to_vec())),
            out: Box::new(out.clone()),
            err: Box::new(err.clone()),
        };
        (streams, out, err)
    }
}

/// A shared in-memory stream, for tests.
#[cfg(test)]
#[derive(Clone, Default)]
pub(crate) struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

#[cfg(test)]
impl Captured {
    pub(crate) fn text(&self) -> String {
        let bytes = self.0.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

#[cfg(test)]
impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| io::Error::other("poisoned"))?
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
