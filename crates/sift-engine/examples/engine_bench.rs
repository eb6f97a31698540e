//! Engine benchmark: load N contacts with 10 data fields (with empty values), then time
//! rule evaluations (median of 5), memory per contact and a 1% catch-up.
//!
//! `CARGO_TARGET_DIR=/work/target-engine cargo run --release -p sift-engine --example engine_bench [N...]`

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::json;
use sift_core::model::{ContactStatus, DataField, DataFieldType, EmailType, OptInType, Visibility};
use sift_core::record::{ContactChange, ContactRecord, DateValue, FieldValue};
use sift_core::rules::{EvalContext, Rule, Schema};
use sift_engine::AccountIndex;
use std::collections::HashMap;
use std::time::Instant;

/// splitmix64: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
}

const FIRST: &[&str] =
    &["Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Jamie", "Riley", "Avery", "Quinn", "Dana", "Ana", "Hannah", "Sean", "Ian"];
const COUNTRIES: &[&str] = &["UK", "IE", "FR", "DE", "ES", "IT", "NL", "BE", "US", "CA", "AU", "NZ", " UK", "uk", ""];

fn fields() -> Vec<DataField> {
    let f = |id: i64, name: &str, kind| DataField { id, name: name.into(), kind, visibility: Visibility::Private, default_value: None };
    vec![
        f(1, "FIRSTNAME", DataFieldType::String),
        f(2, "LASTNAME", DataFieldType::String),
        f(3, "COUNTRY", DataFieldType::String),
        f(4, "TOTALSPEND", DataFieldType::Numeric),
        f(5, "ORDERS", DataFieldType::Numeric),
        f(6, "AGE", DataFieldType::Numeric),
        f(7, "LASTORDER", DataFieldType::Date),
        f(8, "BIRTHDAY", DataFieldType::Date),
        f(9, "VIP", DataFieldType::Boolean),
        f(10, "NEWSLETTER", DataFieldType::Boolean),
    ]
}

fn contact(rng: &mut Rng, id: u32, now: DateTime<Utc>) -> ContactRecord {
    let mut fields = Vec::with_capacity(10);
    let mut maybe = |present: bool, fid: i64, v: FieldValue| {
        if present {
            fields.push((fid, v));
        }
    };
    maybe(rng.chance(90), 1, FieldValue::Str(FIRST[rng.below(FIRST.len() as u64) as usize].to_string()));
    maybe(rng.chance(90), 2, FieldValue::Str(format!("Smith{}", rng.below(2000))));
    maybe(rng.chance(90), 3, FieldValue::Str(COUNTRIES[rng.below(COUNTRIES.len() as u64) as usize].to_string()));
    maybe(rng.chance(90), 4, FieldValue::Num((rng.below(100_000) as f64) / 100.0));
    maybe(rng.chance(90), 5, FieldValue::Num(rng.below(50) as f64));
    maybe(rng.chance(90), 6, FieldValue::Num(18.0 + rng.below(70) as f64));
    maybe(rng.chance(90), 7, FieldValue::Date(DateValue::Instant(now - Duration::seconds(rng.below(2 * 365 * 86_400) as i64))));
    let bday = NaiveDate::from_ymd_opt(1950 + rng.below(55) as i32, 1 + rng.below(12) as u32, 1 + rng.below(28) as u32);
    if let Some(b) = bday {
        maybe(rng.chance(90), 8, FieldValue::Date(DateValue::Day(b)));
    }
    maybe(rng.chance(90), 9, FieldValue::Bool(rng.chance(10)));
    maybe(rng.chance(90), 10, FieldValue::Bool(rng.chance(60)));
    let books = (0..rng.below(4)).map(|_| 1 + rng.below(20) as u32).collect();
    let created = now - Duration::seconds(rng.below(5 * 365 * 86_400) as i64);
    ContactRecord {
        id,
        email: format!("User{id}@Domain{}.com", id % 100),
        status: ContactStatus::ALL[if rng.chance(80) { 0 } else { rng.below(ContactStatus::ALL.len() as u64) as usize }],
        opt_in_type: OptInType::ALL[rng.below(4) as usize],
        email_type: EmailType::ALL[rng.below(2) as usize],
        created,
        modified: created,
        fields,
        books,
    }
}

