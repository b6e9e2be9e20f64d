//! The Wenzheng wire protocol: the only crate that knows JSON.
//!
//! * [`assignment`]: the assignment list's items and board, per perspective;
//! * [`client`]: messages clients send (commands with a client-chosen id);
//! * [`server`]: messages the server sends (snapshot, event, ack, error, stats);
//! * [`render`]: turns domain state and changes into what one perspective may see;
//! * [`stored`]: the versioned record format of events kept in a store;
//! * [`epoch`]: positions in a session's history (epoch, seq) and the resume parameters;
//! * [`definition`]: session definition files (TOML/JSON) and delegate CSV import;
//! * [`dto`]: the data shapes shared by all of the above;
//! * [`rest`]: the REST requests and answers; [`openapi`]: the OpenAPI document's frame;
//! * [`backup`]: the backup file of `wenzheng backup` and `restore`;
//! * [`typescript`]: the generated TypeScript declarations for `web/`.
//!
//! Architecture Invariant: domain types never derive `Serialize`; every
//! conversion between JSON and the domain happens in this crate.

pub mod assignment;
pub mod backup;
pub mod client;
pub mod codes;
pub mod definition;
pub mod dto;
pub mod epoch;
pub mod forward;
pub mod openapi;
pub mod record;
pub mod render;
pub mod rest;
pub mod server;
pub mod stored;
pub mod typescript;

pub use codes::{CloseCode, ErrorCode};
pub use epoch::{Epoch, Position};

/// Bumped on any incompatible change to the client/server messages.
pub const PROTOCOL_VERSION: u32 = 1;
