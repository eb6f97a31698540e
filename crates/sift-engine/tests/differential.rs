//! The engine against the reference evaluator, on random contacts (applied in several
//! batches with deletions and re-upserts) and random rules, in several time zones.

mod common;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use common::*;
use proptest::prelude::*;
use sift_core::model::{ContactStatus, DataFieldType, EmailType, OptInType};
use sift_core::record::{ContactRecord, DateValue, FieldValue};
use sift_core::rules::{Condition, EnumValue, FieldRef, Node, Op, Operand, Period, PeriodUnit, Rule};
use std::collections::HashMap;

const STRINGS: &[&str] =
    &["", " ", "  ", "Alex", "ALEX", "alex", "alexandra", "UK", " UK", "uk", "Straße", "STRASSE", "ǆemal", "x", "Lead", "lead ", "LEAD"];
const NEEDLES: &[&str] = &["alex", "ALEX", "al", "ra", "uk", " UK", "ss", "ß", "Lead", "x", "ǅ", "zzz", "a"];
const NUMBERS: &[f64] = &[-5.5, -1.0, 0.0, -0.0, 1.0, 2.5, 9.0, 10.0, 100.0];
const EMAILS: &[&str] = &["Alex@Example.com", "alex@example.COM", "bob@ex.org", "BOB@EX.ORG", "carla@site.uk"];

fn tz_strategy() -> impl Strategy<Value = Tz> {
    prop_oneof![Just(Tz::UTC), Just(Tz::America__New_York), Just(Tz::Pacific__Auckland)]
}

/// Random "now": any time in 2019..2025, or close to a clock change (New York and
/// Auckland set clocks back on these dates), or close to a leap day.
fn now_strategy() -> impl Strategy<Value = DateTime<Utc>> {
    let base = |s: &str| DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)).unwrap_or_default();
    let anchors = vec![
        base("2021-11-07T06:00:00Z"),
        base("2021-04-03T14:00:00Z"),
        base("2021-03-14T07:00:00Z"),
        base("2023-02-28T12:00:00Z"),
        base("2024-02-29T12:00:00Z"),
        base("2022-12-31T23:30:00Z"),
    ];
    prop_oneof![
        (1_546_300_800i64..1_735_689_600).prop_map(|s| Utc.timestamp_opt(s, 0).single().unwrap_or_default()),
        (prop::sample::select(anchors), -4 * 3600i64..4 * 3600, 0u32..1_000_000_000)
            .prop_map(|(a, d, n)| { a + Duration::seconds(d) + Duration::nanoseconds(i64::from(n)) }),
    ]
}

/// A date value relative to now (built once `now` is known).
#[derive(Debug, Clone)]
enum DateSpec {
    Day(i64),
    FixedDay(NaiveDate),
    Instant(i64),
    /// Local midnight of today + k days, plus a few seconds (day boundaries).
    Midnight(i64, i64),
}

impl DateSpec {
    fn at(&self, now: DateTime<Utc>, tz: Tz) -> DateValue {
        let today = now.with_timezone(&tz).date_naive();
        match self {
            DateSpec::Day(d) => DateValue::Day(today + Duration::days(*d)),
            DateSpec::FixedDay(d) => DateValue::Day(*d),
            DateSpec::Instant(s) => DateValue::Instant(now + Duration::seconds(*s)),
            DateSpec::Midnight(k, delta) => {
                let day = today + Duration::days(*k);
                let local = day.and_hms_opt(0, 0, 0).unwrap_or_default();
                let t = tz.from_local_datetime(&local).earliest().map(|t| t.with_timezone(&Utc)).unwrap_or(now);
                DateValue::Instant(t + Duration::seconds(*delta))
            }
        }
    }
}

