//! Times a cold index load: reading every contact of an account from the store and
//! applying it to a fresh index. `cargo run --release -p sift-server --example cold_load -- DB [ACCOUNT]`

use std::time::Instant;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let db = args.next().unwrap_or_else(|| "bench/out/sift-bench.db".into());
    let account: i64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(1);
    let store = sift_store::Store::open(&db).await?;
    let t = Instant::now();
    let batch = store.changes_since(account, 0).await?;
    let read = t.elapsed();
    let n = batch.changes.len();
    let mut index = sift_engine::AccountIndex::new(chrono_tz::UTC);
    let t = Instant::now();
    index.apply(&batch.fields, batch.changes, batch.up_to_seq);
    let apply = t.elapsed();
    println!(
        "{n} contacts: read {:.2} s ({:.1} µs/contact), apply {:.2} s, {} bytes/contact",
        read.as_secs_f64(),
        read.as_secs_f64() * 1e6 / n.max(1) as f64,
        apply.as_secs_f64(),
        index.memory_bytes() / n.max(1)
    );
    Ok(())
}
