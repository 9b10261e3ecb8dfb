//! A secret planted in the environment appears in no output: human, JSON,
//! JUnit, GitHub annotations, step summary or progress.

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::json;

use crate::servers::serve;
use crate::{fixture, scratch};

const PLANTED: &str = "planted-credential-4f7d1c";
const STEP_UP: &str = "su_planted_step_up_91a2";
const WEBHOOK_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

/// Answers with every secret it was sent, in headers and body.
fn echo() -> Router {
    Router::new()
        .route(
            "/v1/secrets",
            post(|| async { axum::Json(json!({ "step_up_token": STEP_UP })) }),
        )
        .route(
            "/v1/echo",
            get(|headers: HeaderMap| async move {
                let text = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned()
                };
                let body = json!({
                    "type": "https://docs.platform.example/docs/errors#unauthorized",
                    "title": "Unauthorized",
                    "status": 400,
                    "code": "Unauthorized",
                    "request_id": "req_1",
                    "detail": format!("you sent {} and {} and {}; your secret is {WEBHOOK_SECRET}",
                        text("authorization"), text("x-step-up-token"), text("cookie")),
                });
                (
                    StatusCode::BAD_REQUEST,
                    [
                        ("content-type", "application/problem+json".to_owned()),
                        ("x-echo", text("authorization")),
                        ("set-cookie", format!("session={PLANTED}")),
                    ],
                    body.to_string(),
                )
                    .into_response()
            }),
        )
}

