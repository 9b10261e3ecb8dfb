//! `cargo xtask bench-scale`: provisions N users into one workspace of the mock's release
//! binary over SCIM and prints what a client team notices at that size: one create, a
//! `userName eq` list, the first page (`count=10`) of lists filtered on `userName`, with
//! `and` / `or` / `not`, by an `emails[...]` value filter, on `emails.value`,
//! `name.familyName`, `active`, `externalId`, `displayName` and `meta` times, the unfiltered
//! first page, the `/v1` first page, a GET by id, and the resident memory per user; then, for
//! the largest N, each figure against the issue's target.
//!
//! Each N gets a fresh mock process, so the RSS figures are its own. Latencies are medians
//! of sequential requests over one keep-alive connection (loopback, load generator in the
//! same machine). Every list's `totalResults` is checked against the count the provisioned
//! names imply, so a fast wrong answer fails the run.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::bench_server::{Server, build, reexec_in_release};
use crate::load::{Conn, Target};

/// Settings of a run.
pub struct Options {
    /// Workspace sizes to measure.
    pub users: Vec<usize>,
    /// Repetitions per measured request (the median is printed).
    pub repeat: usize,
}

const SCIM: &str = "Bearer scim_acme";
const ADMIN: &str = "Bearer tok_acme_admin";

/// A measured list: label, filter (`None`: unfiltered), and the `totalResults` expected for
/// N provisioned users (`None`: at least N).
struct List {
    label: &'static str,
    filter: Option<&'static str>,
    expected: fn(usize) -> Option<usize>,
}

