//! [`PatchError`]: why a PATCH or PUT was refused, with its `scimType`.

use response_schema::ScimType;

/// Why a PATCH or PUT was refused; maps onto a SCIM error response with
/// status 400 (`mutability` too, per RFC 7644 table 9).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{scim_type}: {detail}")]
pub(crate) struct PatchError {
    pub scim_type: ScimType,
    pub detail: String,
}

impl PatchError {
    pub(super) fn new(scim_type: ScimType, detail: impl Into<String>) -> Self {
        Self {
            scim_type,
            detail: detail.into(),
        }
    }

    pub(super) fn syntax(detail: impl Into<String>) -> Self {
        Self::new(ScimType::InvalidSyntax, detail)
    }

    pub(super) fn path(detail: impl Into<String>) -> Self {
        Self::new(ScimType::InvalidPath, detail)
    }

    pub(super) fn no_target(detail: impl Into<String>) -> Self {
        Self::new(ScimType::NoTarget, detail)
    }

    pub(super) fn value(detail: impl Into<String>) -> Self {
        Self::new(ScimType::InvalidValue, detail)
    }

    pub(super) fn mutability(detail: impl Into<String>) -> Self {
        Self::new(ScimType::Mutability, detail)
    }
}

pub(super) fn at_operation(index: usize, error: PatchError) -> PatchError {
    PatchError {
        scim_type: error.scim_type,
        detail: format!("operation {index}: {}", error.detail),
    }
}