fn date_spec() -> impl Strategy<Value = DateSpec> {
    prop_oneof![
        (-800i64..800).prop_map(DateSpec::Day),
        (-40i64..40).prop_map(DateSpec::Day),
        prop::sample::select(vec![
            NaiveDate::from_ymd_opt(2020, 2, 29),
            NaiveDate::from_ymd_opt(2016, 2, 29),
            NaiveDate::from_ymd_opt(2019, 2, 28),
            NaiveDate::from_ymd_opt(2018, 3, 1),
        ])
        .prop_map(|d| DateSpec::FixedDay(d.unwrap_or_default())),
        (-3 * 3600i64..3 * 3600).prop_map(DateSpec::Instant),
        (-1i64..=1).prop_map(DateSpec::Instant),
        (-35i64..35, -1i64..=1).prop_map(|(k, d)| DateSpec::Midnight(k, d)),
        (-60 * 86_400i64..60 * 86_400).prop_map(DateSpec::Instant),
        (-1000 * 86_400i64..1000 * 86_400).prop_map(DateSpec::Instant),
    ]
}

#[derive(Debug, Clone)]
struct ContactSpec {
    email: &'static str,
    status: ContactStatus,
    opt_in: OptInType,
    email_type: EmailType,
    created: DateSpec,
    modified: DateSpec,
    name: Option<&'static str>,
    stage: Option<&'static str>,
    spend: Option<f64>,
    signup: Option<DateSpec>,
    vip: Option<bool>,
    /// A value of the wrong type in SPEND (treated as empty by both sides).
    spend_as_text: bool,
    books: Vec<u32>,
}

fn instant_spec() -> impl Strategy<Value = DateSpec> {
    date_spec().prop_map(|d| match d {
        DateSpec::Day(n) => DateSpec::Instant(n * 86_400 + 3600),
        DateSpec::FixedDay(_) => DateSpec::Instant(-86_400 * 365),
        i => i,
    })
}

fn contact_spec() -> impl Strategy<Value = ContactSpec> {
    (
        (
            prop::sample::select(EMAILS),
            prop::sample::select(ContactStatus::ALL),
            prop::sample::select(OptInType::ALL),
            prop::sample::select(EmailType::ALL),
            instant_spec(),
            instant_spec(),
        ),
        (
            prop::option::weighted(0.8, prop::sample::select(STRINGS)),
            prop::option::weighted(0.8, prop::sample::select(STRINGS)),
            prop::option::weighted(0.8, prop::sample::select(NUMBERS)),
            prop::option::weighted(0.8, date_spec()),
            prop::option::weighted(0.7, any::<bool>()),
            prop::bool::weighted(0.05),
            prop::collection::vec(1u32..=6, 0..4),
        ),
    )
        .prop_map(
            |((email, status, opt_in, email_type, created, modified), (name, stage, spend, signup, vip, spend_as_text, books))| {
                ContactSpec { email, status, opt_in, email_type, created, modified, name, stage, spend, signup, vip, spend_as_text, books }
            },
        )
}

fn record(id: u32, s: &ContactSpec, now: DateTime<Utc>, tz: Tz) -> ContactRecord {
    let instant = |d: &DateSpec| match d.at(now, tz) {
        DateValue::Instant(t) => t,
        DateValue::Day(d) => d.and_hms_opt(0, 0, 0).map(|t| t.and_utc()).unwrap_or(now),
    };
    let mut fields = Vec::new();
    if let Some(v) = s.name {
        fields.push((NAME, FieldValue::Str(v.to_string())));
    }
    if let Some(v) = s.stage {
        fields.push((STAGE, FieldValue::Str(v.to_string())));
    }
    if s.spend_as_text {
        fields.push((SPEND, FieldValue::Str("12".into())));
    } else if let Some(v) = s.spend {
        fields.push((SPEND, FieldValue::Num(v)));
    }
    if let Some(d) = &s.signup {
        fields.push((SIGNUP, FieldValue::Date(d.at(now, tz))));
    }
    if let Some(b) = s.vip {
        fields.push((VIP, FieldValue::Bool(b)));
    }
    ContactRecord {
        id,
        email: s.email.to_string(),
        status: s.status,
        opt_in_type: s.opt_in,
        email_type: s.email_type,
        created: instant(&s.created),
        modified: instant(&s.modified),
        fields,
        books: s.books.clone(),
    }
}

