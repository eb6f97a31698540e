//! Measures the bulk-import rate through HTTP into a fresh SQLite store: a CSV of
//! `ROWS` contacts (e-mail plus five data fields of every type) is uploaded to
//! `POST /v2/address-books/{id}/contacts/import` and polled until `Finished`.
//!
//! `cargo run --release -p sift-server --example import_rate [ROWS]` (default 100000)
//!
//! It prints the new-contact rate, then the rate of a second file that updates every
//! contact.

use std::time::{Duration, Instant};

use serde_json::json;
use sift_client::Client;
use sift_server::app::{AppState, Config};
use sift_store::Store;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rows: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let dir = tempfile::tempdir()?;
    let store = Store::open(&dir.path().join("sift.db").to_string_lossy()).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    // `IMPORT_CHUNK=n` overrides the rows per import transaction.
    let import_chunk = std::env::var("IMPORT_CHUNK").ok().and_then(|s| s.parse().ok()).unwrap_or(Config::default().import_chunk);
    let state = AppState::new(store.clone(), Config { import_chunk, ..Config::default() });
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(sift_server::run(listener, state, async {
        let _ = rx.await;
    }));
    let (_, user, password) = sift_server::create_account(&store, "Import rate").await?;
    let client = Client::new(&base, &user, &password);
    for (name, kind) in [("CITY", "String"), ("AGE", "Numeric"), ("JOINED", "Date"), ("VIP", "Boolean"), ("SCORE", "Numeric")] {
        client.post("/v2/data-fields", &json!({"name": name, "type": kind})).await?.ok()?;
    }
    let book = client.post("/v2/address-books", &json!({"name": "Imported"})).await?.ok()?["id"].as_i64().unwrap_or(0);

    let mut csv = String::with_capacity(rows * 80);
    csv.push_str("Email,FirstName,City,Age,Joined,Vip,Score\n");
    for i in 0..rows {
        csv.push_str(&format!(
            "user{i}@example.com,Name{},City{},{},2020-{:02}-{:02},{},{}.5\n",
            i % 1000,
            i % 50,
            18 + i % 70,
            1 + i % 12,
            1 + i % 28,
            i % 2 == 0,
            i % 100
        ));
    }
    let bytes = csv.len();
    let start = Instant::now();
    let (id, status) = client.import_csv(Some(book), csv.into_bytes(), Duration::from_secs(600)).await?;
    let secs = start.elapsed().as_secs_f64();
    let report = client.get(&format!("/v2/contacts/import/{id}/report")).await?.ok()?;
    println!(
        "{rows} rows ({:.1} MB) → {status} in {secs:.2} s: {:.0} contacts/s (new {}, invalid {})",
        bytes as f64 / 1e6,
        rows as f64 / secs,
        report["newContacts"],
        report["invalidEntries"]
    );
    // The same file again: every row updates an existing contact.
    let mut again = String::from("Email,City,Age\n");
    for i in 0..rows {
        again.push_str(&format!("user{i}@example.com,Town{},{}\n", i % 40, 20 + i % 60));
    }
    let start = Instant::now();
    let (_, status) = client.import_csv(Some(book), again.into_bytes(), Duration::from_secs(600)).await?;
    let secs = start.elapsed().as_secs_f64();
    println!("{rows} updates → {status} in {secs:.2} s: {:.0} contacts/s", rows as f64 / secs);
    let _ = tx.send(());
    let _ = server.await;
    Ok(())
}
