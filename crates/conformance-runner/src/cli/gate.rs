//! How snapshots and waivers gate a run: [`Gate`] holds what
//! `--snapshots`, `--accept-snapshots`, `--waivers` and `--write-baseline`
//! ask for, loaded and validated before anything is sent and applied to the
//! redacted report.

use std::path::PathBuf;

use crate::report::Report;
use crate::report::waiver::Date;

/// The flags of snapshots, waivers and the baseline (flattened into a run's).
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct GateArgs {
    /// Compare every response with its insta snapshot in DIR (`<id>.snap`);
    /// new or drifted ones are written as `<id>.snap.new` for `cargo insta review`.
    #[arg(long, value_name = "DIR")]
    pub snapshots: Option<PathBuf>,

    /// With --snapshots: record every response as its `.snap` (accept all drift).
    #[arg(long, requires = "snapshots")]
    pub accept_snapshots: bool,

    /// Known failures (TOML, schemas/waivers.schema.json): a failure a live
    /// waiver covers is reported as waived and does not fail the run.
    #[arg(long, value_name = "FILE")]
    pub waivers: Option<PathBuf>,

    /// Write a waiver for every current failure to FILE (with --owner and --expires).
    #[arg(long, value_name = "FILE", requires_all = ["owner", "expires"])]
    pub write_baseline: Option<PathBuf>,

    /// The owner (a name or team) of the waivers --write-baseline writes.
    #[arg(long, value_name = "NAME", requires = "write_baseline")]
    pub owner: Option<String>,

    /// The last day (YYYY-MM-DD) the waivers --write-baseline writes hold.
    #[arg(long, value_name = "DATE", requires = "write_baseline")]
    pub expires: Option<Date>,
}

/// What `--snapshots`, `--waivers` and `--write-baseline` ask of a run,
/// loaded and validated before anything is sent.
#[derive(Debug)]
pub(crate) struct Gate {
    snapshots: Option<(
        crate::report::snapshot::Store,
        crate::report::snapshot::Mode,
    )>,
    waivers: Option<crate::report::waiver::Waivers>,
    baseline: Option<(PathBuf, String, Date)>,
    today: Date,
}

impl Gate {
    /// Reads the snapshot directory and the waivers file the flags name.
    pub(crate) fn load(args: &GateArgs) -> Result<Gate, crate::cli::exit::Failure> {
        let today = Date::today();
        let snapshots = match &args.snapshots {
            Some(dir) => Some((
                crate::report::snapshot::Store::load(dir)?,
                if args.accept_snapshots {
                    crate::report::snapshot::Mode::Accept
                } else {
                    crate::report::snapshot::Mode::Compare
                },
            )),
            None => None,
        };
        let waivers = args
            .waivers
            .as_deref()
            .map(crate::report::waiver::Waivers::load)
            .transpose()?;
        let baseline = match (&args.write_baseline, &args.owner, args.expires) {
            (Some(path), Some(owner), Some(expires)) => {
                if owner.trim().is_empty() {
                    return Err(crate::report::waiver::WaiverError::EmptyOwner.into());
                }
                if expires < today {
                    return Err(
                        crate::report::waiver::WaiverError::PastExpiry { expires, today }.into(),
                    );
                }
                Some((path.clone(), owner.clone(), expires))
            }
            _ => None,
        };
        Ok(Gate {
            snapshots,
            waivers,
            baseline,
            today,
        })
    }

    /// Compares snapshots, applies waivers and writes the baseline.
    pub(crate) fn apply(
        &self,
        plan: &crate::plan::Plan,
        report: &mut Report,
    ) -> Result<(), crate::cli::exit::Failure> {
        if let Some((store, mode)) = &self.snapshots {
            crate::report::snapshot::apply(
                report,
                store,
                &plan.profile().snapshots,
                plan.redactor(),
                *mode,
            )?;
        }
        if let Some(waivers) = &self.waivers {
            waivers.apply(report, self.today);
        }
        if let Some((path, owner, expires)) = &self.baseline {
            let text = crate::report::waiver::baseline(report, owner, *expires);
            std::fs::write(path, text).map_err(|source| crate::cli::exit::Failure::Output {
                path: path.clone(),
                source,
            })?;
        }
        Ok(())
    }
}
