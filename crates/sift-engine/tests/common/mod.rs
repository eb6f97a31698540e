//! Shared fixtures of the engine tests: a small schema, contacts, and evaluation
//! through both the engine and the reference evaluator.

#![allow(dead_code)]

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use roaring::RoaringBitmap;
use sift_core::model::{ContactStatus, DataField, DataFieldType, EmailType, OptInType, Visibility};
use sift_core::record::{ContactChange, ContactRecord, FieldValue};
use sift_core::rules::{reference, EvalContext, ResolvedRule, Rule, Schema};
use sift_engine::AccountIndex;
use std::collections::{BTreeMap, HashMap, HashSet};

pub const NAME: i64 = 11;
pub const SPEND: i64 = 12;
pub const SIGNUP: i64 = 13;
pub const VIP: i64 = 14;
pub const STAGE: i64 = 15;

pub fn field(id: i64, name: &str, kind: DataFieldType) -> DataField {
    DataField { id, name: name.into(), kind, visibility: Visibility::Private, default_value: None }
}

pub fn fields() -> Vec<DataField> {
    vec![
        field(NAME, "NAME", DataFieldType::String),
        field(SPEND, "SPEND", DataFieldType::Numeric),
        field(SIGNUP, "SIGNUP", DataFieldType::Date),
        field(VIP, "VIP", DataFieldType::Boolean),
        field(STAGE, "STAGE", DataFieldType::String),
    ]
}

pub fn schema(segments: &[i64]) -> Schema {
    Schema { data_fields: fields(), segment_ids: segments.iter().copied().collect(), book_ids: (1..=5).collect() }
}

pub fn contact(id: u32, created: DateTime<Utc>) -> ContactRecord {
    ContactRecord {
        id,
        email: format!("c{id}@example.com"),
        status: ContactStatus::Subscribed,
        opt_in_type: OptInType::Single,
        email_type: EmailType::Html,
        created,
        modified: created,
        fields: Vec::new(),
        books: Vec::new(),
    }
}

/// The engine and a plain map of live records, kept in step.
pub struct Pair {
    pub index: AccountIndex,
    pub live: BTreeMap<u32, ContactRecord>,
    seq: i64,
}

impl Pair {
    pub fn new(tz: Tz) -> Pair {
        Pair { index: AccountIndex::new(tz), live: BTreeMap::new(), seq: 0 }
    }

    /// Applies `(id, record or deletion)` in order (seqs ascending); the engine gets
    /// the batch in `order_reversed` order to exercise its own ordering.
    pub fn apply(&mut self, batch: Vec<(u32, Option<ContactRecord>)>, order_reversed: bool) {
        let mut changes = Vec::new();
        for (id, rec) in batch {
            self.seq += 1;
            match &rec {
                Some(r) => {
                    self.live.insert(id, ContactRecord { id, ..r.clone() });
                }
                None => {
                    self.live.remove(&id);
                }
            }
            changes.push(ContactChange { id, seq: self.seq, record: rec.map(|r| ContactRecord { id, ..r }) });
        }
        if order_reversed {
            changes.reverse();
        }
        self.index.apply(&fields(), changes, self.seq);
    }

    pub fn engine(&self, rule: &ResolvedRule, ctx: &EvalContext) -> Vec<u32> {
        match self.index.evaluate(rule, ctx) {
            Ok(b) => b.iter().collect(),
            Err(e) => panic!("engine failed: {e}"),
        }
    }

    pub fn reference(&self, rule: &ResolvedRule, ctx: &EvalContext) -> Vec<u32> {
        self.live.values().filter(|c| reference::matches(rule, c, ctx)).map(|c| c.id).collect()
    }

    pub fn all_ids(&self) -> Vec<u32> {
        self.live.keys().copied().collect()
    }
}

pub fn resolve(rule: &Rule) -> ResolvedRule {
    match rule.resolve(&fields()) {
        Ok(r) => r,
        Err(e) => panic!("resolve failed: {e}"),
    }
}

pub fn parse(json: serde_json::Value, segments: &[i64]) -> Rule {
    match Rule::parse(&json, &schema(segments)) {
        Ok(r) => r,
        Err(e) => panic!("parse of {json} failed: {e}"),
    }
}

pub fn ctx(now: DateTime<Utc>, tz: Tz, segments: HashMap<i64, ResolvedRule>) -> EvalContext {
    EvalContext { now, tz, segments }
}

pub fn union_and_intersection(a: &[u32], b: &[u32]) -> (Vec<u32>, Vec<u32>) {
    let a: RoaringBitmap = a.iter().copied().collect();
    let b: RoaringBitmap = b.iter().copied().collect();
    ((&a | &b).iter().collect(), (&a & &b).iter().collect())
}

pub fn set(ids: &[u32]) -> HashSet<u32> {
    ids.iter().copied().collect()
}

pub fn with_fields(mut c: ContactRecord, values: Vec<(i64, FieldValue)>) -> ContactRecord {
    c.fields = values;
    c
}