/// Provisioned user `i` has `userName` and work email `user{i:06}@acme.example`,
/// `name.familyName` `Family{i % 100}`, `externalId` `ext{i:06}`, `displayName`
/// `Bench User {i:06}`, `active: true`; the seed's users and the users the create timing
/// adds (`Extra`) match none of the filters with an exact count.
const LISTS: &[List] = &[
    List {
        label: "userName sw",
        filter: Some(r#"userName sw "user00""#),
        expected: |n| Some(n.min(10_000)),
    },
    List {
        label: "userName co",
        filter: Some(r#"userName co "99@""#),
        expected: |n| Some(n / 100),
    },
    List {
        label: "and",
        filter: Some(r#"name.familyName eq "Family42" and active eq true"#),
        expected: |n| Some(n / 100),
    },
    List {
        label: "or",
        filter: Some(r#"name.familyName eq "Family42" or emails.value co "99@""#),
        expected: |n| Some(2 * (n / 100)),
    },
    List {
        label: "not",
        filter: Some(r#"not (name.familyName ne "Family42") and not (active eq false)"#),
        expected: |n| Some(n / 100),
    },
    List {
        label: "emails[...]",
        filter: Some(r#"emails[type eq "work" and value co "99@"]"#),
        expected: |n| Some(n / 100),
    },
    List {
        label: "emails.value",
        filter: Some(r#"emails.value ew "42@acme.example""#),
        expected: |n| Some(n / 100),
    },
    List {
        label: "familyName",
        filter: Some(r#"name.familyName eq "family7""#),
        expected: |n| Some(n / 100),
    },
    List {
        label: "active",
        filter: Some("active eq true"),
        expected: |_| None,
    },
    List {
        label: "externalId",
        filter: Some(r#"externalId eq "ext000042""#),
        expected: |_| Some(1),
    },
    List {
        label: "displayName",
        filter: Some(r#"displayName co "r 0000""#),
        expected: |n| Some(n.min(100)),
    },
    List {
        label: "created lt",
        filter: Some(r#"meta.created lt "2000-01-01T00:00:00Z""#),
        expected: |_| Some(0),
    },
    List {
        label: "modified gt",
        filter: Some(r#"meta.lastModified gt "2000-01-01T00:00:00Z""#),
        expected: |_| None,
    },
    List {
        label: "unfiltered",
        filter: None,
        expected: |_| None,
    },
];

/// The issue's targets at 100k users.
const CREATE_TARGET_MS: f64 = 1.0;
const EQ_TARGET_MS: f64 = 1.0;
const PAGE_TARGET_MS: f64 = 50.0;
const RSS_TARGET_BYTES: f64 = 6.4 * 1024.0;

/// Builds, then measures every size.
pub fn run(options: &Options) -> Result<()> {
    let (mock_bin, _, xtask_bin) = build()?;
    if cfg!(debug_assertions) {
        return reexec_in_release(&xtask_bin);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    println!(
        "mock-server (release, RUST_LOG=warn), users provisioned over SCIM into `acme`; medians of {} sequential requests, first pages count=10",
        options.repeat
    );
    for list in LISTS {
        if let Some(filter) = list.filter {
            println!("  {:<12} {filter}", list.label);
        }
    }
    let mut runs = Vec::new();
    for &n in &options.users {
        let mock = Server::start(
            &mock_bin,
            &[
                "--listen",
                "127.0.0.1:0",
                "--rate-limit-per-token",
                "0",
                "--rate-limit-per-address",
                "0",
            ],
            false,
        )?;
        let before = mock.rss_kib().unwrap_or(0);
        let figures = runtime.block_on(measure(&mock, n, options.repeat))?;
        let after = mock.rss_kib().unwrap_or(0);
        let per_user = (after.saturating_sub(before) as f64 * 1024.0) / n as f64;
        eprintln!("measured {n} users");
        runs.push((n, figures, per_user));
    }

    // One line per figure, one column per size.
    let mut header = format!("{:<22}", "users");
    for (n, _, _) in &runs {
        header.push_str(&format!(" {n:>10}"));
    }
    println!("{header}");
    let row = |label: &str, cell: &dyn Fn(&Figures, f64) -> String| {
        let mut line = format!("{label:<22}");
        for (_, figures, per_user) in &runs {
            line.push_str(&format!(" {:>10}", cell(figures, *per_user)));
        }
        println!("{line}");
    };
    row("provision", &|f, _| {
        format!("{:.1} s", f.provision.as_secs_f64())
    });
    row("create", &|f, _| ms(f.create));
    row("list userName eq", &|f, _| ms(f.eq));
    for (i, list) in LISTS.iter().enumerate() {
        row(&format!("list {}", list.label), &|f, _| ms(f.lists[i]));
    }
    row("/v1 first page", &|f, _| ms(f.v1_page));
    row("GET by id", &|f, _| ms(f.get));
    row("RSS per user", &|_, per_user| format!("{per_user:.0} B"));

    if let Some((n, figures, per_user)) = runs.last() {
        let (slowest, label) = figures
            .lists
            .iter()
            .zip(LISTS)
            .filter(|(_, list)| list.filter.is_some())
            .map(|(d, list)| (*d, list.label))
            .max()
            .unwrap_or_default();
        println!("targets at {n} users (the issue's, for 100k):");
        let check = |what: &str, value: f64, target: f64, unit: &str| {
            let verdict = if value <= target { "ok" } else { "MISSED" };
            println!(
                "  {what:<28} {value:>9.2} {unit} (target < {target} {unit}, {:.2}x of it) {verdict}",
                value / target
            );
        };
        check("create", secs_ms(figures.create), CREATE_TARGET_MS, "ms");
        check("userName eq list", secs_ms(figures.eq), EQ_TARGET_MS, "ms");
        check(
            &format!("slowest filtered ({label})"),
            secs_ms(slowest),
            PAGE_TARGET_MS,
            "ms",
        );
        check(
            "RSS per user",
            per_user / 1024.0,
            RSS_TARGET_BYTES / 1024.0,
            "KB",
        );
    }
    Ok(())
}

struct Figures {
    provision: Duration,
    create: Duration,
    eq: Duration,
    /// In the order of [`LISTS`].
    lists: Vec<Duration>,
    v1_page: Duration,
    get: Duration,
}

/// The create body of one user: `extra` for those with no number (they match no filter
/// with an exact count).
fn create_target(name: &str, family: &str, number: Option<usize>) -> Target {
    let more = match number {
        Some(i) => format!(r#""externalId":"ext{i:06}","displayName":"Bench User {i:06}","#),
        None => String::new(),
    };
    let body = format!(
        r#"{{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"{name}",{more}"active":true,"name":{{"givenName":"Bench","familyName":"{family}"}},"emails":[{{"value":"{name}","type":"work","primary":true}}]}}"#
    );
    Target::new(
        "create",
        "POST",
        "/scim/v2/Users",
        &[
            ("authorization", SCIM),
            ("content-type", "application/scim+json"),
        ],
        Some(&body),
        201,
    )
}

/// `text` percent-encoded for a query parameter value.
fn query_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The `totalResults` of a list response.
fn total_results(body: &str) -> Option<usize> {
    body.split("\"totalResults\":")
        .nth(1)?
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

async fn measure(mock: &Server, n: usize, repeat: usize) -> Result<Figures> {
    // Provision over a few connections at once.
    const LANES: usize = 4;
    let started = Instant::now();
    let mut lanes = Vec::new();
    for lane in 0..LANES {
        let addr = mock.addr;
        lanes.push(tokio::spawn(async move {
            let mut conn = Conn::open(addr).await?;
            let mut i = lane;
            while i < n {
                let target = create_target(
                    &format!("user{i:06}@acme.example"),
                    &format!("Family{}", i % 100),
                    Some(i),
                );
                let (status, body) = conn.send(&target).await?;
                if status != 201 {
                    bail!("creating user {i} answered {status}: {body}");
                }
                i += LANES;
            }
            anyhow::Ok(())
        }));
    }
    for lane in lanes {
        lane.await.context("provisioning task panicked")??;
    }
    let provision = started.elapsed();

    let mut conn = Conn::open(mock.addr).await?;
    let mut created_id = String::new();
    let mut samples = Vec::new();
    for r in 0..repeat {
        let target = create_target(&format!("extra{r:04}@acme.example"), "Extra", None);
        let t = Instant::now();
        let (status, body) = conn.send(&target).await?;
        samples.push(t.elapsed());
        if status != 201 {
            bail!("create answered {status}: {body}");
        }
        created_id = body
            .split("\"id\":\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .context("no id in the created user")?
            .to_owned();
    }
    let create = median(samples);
    let probe = format!("user{:06}@acme.example", n / 2);
    let get = |name: &'static str, path: String, auth: &'static str| {
        Target::new(name, "GET", &path, &[("authorization", auth)], None, 200)
    };
    let list = |filter: Option<&str>, count: &str| {
        let mut path = format!("/scim/v2/Users?count={count}");
        if let Some(filter) = filter {
            path.push_str(&format!("&filter={}", query_encode(filter)));
        }
        get("list", path, SCIM)
    };
    let eq_target = list(Some(&format!("userName eq \"{probe}\"")), "10");
    let eq = time(&mut conn, &eq_target, repeat, Some(1)).await?;
    let mut lists = Vec::new();
    for entry in LISTS {
        let target = list(entry.filter, "10");
        let expected = (entry.expected)(n);
        let d = time(&mut conn, &target, repeat, expected).await?;
        if expected.is_none() {
            let (_, body) = conn.send(&target).await?;
            let total = total_results(&body).unwrap_or(0);
            if total < n {
                bail!("{} listed {total} users of at least {n}", entry.label);
            }
        }
        lists.push(d);
    }
    let v1_page = time(
        &mut conn,
        &get("v1", "/v1/workspaces/acme/users?limit=1".to_owned(), ADMIN),
        repeat,
        None,
    )
    .await?;
    let get_id = time(
        &mut conn,
        &get("get", format!("/scim/v2/Users/{created_id}"), SCIM),
        repeat,
        None,
    )
    .await?;
    Ok(Figures {
        provision,
        create,
        eq,
        lists,
        v1_page,
        get: get_id,
    })
}

/// The median time of `repeat` requests; each answer's `totalResults` must be `expected`
/// when given.
async fn time(
    conn: &mut Conn,
    target: &Target,
    repeat: usize,
    expected: Option<usize>,
) -> Result<Duration> {
    let mut samples = Vec::with_capacity(repeat);
    for _ in 0..repeat {
        let t = Instant::now();
        let (status, body) = conn.send(target).await?;
        samples.push(t.elapsed());
        if status != target.status {
            bail!("{} answered {status}: {body}", target.path);
        }
        if let Some(expected) = expected
            && total_results(&body) != Some(expected)
        {
            bail!(
                "{} answered totalResults {:?}, expected {expected}",
                target.path,
                total_results(&body)
            );
        }
    }
    Ok(median(samples))
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

fn secs_ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}
