//! Cairn: an AWS-compatible audit-trail service. See docs/DESIGN.md for the rooms and the flow.

pub mod access;
pub mod app;
pub mod arn;
pub mod audit;
pub mod auth;
pub mod background;
pub mod clock;
pub mod config;
pub mod delivery;
pub mod digests;
pub mod error;
pub mod frontdoor;
pub mod ids;
pub mod policy;
pub mod server;
pub mod services;
pub mod store;