/// A batch of changes: ids from a small range so they collide across and within
/// batches; `None` deletes.
fn batches() -> impl Strategy<Value = Vec<Vec<(u32, Option<ContactSpec>)>>> {
    prop::collection::vec(prop::collection::vec((1u32..48, prop::option::weighted(0.85, contact_spec())), 0..40), 1..4)
}

// ---- random rules ----

fn data(name: &str, kind: DataFieldType) -> FieldRef {
    FieldRef::Data { name: name.into(), kind }
}

fn string_cond(field: FieldRef) -> impl Strategy<Value = Condition> {
    let ops = vec![
        Op::Equals,
        Op::NotEquals,
        Op::Contains,
        Op::NotContains,
        Op::StartsWith,
        Op::NotStartsWith,
        Op::EndsWith,
        Op::NotEndsWith,
        Op::In,
        Op::NotIn,
        Op::IsEmpty,
        Op::IsNotEmpty,
    ];
    let needles: Vec<&'static str> =
        NEEDLES.iter().chain(STRINGS).copied().filter(|s| !s.trim().is_empty()).chain(EMAILS.iter().copied()).collect();
    (prop::sample::select(ops), prop::sample::select(needles.clone()), prop::collection::vec(prop::sample::select(needles), 1..4)).prop_map(
        move |(op, one, many)| {
            let value = match op {
                Op::In | Op::NotIn => Operand::Strs(many.into_iter().map(String::from).collect()),
                Op::IsEmpty | Op::IsNotEmpty => Operand::None,
                _ => Operand::Str(one.to_string()),
            };
            Condition { field: field.clone(), op, value }
        },
    )
}

fn num_cond() -> impl Strategy<Value = Condition> {
    let ops = vec![
        Op::Equals,
        Op::NotEquals,
        Op::GreaterThan,
        Op::GreaterThanOrEqual,
        Op::LessThan,
        Op::LessThanOrEqual,
        Op::Between,
        Op::In,
        Op::NotIn,
        Op::IsEmpty,
        Op::IsNotEmpty,
    ];
    let nums = prop::sample::select(NUMBERS);
    (prop::sample::select(ops), nums.clone(), nums.clone(), prop::collection::vec(nums, 1..12)).prop_map(|(op, a, b, many)| {
        let value = match op {
            Op::Between => Operand::NumRange(a.min(b), a.max(b)),
            Op::In | Op::NotIn => Operand::Nums(many),
            Op::IsEmpty | Op::IsNotEmpty => Operand::None,
            _ => Operand::Num(a),
        };
        Condition { field: data("SPEND", DataFieldType::Numeric), op, value }
    })
}

/// Date operands are absolute dates, so they are drawn around a fixed centre and the
/// contacts' dates are drawn around `now`; a second strategy uses relative periods.
fn date_cond(field: FieldRef, today: NaiveDate) -> impl Strategy<Value = Condition> {
    let ops = vec![
        Op::On,
        Op::NotOn,
        Op::Before,
        Op::After,
        Op::Between,
        Op::InLast,
        Op::NotInLast,
        Op::InNext,
        Op::MoreThanAgo,
        Op::AnniversaryToday,
        Op::IsEmpty,
        Op::IsNotEmpty,
    ];
    let units = vec![PeriodUnit::Days, PeriodUnit::Days, PeriodUnit::Weeks, PeriodUnit::Months, PeriodUnit::Years];
    (prop::sample::select(ops), -45i64..45, -45i64..45, 1u32..40, prop::sample::select(units)).prop_map(move |(op, a, b, amount, unit)| {
        let d = |n: i64| today + Duration::days(n);
        let value = match op {
            Op::On | Op::NotOn | Op::Before | Op::After => Operand::Day(d(a)),
            Op::Between => Operand::DayRange(d(a.min(b)), d(a.max(b))),
            Op::InLast | Op::NotInLast | Op::InNext | Op::MoreThanAgo => {
                let amount = if unit == PeriodUnit::Years { amount % 3 + 1 } else { amount };
                Operand::Period(Period { amount, unit })
            }
            _ => Operand::None,
        };
        Condition { field: field.clone(), op, value }
    })
}

