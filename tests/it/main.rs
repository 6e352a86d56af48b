//! The integration tests of ctrld-sync, one binary (one link, one process start for them all): a
//! module per area, the shared fixtures once.

// Shared fixtures.
mod apply_support;
mod in_process;
mod script_support;

// The tests.
mod action;
mod action_comment;
mod action_install;
mod apply;
mod bench_quick;
mod client;
mod commit_state;
mod config;
mod containment;
mod converge;
mod dashboard_edits;
mod duplicates;
mod exit_codes;
mod inert_removal;
mod init_roundtrip;
mod limits;
mod lost_answers;
mod network;
mod newcomer;
mod ownership;
mod pacing_profiles;
mod plan_cli;
mod plan_file;
mod plan_output;
mod plan_planner;
mod plan_props;
mod plan_snapshots;
mod probe;
mod schema;
mod secrets;
mod settings_apply;
mod settings_client;
mod settings_props;
mod source_auth;
mod source_keep;
mod source_retries;
mod sources;
mod unknowns_matrix;
mod validate;
mod verbosity;
