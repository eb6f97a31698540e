//! Rule → plan → bitset of rows.
//!
//! Compilation binds every condition to its column and prepares its operand once:
//! strings are case-folded and looked up in the column's dictionary (or a per-code
//! truth table is built by testing each distinct value once), relative dates become
//! bounds in local naive seconds computed from the single `now`, address-book
//! conditions become row bitsets. Execution then runs one tight loop per condition
//! over a column, and combines results with word operations. A negative operator is
//! the complement of its positive twin within the live rows, like `not`.

use crate::bits::{build, Bits};
use crate::column::{day_start, local_secs, BoolCol, DataColumn, DateCol, NumCol, StrCol, SECS_PER_DAY};
use crate::dict::EMPTY;
use crate::AccountIndex;
use chrono::{Datelike, NaiveDate};
use roaring::RoaringBitmap;
use sift_core::model::DataFieldType;
use sift_core::rules::{Condition, EvalContext, FieldRef, Node, Op, Operand, ResolvedRule};
use sift_core::{ErrorCode, SiftError};
use std::collections::HashMap;

/// Most levels of segments referring to segments followed in one evaluation.
const MAX_SEGMENT_NESTING: usize = 64;

pub(crate) fn evaluate(idx: &AccountIndex, rule: &ResolvedRule, ctx: &EvalContext) -> Result<Bits, SiftError> {
    if ctx.tz != idx.tz {
        return Err(SiftError::new(ErrorCode::Unknown, format!("The contact index is kept in time zone {}, not {}", idx.tz, ctx.tz)));
    }
    let now_local = local_secs(ctx.now, idx.tz);
    let today = ctx.now.with_timezone(&idx.tz).date_naive();
    let mut compiler =
        Compiler { idx, ctx, clock: Clock { now_ts: ctx.now.timestamp(), now_local, today }, segments: HashMap::new(), stack: Vec::new() };
    let plan = compiler.node(rule.root(), rule)?;
    let mut runner = Runner { idx, segments: &compiler.segments, cache: HashMap::new() };
    Ok(runner.plan(&plan))
}

struct Clock {
    now_ts: i64,
    now_local: i64,
    today: NaiveDate,
}

