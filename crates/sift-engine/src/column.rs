//! Typed columns, one value slot per row, with validity.

use crate::bits::Bits;
use crate::dict::{Dict, EMPTY};
use chrono::{DateTime, NaiveDate, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use sift_core::model::DataFieldType;
use sift_core::record::{DateValue, FieldValue};
use std::collections::HashMap;

pub(crate) const SECS_PER_DAY: i64 = 86_400;

/// Local naive seconds of the start of a calendar day (the day's midnight read as if
/// it were UTC).
pub(crate) fn day_start(d: NaiveDate) -> i64 {
    d.and_time(chrono::NaiveTime::MIN).and_utc().timestamp()
}

/// The wall-clock time of an instant in `tz`, as local naive seconds.
pub(crate) fn local_secs(t: DateTime<Utc>, tz: Tz) -> i64 {
    t.timestamp() + i64::from(tz.offset_from_utc_datetime(&t.naive_utc()).fix().local_minus_utc())
}

/// Whether the wall-clock time of `t` in `tz` occurs twice (a clock set back), which is
/// where local naive seconds do not order instants.
fn is_ambiguous(t: DateTime<Utc>, tz: Tz) -> bool {
    if tz == Tz::UTC {
        return false;
    }
    let local = t.with_timezone(&tz).naive_local();
    matches!(tz.from_local_datetime(&local), chrono::LocalResult::Ambiguous(..))
}

/// A String column: dictionary codes per row (code 0 = empty or blank).
#[derive(Debug, Default)]
pub(crate) struct StrCol {
    pub codes: Vec<u32>,
    pub dict: Dict,
}

impl StrCol {
    pub fn grow(&mut self, rows: usize) {
        crate::bits::resize_exact(&mut self.codes, rows, EMPTY);
    }

    pub fn set(&mut self, row: usize, v: Option<&str>) {
        let new = match v {
            Some(s) if !s.trim().is_empty() => self.dict.intern(&caseless::default_case_fold_str(s)),
            _ => EMPTY,
        };
        if let Some(slot) = self.codes.get_mut(row) {
            let old = std::mem::replace(slot, new);
            if old != EMPTY {
                self.dict.release(old);
            }
        }
    }

    /// Drops unused dictionary entries when enough accumulated.
    pub fn maintain(&mut self) {
        if self.dict.wants_rebuild() {
            let remap = self.dict.rebuild();
            for c in &mut self.codes {
                *c = remap.get(*c as usize).copied().unwrap_or(EMPTY);
            }
        }
    }

    pub fn gather(&mut self, order: &[u32]) {
        self.codes = order.iter().map(|&r| self.codes[r as usize]).collect();
    }

    pub fn heap_bytes(&self) -> usize {
        self.codes.capacity() * 4 + self.dict.heap_bytes()
    }
}

#[derive(Debug, Default)]
pub(crate) struct NumCol {
    pub vals: Vec<f64>,
    pub valid: Bits,
}

impl NumCol {
    pub fn grow(&mut self, rows: usize) {
        crate::bits::resize_exact(&mut self.vals, rows, 0.0);
        self.valid.resize(rows);
    }

    pub fn set(&mut self, row: usize, v: Option<f64>) {
        match (v.filter(|f| f.is_finite()), self.vals.get_mut(row)) {
            (Some(f), Some(slot)) => {
                *slot = f;
                self.valid.set(row);
            }
            _ => self.valid.clear(row),
        }
    }

    pub fn gather(&mut self, order: &[u32]) {
        self.vals = order.iter().map(|&r| self.vals[r as usize]).collect();
        self.valid = self.valid.gather(order);
    }

    pub fn heap_bytes(&self) -> usize {
        self.vals.capacity() * 8 + self.valid.heap_bytes()
    }
}

/// A Date column in local naive seconds (see the crate docs).
#[derive(Debug, Default)]
pub(crate) struct DateCol {
    pub secs: Vec<i64>,
    pub valid: Bits,
    /// Set for calendar-date values, clear for instants.
    pub is_day: Bits,
    /// Instants whose wall-clock time occurs twice: row → UTC seconds, so comparisons
    /// with "now" can be made exactly for them.
    pub ambiguous: HashMap<u32, i64>,
}

impl DateCol {
    pub fn grow(&mut self, rows: usize) {
        crate::bits::resize_exact(&mut self.secs, rows, 0);
        self.valid.resize(rows);
        self.is_day.resize(rows);
    }

    pub fn set(&mut self, row: usize, v: Option<DateValue>, tz: Tz) {
        let Some(slot) = self.secs.get_mut(row) else {
            return;
        };
        let key = u32::try_from(row).unwrap_or(u32::MAX);
        self.ambiguous.remove(&key);
        match v {
            None => {
                self.valid.clear(row);
                self.is_day.clear(row);
            }
            Some(DateValue::Day(d)) => {
                *slot = day_start(d);
                self.valid.set(row);
                self.is_day.set(row);
            }
            Some(DateValue::Instant(t)) => {
                *slot = local_secs(t, tz);
                self.valid.set(row);
                self.is_day.clear(row);
                if is_ambiguous(t, tz) {
                    self.ambiguous.insert(key, t.timestamp());
                }
            }
        }
    }

    pub fn gather(&mut self, order: &[u32]) {
        self.secs = order.iter().map(|&r| self.secs[r as usize]).collect();
        self.valid = self.valid.gather(order);
        self.is_day = self.is_day.gather(order);
        if !self.ambiguous.is_empty() {
            let mut moved = HashMap::new();
            for (new, &old) in order.iter().enumerate() {
                if let Some(t) = self.ambiguous.get(&old) {
                    moved.insert(new as u32, *t);
                }
            }
            self.ambiguous = moved;
        }
    }

    pub fn heap_bytes(&self) -> usize {
        self.secs.capacity() * 8 + self.valid.heap_bytes() + self.is_day.heap_bytes() + self.ambiguous.capacity() * 13
    }
}

#[derive(Debug, Default)]
pub(crate) struct BoolCol {
    pub is_true: Bits,
    pub is_false: Bits,
}

impl BoolCol {
    pub fn grow(&mut self, rows: usize) {
        self.is_true.resize(rows);
        self.is_false.resize(rows);
    }

    pub fn set(&mut self, row: usize, v: Option<bool>) {
        self.is_true.assign(row, v == Some(true));
        self.is_false.assign(row, v == Some(false));
    }

    pub fn gather(&mut self, order: &[u32]) {
        self.is_true = self.is_true.gather(order);
        self.is_false = self.is_false.gather(order);
    }

    pub fn heap_bytes(&self) -> usize {
        self.is_true.heap_bytes() + self.is_false.heap_bytes()
    }
}

/// The column of one contact data field.
#[derive(Debug)]
pub(crate) enum DataColumn {
    Str(StrCol),
    Num(NumCol),
    Date(DateCol),
    Bool(BoolCol),
}

impl DataColumn {
    pub fn new(kind: DataFieldType, rows: usize) -> DataColumn {
        let mut c = match kind {
            DataFieldType::String => DataColumn::Str(StrCol::default()),
            DataFieldType::Numeric => DataColumn::Num(NumCol::default()),
            DataFieldType::Date => DataColumn::Date(DateCol::default()),
            DataFieldType::Boolean => DataColumn::Bool(BoolCol::default()),
        };
        c.grow(rows);
        c
    }

    pub fn kind(&self) -> DataFieldType {
        match self {
            DataColumn::Str(_) => DataFieldType::String,
            DataColumn::Num(_) => DataFieldType::Numeric,
            DataColumn::Date(_) => DataFieldType::Date,
            DataColumn::Bool(_) => DataFieldType::Boolean,
        }
    }

    pub fn grow(&mut self, rows: usize) {
        match self {
            DataColumn::Str(c) => c.grow(rows),
            DataColumn::Num(c) => c.grow(rows),
            DataColumn::Date(c) => c.grow(rows),
            DataColumn::Bool(c) => c.grow(rows),
        }
    }

    /// Stores a value; a value of another type than the column's is stored as empty.
    pub fn set(&mut self, row: usize, v: Option<&FieldValue>, tz: Tz) {
        match self {
            DataColumn::Str(c) => c.set(
                row,
                match v {
                    Some(FieldValue::Str(s)) => Some(s.as_str()),
                    _ => None,
                },
            ),
            DataColumn::Num(c) => c.set(
                row,
                match v {
                    Some(FieldValue::Num(n)) => Some(*n),
                    _ => None,
                },
            ),
            DataColumn::Date(c) => c.set(
                row,
                match v {
                    Some(FieldValue::Date(d)) => Some(*d),
                    _ => None,
                },
                tz,
            ),
            DataColumn::Bool(c) => c.set(
                row,
                match v {
                    Some(FieldValue::Bool(b)) => Some(*b),
                    _ => None,
                },
            ),
        }
    }

    pub fn maintain(&mut self) {
        if let DataColumn::Str(c) = self {
            c.maintain();
        }
    }

    pub fn gather(&mut self, order: &[u32]) {
        match self {
            DataColumn::Str(c) => c.gather(order),
            DataColumn::Num(c) => c.gather(order),
            DataColumn::Date(c) => c.gather(order),
            DataColumn::Bool(c) => c.gather(order),
        }
    }

    pub fn heap_bytes(&self) -> usize {
        match self {
            DataColumn::Str(c) => c.heap_bytes(),
            DataColumn::Num(c) => c.heap_bytes(),
            DataColumn::Date(c) => c.heap_bytes(),
            DataColumn::Bool(c) => c.heap_bytes(),
        }
    }
}
