//! The plain reference evaluator: one contact at a time, straight from the contract.
//!
//! Used only as a test oracle for the engine (and by server tests). It shares no code
//! with the engine's evaluation: it works on [`ContactRecord`]s, calendar dates and
//! instants, never on columns or encoded times.

use super::{Condition, EvalContext, FieldRef, Node, Op, Operand, ResolvedRule};
use crate::model::DataFieldType;
use crate::record::{ContactRecord, DateValue, FieldValue};
use chrono::{DateTime, Datelike, NaiveDate, Utc};

/// Whether contact `c` is a member of `rule`.
pub fn matches(rule: &ResolvedRule, c: &ContactRecord, ctx: &EvalContext) -> bool {
    node(rule.root(), rule, c, ctx)
}

fn node(n: &Node, rule: &ResolvedRule, c: &ContactRecord, ctx: &EvalContext) -> bool {
    match n {
        Node::All(children) => children.iter().all(|k| node(k, rule, c, ctx)),
        Node::Any(children) => children.iter().any(|k| node(k, rule, c, ctx)),
        Node::Not(inner) => !node(inner, rule, c, ctx),
        Node::Cond(cond) => condition(cond, rule, c, ctx),
    }
}

fn condition(cond: &Condition, rule: &ResolvedRule, c: &ContactRecord, ctx: &EvalContext) -> bool {
    // A negative operator is, by definition, the complement of its positive twin.
    if let Some(positive) = cond.op.positive_twin() {
        return !test(&cond.field, positive, &cond.value, rule, c, ctx);
    }
    test(&cond.field, cond.op, &cond.value, rule, c, ctx)
}

fn test(field: &FieldRef, op: Op, value: &Operand, rule: &ResolvedRule, c: &ContactRecord, ctx: &EvalContext) -> bool {
    match field {
        FieldRef::Email => string_test(Some(&c.email), op, value),
        FieldRef::Status => enum_test(c.status.code(), op, value),
        FieldRef::OptInType => enum_test(c.opt_in_type.code(), op, value),
        FieldRef::EmailType => enum_test(c.email_type.code(), op, value),
        FieldRef::Created => date_test(Some(DateValue::Instant(c.created)), op, value, ctx),
        FieldRef::Modified => date_test(Some(DateValue::Instant(c.modified)), op, value, ctx),
        FieldRef::Data { name, kind } => {
            let v = rule.field_id(name).and_then(|id| c.field(id));
            match kind {
                DataFieldType::String => {
                    let s = match v {
                        Some(FieldValue::Str(s)) => Some(s),
                        _ => None,
                    };
                    string_test(s, op, value)
                }
                DataFieldType::Numeric => {
                    let n = match v {
                        Some(FieldValue::Num(n)) if n.is_finite() => Some(*n),
                        _ => None,
                    };
                    number_test(n, op, value)
                }
                DataFieldType::Date => {
                    let d = match v {
                        Some(FieldValue::Date(d)) => Some(*d),
                        _ => None,
                    };
                    date_test(d, op, value, ctx)
                }
                DataFieldType::Boolean => {
                    let b = match v {
                        Some(FieldValue::Bool(b)) => Some(*b),
                        _ => None,
                    };
                    match op {
                        Op::IsEmpty => b.is_none(),
                        Op::IsTrue => b == Some(true),
                        Op::IsFalse => b == Some(false),
                        _ => false,
                    }
                }
            }
        }
        FieldRef::AddressBooks => set_test(|id| c.books.iter().any(|b| i64::from(*b) == id), op, value),
        FieldRef::Segments => set_test(|id| ctx.segments.get(&id).is_some_and(|r| matches(r, c, ctx)), op, value),
    }
}

fn fold(s: &str) -> String {
    caseless::default_case_fold_str(s)
}

