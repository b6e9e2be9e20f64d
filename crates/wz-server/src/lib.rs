//! The Wenzheng server: HTTP routes, the WebSocket endpoint, configuration
//! and start-up (store, hub, demo seeding). `main.rs` only calls [`cli::main`].

pub mod alloc;
pub mod api;
pub mod app;
pub mod auth;
pub mod cards;
pub mod cli;
pub mod cli_backup;
pub mod cli_record;
pub mod cli_report;
pub mod config;
pub mod demo;
pub mod files;
pub mod listener;
pub mod origin;
pub mod pdf;
pub mod reports;
pub mod settings;
pub mod sheet;
pub mod upgrade;
pub mod writers;
pub mod ws;

pub use app::{AppState, app, serve};
