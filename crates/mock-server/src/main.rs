//! The `mock-server` binary (filled by issue 3).
fn main() {}
