//! `sift bench`: sift's refresh speed against DuckDB on the same data, in one run.
//!
//! Generates N contacts (deterministic seed; skewed spend, dates over three years,
//! some empty values, a few address books), starts a real `sift serve` process,
//! loads the contacts through the bulk CSV import, and runs a fixed set of rules as
//! refreshes. The same contacts go to a CSV that DuckDB loads, and the same
//! predicates run there as `SELECT count(*) … WHERE …`. Counts must match; the
//! table shows medians of several runs side by side, so the machine's noise hits
//! both alike.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use chrono::{Days, NaiveDate};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use sift_client::Client;

use crate::process::{free_port, wait_up, ServeProcess};

#[derive(clap::Args, Debug, Clone)]
pub struct BenchArgs {
    /// Contacts to generate.
    #[arg(long, default_value_t = 1_000_000)]
    pub contacts: usize,
    /// Use 10,000,000 contacts.
    #[arg(long)]
    pub ten_million: bool,
    /// Timed runs per rule (medians are reported).
    #[arg(long, default_value_t = 7)]
    pub runs: usize,
    /// Store for the sift server: a postgres:// URL (a database `sift_bench` is
    /// created next to it), or omit for an SQLite file in the output directory.
    #[arg(long)]
    pub db: Option<String>,
    /// Python interpreter with the `duckdb` package (bench/run sets one up).
    #[arg(long, default_value = "python3")]
    pub duckdb_python: String,
    /// Skip the DuckDB side.
    #[arg(long)]
    pub no_duckdb: bool,
    /// Working directory for generated files and the database.
    #[arg(long, default_value = "bench/out")]
    pub out: PathBuf,
    /// Random seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

/// The benchmark's fixed "now" (relative dates in sift and DuckDB alike).
const NOW: &str = "2026-07-01T00:00:00Z";

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 7, 1).unwrap_or_default()
}

const CITIES: &[&str] =
    &["London", "Leeds", "Manchester", "Bristol", "York", "Dublin", "Cork", "Paris", "Berlin", "Boston", "Austin", "Leicester"];
const COUNTRIES: &[&str] = &["UK", "UK", "UK", "UK", "IE", "IE", "FR", "DE", "US", "US"];
const SOURCES: &[&str] = &["web", "web", "webinar", "store", "app", "partner"];

struct Gen {
    email: String,
    city: Option<String>,
    country: String,
    source: String,
    spend: Option<f64>,
    orders: u32,
    age: Option<u32>,
    score: u32,
    last: Option<NaiveDate>,
    signup: NaiveDate,
    vip: bool,
    newsletter: bool,
    events: bool,
}

fn normal(rng: &mut StdRng) -> f64 {
    // Box–Muller.
    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
    let u2: f64 = rng.gen();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

fn generate(n: usize, seed: u64) -> Vec<Gen> {
    let mut rng = StdRng::seed_from_u64(seed);
    let start = today() - Days::new(3 * 365);
    (0..n)
        .map(|i| {
            // Zipf-like city choice, some mixed case, 5% empty.
            let city = if rng.gen_bool(0.05) {
                None
            } else {
                let k = ((rng.gen::<f64>().powf(2.0)) * CITIES.len() as f64) as usize;
                let c = CITIES[k.min(CITIES.len() - 1)];
                Some(if rng.gen_bool(0.1) { c.to_uppercase() } else { c.to_string() })
            };
            let spend = if rng.gen_bool(0.1) { None } else { Some(((3.5 + 1.2 * normal(&mut rng)).exp() * 100.0).round() / 100.0) };
            let orders = 1 + (rng.gen::<f64>().ln() / 0.8f64.ln()).floor().min(60.0) as u32;
            let signup = start + Days::new(rng.gen_range(0..3 * 365));
            let last = if rng.gen_bool(0.08) {
                None
            } else {
                let span = (today() - signup).num_days().max(1) as u64;
                Some(today() - Days::new((rng.gen::<f64>().powf(1.5) * span as f64) as u64))
            };
            Gen {
                email: format!("contact{i:08}@bench.example"),
                city,
                country: COUNTRIES[rng.gen_range(0..COUNTRIES.len())].to_string(),
                source: SOURCES[rng.gen_range(0..SOURCES.len())].to_string(),
                spend,
                orders,
                age: if rng.gen_bool(0.2) { None } else { Some(rng.gen_range(18..80)) },
                score: rng.gen_range(0..=100),
                last,
                signup,
                vip: rng.gen_bool(0.07),
                newsletter: rng.gen_bool(0.3),
                events: rng.gen_bool(0.1),
            }
        })
        .collect()
}

const FIELDS: &[(&str, &str)] = &[
    ("CITY", "String"),
    ("COUNTRY", "String"),
    ("SOURCE", "String"),
    ("TOTALSPEND", "Numeric"),
    ("ORDERS", "Numeric"),
    ("AGE", "Numeric"),
    ("SCORE", "Numeric"),
    ("LASTORDER", "Date"),
    ("SIGNUP", "Date"),
    ("VIP", "Boolean"),
];

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(|x| x.to_string()).unwrap_or_default()
}

