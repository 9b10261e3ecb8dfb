//! The scenarios of a run, at most `jobs` at once, until all finish or the
//! run is interrupted; then every pending cleanup, within the budget.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::check::{Finding, PLATFORM, RULE_TRANSPORT};
use crate::exec::cleanup::{OPEN, lock};
use crate::exec::shared::{Outcomes, Shared};
use crate::exec::steps::{run_one, skeleton};
use crate::model::scenario::Scenario;
use crate::report::progress::Progress;
use crate::report::{Outcome, ScenarioReport};

/// Runs `scenarios` (index, scenario) with at most `jobs` at once, until all
/// finish or `interrupt` completes.
pub(crate) async fn run_all(
    shared: Arc<Shared>,
    scenarios: Vec<(usize, Arc<Scenario>)>,
    jobs: usize,
    progress: &Progress,
    interrupt: impl Future<Output = ()>,
) -> Outcomes {
    let semaphore = Arc::new(Semaphore::new(jobs.max(1)));
    let mut set = JoinSet::new();
    let mut task_ids = BTreeMap::new();
    for (index, scenario) in &scenarios {
        let (shared, semaphore, scenario, index) =
            (shared.clone(), semaphore.clone(), scenario.clone(), *index);
        let handle = set.spawn(async move {
            // The semaphore is never closed, so acquiring cannot fail.
            let _permit = semaphore.acquire_owned().await;
            if let Some(max) = shared.max_fail
                && shared.failures.load(Ordering::SeqCst) >= max
            {
                let mut r = skeleton(&scenario, Outcome::Skipped);
                r.skip_reason = Some(format!("not run: {max} failed already (--max-fail {max})"));
                return (r, index);
            }
            let report = run_one(&shared, index, scenario).await;
            if report.0.outcome == Outcome::Failed {
                shared.failures.fetch_add(1, Ordering::SeqCst);
            }
            report
        });
        task_ids.insert(handle.id(), index);
    }
    let mut reports: BTreeMap<usize, ScenarioReport> = BTreeMap::new();
    let mut interrupt = std::pin::pin!(interrupt);
    let interrupted = loop {
        tokio::select! {
            next = set.join_next_with_id() => match next {
                Some(Ok((_, report))) => {
                    progress.finished(&report.0.id, report.0.outcome, report.0.duration_ms);
                    reports.insert(report.1, report.0);
                }
                Some(Err(e)) => {
                    // A panicking scenario task is a runner bug; report it on its scenario.
                    if let Some(&index) = task_ids.get(&e.id())
                        && let Some((_, scenario)) = scenarios.iter().find(|(i, _)| *i == index)
                    {
                        let mut r = skeleton(scenario, Outcome::Failed);
                        r.findings.push(Finding {
                            rule: RULE_TRANSPORT.into(),
                            at: "request".into(),
                            expected: "the scenario to run".into(),
                            actual: format!("the runner failed: {e}"),
                            fix: None,
                            docs: None,
                            basis: PLATFORM.into(),
                            hint: None,
                        });
                        progress.finished(&r.id, r.outcome, 0);
                        reports.insert(index, r);
                    }
                }
                None => break false,
            },
            () = &mut interrupt => break true,
        }
    };
    if interrupted {
        // No new step starts; steps in flight finish, so what they create is
        // captured, and every scenario runs its own cleanup, concurrently.
        shared.stop.send_replace(true);
        let budget = shared.profile.limits.cleanup_budget;
        let drain = async {
            while let Some(next) = set.join_next().await {
                if let Ok((report, index)) = next {
                    progress.finished(&report.id, report.outcome, report.duration_ms);
                    reports.insert(index, report);
                }
            }
        };
        if tokio::time::timeout(budget, drain).await.is_err() {
            set.abort_all();
            while set.join_next().await.is_some() {}
            let pending = std::mem::take(&mut *lock(&shared.pending));
            let mut open = lock(&OPEN);
            let left: Vec<String> = pending
                .iter()
                .map(|(index, p)| {
                    let slug = format!("{}-{index}", shared.run_id);
                    open.remove(&slug);
                    p.describe(&slug)
                })
                .collect();
            drop(open);
            shared.warn(format!(
                "cleanup after the interruption did not finish within {} s; left behind: {}",
                budget.as_secs(),
                left.join("; ")
            ));
        }
        for (index, scenario) in &scenarios {
            reports.entry(*index).or_insert_with(|| {
                let mut r = skeleton(scenario, Outcome::Skipped);
                r.skip_reason = Some("interrupted".into());
                r
            });
        }
    }
    Outcomes {
        reports: reports.into_values().collect(),
        warnings: std::mem::take(&mut *lock(&shared.warnings)),
        interrupted,
    }
}
