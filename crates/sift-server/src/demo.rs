//! `sift demo`: the whole product on real data, driven through the HTTP API exactly
//! as a client would drive it.
//!
//! It turns the CDNOW purchase history (embedded, 23,570 customers, 69,659
//! purchases in 1997–1998) into contacts with purchase-derived data fields, starts a
//! server on an SQLite file, creates the data fields, bulk-imports the contacts into
//! an address book, creates segments a marketer would want, refreshes them, and
//! prints each segment's members and refresh time. Relative dates are evaluated
//! against a fixed "today" of 1998-07-01, the end of the data.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use chrono::NaiveDate;
use serde_json::{json, Value};
use sift_client::Client;
use tokio::sync::oneshot;

use crate::app::{AppState, Config};

/// The CDNOW purchase history (see `data/cdnow/README.md`).
pub const CDNOW: &str = include_str!("../../../data/cdnow/CDNOW_master.txt");

/// The demo's "now": the end of the data.
pub const DEMO_NOW: &str = "1998-07-01T00:00:00Z";

#[derive(clap::Args, Debug, Clone)]
pub struct DemoArgs {
    /// Directory for the demo's SQLite database (default: a temporary directory).
    #[arg(long)]
    pub dir: Option<std::path::PathBuf>,
    /// Keep serving after the demo, so curl or a v2 client can look around.
    #[arg(long)]
    pub keep_running: bool,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: String,
    /// Print only the table.
    #[arg(long)]
    pub quiet: bool,
}

impl Default for DemoArgs {
    fn default() -> Self {
        DemoArgs { dir: None, keep_running: false, listen: "127.0.0.1:0".into(), quiet: false }
    }
}

/// One customer, aggregated from their purchases.
#[derive(Debug, Clone, PartialEq)]
pub struct Customer {
    pub id: u32,
    pub first_purchase: NaiveDate,
    pub last_purchase: NaiveDate,
    /// Purchases (lines of the file).
    pub orders: u32,
    pub items: u32,
    /// Dollars, summed in cents.
    pub total_cents: i64,
    /// Spend on the first purchase day, in cents.
    pub first_order_cents: i64,
}

impl Customer {
    pub fn email(&self) -> String {
        format!("customer{:05}@example.com", self.id)
    }
}

fn cents(s: &str) -> anyhow::Result<i64> {
    let v: f64 = s.parse().with_context(|| format!("bad amount {s}"))?;
    Ok((v * 100.0).round() as i64)
}

/// Parses the purchase file and aggregates it per customer (ascending id).
pub fn customers(raw: &str) -> anyhow::Result<Vec<Customer>> {
    let mut by_id: BTreeMap<u32, Customer> = BTreeMap::new();
    for (n, line) in raw.lines().enumerate().skip(1) {
        let cols: Vec<&str> = line.split_whitespace().collect();
        if cols.is_empty() {
            continue;
        }
        if cols.len() != 4 {
            bail!("line {}: expected 4 columns", n + 1);
        }
        let id: u32 = cols[0].parse()?;
        let date = NaiveDate::parse_from_str(cols[1], "%Y%m%d")?;
        let items: u32 = cols[2].parse()?;
        let amount = cents(cols[3])?;
        let c = by_id.entry(id).or_insert(Customer {
            id,
            first_purchase: date,
            last_purchase: date,
            orders: 0,
            items: 0,
            total_cents: 0,
            first_order_cents: 0,
        });
        if date < c.first_purchase {
            c.first_purchase = date;
            c.first_order_cents = 0;
        }
        if date == c.first_purchase {
            c.first_order_cents += amount;
        }
        c.last_purchase = c.last_purchase.max(date);
        c.orders += 1;
        c.items += items;
        c.total_cents += amount;
    }
    Ok(by_id.into_values().collect())
}

fn money(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// The contacts CSV the demo imports.
pub fn contacts_csv(customers: &[Customer]) -> Vec<u8> {
    let mut out = String::from("Email,FIRSTPURCHASE,LASTPURCHASE,ORDERS,ITEMS,TOTALSPEND,AVGORDER,FIRSTORDER\n");
    for c in customers {
        let avg = (c.total_cents as f64 / c.orders.max(1) as f64).round() as i64;
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{}\n",
            c.email(),
            c.first_purchase.format("%Y-%m-%d"),
            c.last_purchase.format("%Y-%m-%d"),
            c.orders,
            c.items,
            money(c.total_cents),
            money(avg),
            money(c.first_order_cents)
        ));
    }
    out.into_bytes()
}

/// The data fields the demo creates.
pub const FIELDS: &[(&str, &str)] = &[
    ("FIRSTPURCHASE", "Date"),
    ("LASTPURCHASE", "Date"),
    ("ORDERS", "Numeric"),
    ("ITEMS", "Numeric"),
    ("TOTALSPEND", "Numeric"),
    ("AVGORDER", "Numeric"),
    ("FIRSTORDER", "Numeric"),
];