/// The data cells of a contact, in the order of both CSV headers.
fn cells(g: &Gen) -> String {
    format!(
        "{},{},{},{},{},{},{},{},{},{},{}",
        g.email,
        opt(&g.city),
        g.country,
        g.source,
        opt(&g.spend),
        g.orders,
        opt(&g.age),
        g.score,
        opt(&g.last),
        g.signup,
        g.vip
    )
}

fn sift_csv(rows: &[Gen]) -> Vec<u8> {
    let mut s = String::with_capacity(rows.len() * 110);
    s.push_str("Email,CITY,COUNTRY,SOURCE,TOTALSPEND,ORDERS,AGE,SCORE,LASTORDER,SIGNUP,VIP\n");
    for g in rows {
        s.push_str(&cells(g));
        s.push('\n');
    }
    s.into_bytes()
}

fn duckdb_csv(rows: &[Gen], path: &Path) -> anyhow::Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(f, "email,city,country,source,totalspend,orders,age,score,lastorder,signup,vip,in_customers,in_newsletter,in_events")?;
    for g in rows {
        writeln!(f, "{},true,{},{}", cells(g), g.newsletter, g.events)?;
    }
    Ok(())
}

fn cond(field: &str, op: &str, value: Value) -> Value {
    json!({"field": field, "op": op, "value": value})
}

/// (name, description, sift rule, DuckDB WHERE clause). Book ids: customers,
/// newsletter, events.
fn rules(newsletter: i64, events: i64) -> Vec<(&'static str, &'static str, Value, String)> {
    let d = |n: u64| today() - Days::new(n);
    vec![
        ("R1 string", "1 condition: CITY equals leeds (any case)", cond("dataFields.CITY", "equals", json!("leeds")), "lower(city) = 'leeds'".into()),
        ("R2 numeric", "1 condition: TOTALSPEND > 250", cond("dataFields.TOTALSPEND", "greaterThan", json!(250)), "totalspend > 250".into()),
        (
            "R3 date",
            "1 condition: LASTORDER in last 30 days",
            cond("dataFields.LASTORDER", "inLast", json!({"amount": 30, "unit": "days"})),
            format!("lastorder BETWEEN DATE '{}' AND DATE '{}'", d(30), today()),
        ),
        ("R4 book", "1 condition: in the Newsletter book", cond("addressBooks", "contains", json!(newsletter)), "in_newsletter".into()),
        (
            "R5 3 conds",
            "3 conditions: COUNTRY in UK/IE, spend >= 100, orders >= 3",
            json!({"all": [cond("dataFields.COUNTRY", "in", json!(["uk", "ie"])), cond("dataFields.TOTALSPEND", "greaterThanOrEqual", json!(100)), cond("dataFields.ORDERS", "greaterThanOrEqual", json!(3))]}),
            "lower(country) IN ('uk', 'ie') AND totalspend >= 100 AND orders >= 3".into(),
        ),
        (
            "R6 5 conds, OR",
            "5 conditions with a nested OR, a NOT book, a prefix",
            json!({"all": [
                cond("dataFields.COUNTRY", "equals", json!("UK")),
                {"any": [cond("dataFields.TOTALSPEND", "greaterThan", json!(500)), cond("dataFields.ORDERS", "greaterThanOrEqual", json!(10))]},
                cond("dataFields.LASTORDER", "inLast", json!({"amount": 90, "unit": "days"})),
                {"not": cond("addressBooks", "contains", json!(events))},
                cond("dataFields.SOURCE", "startsWith", json!("WE")),
            ]}),
            format!(
                "lower(country) = 'uk' AND (totalspend > 500 OR orders >= 10) AND lastorder BETWEEN DATE '{}' AND DATE '{}' AND NOT in_events AND starts_with(lower(source), 'we')",
                d(90),
                today()
            ),
        ),
        (
            "R7 5 conds",
            "5 conditions: city != london, age 25-45, VIP, signup < 2024, score >= 50",
            json!({"all": [
                cond("dataFields.CITY", "notEquals", json!("london")),
                cond("dataFields.AGE", "between", json!([25, 45])),
                {"field": "dataFields.VIP", "op": "isTrue"},
                cond("dataFields.SIGNUP", "before", json!("2024-01-01")),
                cond("dataFields.SCORE", "greaterThanOrEqual", json!(50)),
            ]}),
            "(city IS NULL OR lower(city) <> 'london') AND age BETWEEN 25 AND 45 AND vip AND signup < DATE '2024-01-01' AND score >= 50".into(),
        ),
    ]
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    if v.is_empty() {
        return f64::NAN;
    }
    v[v.len() / 2]
}