enum Plan<'a> {
    All(Vec<Plan<'a>>),
    Any(Vec<Plan<'a>>),
    /// Live rows not in the inner plan (`not`, and every negative operator).
    Not(Box<Plan<'a>>),
    Leaf(Leaf<'a>),
}

enum Leaf<'a> {
    Nothing,
    /// Rows whose code is `code`.
    Code {
        codes: &'a [u32],
        code: u32,
    },
    /// Rows whose code's entry in `table` is set.
    CodeTable {
        codes: &'a [u32],
        table: Vec<bool>,
    },
    /// Rows with a (non-blank) string.
    HasCode {
        codes: &'a [u32],
    },
    Num {
        col: &'a NumCol,
        test: NumTest,
    },
    /// A bitset of the index (a validity or Boolean bitset).
    Stored(&'a Bits),
    Date {
        col: &'a DateCol,
        test: DateTest,
    },
    Enum {
        vals: &'a [u8],
        table: Box<[bool; 256]>,
    },
    /// Rows computed at compile time (address books).
    Rows(Bits),
    /// Matches of the rules of these segments: any of them, or all of them.
    Segments {
        ids: Vec<i64>,
        all: bool,
    },
}

enum NumTest {
    Eq(f64),
    Gt(f64),
    Ge(f64),
    Lt(f64),
    Le(f64),
    Between(f64, f64),
    In(Vec<f64>),
}

enum DateTest {
    /// `lo <= secs <= hi`.
    Range { lo: i64, hi: i64 },
    /// `day >= start && secs <= now` (calendar dates and instants alike; ambiguous
    /// instants are checked exactly with their UTC time).
    InLast { lo: i64, hi: i64, now_ts: i64 },
    /// Calendar dates from today's start, instants from now, up to the end of `hi`.
    InNext { lo_day: i64, lo_instant: i64, hi: i64, now_ts: i64 },
    /// Month-and-day keys (`month * 32 + day`) that match today.
    Anniversary { key: u32, also: Option<u32> },
}

fn invalid(text: String) -> SiftError {
    SiftError::new(ErrorCode::SegmentInvalid, text)
}

struct Compiler<'a> {
    idx: &'a AccountIndex,
    ctx: &'a EvalContext,
    clock: Clock,
    segments: HashMap<i64, Plan<'a>>,
    stack: Vec<i64>,
}

impl<'a> Compiler<'a> {
    fn node(&mut self, node: &'a Node, rule: &'a ResolvedRule) -> Result<Plan<'a>, SiftError> {
        Ok(match node {
            Node::All(v) => Plan::All(v.iter().map(|n| self.node(n, rule)).collect::<Result<_, _>>()?),
            Node::Any(v) => Plan::Any(v.iter().map(|n| self.node(n, rule)).collect::<Result<_, _>>()?),
            Node::Not(n) => Plan::Not(Box::new(self.node(n, rule)?)),
            Node::Cond(c) if c.op == Op::IsEmpty => Plan::Not(Box::new(Plan::Leaf(self.has_value(c, rule)?))),
            Node::Cond(c) if c.op == Op::IsNotEmpty => Plan::Leaf(self.has_value(c, rule)?),
            Node::Cond(c) => match c.op.positive_twin() {
                Some(positive) => Plan::Not(Box::new(Plan::Leaf(self.leaf(c, positive, rule)?))),
                None => Plan::Leaf(self.leaf(c, c.op, rule)?),
            },
        })
    }

    fn column(&self, name: &str, rule: &ResolvedRule) -> Result<&'a DataColumn, SiftError> {
        let idx = self.idx;
        rule.field_id(name)
            .and_then(|id| idx.fields.get(&id))
            .ok_or_else(|| invalid(format!("Data field {name} used by this segment is not in the contact index")))
    }

    /// Rows with a value (the complement of `isEmpty`).
    fn has_value(&self, c: &'a Condition, rule: &'a ResolvedRule) -> Result<Leaf<'a>, SiftError> {
        let idx = self.idx;
        Ok(match &c.field {
            FieldRef::Email => Leaf::HasCode { codes: &idx.email.codes },
            FieldRef::Created => Leaf::Stored(&idx.created.valid),
            FieldRef::Modified => Leaf::Stored(&idx.modified.valid),
            FieldRef::Data { name, .. } => match self.column(name, rule)? {
                DataColumn::Str(col) => Leaf::HasCode { codes: &col.codes },
                DataColumn::Num(col) => Leaf::Stored(&col.valid),
                DataColumn::Date(col) => Leaf::Stored(&col.valid),
                DataColumn::Bool(col) => {
                    let mut b = col.is_true.clone();
                    b.or_with(&col.is_false);
                    Leaf::Rows(b)
                }
            },
            _ => Leaf::Nothing,
        })
    }

    fn leaf(&mut self, c: &'a Condition, op: Op, rule: &'a ResolvedRule) -> Result<Leaf<'a>, SiftError> {
        let idx = self.idx;
        Ok(match &c.field {
            FieldRef::Email => string_leaf(&idx.email, op, &c.value),
            FieldRef::Status => enum_leaf(&idx.status, op, &c.value),
            FieldRef::OptInType => enum_leaf(&idx.opt_in_type, op, &c.value),
            FieldRef::EmailType => enum_leaf(&idx.email_type, op, &c.value),
            FieldRef::Created => self.date_leaf(&idx.created, op, &c.value),
            FieldRef::Modified => self.date_leaf(&idx.modified, op, &c.value),
            FieldRef::Data { name, kind } => {
                let col = self.column(name, rule)?;
                match (kind, col) {
                    (DataFieldType::String, DataColumn::Str(col)) => string_leaf(col, op, &c.value),
                    (DataFieldType::Numeric, DataColumn::Num(col)) => num_leaf(col, op, &c.value),
                    (DataFieldType::Date, DataColumn::Date(col)) => self.date_leaf(col, op, &c.value),
                    (DataFieldType::Boolean, DataColumn::Bool(col)) => bool_leaf(col, op),
                    (kind, col) => {
                        return Err(invalid(format!(
                            "Data field {name} used by this segment is {} in the contact index, not {kind}",
                            col.kind()
                        )))
                    }
                }
            }
            FieldRef::AddressBooks => self.book_leaf(op, &c.value),
            FieldRef::Segments => {
                let ids = match &c.value {
                    Operand::Id(id) => vec![*id],
                    Operand::Ids(ids) => ids.clone(),
                    _ => return Ok(Leaf::Nothing),
                };
                for &id in &ids {
                    self.compile_segment(id)?;
                }
                match op {
                    Op::Contains | Op::ContainsAny => Leaf::Segments { ids, all: false },
                    Op::ContainsAll => Leaf::Segments { ids, all: true },
                    _ => Leaf::Nothing,
                }
            }
        })
    }

    fn compile_segment(&mut self, id: i64) -> Result<(), SiftError> {
        if self.segments.contains_key(&id) {
            return Ok(());
        }
        if self.stack.contains(&id) {
            return Err(invalid(format!("Segment {id} refers to itself through its segments conditions")));
        }
        if self.stack.len() >= MAX_SEGMENT_NESTING {
            return Err(invalid(format!("Segments refer to segments more than {MAX_SEGMENT_NESTING} levels deep")));
        }
        let ctx = self.ctx;
        let rule = ctx.segments.get(&id).ok_or_else(|| invalid(format!("Segment {id} used by this segment does not exist")))?;
        self.stack.push(id);
        let plan = self.node(rule.root(), rule);
        self.stack.pop();
        self.segments.insert(id, plan?);
        Ok(())
    }

    fn book_leaf(&self, op: Op, value: &Operand) -> Leaf<'a> {
        let rows = self.idx.row_ids.len();
        let book = |id: &i64| u32::try_from(*id).ok().and_then(|b| self.idx.books.get(&b));
        let found = match (op, value) {
            (Op::Contains, Operand::Id(id)) => book(id).cloned(),
            (Op::ContainsAny, Operand::Ids(ids)) => Some(ids.iter().filter_map(book).fold(RoaringBitmap::new(), |acc, b| acc | b)),
            (Op::ContainsAll, Operand::Ids(ids)) => {
                let mut acc: Option<RoaringBitmap> = None;
                for id in ids {
                    let Some(b) = book(id) else {
                        return Leaf::Nothing;
                    };
                    acc = Some(match acc {
                        None => b.clone(),
                        Some(a) => a & b,
                    });
                }
                acc
            }
            _ => None,
        };
        let Some(found) = found else {
            return Leaf::Nothing;
        };
        let mut bits = Bits::zeros(rows);
        for r in &found {
            bits.set(r as usize);
        }
        Leaf::Rows(bits)
    }

    fn date_leaf(&self, col: &'a DateCol, op: Op, value: &Operand) -> Leaf<'a> {
        let clock = &self.clock;
        let today = clock.today;
        let day_end = |d: NaiveDate| day_start(d) + SECS_PER_DAY - 1;
        let test = match (op, value) {
            (Op::On, Operand::Day(d)) => DateTest::Range { lo: day_start(*d), hi: day_end(*d) },
            (Op::Before, Operand::Day(d)) => DateTest::Range { lo: i64::MIN, hi: day_start(*d) - 1 },
            (Op::After, Operand::Day(d)) => DateTest::Range { lo: day_end(*d) + 1, hi: i64::MAX },
            (Op::Between, Operand::DayRange(a, b)) => DateTest::Range { lo: day_start(*a), hi: day_end(*b) },
            (Op::InLast, Operand::Period(p)) => {
                DateTest::InLast { lo: p.before(today).map(day_start).unwrap_or(i64::MIN), hi: clock.now_local, now_ts: clock.now_ts }
            }
            (Op::InNext, Operand::Period(p)) => DateTest::InNext {
                lo_day: day_start(today),
                lo_instant: clock.now_local,
                hi: p.after(today).map(day_end).unwrap_or(i64::MAX),
                now_ts: clock.now_ts,
            },
            (Op::MoreThanAgo, Operand::Period(p)) => match p.before(today) {
                Some(start) => DateTest::Range { lo: i64::MIN, hi: day_start(start) - 1 },
                None => return Leaf::Nothing,
            },
            (Op::AnniversaryToday, _) => {
                let key = today.month() * 32 + today.day();
                let leap_day_today = today.month() == 2 && today.day() == 28 && NaiveDate::from_ymd_opt(today.year(), 2, 29).is_none();
                DateTest::Anniversary { key, also: leap_day_today.then_some(2 * 32 + 29) }
            }
            _ => return Leaf::Nothing,
        };
        Leaf::Date { col, test }
    }
}

