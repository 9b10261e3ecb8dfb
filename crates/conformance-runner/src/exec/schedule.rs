//! The scenarios of a run, at most `jobs` at once, until all finish or the
//! run is interrupted; then every pending cleanup, within the budget.

use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::check::{Finding, PLATFORM, RULE_TRANSPORT};
use crate::exec::cleanup::{OPEN, lock};
use crate::exec::shared::{Outcomes, Shared};
use crate::exec::steps::{run_one, skeleton};
use crate::model::scenario::Scenario;
use crate::report::progress::Progress;
use crate::report::{Outcome, ScenarioReport};

/// A target whose probe answered within this is near (loopback, the same
/// network): its scenarios are bound by CPU, not by latency.
const NEAR: Duration = Duration::from_millis(5);
/// Slots per CPU a near target starts with. More only add connections and
/// contention: on the single-request scenarios against the warm mock, 64 at
/// once cost a fifth more CPU and a third more wall time than 8 to 16.
const NEAR_SLOTS_PER_CPU: usize = 4;
/// When no scenario finished for this long, the slots in use wait on the
/// target, not on the CPU: the open slots double, up to `jobs`.
const STALL: Duration = Duration::from_millis(5);

/// How many scenarios run at once: at most `jobs`. Against a near target
/// (`probe_rtt` under [`NEAR`]) it starts at [`NEAR_SLOTS_PER_CPU`] per CPU
/// and doubles whenever no scenario finished for [`STALL`], so a slow
/// endpoint still gets its concurrency; a far target gets `jobs` at once.
#[derive(Debug)]
struct Slots {
    open: usize,
    jobs: usize,
    finished_since_tick: usize,
}

impl Slots {
    fn new(jobs: usize, probe_rtt: Duration, cpus: usize) -> Slots {
        let jobs = jobs.max(1);
        let open = if probe_rtt < NEAR {
            jobs.min(NEAR_SLOTS_PER_CPU * cpus.max(1))
        } else {
            jobs
        };
        Slots {
            open,
            jobs,
            finished_since_tick: 0,
        }
    }

    /// Whether more slots may still open.
    fn can_grow(&self) -> bool {
        self.open < self.jobs
    }

    fn finished(&mut self) {
        self.finished_since_tick += 1;
    }

    /// Every [`STALL`] while scenarios wait for a slot: the slots to add.
    fn tick(&mut self) -> usize {
        let more = if self.finished_since_tick == 0 {
            self.open.min(self.jobs - self.open)
        } else {
            0
        };
        self.open += more;
        self.finished_since_tick = 0;
        more
    }
}