fn bool_cond() -> impl Strategy<Value = Condition> {
    prop::sample::select(vec![Op::IsTrue, Op::IsFalse, Op::IsEmpty, Op::IsNotEmpty]).prop_map(|op| Condition {
        field: data("VIP", DataFieldType::Boolean),
        op,
        value: Operand::None,
    })
}

fn enum_cond() -> impl Strategy<Value = Condition> {
    let statuses = prop::sample::select(ContactStatus::ALL).prop_map(EnumValue::Status);
    let opt_ins = prop::sample::select(OptInType::ALL).prop_map(EnumValue::OptInType);
    let types = prop::sample::select(EmailType::ALL).prop_map(EnumValue::EmailType);
    let pick = prop_oneof![
        (Just(FieldRef::Status), prop::collection::vec(statuses, 1..4)),
        (Just(FieldRef::OptInType), prop::collection::vec(opt_ins, 1..3)),
        (Just(FieldRef::EmailType), prop::collection::vec(types, 1..2)),
    ];
    (pick, prop::sample::select(vec![Op::Equals, Op::NotEquals, Op::In, Op::NotIn])).prop_map(|((field, values), op)| {
        let value = match op {
            Op::In | Op::NotIn => Operand::Enums(values),
            _ => Operand::Enum(values[0]),
        };
        Condition { field, op, value }
    })
}

fn set_cond(field: FieldRef, ids: Vec<i64>) -> impl Strategy<Value = Condition> {
    let ops = vec![Op::Contains, Op::NotContains, Op::ContainsAny, Op::ContainsAll, Op::ContainsNone];
    (prop::sample::select(ops), prop::sample::select(ids.clone()), prop::collection::vec(prop::sample::select(ids), 1..4)).prop_map(
        move |(op, one, many)| {
            let value = match op {
                Op::Contains | Op::NotContains => Operand::Id(one),
                _ => Operand::Ids(many),
            };
            Condition { field: field.clone(), op, value }
        },
    )
}

fn condition(today: NaiveDate, segments: Vec<i64>) -> BoxedStrategy<Condition> {
    let base = prop_oneof![
        string_cond(FieldRef::Email),
        string_cond(data("NAME", DataFieldType::String)),
        string_cond(data("STAGE", DataFieldType::String)),
        num_cond(),
        date_cond(data("SIGNUP", DataFieldType::Date), today),
        date_cond(FieldRef::Created, today),
        date_cond(FieldRef::Modified, today),
        bool_cond(),
        enum_cond(),
        set_cond(FieldRef::AddressBooks, vec![1, 2, 3, 4, 5]),
    ];
    if segments.is_empty() {
        base.boxed()
    } else {
        prop_oneof![4 => base, 1 => set_cond(FieldRef::Segments, segments)].boxed()
    }
}

fn tree(today: NaiveDate, segments: Vec<i64>) -> impl Strategy<Value = Node> {
    let leaf = condition(today, segments).prop_map(Node::Cond);
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Node::All),
            prop::collection::vec(inner.clone(), 0..4).prop_map(Node::Any),
            inner.prop_map(|n| Node::Not(Box::new(n))),
        ]
    })
}

/// Everything one case needs: zone, now, batches, two segment rules (2 may use 1),
/// and the rules to check (which may use both).
#[allow(clippy::type_complexity)]
fn scenario() -> impl Strategy<Value = (Tz, DateTime<Utc>, Vec<Vec<(u32, Option<ContactSpec>)>>, Node, Node, Vec<Node>)> {
    let near = |tz: Tz, at: &str| {
        let at = DateTime::parse_from_rfc3339(at).map(|t| t.with_timezone(&Utc)).unwrap_or_default();
        (Just(tz), (-2 * 3600i64..2 * 3600).prop_map(move |d| at + Duration::seconds(d)))
    };
    // Plus "now" inside a repeated wall-clock hour (clocks set back) of that zone.
    let zone_and_now = prop_oneof![
        4 => (tz_strategy(), now_strategy()),
        1 => near(Tz::America__New_York, "2021-11-07T06:00:00Z"),
        1 => near(Tz::Pacific__Auckland, "2021-04-03T14:00:00Z"),
    ];
    zone_and_now.prop_flat_map(|(tz, now)| {
        let today = now.with_timezone(&tz).date_naive();
        (Just(tz), Just(now), batches(), tree(today, vec![]), tree(today, vec![1]), prop::collection::vec(tree(today, vec![1, 2]), 1..6))
    })
}