fn rules() -> Vec<(&'static str, serde_json::Value)> {
    vec![
        (
            "5 conds: in, >, inLast, not book, status",
            json!({"all": [
                {"field": "dataFields.COUNTRY", "op": "in", "value": ["UK", "IE"]},
                {"field": "dataFields.TOTALSPEND", "op": "greaterThan", "value": 100},
                {"field": "dataFields.LASTORDER", "op": "inLast", "value": {"amount": 90, "unit": "days"}},
                {"not": {"field": "addressBooks", "op": "contains", "value": 3}},
                {"field": "status", "op": "equals", "value": "Subscribed"}
            ]}),
        ),
        (
            "5 conds any: contains, startsWith, between, isTrue, anniversary",
            json!({"any": [
                {"field": "dataFields.FIRSTNAME", "op": "contains", "value": "an"},
                {"field": "dataFields.LASTNAME", "op": "startsWith", "value": "smith19"},
                {"field": "dataFields.AGE", "op": "between", "value": [25, 40]},
                {"field": "dataFields.VIP", "op": "isTrue"},
                {"field": "dataFields.BIRTHDAY", "op": "anniversaryToday"}
            ]}),
        ),
        (
            "5 conds: email endsWith, notEquals, isEmpty, created, optIn",
            json!({"all": [
                {"field": "email", "op": "endsWith", "value": "@domain7.com"},
                {"field": "dataFields.COUNTRY", "op": "notEquals", "value": "FR"},
                {"not": {"field": "dataFields.ORDERS", "op": "isEmpty"}},
                {"field": "created", "op": "inLast", "value": {"amount": 2, "unit": "years"}},
                {"field": "optInType", "op": "in", "value": ["Single", "Double"]}
            ]}),
        ),
        (
            "email contains (1 cond over N distinct strings)",
            json!(
                {"field": "email", "op": "contains", "value": "user12"}
            ),
        ),
    ]
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn run(n: u32) {
    let now = Utc.with_ymd_and_hms(2024, 6, 15, 12, 0, 0).single().unwrap_or_default();
    let tz = Tz::UTC;
    let mut rng = Rng(42);
    let fields = fields();
    let changes: Vec<ContactChange> =
        (1..=n).map(|id| ContactChange { id, seq: i64::from(id), record: Some(contact(&mut rng, id, now)) }).collect();
    let mut index = AccountIndex::new(tz);
    let t = Instant::now();
    index.apply(&fields, changes, i64::from(n));
    let load = t.elapsed();
    println!("N = {n}");
    println!("  initial apply: {:.0} ms ({:.0} contacts/s)", ms(load), f64::from(n) / load.as_secs_f64());
    println!("  memory: {:.1} MB, {:.1} bytes/contact", index.memory_bytes() as f64 / 1e6, index.memory_bytes() as f64 / f64::from(n));
    let schema = Schema { data_fields: fields.clone(), ..Schema::default() }.with_books((1..=20).collect());
    let ctx = EvalContext { now, tz, segments: HashMap::new() };
    for (name, json) in rules() {
        let rule = match Rule::parse(&json, &schema).and_then(|r| r.resolve(&fields)) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        };
        let mut times = Vec::new();
        let mut members = 0;
        for _ in 0..5 {
            let t = Instant::now();
            let m = index.evaluate(&rule, &ctx);
            times.push(t.elapsed());
            members = m.map(|m| m.len()).unwrap_or(0);
        }
        times.sort();
        println!("  eval {name}: median {:.2} ms (min {:.2}), {members} members", ms(times[2]), ms(times[0]));
    }
    // Catch-up: 1% of contacts changed (0.1% of them deleted).
    let k = (n / 100).max(1);
    let updates: Vec<ContactChange> = (0..k)
        .map(|i| {
            let id = 1 + rng.below(u64::from(n)) as u32;
            let record = if i % 10 == 0 { None } else { Some(contact(&mut rng, id, now)) };
            ContactChange { id, seq: i64::from(n) + i64::from(i) + 1, record }
        })
        .collect();
    let t = Instant::now();
    index.apply(&fields, updates, i64::from(n + k));
    println!("  catch-up of {k} changes (1%): {:.1} ms", ms(t.elapsed()));
}

trait WithBooks {
    fn with_books(self, books: std::collections::HashSet<i64>) -> Self;
}

impl WithBooks for Schema {
    fn with_books(mut self, books: std::collections::HashSet<i64>) -> Self {
        self.book_ids = books;
        self
    }
}

fn main() {
    let sizes: Vec<u32> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() { vec![100_000, 1_000_000] } else { sizes };
    for n in sizes {
        run(n);
    }
}
