//! `conformance-runner diff`: the same scenarios against two targets (the
//! embedded mock and staging, last week's staging and today's), and what
//! differs between their answers.
//!
//! Each side runs as a normal [`Plan`] (its own run id and profile), one after
//! the other so two runs never compete for one target's rate limits. Each
//! response is reduced to its normalised snapshot ([`crate::report::snapshot::build`]:
//! status, the contract's headers, the body; request ids, timestamps, the
//! target's address and the run's slugs replaced by placeholders, secrets
//! redacted) and the two are compared with [`crate::report::snapshot::compare`]: in a
//! diff, a change's `recorded` value is the left target's and `observed` the
//! right's. The report groups the scenarios that differ by code and ends with
//! a summary table; the exit status says whether the targets agree (0) or
//! not (1).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::future::Future;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::cli::args::{Format, OutputArgs, RequestArgs, SelectionArgs};
use crate::cli::exit::{Failure, Verdict};
use crate::model::normalize::Normalizer;
use crate::model::profile::{Profile, ProfileError};
use crate::plan::{ConfigError, Options, Plan, load_scenarios};
use crate::report::derived::{CodeName, published};
use crate::report::gating::{Drift, DriftKind};
use crate::report::progress::Progress;
use crate::report::snapshot;
use crate::report::{Outcome, Report, ScenarioReport};

/// Runs the same scenarios against two targets and reports what differs.
///
/// Exit codes: 0 the targets agree, 1 they differ, 2 usage or configuration
/// error, 3 a target is unreachable or not the expected server, 130 interrupted
/// (after cleanup): the same map as a run (`exit::exit_code`).
#[derive(clap::Args, Clone, Debug)]
pub struct DiffArgs {
    /// The first target's base URL (the reference, e.g. the mock).
    #[arg(long, value_name = "URL")]
    pub left: String,

    /// The second target's base URL (the one compared with it).
    #[arg(long, value_name = "URL")]
    pub right: String,

    /// The first target's profile; default: the embedded mock profile.
    #[arg(long, value_name = "FILE")]
    pub left_profile: Option<PathBuf>,

    /// The second target's profile; default: the first's.
    #[arg(long, value_name = "FILE")]
    pub right_profile: Option<PathBuf>,

    /// Which scenarios.
    #[command(flatten)]
    pub selection: SelectionArgs,

    /// How requests go to each target.
    #[command(flatten)]
    pub requests: RequestArgs,

    /// The diff on standard output and as JSON.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// What differs between two targets: what `conformance-runner diff
/// --format json` prints. The scenarios whose normalised responses differ
/// between the left and the right target, grouped by code; in a change,
/// `recorded` is the left value and `observed` the right.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct DiffReport {
    /// The left target's base URL (the reference), redacted.
    pub left: String,
    /// The right target's base URL (the one compared with it), redacted.
    pub right: String,
    /// How many scenarios were compared and differ, and whether the targets
    /// agree.
    pub summary: DiffSummary,
    /// One row per code with a compared scenario, in documented order.
    pub codes: Vec<CodeRow>,
    /// The scenarios that differ, by code (documented order) then id.
    pub differences: Vec<ScenarioDiff>,
    /// Whether a run was interrupted (Ctrl-C): the diff is then partial and
    /// the targets do not agree.
    pub interrupted: bool,
}

/// Counts of a diff, and its verdict.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "diff_summary", deny_unknown_fields)]
pub struct DiffSummary {
    /// Scenarios compared (answered on at least one side).
    pub compared: usize,
    /// Of those, identical after normalisation.
    pub same: usize,
    /// Of those, different.
    pub differ: usize,
    /// Whether the targets agree (exit status 0): nothing differs and
    /// neither run was interrupted.
    pub agree: bool,
}

/// One code's row of the summary table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "code_row", deny_unknown_fields)]
pub struct CodeRow {
    /// The catalog code whose scenarios this row counts.
    #[schemars(with = "CodeName")]
    pub code: String,
    /// Scenarios of the code compared (answered on at least one side).
    pub compared: usize,
    /// Of those, identical after normalisation.
    pub same: usize,
    /// Of those, different.
    pub differ: usize,
}

