//! The repository's scenario files and profiles: they load, validate against
//! `schemas/scenario.schema.json`, follow the layout, cover every code, and
//! every profile provides what the scenarios use.

use std::collections::BTreeSet;

use catalog::Code;
use conformance_runner::profile::Profile;
use conformance_runner::scenario::{self, toml_to_json};
use conformance_runner::{Options, Plan};

use crate::workspace_root;

fn files() -> Vec<std::path::PathBuf> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "toml") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&workspace_root().join("fixtures/scenarios"), &mut out);
    out.sort();
    out
}

#[test]
fn every_scenario_file_validates_against_the_schema() {
    let schema = conformance_runner::schema::scenario();
    let validator = jsonschema::draft202012::new(&schema).expect("the scenario schema compiles");
    let mut problems = Vec::new();
    for path in files() {
        let text = std::fs::read_to_string(&path).unwrap();
        let value: toml::Value = toml::from_str(&text).unwrap();
        let json = toml_to_json(&value).unwrap();
        for e in validator.iter_errors(&json) {
            problems.push(format!(
                "{}: {e} at {}",
                path.display(),
                e.instance_path().as_str()
            ));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn the_schema_rejects_what_the_loader_rejects() {
    let schema = conformance_runner::schema::scenario();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let base = serde_json::json!({ "id": "not-found/x", "code": "NotFound", "description": "d",
        "request": { "method": "GET", "path": "/x" } });
    assert!(validator.is_valid(&serde_json::json!({ "scenario": [base] })));
    for (member, value) in [
        ("status", serde_json::json!(404)),
        ("code", serde_json::json!("NOT_FOUND")),
        ("id", serde_json::json!("Not Found")),
    ] {
        let mut bad = base.clone();
        bad[member] = value;
        assert!(
            !validator.is_valid(&serde_json::json!({ "scenario": [bad] })),
            "{member}"
        );
    }
}

#[test]
fn files_are_laid_out_by_category_and_code_and_embedded() {
    let root = workspace_root();
    let on_disk = scenario::load_dir(&root.join("fixtures/scenarios")).expect("the scenarios load");
    for s in &on_disk {
        let expected = format!(
            "fixtures/scenarios/{}/{}.toml",
            s.code.category().slug(),
            s.code.anchor()
        );
        assert!(
            s.source.file.replace('\\', "/").ends_with(&expected),
            "{} is in {}, expected {expected}",
            s.id,
            s.source.file
        );
        assert!(
            s.id.starts_with(&format!("{}/", s.code.anchor())),
            "{} should start with {}/",
            s.id,
            s.code.anchor()
        );
    }
    let embedded = conformance_runner::embedded_scenarios().expect("the embedded scenarios load");
    let ids = |v: &[scenario::Scenario]| v.iter().map(|s| s.id.clone()).collect::<BTreeSet<_>>();
    assert_eq!(
        ids(&embedded),
        ids(&on_disk),
        "rebuild: the embedded scenarios are stale"
    );
}

#[test]
fn every_code_has_a_scenario_and_the_suite_has_sixty() {
    let scenarios = conformance_runner::embedded_scenarios().unwrap();
    for &code in Code::ALL {
        assert!(
            scenarios.iter().any(|s| s.code == code),
            "{code} has no scenario"
        );
    }
    assert!(scenarios.len() >= 60, "{} scenarios", scenarios.len());
}

#[test]
fn the_profiles_provide_every_credential_and_fixture_the_scenarios_use() {
    let root = workspace_root();
    let mock = Profile::mock();
    let options = Options {
        target: Some("http://127.0.0.1:9".into()),
        ..Options::new(mock, conformance_runner::embedded_scenarios().unwrap())
    };
    Plan::new(options, &|_| None).expect("the mock profile provides everything");

    let staging = Profile::load(&root.join("fixtures/profiles/staging.example.toml"))
        .expect("the staging example loads");
    assert!(
        staging
            .credentials
            .values()
            .all(|c| matches!(c, conformance_runner::profile::Credential::Env(_)))
    );
    let options = Options::new(staging, conformance_runner::embedded_scenarios().unwrap());
    Plan::new(options, &|name| Some(format!("value of {name}")))
        .expect("the staging example provides everything");
}

#[test]
fn the_generic_and_renamed_profiles_provide_everything_their_selection_uses() {
    let root = workspace_root();
    for (file, target, standard_only) in [
        (
            "fixtures/profiles/scim-rfc.toml",
            "http://127.0.0.1:9/v2",
            true,
        ),
        (
            "fixtures/profiles/renamed.toml",
            "http://127.0.0.1:9",
            false,
        ),
    ] {
        let profile = Profile::load(&root.join(file)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(profile.standard_only, standard_only, "{file}");
        let options = Options {
            target: Some(target.into()),
            ..Options::new(profile, conformance_runner::embedded_scenarios().unwrap())
        };
        let plan = Plan::new(options, &|name| Some(format!("value of {name}")))
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let selected: Vec<&str> = plan.scenarios().map(|s| s.id.as_str()).collect();
        if standard_only {
            assert_eq!(selected.len(), 25, "{selected:?}");
            assert!(plan.scenarios().all(|s| s.standard.is_some()));
        } else {
            assert!(selected.len() >= 119, "{}", selected.len());
        }
    }
}

/// Every file under `fixtures/scenarios`.
fn scenario_file_paths() -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![workspace_root().join("fixtures/scenarios")];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

#[test]
fn no_scenario_names_a_seeded_thing_literally() {
    // Workspaces, emails and base paths come from the profile, so a target
    // whose world is named differently needs a profile, not new scenarios.
    // Prose (ids, descriptions, step names, comments) may name them.
    let variable = regex::Regex::new(r"\{\{[^}]*\}\}").unwrap();
    let files = scenario_file_paths();
    assert!(files.len() > 10);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let key = line.split('=').next().unwrap_or_default().trim();
            if line.starts_with('#') || ["id", "description", "name", "tags"].contains(&key) {
                continue;
            }
            let bare = variable.replace_all(line, "");
            for literal in [
                "/v1/",
                "/scim/v2",
                "acme",
                "pwonly",
                "fortress",
                "vault",
                "throttled",
                "dormant",
            ] {
                assert!(
                    !bare.contains(literal),
                    "{}:{}: names `{literal}`: {line}",
                    file.display(),
                    n + 1
                );
            }
        }
    }
}

/// The world facts and one-time codes a line of a scenario file holds
/// literally, outside prose and `{{...}}` variables: AAGUIDs, IP addresses
/// and TOTP codes must come from the profile or be computed at run time.
fn literal_facts(line: &str) -> Vec<&'static str> {
    let key = line.split('=').next().unwrap_or_default().trim();
    let prose = ["id", "description", "name", "tags", "standard"];
    if line.trim_start().starts_with('#') || prose.contains(&key) {
        return Vec::new();
    }
    let bare = regex::Regex::new(r"\{\{[^}]*\}\}")
        .unwrap()
        .replace_all(line, "");
    let patterns = [
        (
            "an AAGUID",
            r"(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b",
        ),
        ("an IPv4 address", r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b"),
        (
            "an IPv6 address",
            r#"(?i)\b[0-9a-f]{1,4}(:[0-9a-f]{0,4}){2,7}\b|::[0-9a-f]{1,4}([\]"', ]|:[0-9a-f])"#,
        ),
        ("a TOTP code", r#"\bcode\s*=\s*"\d{6,8}""#),
    ];
    patterns
        .into_iter()
        .filter(|(_, p)| regex::Regex::new(p).unwrap().is_match(&bare))
        .map(|(what, _)| what)
        .collect()
}

#[test]
fn the_world_fact_check_finds_each_kind_of_literal() {
    let cases = [
        (
            r#"json = { aaguid = "cb69481e-8ff7-4039-93ec-0a2729a154a8" }"#,
            vec!["an AAGUID"],
        ),
        (
            r#"headers = { x-forwarded-for = "198.51.100.7" }"#,
            vec!["an IPv4 address"],
        ),
        (
            r#"headers = { x-forwarded-for = "2001:db8::7" }"#,
            vec!["an IPv6 address"],
        ),
        (
            r#"headers = { forwarded = 'for="[::ffff:203.0.113.7]"' }"#,
            vec!["an IPv4 address", "an IPv6 address"],
        ),
        (
            r#"json = { factor = "totp", code = "123456" }"#,
            vec!["a TOTP code"],
        ),
        (
            r#"json = { code = "{{totp(credential.x)}}", ip = "::ffff:{{fixture.a}}" }"#,
            vec![],
        ),
        (r#"description = "outside 203.0.113.0/24""#, vec![]),
        ("# 2001:db8::/32", vec![]),
    ];
    for (line, expected) in cases {
        assert_eq!(literal_facts(line), expected, "{line}");
    }
}

#[test]
fn no_scenario_holds_a_world_fact_or_a_totp_code() {
    let mut found = Vec::new();
    for path in scenario_file_paths() {
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate() {
            for what in literal_facts(line) {
                found.push(format!("{}:{}: {what}: {line}", path.display(), n + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "literal world facts:\n{}",
        found.join("\n")
    );
}

#[test]
fn without_a_receiver_url_the_webhook_scenarios_are_skipped_with_the_reason() {
    let root = workspace_root();
    let plan = |receiver: Option<&str>| {
        let staging = Profile::load(&root.join("fixtures/profiles/staging.example.toml")).unwrap();
        let options = Options::new(staging, conformance_runner::embedded_scenarios().unwrap());
        let receiver = receiver.map(str::to_owned);
        Plan::new(options, &move |name| match name {
            "CONFORMANCE_RECEIVER_URL" => receiver.clone(),
            _ => Some(format!("value of {name}")),
        })
        .unwrap()
    };
    for unset in [None, Some("")] {
        let p = plan(unset);
        let receiverless: Vec<(&String, &String)> = p
            .skipped()
            .iter()
            .filter(|(_, reason)| reason.starts_with("no webhook receiver"))
            .collect();
        let ids: Vec<&str> = receiverless.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "circuit-open/after-consecutive-failures",
                "circuit-open/stays-open",
                "signature-failed/after-a-verified-delivery",
                "signature-failed/receiver-answers-403",
                "signature-failed/receiver-has-another-secret"
            ]
        );
        assert_eq!(
            receiverless[0].1,
            "no webhook receiver the target can reach: set CONFORMANCE_RECEIVER_URL to its public URL"
        );
    }
    let with = plan(Some("https://hooks.example.net/"));
    assert!(
        with.skipped()
            .values()
            .all(|r| !r.starts_with("no webhook receiver"))
    );
}

/// A world fact that does not suit a scenario is refused before anything is
/// sent, at the scenario's line: a count that is no count, values that must
/// differ and do not.
#[test]
fn world_facts_that_do_not_suit_a_scenario_are_refused_with_file_and_line() {
    let plan = |profile: Profile, scenarios: Vec<scenario::Scenario>| {
        let options = Options {
            target: Some("http://127.0.0.1:9".into()),
            ..Options::new(profile, scenarios)
        };
        Plan::new(options, &|_| None)
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    let embedded = || conformance_runner::embedded_scenarios().unwrap();
    let mut profile = Profile::mock();
    profile
        .fixtures
        .insert("throttled_session_quota".into(), "lots".into());
    let err = plan(profile.clone(), embedded()).unwrap_err();
    // The first repeated step of the first rate-limited scenario is its second setup step.
    let text = std::fs::read_to_string(
        workspace_root().join("fixtures/scenarios/generic/rate-limited.toml"),
    )
    .unwrap();
    let second_setup = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.starts_with("[[scenario.setup]]"))
        .nth(1)
        .map(|(i, _)| i + 1)
        .unwrap();
    assert_eq!(
        err,
        format!(
            "fixtures/scenarios/generic/rate-limited.toml:{second_setup}: scenario `rate-limited/session-quota`: `repeat` is `lots`, not a count from 1 to 100 (in fixtures/profiles/mock.toml)"
        )
    );
    profile
        .fixtures
        .insert("throttled_session_quota".into(), "101".into());
    assert!(
        plan(profile, embedded())
            .unwrap_err()
            .contains("`repeat` is `101`, not a count from 1 to 100")
    );

    let file = scenario::SourceFile {
        name: "own/step-up-reused.toml".into(),
        text: r#"
[[scenario]]
id = "step-up-reused/for-another-purpose"
code = "STEP_UP_REUSED"
description = "The spent token presented to delete a user, which is not its purpose."
distinct = ["{{fixture.spent_step_up_purpose}}", "delete_user"]

[scenario.request]
method = "DELETE"
path = "/v1/users/x"
"#
        .into(),
    };
    let own = scenario::load(std::slice::from_ref(&file)).unwrap();
    let mut profile = Profile::mock();
    plan(profile.clone(), own.clone()).expect("change_network_policy is not delete_user");
    profile
        .fixtures
        .insert("spent_step_up_purpose".into(), "delete_user".into());
    assert_eq!(
        plan(profile, own).unwrap_err(),
        "own/step-up-reused.toml:3: scenario `step-up-reused/for-another-purpose`: its `distinct` values must differ, but {{fixture.spent_step_up_purpose}} make two of them `delete_user` (in fixtures/profiles/mock.toml): the scenario would not prove what it is named after"
    );
}

#[test]
fn a_profile_without_webauthn_is_refused_for_the_ceremony_scenarios() {
    let text = std::fs::read_to_string(workspace_root().join("fixtures/profiles/mock.toml"))
        .unwrap()
        .replace(
            "[webauthn]\nrp_id = \"platform.example\"\norigin = \"https://platform.example\"\n",
            "",
        );
    assert!(!text.contains("[webauthn]"));
    let profile = Profile::parse(&scenario::SourceFile {
        name: "no-webauthn.toml".into(),
        text,
    })
    .unwrap();
    let options = Options {
        target: Some("http://127.0.0.1:9".into()),
        ..Options::new(profile, conformance_runner::embedded_scenarios().unwrap())
    };
    let error = Plan::new(options, &|_| None).unwrap_err().to_string();
    assert!(
        error.starts_with("no-webauthn.toml has no `[webauthn]` (`rp_id` and `origin`: the target's relying party id and web origin), which the WebAuthn ceremonies of "),
        "{error}"
    );
    assert!(
        error.ends_with(
            "scenario(s) need, such as `attestation-blocked/enrolled-user-adds-passkey`"
        ),
        "{error}"
    );
}
