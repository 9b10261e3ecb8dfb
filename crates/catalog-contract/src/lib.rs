//! The catalog as a published, versioned contract.
//!
//! - [`export`]: `docs/catalog.json` (every category and code, the precedence
//!   order and the catalog's semver version) and its JSON Schema.
//! - [`diff`]: the compatibility check between two catalogs: every change
//!   classified as breaking, additive or cosmetic, and a verdict that refuses a
//!   breaking change without a new major version.
//! - [`lint`]: an OpenAPI 3.x document held against the catalog.
//! - [`cli`]: the commands `cargo xtask` and `conformance-runner catalog` share.
//!
//! Depends on `catalog` only (plus serde); `catalog` itself stays free of
//! dependencies.

pub mod cli;
pub mod diff;
pub mod export;
pub mod lint;
pub mod model;
pub mod semver;

use std::path::{Path, PathBuf};

pub use model::Catalog;

/// The largest catalog or OpenAPI file read (the files are a few hundred KiB at most).
pub const MAX_INPUT_BYTES: u64 = 8 * 1024 * 1024;

/// Why an input could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ContractError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file read (or, for `--json`, written), as given.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_INPUT_BYTES`].
    #[error("{path}: larger than {MAX_INPUT_BYTES} bytes")]
    TooLarge {
        /// The file, as given; nothing past the limit was read.
        path: PathBuf,
    },
    /// The text is not JSON of the expected shape; serde's message names line and column.
    #[error("{origin}: {message}")]
    Parse {
        /// Where the text came from (a path, or `git show REF:PATH`).
        origin: String,
        /// What is wrong, with line and column.
        message: String,
    },
    /// The catalog parsed but contradicts itself.
    #[error("{origin}: {message}")]
    Invalid {
        /// Where the catalog came from.
        origin: String,
        /// What is inconsistent.
        message: String,
    },
    /// A version is not `MAJOR.MINOR.PATCH`.
    #[error("{origin}: version `{version}` is not semver MAJOR.MINOR.PATCH")]
    Version {
        /// Where the catalog came from.
        origin: String,
        /// The version as written.
        version: String,
    },
    /// The document is not an OpenAPI 3.x document.
    #[error("{origin}: not an OpenAPI 3.x document: {message}")]
    NotOpenApi {
        /// Where the document came from.
        origin: String,
        /// What is missing.
        message: String,
    },
}

/// Reads a file of at most [`MAX_INPUT_BYTES`].
pub fn read_bounded(path: &Path) -> Result<String, ContractError> {
    use std::io::Read as _;
    let read_error = |source| ContractError::Read {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let mut text = String::new();
    file.take(MAX_INPUT_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(read_error)?;
    if text.len() as u64 > MAX_INPUT_BYTES {
        return Err(ContractError::TooLarge {
            path: path.to_owned(),
        });
    }
    Ok(text)
}

/// Parses and checks a catalog's JSON; `origin` names it in errors.
pub fn parse_catalog(text: &str, origin: &str) -> Result<Catalog, ContractError> {
    let catalog: Catalog = serde_json::from_str(text).map_err(|e| ContractError::Parse {
        origin: origin.to_owned(),
        message: e.to_string(),
    })?;
    validate(&catalog, origin)?;
    Ok(catalog)
}

/// Checks what the schema cannot: unique codes and anchors, known categories,
/// a precedence order over exactly the catalog's codes, a semver version.
pub fn validate(catalog: &Catalog, origin: &str) -> Result<(), ContractError> {
    semver::Version::parse(&catalog.version).ok_or_else(|| ContractError::Version {
        origin: origin.to_owned(),
        version: catalog.version.clone(),
    })?;
    let invalid = |message: String| ContractError::Invalid {
        origin: origin.to_owned(),
        message,
    };
    let mut names = std::collections::HashSet::new();
    let mut anchors = std::collections::HashSet::new();
    for category in &catalog.categories {
        if !anchors.insert(category.slug.as_str()) {
            return Err(invalid(format!("anchor `{}` is used twice", category.slug)));
        }
    }
    for code in &catalog.codes {
        if !names.insert(code.code.as_str()) {
            return Err(invalid(format!("code `{}` is listed twice", code.code)));
        }
        for anchor in std::iter::once(&code.anchor).chain(&code.anchor_aliases) {
            if !anchors.insert(anchor.as_str()) {
                return Err(invalid(format!("anchor `{anchor}` is used twice")));
            }
        }
        if !catalog.categories.iter().any(|c| c.slug == code.category) {
            return Err(invalid(format!(
                "code `{}` is in category `{}`, which is not listed",
                code.code, code.category
            )));
        }
    }
    let mut order = std::collections::HashSet::new();
    for name in &catalog.precedence {
        if !names.contains(name.as_str()) {
            return Err(invalid(format!(
                "precedence names `{name}`, which is not a code"
            )));
        }
        if !order.insert(name.as_str()) {
            return Err(invalid(format!("precedence lists `{name}` twice")));
        }
    }
    if let Some(missing) = catalog
        .codes
        .iter()
        .find(|c| !order.contains(c.code.as_str()))
    {
        return Err(invalid(format!(
            "code `{}` is missing from the precedence order",
            missing.code
        )));
    }
    Ok(())
}

/// Escapes control characters (and `|`, which would end a table cell) in text
/// from an input file before it reaches a terminal or a Markdown table.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    out
}