fn string_leaf<'a>(col: &'a StrCol, op: Op, value: &Operand) -> Leaf<'a> {
    let codes = col.codes.as_slice();
    let fold = caseless::default_case_fold_str;
    match (op, value) {
        (Op::Equals, Operand::Str(x)) => match col.dict.lookup(&fold(x)) {
            Some(code) => Leaf::Code { codes, code },
            None => Leaf::Nothing,
        },
        (Op::In, Operand::Strs(xs)) => {
            let mut table = vec![false; col.dict.code_count()];
            let mut any = false;
            for x in xs {
                if let Some(code) = col.dict.lookup(&fold(x)) {
                    table[code as usize] = true;
                    any = true;
                }
            }
            if any {
                Leaf::CodeTable { codes, table }
            } else {
                Leaf::Nothing
            }
        }
        (Op::Contains | Op::StartsWith | Op::EndsWith, Operand::Str(x)) => {
            let needle = fold(x);
            let test: fn(&str, &str) -> bool = match op {
                Op::Contains => |s, n| s.contains(n),
                Op::StartsWith => |s, n| s.starts_with(n),
                _ => |s, n| s.ends_with(n),
            };
            let table: Vec<bool> =
                (0..col.dict.code_count() as u32).map(|c| c != EMPTY && col.dict.is_used(c) && test(col.dict.get(c), &needle)).collect();
            Leaf::CodeTable { codes, table }
        }
        _ => Leaf::Nothing,
    }
}

