//! `cargo xtask bench-scale`: provisions N users into one workspace of the mock's release
//! binary over SCIM and prints what a client team notices at that size: one create, a
//! `userName eq` list, `sw` / `co` first pages, the `/v1` first page, a GET by id, and the
//! resident memory per user.
//!
//! Each N gets a fresh mock process, so the RSS figures are its own. Latencies are medians
//! of sequential requests over one keep-alive connection (loopback, load generator in the
//! same machine).

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::bench_mock::{Server, build, reexec_in_release};
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
        "mock-server (release, RUST_LOG=warn), users provisioned over SCIM into `acme`; medians of {} sequential requests",
        options.repeat
    );
    println!(
        "{:>7} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>9}",
        "users",
        "provision",
        "create",
        "eq list",
        "sw page",
        "co page",
        "v1 page",
        "GET id",
        "RSS/user"
    );
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
        println!(
            "{:>7} {:>9.1}s {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>7.0} B",
            n,
            figures.provision.as_secs_f64(),
            ms(figures.create),
            ms(figures.eq),
            ms(figures.sw),
            ms(figures.co),
            ms(figures.v1_page),
            ms(figures.get),
            per_user,
        );
    }
    Ok(())
}

struct Figures {
    provision: Duration,
    create: Duration,
    eq: Duration,
    sw: Duration,
    co: Duration,
    v1_page: Duration,
    get: Duration,
}

fn create_target(name: &str) -> Target {
    let body = format!(
        r#"{{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"{name}","name":{{"givenName":"Bench","familyName":"User"}},"emails":[{{"value":"{name}","type":"work","primary":true}}]}}"#
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
                let target = create_target(&format!("user{i:06}@acme.example"));
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
        let target = create_target(&format!("extra{r:04}@acme.example"));
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
    let eq = time(
        &mut conn,
        &get(
            "eq",
            format!("/scim/v2/Users?filter=userName%20eq%20%22{probe}%22"),
            SCIM,
        ),
        repeat,
    )
    .await?;
    let sw = time(
        &mut conn,
        &get(
            "sw",
            "/scim/v2/Users?filter=userName%20sw%20%22user00%22&count=10".to_owned(),
            SCIM,
        ),
        repeat,
    )
    .await?;
    let co = time(
        &mut conn,
        &get(
            "co",
            "/scim/v2/Users?filter=userName%20co%20%2299%40%22&count=10".to_owned(),
            SCIM,
        ),
        repeat,
    )
    .await?;
    let v1_page = time(
        &mut conn,
        &get("v1", "/v1/workspaces/acme/users?limit=1".to_owned(), ADMIN),
        repeat,
    )
    .await?;
    let get_id = time(
        &mut conn,
        &get("get", format!("/scim/v2/Users/{created_id}"), SCIM),
        repeat,
    )
    .await?;
    Ok(Figures {
        provision,
        create,
        eq,
        sw,
        co,
        v1_page,
        get: get_id,
    })
}

async fn time(conn: &mut Conn, target: &Target, repeat: usize) -> Result<Duration> {
    let mut samples = Vec::with_capacity(repeat);
    for _ in 0..repeat {
        let t = Instant::now();
        let (status, body) = conn.send(target).await?;
        samples.push(t.elapsed());
        if status != target.status {
            bail!("{} answered {status}: {body}", target.name);
        }
    }
    Ok(median(samples))
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}