/// One scenario that differs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "scenario_diff", deny_unknown_fields)]
pub struct ScenarioDiff {
    /// The scenario's id.
    pub id: String,
    /// The catalog code the scenario proves.
    #[schemars(with = "CodeName")]
    pub code: String,
    /// Each difference; `recorded` is the left value, `observed` the right.
    #[schemars(length(min = 1))]
    pub changes: Vec<Drift>,
}

impl DiffReport {
    /// Compares two runs of the same scenarios.
    pub fn new(
        left: &Report,
        left_profile: &Profile,
        right: &Report,
        right_profile: &Profile,
        redactors: [&crate::redact::Redactor; 2],
    ) -> DiffReport {
        let reduce = |report: &Report, profile: &Profile, s: &ScenarioReport, side: usize| {
            let normalizer = Normalizer::new(&profile.snapshots).with_run(
                &report.target,
                &report.run_id,
                &s.captures,
            );
            snapshot::build(s, &normalizer, &profile.snapshots, redactors[side])
        };
        let rights: BTreeMap<&str, &ScenarioReport> =
            right.scenarios.iter().map(|s| (s.id.as_str(), s)).collect();
        let mut rows: BTreeMap<&str, CodeRow> = BTreeMap::new();
        let mut differences = Vec::new();
        for l in &left.scenarios {
            let Some(r) = rights.get(l.id.as_str()) else {
                continue;
            };
            if l.outcome == Outcome::Skipped && r.outcome == Outcome::Skipped {
                continue;
            }
            let pair = (
                reduce(left, left_profile, l, 0),
                reduce(right, right_profile, r, 1),
            );
            let changes = match pair {
                (None, None) => continue,
                (Some(a), Some(b)) => snapshot::compare(&a, &b),
                (a, b) => vec![no_response(a.is_some(), b.is_some())],
            };
            let row = rows.entry(l.code.as_str()).or_insert_with(|| CodeRow {
                code: l.code.clone(),
                compared: 0,
                same: 0,
                differ: 0,
            });
            row.compared += 1;
            if changes.is_empty() {
                row.same += 1;
            } else {
                row.differ += 1;
                differences.push(ScenarioDiff {
                    id: l.id.clone(),
                    code: l.code.clone(),
                    changes,
                });
            }
        }
        let order = |code: &str| {
            catalog::Code::from_name(code)
                .ok()
                .and_then(|c| catalog::Code::ALL.iter().position(|x| *x == c))
                .unwrap_or(usize::MAX)
        };
        let mut codes: Vec<CodeRow> = rows.into_values().collect();
        codes.sort_by_key(|r| order(&r.code));
        differences.sort_by(|a, b| (order(&a.code), &a.id).cmp(&(order(&b.code), &b.id)));
        let compared: usize = codes.iter().map(|r| r.compared).sum();
        let differ = differences.len();
        let interrupted = left.interrupted || right.interrupted;
        DiffReport {
            left: left.target.clone(),
            right: right.target.clone(),
            summary: DiffSummary {
                compared,
                same: compared - differ,
                differ,
                agree: differ == 0 && !interrupted,
            },
            codes,
            differences,
            interrupted,
        }
    }

    /// The diff as pretty JSON (`schemas/diff.schema.json`).
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a diff serializes");
        text.push('\n');
        text
    }

    /// The diff for people: differences grouped by code, then the table.
    pub fn to_human(&self) -> String {
        let mut out = format!("diff of {} against {}\n", self.left, self.right);
        let mut code = "";
        for d in &self.differences {
            if d.code != code {
                code = &d.code;
                let _ = writeln!(out, "\n{code}");
            }
            let _ = writeln!(out, "  {}", d.id);
            for c in &d.changes {
                let _ = writeln!(out, "    {c}");
                for line in c.diff.lines() {
                    let _ = writeln!(out, "      {line}");
                }
            }
        }
        let _ = writeln!(
            out,
            "\nSummary\n  {:<28} {:>8} {:>6} {:>6}",
            "code", "compared", "same", "differ"
        );
        for r in &self.codes {
            let _ = writeln!(
                out,
                "  {:<28} {:>8} {:>6} {:>6}",
                r.code, r.compared, r.same, r.differ
            );
        }
        if self.interrupted {
            out.push_str("\ninterrupted: cleanup ran, the diff is partial\n");
        }
        let verdict = if self.summary.agree {
            "the targets agree"
        } else {
            "the targets differ"
        };
        let _ = writeln!(
            out,
            "\n{} compared, {} same, {} differ: {verdict}",
            self.summary.compared, self.summary.same, self.summary.differ
        );
        out
    }
}

