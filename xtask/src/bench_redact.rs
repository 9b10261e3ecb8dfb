//! `cargo xtask bench-redact`: redaction of a whole run's report at 1k, 10k
//! and 100k scenarios, each scenario having captured a secret of its own (the
//! case that made redaction quadratic), so the time per scenario can be seen
//! to stay flat. The baseline is the former algorithm (every secret tried on
//! every string with `str::replace`), timed in the same rounds at the sizes
//! where it finishes.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use conformance_runner::check::Finding;
use conformance_runner::redact::Redactor;
use conformance_runner::report::{Outcome, Report, RequestRecord, ResponseRecord, ScenarioReport};

/// What to measure.
pub struct Options {
    /// Scenario counts.
    pub sizes: Vec<usize>,
    /// Largest size the quadratic baseline is timed at.
    pub baseline_max: usize,
    /// Interleaved rounds; the median is printed.
    pub rounds: usize,
}

/// The profile's credentials, as many as a staging profile has.
const CREDENTIALS: usize = 14;

pub fn run(options: &Options) -> anyhow::Result<()> {
    let mut linear: BTreeMap<usize, Vec<Duration>> = BTreeMap::new();
    let mut baseline: BTreeMap<usize, Vec<Duration>> = BTreeMap::new();
    for round in 0..options.rounds {
        for &n in &options.sizes {
            let (secrets, report) = fixture(n);
            let started = Instant::now();
            let mut redactor = Redactor::default();
            for s in &secrets {
                redactor.add(s);
            }
            redactor.compact();
            let mut redacted = report.clone();
            redacted.redact(&redactor);
            let took = started.elapsed();
            linear.entry(n).or_default().push(took);
            check_redacted(&redacted, &secrets)?;
            eprintln!("  {n} scenarios: {:.1} ms", took.as_secs_f64() * 1e3);

            if n <= options.baseline_max {
                let started = Instant::now();
                let mut naive = report;
                naive_redact(&mut naive, &secrets);
                let took = started.elapsed();
                baseline.entry(n).or_default().push(took);
                eprintln!(
                    "  {n} scenarios, former: {:.1} ms",
                    took.as_secs_f64() * 1e3
                );
            }
        }
        eprintln!("round {} of {} done", round + 1, options.rounds);
    }
    let first = options.sizes.first().copied().unwrap_or(1);
    let per = |d: Duration, n: usize| d.as_nanos() as f64 / n as f64;
    let first_per = per(median(&linear[&first]), first);
    println!(
        "redaction of a report, one captured secret per scenario, {CREDENTIALS} credentials (median of {} interleaved rounds)",
        options.rounds
    );
    println!(
        "{:>9} {:>12} {:>14} {:>10} {:>14} {:>10}",
        "scenarios", "one pass", "per scenario", "vs first", "former", "former/new"
    );
    for &n in &options.sizes {
        let d = median(&linear[&n]);
        let base = baseline.get(&n).map(|b| median(b));
        println!(
            "{n:>9} {:>10.1}ms {:>12.0}ns {:>9.2}x {:>14} {:>10}",
            d.as_secs_f64() * 1e3,
            per(d, n),
            per(d, n) / first_per,
            base.map_or("(skipped)".to_owned(), |b| format!(
                "{:.1}ms",
                b.as_secs_f64() * 1e3
            )),
            base.map_or("-".to_owned(), |b| format!(
                "{:.1}x",
                b.as_secs_f64() / d.as_secs_f64()
            )),
        );
    }
    println!(
        "linear: the time per scenario stays about the same as the size grows (\"vs first\" near 1)"
    );
    Ok(())
}

fn median(samples: &[Duration]) -> Duration {
    let mut s = samples.to_vec();
    s.sort();
    s[s.len() / 2]
}