fn num_leaf<'a>(col: &'a NumCol, op: Op, value: &Operand) -> Leaf<'a> {
    let test = match (op, value) {
        (Op::Equals, Operand::Num(x)) => NumTest::Eq(*x),
        (Op::GreaterThan, Operand::Num(x)) => NumTest::Gt(*x),
        (Op::GreaterThanOrEqual, Operand::Num(x)) => NumTest::Ge(*x),
        (Op::LessThan, Operand::Num(x)) => NumTest::Lt(*x),
        (Op::LessThanOrEqual, Operand::Num(x)) => NumTest::Le(*x),
        (Op::Between, Operand::NumRange(lo, hi)) => NumTest::Between(*lo, *hi),
        (Op::In, Operand::Nums(xs)) => {
            let mut xs = xs.clone();
            xs.iter_mut().for_each(|x| *x = positive_zero(*x));
            xs.sort_by(f64::total_cmp);
            xs.dedup();
            NumTest::In(xs)
        }
        _ => return Leaf::Nothing,
    };
    Leaf::Num { col, test }
}

/// `-0.0` as `0.0`, so a total-order search finds equal numbers.
#[inline]
fn positive_zero(f: f64) -> f64 {
    if f == 0.0 {
        0.0
    } else {
        f
    }
}

fn bool_leaf(col: &BoolCol, op: Op) -> Leaf<'_> {
    match op {
        Op::IsTrue => Leaf::Stored(&col.is_true),
        Op::IsFalse => Leaf::Stored(&col.is_false),
        _ => Leaf::Nothing,
    }
}

fn enum_leaf<'a>(vals: &'a [u8], op: Op, value: &Operand) -> Leaf<'a> {
    let mut table = Box::new([false; 256]);
    match (op, value) {
        (Op::Equals, Operand::Enum(e)) => table[e.code() as usize] = true,
        (Op::In, Operand::Enums(es)) => es.iter().for_each(|e| table[e.code() as usize] = true),
        _ => return Leaf::Nothing,
    }
    Leaf::Enum { vals, table }
}

struct Runner<'a, 'p> {
    idx: &'a AccountIndex,
    segments: &'p HashMap<i64, Plan<'a>>,
    cache: HashMap<i64, Bits>,
}