fn load(tz: Tz, now: DateTime<Utc>, batches: &[Vec<(u32, Option<ContactSpec>)>]) -> Pair {
    let mut pair = Pair::new(tz);
    for (i, batch) in batches.iter().enumerate() {
        let changes = batch.iter().map(|(id, spec)| (*id, spec.as_ref().map(|s| record(*id, s, now, tz)))).collect();
        pair.apply(changes, i % 2 == 1);
    }
    pair
}

fn canonical_round_trip(node: &Node, segments: &[i64]) -> Rule {
    let rule = Rule { root: node.clone() };
    let back = parse(rule.to_json(), segments);
    assert_eq!(back, rule, "canonical JSON must parse back to the same rule: {}", rule.to_json());
    let stored = Rule::from_stored_json(&rule.to_stored_json());
    assert_eq!(stored.as_ref(), Ok(&rule), "stored JSON must parse back to the same rule");
    rule
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, ..ProptestConfig::default() })]

    #[test]
    fn engine_matches_reference((tz, now, batches, seg1, seg2, rules) in scenario()) {
        let pair = load(tz, now, &batches);
        let mut segments = HashMap::new();
        segments.insert(1, resolve(&canonical_round_trip(&seg1, &[])));
        segments.insert(2, resolve(&canonical_round_trip(&seg2, &[1])));
        let ctx = ctx(now, tz, segments);
        prop_assert_eq!(pair.index.len(), pair.live.len());
        for node in &rules {
            let rule = resolve(&canonical_round_trip(node, &[1, 2]));
            let engine = pair.engine(&rule, &ctx);
            let reference = pair.reference(&rule, &ctx);
            prop_assert_eq!(engine, reference, "rule {} at {} in {}", rule.rule().to_json(), now, tz);
        }
    }

    #[test]
    fn every_negative_operator_is_the_exact_complement_of_its_twin(
        (tz, now, batches, seg1, _seg2, rules) in scenario()
    ) {
        let pair = load(tz, now, &batches);
        let mut segments = HashMap::new();
        segments.insert(1, resolve(&Rule { root: seg1 }));
        segments.insert(2, resolve(&Rule { root: Node::All(vec![]) }));
        let ctx = ctx(now, tz, segments);
        let all = pair.all_ids();
        let mut checked = 0;
        for node in &rules {
            let mut conds = Vec::new();
            sift_core::rules::visit(node, &mut |c| conds.push(c.clone()));
            for c in conds {
                let (positive, negative) = match (c.op.positive_twin(), c.op.negative_twin()) {
                    (Some(p), _) => (p, c.op),
                    (None, Some(n)) => (c.op, n),
                    (None, None) => continue,
                };
                let pos = resolve(&Rule { root: Node::Cond(Condition { op: positive, ..c.clone() }) });
                let neg = resolve(&Rule { root: Node::Cond(Condition { op: negative, ..c.clone() }) });
                let (p, n) = (pair.engine(&pos, &ctx), pair.engine(&neg, &ctx));
                let (union, inter) = union_and_intersection(&p, &n);
                prop_assert_eq!(&union, &all, "{:?} ∪ {:?} must be all live contacts", positive, negative);
                prop_assert!(inter.is_empty(), "{:?} ∩ {:?} must be empty", positive, negative);
                prop_assert_eq!(p, pair.reference(&pos, &ctx));
                prop_assert_eq!(n, pair.reference(&neg, &ctx));
                checked += 1;
            }
        }
        let _ = checked;
    }
}
