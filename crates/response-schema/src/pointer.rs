//! JSON Pointer (RFC 6901) reference tokens: the one escaper the workspace's
//! crates share (the checker's findings, the mock's error pointers, the
//! runner's snapshot drift).

/// One reference token escaped for a JSON Pointer: `~` as `~0`, then `/` as `~1`.
pub fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tilde_first_then_slash() {
        assert_eq!(escape_token("a/b~c"), "a~1b~0c");
        // `~1` written literally must not read back as `/`.
        assert_eq!(escape_token("~1"), "~01");
        assert_eq!(escape_token("plain"), "plain");
    }
}