async fn prepare_db(args: &BenchArgs) -> anyhow::Result<String> {
    match &args.db {
        Some(url) if url.starts_with("postgres") => {
            sqlx::any::install_default_drivers();
            let admin = sqlx::AnyPool::connect(url).await?;
            sqlx::query("DROP DATABASE IF EXISTS sift_bench WITH (FORCE)").execute(&admin).await?;
            sqlx::query("CREATE DATABASE sift_bench").execute(&admin).await?;
            admin.close().await;
            let (base, _) = url.rsplit_once('/').context("postgres URL without a database")?;
            Ok(format!("{base}/sift_bench"))
        }
        Some(path) => Ok(path.clone()),
        None => {
            let p = args.out.join("sift-bench.db");
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
            }
            Ok(p.to_string_lossy().to_string())
        }
    }
}

fn step(msg: &str) {
    eprintln!("• {msg}");
}

pub async fn run(mut args: BenchArgs) -> anyhow::Result<()> {
    crate::cli::init_logging("warn");
    if args.ten_million {
        args.contacts = 10_000_000;
    }
    let n = args.contacts;
    std::fs::create_dir_all(&args.out)?;
    let exe = std::env::current_exe()?;

    step(&format!("generating {n} contacts (seed {}) …", args.seed));
    let rows = generate(n, args.seed);
    let duck_csv = args.out.join("contacts.csv");
    if !args.no_duckdb {
        duckdb_csv(&rows, &duck_csv)?;
    }

    let db = prepare_db(&args).await?;
    let store_kind = if db.starts_with("postgres") { "PostgreSQL" } else { "SQLite" };
    step(&format!("starting sift serve on {store_kind} …"));
    let account = Command::new(&exe).args(["account", "create", "bench", "--db", &db, "--json"]).output()?;
    if !account.status.success() {
        bail!("account create failed: {}", String::from_utf8_lossy(&account.stderr));
    }
    let creds: Value = serde_json::from_slice(&account.stdout)?;
    let port = free_port()?;
    let server = ServeProcess::start(&exe, &db, port, &["--now", NOW, "--lease-secs", "60"], true)?;
    let client = Client::new(
        &format!("http://127.0.0.1:{port}"),
        creds["username"].as_str().unwrap_or(""),
        creds["password"].as_str().unwrap_or(""),
    );
    wait_up(&client, Duration::from_secs(60)).await?;
    for (name, kind) in FIELDS {
        client.post("/v2/data-fields", &json!({"name": name, "type": kind})).await?.ok()?;
    }
    let mut books = Vec::new();
    for name in ["Customers", "Newsletter", "Events"] {
        books.push(client.post("/v2/address-books", &json!({"name": name})).await?.ok()?["id"].as_i64().context("book id")?);
    }

    // Load: the full contacts in chunks into Customers, then e-mail-only files into
    // the other books (an import with only an Email column changes no data).
    step("importing through POST /v2/address-books/{id}/contacts/import …");
    let chunk = 200_000;
    let t = Instant::now();
    for (i, part) in rows.chunks(chunk).enumerate() {
        let (id, status) = client.import_csv(Some(books[0]), sift_csv(part), Duration::from_secs(3600)).await?;
        if status != "Finished" {
            bail!("import {id} ended {status}");
        }
        eprint!("\r  {:>10} / {n} contacts", (i * chunk + part.len()));
        let _ = std::io::stderr().flush();
    }
    let import_secs = t.elapsed().as_secs_f64();
    eprintln!("\r  {n} contacts in {import_secs:.1} s ({:.0} contacts/s)", n as f64 / import_secs);
    for (book, pick) in [(books[1], 1usize), (books[2], 2usize)] {
        let members: Vec<&Gen> = rows.iter().filter(|g| if pick == 1 { g.newsletter } else { g.events }).collect();
        for part in members.chunks(chunk) {
            let mut s = String::from("Email\n");
            for g in part {
                s.push_str(&g.email);
                s.push('\n');
            }
            let (id, status) = client.import_csv(Some(book), s.into_bytes(), Duration::from_secs(3600)).await?;
            if status != "Finished" {
                bail!("import {id} ended {status}");
            }
        }
    }

    step("creating segments (the first refresh builds the index) …");
    let rules = rules(books[1], books[2]);
    let cold = Instant::now();
    let mut ids = Vec::new();
    for (name, _, rule, _) in &rules {
        ids.push(client.create_segment(name, rule.clone()).await?);
    }
    for id in &ids {
        let s = client.wait_refresh(*id, Duration::from_secs(3600)).await?;
        if s != "Finished" {
            bail!("segment {id} ended {s}");
        }
    }
    let cold_secs = cold.elapsed().as_secs_f64();

    step(&format!("refreshing each rule {} times …", args.runs));
    struct Row {
        name: &'static str,
        what: &'static str,
        members: i64,
        eval_ms: f64,
        e2e_ms: f64,
    }
    let mut results = Vec::new();
    for ((name, what, _, _), id) in rules.iter().zip(&ids) {
        let (mut evals, mut e2e) = (Vec::new(), Vec::new());
        let mut members = 0;
        for _ in 0..args.runs {
            let t = Instant::now();
            let s = client.refresh(*id, Duration::from_secs(600)).await?;
            e2e.push(t.elapsed().as_secs_f64() * 1000.0);
            if s != "Finished" {
                bail!("segment {id} ended {s}");
            }
            let d = client.get(&format!("/v2/segments/{id}")).await?.ok()?;
            evals.push(d["lastRefresh"]["evaluationMs"].as_f64().unwrap_or(f64::NAN));
            members = d["contacts"].as_i64().unwrap_or(0);
        }
        results.push(Row { name, what, members, eval_ms: median(evals), e2e_ms: median(e2e) });
    }
    let stats = client.get("/v2/engine-stats").await?.ok()?;

    // Progress polls: GET /v2/segments/refresh/{id} from 16 concurrent clients on loopback.
    let (tasks, per_task) = (16usize, 1000usize);
    let t = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let cl = client.clone();
        let path = format!("/v2/segments/refresh/{}", ids[0]);
        handles.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(per_task);
            for _ in 0..per_task {
                let t1 = Instant::now();
                if cl.get(&path).await.map(|r| r.status != 200).unwrap_or(true) {
                    return Err(anyhow::anyhow!("a progress poll failed"));
                }
                lat.push(t1.elapsed().as_secs_f64() * 1000.0);
            }
            Ok(lat)
        }));
    }
    let mut lat = Vec::with_capacity(tasks * per_task);
    for h in handles {
        lat.extend(h.await??);
    }
    let poll_rate = lat.len() as f64 / t.elapsed().as_secs_f64();
    lat.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let p99 = lat[(lat.len() * 99 / 100).min(lat.len() - 1)];

    // DuckDB on the same data, before anything changes.
    let mut duck: Option<Value> = None;
    if !args.no_duckdb {
        step("running the same predicates in DuckDB …");
        let spec = json!({
            "csv": duck_csv.canonicalize()?.to_string_lossy(),
            "runs": args.runs,
            "queries": rules.iter().map(|(name, _, _, sql)| json!({"name": name, "where": sql})).collect::<Vec<_>>(),
        });
        let spec_path = args.out.join("duckdb-spec.json");
        std::fs::write(&spec_path, spec.to_string())?;
        let script = Path::new("bench/duckdb_bench.py");
        let out =
            Command::new(&args.duckdb_python).arg(script).arg(&spec_path).output().context("running DuckDB (bench/run installs it)")?;
        if !out.status.success() {
            bail!("DuckDB failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        duck = Some(serde_json::from_slice(&out.stdout)?);
    }

    // Catch-up after 1% of contacts change.
    step("changing 1% of contacts and refreshing …");
    let changed: Vec<Gen> =
        rows.iter().step_by(100).map(|g| Gen { spend: Some(g.spend.unwrap_or(0.0) + 1000.0), ..clone_gen(g) }).collect();
    let (_, status) = client.import_csv(None, sift_csv(&changed), Duration::from_secs(3600)).await?;
    if status != "Finished" {
        bail!("change import ended {status}");
    }
    let t = Instant::now();
    client.refresh(ids[1], Duration::from_secs(600)).await?;
    let after_change_ms = t.elapsed().as_secs_f64() * 1000.0;
    let catch_up = client.get("/v2/engine-stats").await?.ok()?["lastCatchUp"].clone();
    let rss = server.peak_rss_mib();
    drop(server);

    // Report.
    println!();
    println!(
        "sift bench — {n} contacts, {} data fields, store {store_kind}, {} runs per rule (medians), now = {NOW}",
        FIELDS.len(),
        args.runs
    );
    if let Some(d) = &duck {
        println!(
            "DuckDB {} with {} threads, table loaded in {:.0} ms before timing",
            d["duckdb"].as_str().unwrap_or("?"),
            d["threads"],
            d["load_ms"].as_f64().unwrap_or(0.0)
        );
    }
    println!();
    println!("| rule | what | members | sift eval ms | sift POST→Finished ms | DuckDB ms | sift eval / DuckDB |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    let mut mismatches = 0;
    for r in &results {
        let (dms, ratio) = match &duck {
            Some(d) => {
                let q = &d["queries"][r.name];
                let count = q["count"].as_i64().unwrap_or(-1);
                if count != r.members {
                    mismatches += 1;
                    eprintln!("COUNT MISMATCH on {}: sift {} vs DuckDB {}", r.name, r.members, count);
                }
                let ms = q["median_ms"].as_f64().unwrap_or(f64::NAN);
                (format!("{ms:.2}"), format!("{:.2}", r.eval_ms / ms))
            }
            None => ("–".into(), "–".into()),
        };
        println!("| {} | {} | {} | {:.2} | {:.1} | {} | {} |", r.name, r.what, r.members, r.eval_ms, r.e2e_ms, dms, ratio);
    }
    println!();
    println!(
        "- CSV import: {:.0} contacts/s ({n} contacts in {import_secs:.1} s, {} files of ≤ {chunk} rows)",
        n as f64 / import_secs,
        n.div_ceil(chunk)
    );
    println!("- first refreshes (index built from the store, cold): {cold_secs:.1} s for {} segments", rules.len());
    println!(
        "- index: {} contacts, {:.0} bytes/contact; sift peak RSS {}",
        stats["contacts"],
        stats["bytesPerContact"].as_f64().unwrap_or(0.0),
        rss.map(|m| format!("{m:.0} MiB")).unwrap_or_else(|| "unknown".into())
    );
    println!(
        "- after 1% of contacts changed: POST→Finished {after_change_ms:.0} ms; catch-up applied {} changes in {:.1} ms ({:.1} ms reading the store)",
        catch_up["changes"],
        catch_up["totalMs"].as_f64().unwrap_or(f64::NAN),
        catch_up["readMs"].as_f64().unwrap_or(f64::NAN)
    );
    println!("- GET /v2/segments/refresh/{{id}}: {poll_rate:.0} requests/s from {tasks} concurrent clients in the same process as the benchmark, p99 {p99:.2} ms");
    if duck.is_some() {
        if mismatches > 0 {
            bail!("{mismatches} rule(s) counted differently in sift and DuckDB");
        }
        println!("- every rule's member count matches DuckDB's count");
    }
    Ok(())
}

fn clone_gen(g: &Gen) -> Gen {
    Gen {
        email: g.email.clone(),
        city: g.city.clone(),
        country: g.country.clone(),
        source: g.source.clone(),
        spend: g.spend,
        orders: g.orders,
        age: g.age,
        score: g.score,
        last: g.last,
        signup: g.signup,
        vip: g.vip,
        newsletter: g.newsletter,
        events: g.events,
    }
}
