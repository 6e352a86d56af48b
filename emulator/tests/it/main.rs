//! The integration tests of the emulator, one binary (one link, one process start for them all): a
//! module per area, the shared helpers once.

// Shared helpers.
mod common;

// The tests.
mod api_basics;
mod api_rules;
mod binary;
mod data;
mod knobs;
mod lists_unavailable;
mod recorded;
mod settings_data;
mod settings_default_options;
mod settings_filters;
mod settings_knobs;
mod settings_services;
mod tokens;
mod unknowns;
