//! Integration tests of the error-body contract (one binary, several modules).

mod fixtures;
mod never_panics;