/// `n` scenarios, each echoing its own captured token and one credential.
fn fixture(n: usize) -> (Vec<String>, Report) {
    let mut secrets: Vec<String> = (0..CREDENTIALS)
        .map(|i| format!("SECRET_CRED{i:02}_{:016x}", i * 7919))
        .collect();
    let mut scenarios = Vec::with_capacity(n);
    for i in 0..n {
        let token = format!("st_{i:08}_{:016x}", i.wrapping_mul(2_654_435_761));
        let credential = &secrets[i % CREDENTIALS];
        let detail = format!(
            "The bearer token is not valid. You sent {credential}; your step-up token {token} is spent. Sign in again."
        );
        scenarios.push(ScenarioReport {
            id: format!("unauthorized/s{i:06}"),
            code: "Unauthorized".into(),
            category: "generic".into(),
            tags: Vec::new(),
            description: "A scenario of the benchmark.".into(),
            basis: "platform".into(),
            file: "bench.toml".into(),
            line: i + 1,
            built_in: true,
            outcome: Outcome::Failed,
            skip_reason: None,
            duration_ms: 1,
            findings: vec![Finding {
                rule: "body".into(),
                at: "body:/detail".into(),
                expected: "a detail without the token".into(),
                actual: detail.clone(),
                fix: None,
                docs: None,
                basis: "platform".into(),
                hint: None,
            }],
            request: Some(RequestRecord {
                method: "GET".into(),
                url: format!("http://127.0.0.1:1/v1/things/{i}"),
                headers: BTreeMap::from([
                    ("authorization".to_owned(), format!("Bearer {credential}")),
                    ("x-step-up-token".to_owned(), token.clone()),
                ]),
                replay: None,
            }),
            response: Some(ResponseRecord {
                status: 401,
                headers: BTreeMap::from([
                    (
                        "content-type".to_owned(),
                        "application/problem+json".to_owned(),
                    ),
                    (
                        "www-authenticate".to_owned(),
                        "Bearer realm=\"platform\"".to_owned(),
                    ),
                ]),
                body: serde_json::json!({
                    "type": "https://docs.platform.example/docs/errors#unauthorized",
                    "title": "Unauthorized",
                    "status": 401,
                    "code": "Unauthorized",
                    "request_id": format!("req_{i}"),
                    "detail": detail,
                }),
            }),
            steps: Vec::new(),
            drift: Vec::new(),
            waiver: None,
            captures: Default::default(),
        });
        secrets.push(token);
    }
    let report = Report::new(
        "bench".into(),
        "http://127.0.0.1:1".into(),
        "bench".into(),
        false,
        scenarios,
        Vec::new(),
        false,
    );
    (secrets, report)
}

/// Fails when a secret survived: a benchmark of a redactor that does not
/// redact would prove nothing.
fn check_redacted(report: &Report, secrets: &[String]) -> anyhow::Result<()> {
    for s in report.scenarios.iter().step_by(97) {
        let text = serde_json::to_string(s)?;
        if let Some(secret) = secrets.iter().find(|x| text.contains(x.as_str())) {
            anyhow::bail!("{secret} survived redaction in {}", s.id);
        }
    }
    Ok(())
}

/// The former algorithm: every secret tried on every string.
fn naive_redact(report: &mut Report, secrets: &[String]) {
    let text = |t: &str| {
        let mut out = t.to_owned();
        for s in secrets {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), "[REDACTED]");
            }
        }
        out
    };
    for s in &mut report.scenarios {
        for f in &mut s.findings {
            f.expected = text(&f.expected);
            f.actual = text(&f.actual);
            f.at = text(&f.at);
        }
        if let Some(req) = &mut s.request {
            req.url = text(&req.url);
            for v in req.headers.values_mut() {
                *v = text(v);
            }
        }
        if let Some(resp) = &mut s.response {
            for v in resp.headers.values_mut() {
                *v = text(v);
            }
            if let Some(obj) = resp.body.as_object_mut() {
                for v in obj.values_mut() {
                    if let Some(t) = v.as_str() {
                        *v = text(t).into();
                    }
                }
            }
        }
    }
}