fn string_test(v: Option<&String>, op: Op, value: &Operand) -> bool {
    let v = v.filter(|s| !s.trim().is_empty());
    if op == Op::IsEmpty {
        return v.is_none();
    }
    let Some(v) = v else { return false };
    let v = fold(v);
    match (op, value) {
        (Op::Equals, Operand::Str(x)) => v == fold(x),
        (Op::Contains, Operand::Str(x)) => v.contains(&fold(x)),
        (Op::StartsWith, Operand::Str(x)) => v.starts_with(&fold(x)),
        (Op::EndsWith, Operand::Str(x)) => v.ends_with(&fold(x)),
        (Op::In, Operand::Strs(xs)) => xs.iter().any(|x| v == fold(x)),
        _ => false,
    }
}

fn number_test(v: Option<f64>, op: Op, value: &Operand) -> bool {
    if op == Op::IsEmpty {
        return v.is_none();
    }
    let Some(v) = v else { return false };
    match (op, value) {
        (Op::Equals, Operand::Num(x)) => v == *x,
        (Op::GreaterThan, Operand::Num(x)) => v > *x,
        (Op::GreaterThanOrEqual, Operand::Num(x)) => v >= *x,
        (Op::LessThan, Operand::Num(x)) => v < *x,
        (Op::LessThanOrEqual, Operand::Num(x)) => v <= *x,
        (Op::Between, Operand::NumRange(lo, hi)) => *lo <= v && v <= *hi,
        (Op::In, Operand::Nums(xs)) => xs.contains(&v),
        _ => false,
    }
}

fn enum_test(code: i64, op: Op, value: &Operand) -> bool {
    match (op, value) {
        (Op::Equals, Operand::Enum(e)) => i64::from(e.code()) == code,
        (Op::In, Operand::Enums(es)) => es.iter().any(|e| i64::from(e.code()) == code),
        _ => false,
    }
}

fn set_test(has: impl Fn(i64) -> bool, op: Op, value: &Operand) -> bool {
    match (op, value) {
        (Op::Contains, Operand::Id(id)) => has(*id),
        (Op::ContainsAny, Operand::Ids(ids)) => ids.iter().any(|id| has(*id)),
        (Op::ContainsAll, Operand::Ids(ids)) => ids.iter().all(|id| has(*id)),
        _ => false,
    }
}

fn date_test(v: Option<DateValue>, op: Op, value: &Operand, ctx: &EvalContext) -> bool {
    if op == Op::IsEmpty {
        return v.is_none();
    }
    let Some(v) = v else { return false };
    let day = match v {
        DateValue::Day(d) => d,
        DateValue::Instant(t) => t.with_timezone(&ctx.tz).date_naive(),
    };
    let today = ctx.now.with_timezone(&ctx.tz).date_naive();
    let not_after_now = |t: DateTime<Utc>| t.timestamp() <= ctx.now.timestamp();
    let not_before_now = |t: DateTime<Utc>| t.timestamp() >= ctx.now.timestamp();
    match (op, value) {
        (Op::On, Operand::Day(d)) => day == *d,
        (Op::Before, Operand::Day(d)) => day < *d,
        (Op::After, Operand::Day(d)) => day > *d,
        (Op::Between, Operand::DayRange(a, b)) => *a <= day && day <= *b,
        (Op::InLast, Operand::Period(p)) => {
            let start = p.before(today).unwrap_or(NaiveDate::MIN);
            match v {
                DateValue::Day(d) => start <= d && d <= today,
                DateValue::Instant(t) => start <= day && not_after_now(t),
            }
        }
        (Op::InNext, Operand::Period(p)) => {
            let end = p.after(today).unwrap_or(NaiveDate::MAX);
            match v {
                DateValue::Day(d) => today <= d && d <= end,
                DateValue::Instant(t) => not_before_now(t) && day <= end,
            }
        }
        (Op::MoreThanAgo, Operand::Period(p)) => match p.before(today) {
            Some(start) => day < start,
            None => false,
        },
        (Op::AnniversaryToday, _) => {
            let same = day.month() == today.month() && day.day() == today.day();
            let leap_day_on_28th = day.month() == 2
                && day.day() == 29
                && today.month() == 2
                && today.day() == 28
                && NaiveDate::from_ymd_opt(today.year(), 2, 29).is_none();
            same || leap_day_on_28th
        }
        _ => false,
    }
}