fn cond(field: &str, op: &str, value: Value) -> Value {
    json!({"field": field, "op": op, "value": value})
}

/// A demo segment: name, the rule in words, the rule. `{champions}` in a rule is
/// replaced by the Champions segment's id.
pub fn segments(champions_id: Option<i64>) -> Vec<(&'static str, &'static str, Value)> {
    let mut out = vec![
        (
            "Champions",
            "ordered at least 5 times and spent at least $300",
            json!({"all": [cond("dataFields.ORDERS", "greaterThanOrEqual", json!(5)), cond("dataFields.TOTALSPEND", "greaterThanOrEqual", json!(300))]}),
        ),
        (
            "Lapsed",
            "last purchase more than 180 days ago",
            cond("dataFields.LASTPURCHASE", "moreThanAgo", json!({"amount": 180, "unit": "days"})),
        ),
        ("One-timers", "exactly one purchase", cond("dataFields.ORDERS", "equals", json!(1))),
        ("Big first orders", "spent at least $100 on their first day", cond("dataFields.FIRSTORDER", "greaterThanOrEqual", json!(100))),
        ("Recent buyers", "bought in the last 90 days", cond("dataFields.LASTPURCHASE", "inLast", json!({"amount": 90, "unit": "days"}))),
        (
            "Win-back",
            "lapsed, and spent over $100 or ordered 3+ times",
            json!({"all": [
                cond("dataFields.LASTPURCHASE", "moreThanAgo", json!({"amount": 180, "unit": "days"})),
                {"any": [cond("dataFields.TOTALSPEND", "greaterThan", json!(100)), cond("dataFields.ORDERS", "greaterThanOrEqual", json!(3))]}
            ]}),
        ),
    ];
    if let Some(ch) = champions_id {
        out.push((
            "Loyal, not champions",
            "3+ purchases and NOT in Champions",
            json!({"all": [cond("dataFields.ORDERS", "greaterThanOrEqual", json!(3)), {"not": cond("segments", "contains", json!(ch))}]}),
        ));
    }
    out
}

/// One row of the demo's table.
#[derive(Debug, Clone)]
pub struct DemoRow {
    pub id: i64,
    pub name: String,
    pub words: String,
    pub members: i64,
    /// POST refresh → `Finished`, as a client sees it.
    pub refresh_ms: f64,
    /// Evaluation time the server recorded.
    pub eval_ms: f64,
}

/// What a demo run leaves behind.
pub struct DemoRun {
    pub rows: Vec<DemoRow>,
    pub base: String,
    pub username: String,
    pub password: String,
    pub import_secs: f64,
    pub contacts: usize,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    _dir: Option<tempfile::TempDir>,
}

impl DemoRun {
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.server.take() {
            let _ = h.await;
        }
    }
}

fn say(quiet: bool, msg: &str) {
    if !quiet {
        eprintln!("{msg}");
    }
}

