//! The demo's segment counts, checked against an independent computation over the
//! raw CDNOW file (plain Rust over the parsed rows, not through sift).

use std::collections::HashMap;

use chrono::NaiveDate;

struct Totals {
    orders: u32,
    cents: i64,
    first: NaiveDate,
    first_day_cents: i64,
    last: NaiveDate,
}

fn independent_counts() -> HashMap<&'static str, i64> {
    let raw = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/cdnow/CDNOW_master.txt")).unwrap();
    let mut by: HashMap<String, Totals> = HashMap::new();
    for line in raw.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() != 4 {
            continue;
        }
        let date = NaiveDate::parse_from_str(f[1], "%Y%m%d").unwrap();
        let (dollars, cents) = f[3].split_once('.').unwrap_or((f[3], "0"));
        let amount = dollars.parse::<i64>().unwrap() * 100 + format!("{cents:0<2}")[..2].parse::<i64>().unwrap();
        let t = by.entry(f[0].to_string()).or_insert(Totals { orders: 0, cents: 0, first: date, first_day_cents: 0, last: date });
        t.orders += 1;
        t.cents += amount;
        if date < t.first {
            t.first = date;
            t.first_day_cents = 0;
        }
        if date == t.first {
            t.first_day_cents += amount;
        }
        if date > t.last {
            t.last = date;
        }
    }
    assert_eq!(by.len(), 23_570);
    let today = NaiveDate::from_ymd_opt(1998, 7, 1).unwrap();
    let lapsed_before = today - chrono::Duration::days(180);
    let recent_from = today - chrono::Duration::days(90);
    let champion = |t: &Totals| t.orders >= 5 && t.cents >= 30_000;
    let lapsed = |t: &Totals| t.last < lapsed_before;
    let count = |f: &dyn Fn(&Totals) -> bool| by.values().filter(|t| f(t)).count() as i64;
    HashMap::from([
        ("Champions", count(&champion)),
        ("Lapsed", count(&lapsed)),
        ("One-timers", count(&|t| t.orders == 1)),
        ("Big first orders", count(&|t| t.first_day_cents >= 10_000)),
        ("Recent buyers", count(&|t| t.last >= recent_from && t.last <= today)),
        ("Win-back", count(&|t| lapsed(t) && (t.cents > 10_000 || t.orders >= 3))),
        ("Loyal, not champions", count(&|t| t.orders >= 3 && !champion(t))),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_segment_counts_match_an_independent_computation_over_the_raw_file() {
    if crate::helpers::backend() != "sqlite" {
        return; // the demo runs on its own SQLite file
    }
    let expected = independent_counts();
    let run = sift_server::demo::run_demo(&sift_server::demo::DemoArgs { quiet: true, ..Default::default() }).await.unwrap();
    assert_eq!(run.contacts, 23_570);
    assert_eq!(run.rows.len(), expected.len());
    for row in &run.rows {
        let want = expected.get(row.name.as_str()).unwrap_or_else(|| panic!("no independent count for {}", row.name));
        assert_eq!(row.members, *want, "segment {}", row.name);
        assert!(row.members > 0);
    }
    run.stop().await;
}
