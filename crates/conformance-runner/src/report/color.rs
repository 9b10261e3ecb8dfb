//! ANSI colour for the human report, on a terminal and unless `NO_COLOR`
//! says otherwise.

/// Whether to use ANSI colours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Color {
    /// Plain text.
    Never,
    /// ANSI colours.
    Always,
}

impl Color {
    /// Colours on a terminal, unless `NO_COLOR` is set (to anything non-empty).
    pub fn detect(is_terminal: bool, no_color: Option<&str>) -> Color {
        if is_terminal && no_color.is_none_or(str::is_empty) {
            Color::Always
        } else {
            Color::Never
        }
    }

    pub(crate) fn paint(self, code: &str, text: &str) -> String {
        match self {
            Color::Never => text.to_owned(),
            Color::Always => format!("\x1b[{code}m{text}\x1b[0m"),
        }
    }
}