/// Runs the demo and leaves the server running (call [`DemoRun::stop`]).
pub async fn run_demo(args: &DemoArgs) -> anyhow::Result<DemoRun> {
    let started = Instant::now();
    let quiet = args.quiet;
    let (tmp, dir) = match &args.dir {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            (None, d.clone())
        }
        None => {
            let t = tempfile::tempdir()?;
            let p = t.path().to_path_buf();
            (Some(t), p)
        }
    };
    let db = dir.join("sift-demo.db");
    if db.exists() {
        bail!("{} already exists; choose an empty --dir", db.display());
    }
    say(quiet, "1/5  reading the CDNOW purchase history …");
    let customers = customers(CDNOW)?;
    let csv = contacts_csv(&customers);
    say(quiet, &format!("     {} customers from {} purchases", customers.len(), CDNOW.lines().count() - 1));

    say(quiet, &format!("2/5  starting sift on {} (today is fixed at 1998-07-01) …", db.display()));
    let store = sift_store::Store::open(&db.to_string_lossy()).await?;
    let (_, username, password) = crate::create_account(&store, "CDNOW demo").await?;
    let config = Config { fixed_now: crate::cli::parse_now(Some(DEMO_NOW))?, ..Config::default() };
    let listener = tokio::net::TcpListener::bind(&args.listen).await?;
    let base = format!("http://{}", listener.local_addr()?);
    let state = AppState::new(store, config);
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        if let Err(e) = crate::run(listener, state, async {
            let _ = rx.await;
        })
        .await
        {
            tracing::error!(error = %e, "demo server stopped");
        }
    });
    let client = Client::new(&base, &username, &password);

    say(quiet, "3/5  creating data fields and importing contacts (bulk CSV import) …");
    for (name, kind) in FIELDS {
        client.post("/v2/data-fields", &json!({"name": name, "type": kind})).await?.ok()?;
    }
    let book = client.post("/v2/address-books", &json!({"name": "CDNOW customers"})).await?.ok()?;
    let book_id = book["id"].as_i64().context("book id")?;
    let t0 = Instant::now();
    let submitted = client.post_file(&format!("/v2/address-books/{book_id}/contacts/import"), "cdnow-contacts.csv", csv).await?.ok()?;
    let import_id = submitted["id"].as_str().context("import id")?.to_string();
    let mut shown = -1;
    loop {
        let status = client.get(&format!("/v2/contacts/import/{import_id}")).await?.ok()?;
        let count = client.get("/v2/contacts/count").await?.ok()?.as_i64().unwrap_or(0);
        if !quiet && count != shown {
            eprint!("\r     {count:>6} / {} contacts imported", customers.len());
            let _ = std::io::stderr().flush();
            shown = count;
        }
        match status["status"].as_str() {
            Some("NotFinished") => tokio::time::sleep(Duration::from_millis(50)).await,
            Some("Finished") => break,
            other => bail!("import ended {other:?}"),
        }
    }
    let import_secs = t0.elapsed().as_secs_f64();
    let report = client.get(&format!("/v2/contacts/import/{import_id}/report")).await?.ok()?;
    say(
        quiet,
        &format!(
            "\n     {} new contacts in {:.2} s ({:.0} contacts/s)",
            report["newContacts"],
            import_secs,
            customers.len() as f64 / import_secs
        ),
    );

    say(quiet, "4/5  creating segments …");
    let mut created: Vec<(i64, &'static str, &'static str)> = Vec::new();
    for (name, words, rule) in segments(None) {
        let id = client.create_segment(name, rule).await?;
        created.push((id, name, words));
    }
    let champions = created[0].0;
    if let Some((name, words, rule)) = segments(Some(champions)).pop() {
        let id = client.create_segment(name, rule).await?;
        created.push((id, name, words));
    }
    for (id, _, _) in &created {
        let status = client.wait_refresh(*id, Duration::from_secs(60)).await?;
        if status != "Finished" {
            bail!("segment {id} first refresh ended {status}");
        }
    }

    say(quiet, "5/5  refreshing each segment (POST /v2/segments/refresh/{id}, polling until Finished) …");
    let mut rows = Vec::new();
    for (id, name, words) in &created {
        let t = Instant::now();
        let status = client.refresh(*id, Duration::from_secs(60)).await?;
        let refresh_ms = t.elapsed().as_secs_f64() * 1000.0;
        if status != "Finished" {
            bail!("segment {name} refresh ended {status}");
        }
        let detail = client.get(&format!("/v2/segments/{id}")).await?.ok()?;
        rows.push(DemoRow {
            id: *id,
            name: name.to_string(),
            words: words.to_string(),
            members: detail["contacts"].as_i64().unwrap_or(0),
            refresh_ms,
            eval_ms: detail["lastRefresh"]["evaluationMs"].as_f64().unwrap_or(0.0),
        });
    }
    say(quiet, &format!("     done in {:.1} s overall", started.elapsed().as_secs_f64()));
    Ok(DemoRun {
        rows,
        base,
        username,
        password,
        import_secs,
        contacts: customers.len(),
        shutdown: Some(tx),
        server: Some(server),
        _dir: tmp,
    })
}

/// Prints the demo's table.
pub fn print_table(run: &DemoRun) {
    println!();
    println!("{:<4} {:<22} {:<50} {:>8} {:>12} {:>9}", "id", "segment", "rule", "members", "refresh ms", "eval ms");
    println!("{}", "-".repeat(110));
    for r in &run.rows {
        println!("{:<4} {:<22} {:<50} {:>8} {:>12.1} {:>9.3}", r.id, r.name, r.words, r.members, r.refresh_ms, r.eval_ms);
    }
    println!();
    println!("{} contacts; refresh = POST /v2/segments/refresh/{{id}} until GET says Finished, as a client sees it.", run.contacts);
}

/// `sift demo`.
pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    crate::cli::init_logging("warn");
    let run = run_demo(&args).await?;
    print_table(&run);
    if args.keep_running {
        let (u, p, b) = (&run.username, &run.password, &run.base);
        println!("The server is still running. Try:");
        println!("  curl -u '{u}:{p}' {b}/v2/segments");
        println!(
            "  curl -u '{u}:{p}' '{b}/v2/address-books/{}/contacts?select=5&withFullData=true'",
            run.rows.first().map(|r| r.id).unwrap_or(1)
        );
        println!("  curl -u '{u}:{p}' -X POST {b}/v2/segments/refresh/{}", run.rows.first().map(|r| r.id).unwrap_or(1));
        println!("or point a dotmailer v2 client at {b}/v2/ with that username and password. Ctrl-C stops it.");
        let _ = tokio::signal::ctrl_c().await;
    } else {
        println!("Run with --keep-running to keep the server up and explore it with curl or a v2 client.");
    }
    run.stop().await;
    Ok(())
}
