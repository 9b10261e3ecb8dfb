//! Loading the scenarios a run can select: a folder's, or the built-in ones
//! (compiled in from `fixtures/scenarios`), of which a filtered run parses
//! only those its filters can select ([`crate::model::scenario::head`]).

use std::path::Path;

use crate::model::profile::Profile;
use crate::model::scenario::head::Head;
use crate::model::scenario::{self, LoadError, Scenario, SourceFile};
use crate::plan::select::Filter;

static EMBEDDED: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/embedded_scenarios.rs"));

/// The scenarios compiled into the runner (`fixtures/scenarios`).
pub fn embedded_scenarios() -> Result<Vec<Scenario>, LoadError> {
    embedded_where(None)
}

/// The built-in scenarios `keep` may select (see [`scenario::head`]); all of
/// them without it.
fn embedded_where(keep: Option<&dyn Fn(&Head<'_>) -> bool>) -> Result<Vec<Scenario>, LoadError> {
    let files: Vec<SourceFile> = EMBEDDED
        .iter()
        .map(|(name, text)| SourceFile {
            name: (*name).to_owned(),
            text: (*text).to_owned(),
        })
        .collect();
    let mut scenarios = match keep {
        Some(keep) => scenario::load::load_where(&files, keep)?,
        None => scenario::load::load(&files)?,
    };
    for s in &mut scenarios {
        s.source.built_in = true;
    }
    Ok(scenarios)
}

/// Scenarios from `dir`, or the embedded ones. With `filters`, the embedded
/// scenarios no filter can select are not parsed, except those a `[[skip]]`
/// of one of `profiles` names (a skip that matches nothing is stale). A
/// folder is loaded whole: every problem in every file is reported.
pub(crate) fn load_scenarios(
    dir: Option<&Path>,
    filters: &[Filter],
    profiles: &[&Profile],
) -> Result<Vec<Scenario>, LoadError> {
    match dir {
        Some(dir) => scenario::load::load_dir(dir),
        None if filters.is_empty() => embedded_scenarios(),
        None => embedded_where(Some(&|head| {
            filters.iter().any(|f| f.selects(head))
                || profiles
                    .iter()
                    .any(|p| p.skips.iter().any(|skip| skip.matches(head.id)))
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::scenario::head;

    #[test]
    fn every_built_in_head_is_read_as_parsed() {
        let all = embedded_scenarios().unwrap();
        let mut read = 0;
        for (name, text) in EMBEDDED {
            let tables = head::tables(text);
            let ids: Vec<&str> = all
                .iter()
                .filter(|s| s.source.file == *name)
                .map(|s| s.id.as_str())
                .collect();
            assert_eq!(tables.len(), ids.len(), "{name}: one table per scenario");
            for (table, id) in tables.into_iter().zip(ids) {
                let parsed = all.iter().find(|s| s.id == id).unwrap();
                if let Some(scanned) = head::scan(&text[table]) {
                    assert_eq!(scanned.head(), parsed.head(), "{name}");
                    read += 1;
                }
            }
        }
        // A head not read only costs a parse; most must be read to pay.
        assert!(
            read * 10 >= all.len() * 9,
            "{read} of {} heads read",
            all.len()
        );
    }

    #[test]
    fn a_filtered_load_parses_what_the_filters_select_and_what_a_skip_names() {
        let all = embedded_scenarios().unwrap();
        let filters: Vec<Filter> = [
            "id=unauthorized/",
            "code=MFA_REQUIRED",
            "tag=sensitive-action",
        ]
        .iter()
        .map(|f| f.parse().unwrap())
        .collect();
        let mut profile = Profile::mock();
        profile.skips = vec![crate::model::profile::Skip {
            pattern: "attestation-blocked/*".into(),
            reason: "no attestation here".into(),
            line: 1,
        }];
        let loaded = load_scenarios(None, &filters, &[&profile]).unwrap();
        let selected: Vec<_> = all
            .iter()
            .filter(|s| {
                filters.iter().any(|f| f.matches(s)) || s.id.starts_with("attestation-blocked/")
            })
            .collect();
        assert!(loaded.len() < all.len());
        assert_eq!(
            loaded.iter().map(|s| format!("{s:?}")).collect::<Vec<_>>(),
            selected
                .iter()
                .map(|s| format!("{s:?}"))
                .collect::<Vec<_>>(),
            "the same scenarios, lines included"
        );
    }
}