/// Runs `scenarios` (index, scenario) with at most `jobs` at once (see
/// [`Slots`]), the ones with the most round trips first, until all
/// finish or `interrupt` completes.
pub(crate) async fn run_all(
    shared: Arc<Shared>,
    scenarios: Vec<(usize, Arc<Scenario>)>,
    jobs: usize,
    probe_rtt: Duration,
    progress: &Progress,
    interrupt: impl Future<Output = ()>,
) -> Outcomes {
    let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let mut slots = Slots::new(jobs, probe_rtt, cpus);
    let semaphore = Arc::new(Semaphore::new(slots.open));
    let mut stall = tokio::time::interval_at(tokio::time::Instant::now() + STALL, STALL);
    stall.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut queue = longest_first(&scenarios, &shared.profile.fixtures);
    let mut set = JoinSet::new();
    let mut task_ids = BTreeMap::new();
    let mut reports: BTreeMap<usize, ScenarioReport> = BTreeMap::new();
    let mut interrupt = std::pin::pin!(interrupt);
    let interrupted = loop {
        if queue.is_empty() && set.is_empty() {
            break false;
        }
        tokio::select! {
            // Scenarios start in queue order as slots free up; the permit
            // travels with the scenario and frees its slot when it ends.
            permit = semaphore.clone().acquire_owned(), if !queue.is_empty() => {
                let (Ok(permit), Some(next)) = (permit, queue.pop_front()) else { continue };
                let (index, scenario) = scenarios[next].clone();
                let shared = shared.clone();
                let handle = set.spawn(async move {
                    let _permit = permit;
                    if let Some(max) = shared.max_fail
                        && shared.failures.load(Ordering::SeqCst) >= max
                    {
                        let mut r = skeleton(&scenario, Outcome::Skipped);
                        r.skip_reason =
                            Some(format!("not run: {max} failed already (--max-fail {max})"));
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
            _ = stall.tick(), if slots.can_grow() && !queue.is_empty() => {
                semaphore.add_permits(slots.tick());
            }
            next = set.join_next_with_id(), if !set.is_empty() => match next {
                Some(Ok((_, report))) => {
                    slots.finished();
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
                None => {}
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

/// The positions of `scenarios` in the order they start: the most round
/// trips first (ties in the plan's order). A run's wall time is at least its
/// longest scenario's; started last, that scenario would add its whole
/// length to the time the others took (longest processing time first).
fn longest_first(
    scenarios: &[(usize, Arc<Scenario>)],
    fixtures: &BTreeMap<String, String>,
) -> VecDeque<usize> {
    let mut order: Vec<(usize, usize)> = scenarios
        .iter()
        .enumerate()
        .map(|(position, (_, s))| {
            let (requests, cleanup) = s.round_trips(fixtures);
            (position, requests + cleanup)
        })
        .collect();
    order.sort_by_key(|&(position, trips)| (std::cmp::Reverse(trips), position));
    order.into_iter().map(|(position, _)| position).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::scenario::SourceFile;
    use crate::model::scenario::load::load;

    const STEP: &str = "[[scenario.setup]]\nname = \"s\"\nmethod = \"GET\"\npath = \"/x\"\n";
    const CLEANUP: &str = "[[scenario.cleanup]]\nname = \"c\"\nmethod = \"GET\"\npath = \"/x\"\n";

    fn scenario(id: &str, setup: usize, cleanup: usize) -> String {
        format!(
            "[[scenario]]\nid = \"{id}\"\ncode = \"NotFound\"\ndescription = \"d\"\n{}[scenario.request]\nmethod = \"GET\"\npath = \"/x\"\n{}",
            STEP.repeat(setup),
            CLEANUP.repeat(cleanup)
        )
    }

    #[test]
    fn the_scenarios_with_the_most_round_trips_start_first_ties_in_plan_order() {
        let text = [
            scenario("not-found/one", 0, 0),
            scenario("not-found/five", 2, 2),
            scenario("not-found/three", 2, 0),
            scenario("not-found/three-too", 1, 1),
            scenario("not-found/two", 0, 1),
        ]
        .join("\n");
        let loaded = load(&[SourceFile {
            name: "t.toml".into(),
            text,
        }])
        .expect("the scenarios load");
        let scenarios: Vec<(usize, Arc<Scenario>)> = loaded
            .into_iter()
            .enumerate()
            .map(|(i, s)| (i, Arc::new(s)))
            .collect();
        let order: Vec<&str> = longest_first(&scenarios, &BTreeMap::new())
            .into_iter()
            .map(|p| scenarios[p].1.id.as_str())
            .collect();
        assert_eq!(
            order,
            [
                "not-found/five",
                "not-found/three",
                "not-found/three-too",
                "not-found/two",
                "not-found/one"
            ]
        );
    }
}

#[cfg(test)]
mod slot_tests {
    use super::*;

    #[test]
    fn a_near_target_starts_with_four_slots_per_cpu_and_a_far_one_with_every_job() {
        let near = Duration::from_micros(300);
        let far = Duration::from_millis(50);
        assert_eq!(Slots::new(64, near, 2).open, 8);
        assert_eq!(Slots::new(64, far, 2).open, 64);
        assert_eq!(Slots::new(4, near, 2).open, 4);
        assert_eq!(Slots::new(0, far, 2).open, 1);
        assert_eq!(Slots::new(64, NEAR, 2).open, 64);
    }

    #[test]
    fn slots_double_only_after_a_stall_and_never_beyond_jobs() {
        let mut slots = Slots::new(20, Duration::ZERO, 1);
        assert_eq!(slots.open, 4);
        // Scenarios kept finishing: the CPU is the limit, nothing opens.
        slots.finished();
        assert_eq!(slots.tick(), 0);
        assert_eq!(slots.open, 4);
        // Nothing finished for a whole tick: the slots wait on the target.
        assert_eq!(slots.tick(), 4);
        assert_eq!(slots.tick(), 8);
        assert_eq!(slots.open, 16);
        assert_eq!(slots.tick(), 4);
        assert_eq!(slots.open, 20);
        assert!(!slots.can_grow());
    }
}
