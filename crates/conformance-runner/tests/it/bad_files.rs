//! Bad scenario and profile files get exact errors with file, line and
//! column: each `tests/fixtures/bad-*/NAME.toml` has its message in `NAME.err`.

use conformance_runner::profile::Profile;
use conformance_runner::scenario::{SourceFile, load};

use crate::fixture;

fn cases(dir: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(fixture(dir)).unwrap().flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "toml") {
            let name = format!("{dir}/{}", path.file_name().unwrap().to_string_lossy());
            let text = std::fs::read_to_string(&path).unwrap();
            let expected = std::fs::read_to_string(path.with_extension("err"))
                .unwrap_or_else(|_| panic!("{name} has no .err file"));
            out.push((name, text, expected.trim_end().to_owned()));
        }
    }
    out.sort();
    assert!(!out.is_empty());
    out
}

/// Loads every file of `fixtures/<dir>` with `load` and asserts its exact message.
fn assert_exact_errors<T, E: std::fmt::Display>(
    dir: &str,
    load: impl Fn(&SourceFile) -> Result<T, E>,
) {
    let mut mismatches = Vec::new();
    for (name, text, expected) in cases(dir) {
        let got = match load(&SourceFile {
            name: name.clone(),
            text,
        }) {
            Ok(_) => "loaded without error".to_owned(),
            Err(e) => e.to_string(),
        };
        if got != expected {
            mismatches.push(format!("{name}\n  expected: {expected}\n  got:      {got}"));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn bad_scenario_files_get_exact_errors() {
    assert_exact_errors("bad-scenarios", |file| load(std::slice::from_ref(file)));
}

#[test]
fn bad_profiles_get_exact_errors() {
    assert_exact_errors("bad-profiles", Profile::parse);
}

#[test]
fn every_problem_in_every_file_is_reported_at_once() {
    let a = SourceFile {
        name: "a.toml".into(),
        text: "[[scenario]]\nid = \"x/1\"\ncode = \"NOPE\"\ndescription = \"d\"\n[scenario.request]\nmethod = \"GET\"\npath = \"nope\"\n".into(),
    };
    let b = SourceFile {
        name: "b.toml".into(),
        text: "[[scenario]]\nid = 3\n".into(),
    };
    let message = load(&[a, b]).unwrap_err().to_string();
    let lines: Vec<&str> = message.lines().collect();
    assert_eq!(lines.len(), 3, "{message}");
    assert!(
        lines[0].starts_with("a.toml:3:8: `NOPE` is not a documented error code"),
        "{message}"
    );
    assert!(
        lines[1].starts_with("a.toml:7:8: path `nope` must start with `/`"),
        "{message}"
    );
    assert!(lines[2].starts_with("b.toml:2:6: "), "{message}");
}

#[test]
fn bad_waiver_files_get_exact_errors() {
    assert_exact_errors("bad-waivers", conformance_runner::waiver::Waivers::parse);
}

#[test]
fn bad_snapshot_files_get_exact_errors() {
    let mut mismatches = Vec::new();
    let mut seen = 0;
    for entry in std::fs::read_dir(fixture("bad-snapshots"))
        .unwrap()
        .flatten()
    {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "snap") {
            continue;
        }
        seen += 1;
        let name = format!(
            "bad-snapshots/{}",
            path.file_name().unwrap().to_string_lossy()
        );
        let text = std::fs::read_to_string(&path).unwrap();
        let expected = std::fs::read_to_string(path.with_extension("err"))
            .unwrap_or_else(|_| panic!("{name} has no .err file"));
        let got = match conformance_runner::snapshot::parse(&name, &text) {
            Ok(_) => "parsed without error".to_owned(),
            Err(e) => e.to_string(),
        };
        if got != expected.trim_end() {
            mismatches.push(format!(
                "{name}\n  expected: {}\n  got:      {got}",
                expected.trim_end()
            ));
        }
    }
    assert!(seen > 0);
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