#[tokio::test]
async fn planted_secrets_appear_in_no_output() {
    let addr = serve(echo()).await;
    let dir = scratch("redaction");
    let (json, junit, summary) = (
        dir.join("r.json"),
        dir.join("r.xml"),
        dir.join("summary.md"),
    );
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_conformance-runner"));
    command
        .arg("--target")
        .arg(format!("http://{addr}"))
        .arg("--profile")
        .arg(fixture("redaction/profile.toml"))
        .arg("--scenarios")
        .arg(fixture("redaction/scenarios"))
        .args(["--progress", "lines", "--github"])
        .arg("--json")
        .arg(&json)
        .arg("--junit")
        .arg(&junit)
        .env("CR_PLANTED_SECRET", PLANTED)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env_remove("CONFORMANCE_TARGET");
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("the binary runs");
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let outputs = [
        (
            "stdout",
            String::from_utf8_lossy(&output.stdout).into_owned(),
        ),
        (
            "stderr",
            String::from_utf8_lossy(&output.stderr).into_owned(),
        ),
        ("json", std::fs::read_to_string(&json).unwrap()),
        ("junit", std::fs::read_to_string(&junit).unwrap()),
        ("summary", std::fs::read_to_string(&summary).unwrap()),
    ];
    for (name, text) in &outputs {
        for secret in [PLANTED, STEP_UP, WEBHOOK_SECRET, "planted-cookie-value"] {
            assert!(!text.contains(secret), "{name} contains {secret}:\n{text}");
        }
    }
    // The report still says what happened, with the secrets replaced.
    let report: serde_json::Value = serde_json::from_str(&outputs[2].1).unwrap();
    let scenario = &report["scenarios"][0];
    assert_eq!(
        scenario["request"]["headers"]["authorization"],
        "[REDACTED]"
    );
    assert_eq!(
        scenario["request"]["headers"]["x-step-up-token"],
        "[REDACTED]"
    );
    assert_eq!(scenario["response"]["headers"]["set-cookie"], "[REDACTED]");
    assert_eq!(
        scenario["response"]["body"]["detail"],
        "you sent Bearer [REDACTED] and [REDACTED] and [REDACTED]; your secret is [REDACTED]"
    );
    let header_finding = scenario["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "header")
        .unwrap();
    assert_eq!(header_finding["actual"], "Bearer [REDACTED]");
}

mod property {
    //! For any secret, placed anywhere in a response (a body value inside a
    //! long text, a body key, a header name or value, a finding, a warning)
    //! under any common encoding, no output format holds the secret, any
    //! 8-character piece of it (in any letter case) or the encoded text.

    use std::collections::BTreeMap;

    use base64::Engine as _;
    use conformance_runner::check::Finding;
    use conformance_runner::redact::Redactor;
    use conformance_runner::report::human::{self, Color};
    use conformance_runner::report::{
        Outcome, Report, RequestRecord, ResponseRecord, ScenarioReport, github, junit,
    };
    use proptest::prelude::*;

    #[derive(Clone, Copy, Debug)]
    enum Encoding {
        Raw,
        Lower,
        Upper,
        Base64,
        Base64Url,
        Percent,
        Hex,
        HexUpper,
    }

    #[derive(Clone, Copy, Debug)]
    enum Placement {
        BodyValue,
        BodyKey,
        HeaderName,
        HeaderValue,
        FindingActual,
        Warning,
    }

    fn encode(secret: &str, encoding: Encoding, prefix: &str) -> String {
        let with_prefix = format!("{prefix}{secret}");
        match encoding {
            Encoding::Raw => secret.to_owned(),
            Encoding::Lower => secret.to_lowercase(),
            Encoding::Upper => secret.to_uppercase(),
            Encoding::Base64 => base64::engine::general_purpose::STANDARD.encode(with_prefix),
            Encoding::Base64Url => {
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(with_prefix)
            }
            Encoding::Percent => secret.bytes().map(|b| format!("%{b:02X}")).collect(),
            Encoding::Hex => secret.bytes().map(|b| format!("{b:02x}")).collect(),
            Encoding::HexUpper => secret.bytes().map(|b| format!("{b:02X}")).collect(),
        }
    }

    fn report(echo: &str, placement: Placement) -> Report {
        let mut body = serde_json::json!({ "code": "NotFound", "detail": "fine" });
        let mut headers = BTreeMap::from([("content-type".to_owned(), "a/b".to_owned())]);
        let mut actual = "400".to_owned();
        let mut warnings = Vec::new();
        match placement {
            Placement::BodyValue => body["detail"] = echo.into(),
            Placement::BodyKey => body[echo] = serde_json::json!({ echo: 1 }),
            Placement::HeaderName => {
                headers.insert(echo.to_owned(), "1".to_owned());
            }
            Placement::HeaderValue => {
                headers.insert("x-echo".to_owned(), echo.to_owned());
            }
            Placement::FindingActual => actual = echo.to_owned(),
            Placement::Warning => warnings.push(format!("cleanup failed: {echo}")),
        }
        let scenario = ScenarioReport {
            id: "not-found/a".into(),
            code: "NotFound".into(),
            category: "generic".into(),
            tags: Vec::new(),
            description: "d".into(),
            basis: "platform".into(),
            file: "x.toml".into(),
            line: 3,
            built_in: false,
            outcome: Outcome::Failed,
            skip_reason: None,
            duration_ms: 1,
            findings: vec![Finding {
                rule: "status".into(),
                at: "status".into(),
                expected: "404".into(),
                actual,
                fix: None,
                docs: None,
                basis: "platform".into(),
                hint: None,
            }],
            request: Some(RequestRecord {
                method: "GET".into(),
                url: "http://127.0.0.1:1/v1/x".into(),
                headers: BTreeMap::new(),
                replay: None,
            }),
            response: Some(ResponseRecord {
                status: 400,
                headers,
                body,
            }),
            steps: Vec::new(),
            drift: Vec::new(),
            waiver: None,
            captures: Default::default(),
        };
        Report::new(
            "run1".into(),
            "http://127.0.0.1:1".into(),
            "p".into(),
            false,
            vec![scenario],
            warnings,
            false,
        )
    }

    fn encoding() -> impl Strategy<Value = Encoding> {
        prop_oneof![
            Just(Encoding::Raw),
            Just(Encoding::Lower),
            Just(Encoding::Upper),
            Just(Encoding::Base64),
            Just(Encoding::Base64Url),
            Just(Encoding::Percent),
            Just(Encoding::Hex),
            Just(Encoding::HexUpper),
        ]
    }

    fn placement() -> impl Strategy<Value = Placement> {
        prop_oneof![
            Just(Placement::BodyValue),
            Just(Placement::BodyKey),
            Just(Placement::HeaderName),
            Just(Placement::HeaderValue),
            Just(Placement::FindingActual),
            Just(Placement::Warning),
        ]
    }

    proptest! {
        #[test]
        fn no_output_holds_a_secret_or_a_piece_of_it(
            secret in "[A-Za-z0-9_.~+/=-]{12,40}",
            encoding in encoding(),
            placement in placement(),
            prefix in "[a-z:]{0,5}",
            before in "[ a-z]{0,600}",
            after in "[ a-z]{0,600}",
        ) {
            let encoded = encode(&secret, encoding, &prefix);
            let echo = format!("{before}{encoded}{after}");
            let mut redactor = Redactor::default();
            redactor.add(&secret);
            let mut report = report(&echo, placement);
            report.redact(&redactor);
            let outputs = [
                human::render(&report, Color::Never),
                report.to_json(),
                junit::render(&report),
                github::annotations(&report),
                github::summary(&report),
            ];
            for text in &outputs {
                let lower = text.to_lowercase();
                let secret_lower = secret.to_lowercase();
                for i in 0..=secret_lower.len() - 8 {
                    let piece = &secret_lower[i..i + 8];
                    prop_assert!(!lower.contains(piece), "{piece:?} in\n{text}");
                }
                prop_assert!(!text.contains(&encoded), "{encoded:?} in\n{text}");
            }
        }
    }
}
