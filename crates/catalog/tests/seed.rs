//! Holds every row of the user's reference (`docs/seed-error-codes.md`, a copy
//! of `shared/seed/error-codes.md`) against the catalog, so no row can drift.

use catalog::{Category, Code};

const SEED: &str = include_str!("../../../docs/seed-error-codes.md");

#[derive(Debug)]
struct Row {
    category: String,
    description: String,
    status: u16,
    code: String,
    meaning: String,
    fix: String,
}

/// Parses the seed's layout: a category line, its description, a table.
fn rows(seed: &str) -> Vec<Row> {
    let lines: Vec<&str> = seed.lines().collect();
    let mut out = Vec::new();
    let (mut category, mut description) = (String::new(), String::new());
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with("| Status") {
            category = lines[i - 2].trim().to_owned();
            description = lines[i - 1].trim().to_owned();
            continue;
        }
        let Some(rest) = line.strip_prefix("| ") else {
            continue;
        };
        let cells: Vec<&str> = rest.trim_end_matches(" |").splitn(3, " | ").collect();
        let Ok(status) = cells[0].parse::<u16>() else {
            continue;
        };
        let (meaning, fix) = cells[2].split_once(" Fix: ").expect("every row has a fix");
        out.push(Row {
            category: category.clone(),
            description: description.clone(),
            status,
            code: cells[1].to_owned(),
            meaning: meaning.to_owned(),
            fix: fix.to_owned(),
        });
    }
    out
}

#[test]
fn every_seed_row_matches_the_catalog_in_order() {
    let rows = rows(SEED);
    assert_eq!(rows.len(), 20, "the seed documents 20 codes");
    assert_eq!(rows.len(), Code::ALL.len());
    for (row, &code) in rows.iter().zip(Code::ALL) {
        let info = code.info();
        assert_eq!(row.code, info.name, "order of codes");
        assert_eq!(row.status, info.status, "status of {}", row.code);
        assert_eq!(
            row.category,
            info.category.title(),
            "category of {}",
            row.code
        );
        assert_eq!(
            row.description,
            info.category.description(),
            "category description of {}",
            row.code
        );
        assert_eq!(row.meaning, info.meaning, "meaning of {}", row.code);
        assert_eq!(row.fix, info.fix, "fix of {}", row.code);
    }
}

#[test]
fn every_category_of_the_seed_is_in_the_catalog_in_order() {
    let mut seen: Vec<String> = rows(SEED).into_iter().map(|r| r.category).collect();
    seen.dedup();
    let titles: Vec<&str> = Category::ALL.iter().map(|c| c.title()).collect();
    assert_eq!(seen, titles);
}

/// The committed copy must equal the user's file where it is present (it is
/// beside the checkout in this project's sessions and CI, not on a user's machine).
#[test]
fn committed_seed_copy_equals_the_users_file() {
    let shared = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/seed/error-codes.md"
    );
    if let Ok(original) = std::fs::read_to_string(shared) {
        assert_eq!(
            original, SEED,
            "docs/seed-error-codes.md differs from {shared}: copy it again"
        );
    }
}