fn no_response(left: bool, right: bool) -> Drift {
    let side = |answered: bool| {
        if answered {
            "a response"
        } else {
            "no response"
        }
    };
    Drift {
        kind: if left {
            DriftKind::Removed
        } else {
            DriftKind::Added
        },
        title: "response".into(),
        at: "response".into(),
        recorded: None,
        observed: None,
        diff: format!("- {}\n+ {}", side(left), side(right)),
    }
}

impl Verdict for DiffReport {
    fn interrupted(&self) -> bool {
        self.interrupted
    }

    fn passed(&self) -> bool {
        self.summary.agree
    }
}

/// Runs both sides and writes the diff; `interrupt` makes a future that
/// completes on Ctrl-C (called once per side).
pub async fn run<F: Future<Output = ()>>(
    args: &DiffArgs,
    stdout: &mut dyn Write,
    interrupt: impl Fn() -> F,
) -> Result<DiffReport, Failure> {
    crate::check::prepare_in_background();
    let load = |path: &Option<PathBuf>| -> Result<Option<Profile>, ProfileError> {
        path.as_deref().map(Profile::load).transpose()
    };
    let left_profile = load(&args.left_profile)?.unwrap_or_else(Profile::mock);
    let right_profile = load(&args.right_profile)?.unwrap_or_else(|| left_profile.clone());
    let scenarios = load_scenarios(
        args.selection.scenarios.as_deref(),
        &args.selection.filter,
        &[&left_profile, &right_profile],
    )
    .map_err(ConfigError::from)?;
    let base_id = crate::plan::new_run_id();
    let plan = |target: &str, profile: &Profile, side: &str| {
        let options = Options {
            target: Some(target.to_owned()),
            filters: args.selection.filter.clone(),
            shard: args.selection.shard,
            jobs: args.requests.jobs,
            timeout: Duration::from_secs(args.requests.timeout),
            run_id: Some(format!("{base_id}{side}")),
            ..Options::new(profile.clone(), scenarios.clone())
        };
        Plan::new(options, &|name| std::env::var(name).ok())
    };
    let left_plan = plan(&args.left, &left_profile, "l")?;
    let right_plan = plan(&args.right, &right_profile, "r")?;
    let progress = Progress::quiet();
    let left = left_plan.run(&progress, interrupt()).await?;
    let right = if left.interrupted {
        Report::new(
            right_plan.run_id().to_owned(),
            args.right.clone(),
            right_profile.name.clone(),
            false,
            Vec::new(),
            Vec::new(),
            true,
        )
    } else {
        right_plan.run(&progress, interrupt()).await?
    };
    let diff = DiffReport::new(
        &left,
        &left_profile,
        &right,
        &right_profile,
        [left_plan.redactor(), right_plan.redactor()],
    );
    let text = match args.output.format {
        Format::Human => diff.to_human(),
        Format::Json => diff.to_json(),
    };
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|source| Failure::Output {
            path: PathBuf::from("standard output"),
            source,
        })?;
    if let Some(path) = &args.output.json {
        std::fs::write(path, diff.to_json()).map_err(|source| Failure::Output {
            path: path.clone(),
            source,
        })?;
    }
    Ok(diff)
}

/// The schema of the JSON diff (`schemas/diff.schema.json`), derived from
/// [`DiffReport`].
pub fn schema() -> serde_json::Value {
    published::<DiffReport>("diff.schema.json", "Conformance diff of two targets")
}
