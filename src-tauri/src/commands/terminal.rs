//! Terminal sessions by id: open a shell in a running container, type into it, resize it,
//! close it. The sessions themselves are `crate::terminal`'s.

use serde::Deserialize;

use crate::channel::Sink;
use crate::dto::{ApiError, TerminalOutput};

use super::backend::{blocking, Backend};

#[derive(Debug, Deserialize)]
pub struct OpenTerminalArgs {
    pub id: String,
    pub cols: u16,
    pub rows: u16,
}

#[derive(Debug, Deserialize)]
pub struct TerminalInputArgs {
    pub session: String,
    /// Text typed, UTF-8.
    pub data: String,
}

#[derive(Debug, Deserialize)]
pub struct TerminalResizeArgs {
    pub session: String,
    pub cols: u16,
    pub rows: u16,
}

#[derive(Debug, Deserialize)]
pub struct SessionArgs {
    pub session: String,
}

/// Opens a shell (bash if the container has it, else sh) in a running container on a
/// terminal of `cols` x `rows`; its output goes to `sink`. Returns the session's id.
pub async fn open_terminal(
    b: &Backend,
    a: OpenTerminalArgs,
    sink: impl Sink<TerminalOutput>,
) -> Result<String, ApiError> {
    let terminals = b.terminals.clone();
    blocking(&b.engine, move |e| terminals.open(e, &a.id, a.cols, a.rows, sink)).await
}

pub async fn terminal_input(b: &Backend, a: TerminalInputArgs) -> Result<(), ApiError> {
    let terminals = b.terminals.clone();
    // A shell that does not read fills the terminal: the write waits, off the async workers.
    blocking(&b.engine, move |_| terminals.input(&a.session, a.data.as_bytes())).await
}

pub async fn terminal_resize(b: &Backend, a: TerminalResizeArgs) -> Result<(), ApiError> {
    let terminals = b.terminals.clone();
    blocking(&b.engine, move |_| terminals.resize(&a.session, a.cols, a.rows)).await
}

/// Ends a session (its shell gets SIGHUP); one that ended already is not an error.
pub async fn close_terminal(b: &Backend, a: SessionArgs) -> Result<(), ApiError> {
    b.terminals.close(&a.session);
    Ok(())
}
