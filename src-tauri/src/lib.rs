//! Berth's desktop app: a Tauri 2 window over the engine, a tray icon, and `--serve`, the same
//! commands over HTTP for a plain browser. Only this crate knows Tauri and the UI's JSON; the
//! engine stays a library of engine types (see ARCHITECTURE.md).
//!
//! `commands` holds the one implementation of each command; `ipc` (Tauri) and `serve` (HTTP)
//! are its two front doors; `dto` the shapes the UI sees; `channel` where a call's stream of
//! messages goes; `follow` the followed logs, `terminal` the shells in containers (`id` the
//! ids of both), `settings` the registries.conf and credentials; `watch` the engine's events;
//! `tray` the tray icon; `startup` the time since exec (the first paint's report); `app` the window; `authority` the Host and Origin `--serve` answers to, `tls` its certificate.

pub mod app;
pub mod authority;
pub mod channel;
pub mod commands;
pub mod dto;
pub mod files;
pub mod follow;
pub mod id;
pub mod ipc;
pub mod resend;
pub mod serve;
pub mod settings;
pub mod socket;
pub mod startup;
pub mod terminal;
pub mod tls;
pub mod tray;
pub mod watch;