impl<'a> Runner<'a, '_> {
    fn plan(&mut self, plan: &Plan<'a>) -> Bits {
        let live = &self.idx.live;
        match plan {
            Plan::All(children) => {
                let mut acc = live.clone();
                for c in children {
                    if acc.is_zero() {
                        break;
                    }
                    let b = self.plan(c);
                    acc.and_with(&b);
                }
                acc
            }
            Plan::Any(children) => {
                let mut acc = Bits::zeros(self.idx.row_ids.len());
                for c in children {
                    let b = self.plan(c);
                    acc.or_with(&b);
                }
                acc
            }
            Plan::Not(inner) => {
                let mut b = self.plan(inner);
                b.complement_within(&self.idx.live);
                b
            }
            Plan::Leaf(leaf) => {
                let mut b = self.leaf(leaf);
                b.and_with(&self.idx.live);
                b
            }
        }
    }

    fn segment(&mut self, id: i64) -> Bits {
        if let Some(b) = self.cache.get(&id) {
            return b.clone();
        }
        let b = match self.segments.get(&id) {
            Some(plan) => self.plan(plan),
            None => Bits::zeros(self.idx.row_ids.len()),
        };
        self.cache.insert(id, b.clone());
        b
    }

    fn leaf(&mut self, leaf: &Leaf<'a>) -> Bits {
        let rows = self.idx.row_ids.len();
        match leaf {
            Leaf::Nothing => Bits::zeros(rows),
            Leaf::Code { codes, code } => {
                let code = *code;
                build(codes, |c| c == code)
            }
            Leaf::CodeTable { codes, table } => build(codes, |c| table.get(c as usize).copied().unwrap_or(false)),
            Leaf::HasCode { codes } => build(codes, |c| c != EMPTY),
            Leaf::Stored(bits) => (*bits).clone(),
            Leaf::Num { col, test } => {
                let v = col.vals.as_slice();
                let mut b = match test {
                    NumTest::Eq(x) => build(v, |f| f == *x),
                    NumTest::Gt(x) => build(v, |f| f > *x),
                    NumTest::Ge(x) => build(v, |f| f >= *x),
                    NumTest::Lt(x) => build(v, |f| f < *x),
                    NumTest::Le(x) => build(v, |f| f <= *x),
                    NumTest::Between(lo, hi) => build(v, |f| *lo <= f && f <= *hi),
                    NumTest::In(xs) if xs.len() <= 8 => build(v, |f| xs.contains(&f)),
                    NumTest::In(xs) => build(v, |f| {
                        let f = positive_zero(f);
                        xs.binary_search_by(|x| x.total_cmp(&f)).is_ok()
                    }),
                };
                b.and_with(&col.valid);
                b
            }
            Leaf::Date { col, test } => date_bits(col, test),
            Leaf::Enum { vals, table } => build(vals, |v| table[v as usize]),
            Leaf::Rows(bits) => bits.clone(),
            Leaf::Segments { ids, all } => {
                let mut acc: Option<Bits> = None;
                for id in ids {
                    let b = self.segment(*id);
                    acc = Some(match acc {
                        None => b,
                        Some(mut a) => {
                            if *all {
                                a.and_with(&b)
                            } else {
                                a.or_with(&b)
                            }
                            a
                        }
                    });
                }
                acc.unwrap_or_else(|| Bits::zeros(rows))
            }
        }
    }
}

/// Month-and-day key (`month * 32 + day`) of a local naive time, by the civil-from-days
/// algorithm (H. Hinnant), without building a date per row.
#[inline]
fn month_day_key(secs: i64) -> u32 {
    let z = secs.div_euclid(SECS_PER_DAY) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (m * 32 + d) as u32
}

fn date_bits(col: &DateCol, test: &DateTest) -> Bits {
    let secs = col.secs.as_slice();
    let mut b = match *test {
        DateTest::Range { lo, hi } | DateTest::InLast { lo, hi, .. } => build(secs, |s| lo <= s && s <= hi),
        DateTest::InNext { lo_day, lo_instant, hi, .. } => {
            let mut words = Vec::with_capacity(col.is_day.words().len());
            for (chunk, &day_word) in secs.chunks(64).zip(col.is_day.words()) {
                let mut w = 0u64;
                for (j, &s) in chunk.iter().enumerate() {
                    let lo = if day_word >> j & 1 == 1 { lo_day } else { lo_instant };
                    w |= u64::from(lo <= s && s <= hi) << j;
                }
                words.push(w);
            }
            Bits::from_words(words)
        }
        DateTest::Anniversary { key, also } => {
            let also = also.unwrap_or(u32::MAX);
            build(secs, |s| {
                let k = month_day_key(s);
                k == key || k == also
            })
        }
    };
    b.and_with(&col.valid);
    // Instants whose wall-clock time occurs twice: decide "before/after now" exactly.
    match *test {
        DateTest::InLast { lo, now_ts, .. } => {
            for (&row, &utc) in &col.ambiguous {
                let r = row as usize;
                if col.valid.get(r) {
                    b.assign(r, secs[r] >= lo && utc <= now_ts);
                }
            }
        }
        DateTest::InNext { hi, now_ts, .. } => {
            for (&row, &utc) in &col.ambiguous {
                let r = row as usize;
                if col.valid.get(r) {
                    b.assign(r, utc >= now_ts && secs[r] <= hi);
                }
            }
        }
        _ => {}
    }
    b
}
