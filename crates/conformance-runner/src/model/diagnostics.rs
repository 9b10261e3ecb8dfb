//! Messages for an unknown code that help someone with only the installed
//! binary: the nearest documented code, and the published reference page
//! rather than a file of this repository.

use catalog::Code;

/// The published reference page of every documented code.
pub(crate) fn reference_page() -> String {
    format!("{}{}", catalog::DEFAULT_DOCS_BASE, catalog::DOCS_PATH)
}

/// The documented code nearest to `name`: the same one written in another
/// case or with other separators, else the one within a few edits.
pub(crate) fn nearest_code(name: &str) -> Option<Code> {
    let norm = |s: &str| s.to_ascii_lowercase().replace(['_', '-', ' '], "");
    let wanted = norm(name);
    Code::ALL
        .iter()
        .map(|&c| (strsim::levenshtein(&norm(c.name()), &wanted), c))
        .filter(|&(d, _)| d <= 3.max(wanted.len() / 4))
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

/// "`X` is not a documented error code; did you mean `Y`? (every code:
/// `<reference page>`)".
pub(crate) fn unknown_code(name: &str) -> String {
    let hint = nearest_code(name)
        .map(|c| format!("; did you mean `{}`?", c.name()))
        .unwrap_or_default();
    format!(
        "{}{hint} (every code: {})",
        catalog::UnknownCode(name.to_owned()),
        reference_page()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_matches() {
        assert_eq!(nearest_code("not_found"), Some(Code::NotFound));
        assert_eq!(nearest_code("STEP_UP_REQUIRD"), Some(Code::StepUpRequired));
        assert_eq!(nearest_code("RATE_LIMITED"), Some(Code::RateLimited));
        assert_eq!(nearest_code("INVALID_FILTERS"), Some(Code::InvalidFilter));
        assert_eq!(nearest_code("TEAPOT"), None);
    }

    #[test]
    fn the_message_points_to_the_published_page() {
        assert_eq!(
            unknown_code("STEP_UP_REQUIRD"),
            "`STEP_UP_REQUIRD` is not a documented error code; did you mean `STEP_UP_REQUIRED`? (every code: https://docs.platform.example/docs/errors)"
        );
    }
}
