//! Running scenarios: setup, the asserted request, checks, cleanup.
//!
//! Scenarios run concurrently (at most `jobs` at once), each with its own
//! slug (`<run id>-<index>`) so the resources it creates and its receiver
//! slot are its own. Setup steps retry on 429 honouring `Retry-After`
//! (bounded per wait and in total by the profile); the asserted request is
//! sent exactly once. Each scenario's cleanup steps run after it, whatever its
//! outcome.
//!
//! Every byte from the target is hostile: bodies are read in chunks up to the
//! profile's `max_body_bytes` (a larger one fails the scenario, "body larger
//! than N"), and a response is redacted as soon as it arrives, before checks
//! quote excerpts of it; only captures see the raw value.
//!
//! On an interruption (Ctrl-C, SIGTERM, `--deadline`) no new step starts, but
//! a request in flight is let finish, so what it created is captured and
//! cleaned up; every scenario cleans up concurrently, all within the
//! profile's `cleanup_budget_secs`. What could not be cleaned up is named in
//! a warning, and [`left_behind`](cleanup::left_behind) names it while the run goes on (the binary
//! prints it when a second Ctrl-C aborts at once).
//!
//! Modules, bottom up: [`cleanup`] (the process-wide registry of what is not
//! cleaned up yet), [`shared`] (what every scenario of a run shares),
//! [`http`] (render, send, read bounded, redact), [`retry`] (setup steps on
//! 429), [`replay`] (the request as a person can send it again), [`steps`]
//! (one scenario: setup, asserted request, cleanup), [`schedule`] (the
//! scenarios concurrently) and [`run`] (a [`Plan`](crate::plan::Plan) run
//! end to end).

pub(crate) mod ceremony;
pub(crate) mod cleanup;
pub(crate) mod http;
pub(crate) mod receiver;
pub(crate) mod replay;
pub(crate) mod retry;
pub(crate) mod run;
pub(crate) mod schedule;
pub(crate) mod shared;
pub(crate) mod steps;
