//! sift-engine: the per-account columnar contact index and the rule evaluator that
//! runs over it. This is the only evaluator in production (the row-by-row one in
//! `sift_core::rules::reference` is a test oracle).
//!
//! Layout
//! - [`AccountIndex`] (this file): rows, the contact-id ↔ row mapping, the columns,
//!   catch-up from the change feed ([`AccountIndex::apply`]), compaction.
//! - `column`: typed columns with validity. Numeric → `Vec<f64>`; Date → `Vec<i64>`
//!   of local naive seconds (the value's wall-clock time in the account zone: a
//!   calendar date is its local midnight, an instant is converted to the zone) plus a
//!   "calendar date" bitset and a tiny side table for the rare instants whose local
//!   time is ambiguous (clocks set back); Boolean → two bitsets; String → dictionary
//!   codes per row over the distinct case-folded values (code 0 = empty or blank).
//! - `dict`: the string dictionary (one buffer + offsets + a compact hash table).
//! - `bits`: dense word-level bitsets over rows.
//! - `eval`: rule → plan (columns bound, operands folded, dictionary codes looked up,
//!   relative-date bounds computed once from `now`) → bitset of rows → roaring bitmap
//!   of contact ids.
//!
//! Rows are dense indexes. New contacts of a batch get rows in ascending id order, so
//! a freshly loaded index maps rows to ids monotonically and results convert to a
//! roaring bitmap without sorting. Deleted rows are tombstoned in the `live` bitset;
//! when tombstones pass a quarter of the rows the index is compacted (rows re-ordered
//! by contact id, string dictionaries rebuilt).

mod bits;
mod column;
mod dict;
mod eval;

use bits::Bits;
use chrono_tz::Tz;
use column::{DataColumn, DateCol, StrCol};
use roaring::RoaringBitmap;
use sift_core::model::DataField;
use sift_core::record::{ContactChange, ContactRecord, DateValue};
use sift_core::rules::{EvalContext, ResolvedRule};
use sift_core::SiftError;
use std::collections::{HashMap, HashSet};

/// Contact id → row.
#[derive(Debug)]
enum IdMap {
    /// Indexed by contact id; `u32::MAX` = absent. Used while ids are dense.
    Dense(Vec<u32>),
    Sparse(HashMap<u32, u32>),
}

const NO_ROW: u32 = u32::MAX;

impl IdMap {
    fn get(&self, id: u32) -> Option<u32> {
        match self {
            IdMap::Dense(v) => v.get(id as usize).copied().filter(|r| *r != NO_ROW),
            IdMap::Sparse(m) => m.get(&id).copied(),
        }
    }

    fn insert(&mut self, id: u32, row: u32, live: usize) {
        if let IdMap::Dense(v) = self {
            let i = id as usize;
            if i < v.len() {
                v[i] = row;
                return;
            }
            // Stay dense while the table is at most ~4 slots per live contact.
            if i < live.saturating_mul(4).saturating_add(65_536) {
                v.resize(i + 1, NO_ROW);
                v[i] = row;
                return;
            }
            let m: HashMap<u32, u32> = v.iter().enumerate().filter(|(_, r)| **r != NO_ROW).map(|(i, r)| (i as u32, *r)).collect();
            *self = IdMap::Sparse(m);
        }
        if let IdMap::Sparse(m) = self {
            m.insert(id, row);
        }
    }

    fn remove(&mut self, id: u32) -> Option<u32> {
        match self {
            IdMap::Dense(v) => {
                let slot = v.get_mut(id as usize)?;
                let r = std::mem::replace(slot, NO_ROW);
                (r != NO_ROW).then_some(r)
            }
            IdMap::Sparse(m) => m.remove(&id),
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            IdMap::Dense(v) => v.capacity() * 4,
            // hashbrown: 8 bytes per entry plus one control byte, at its capacity.
            IdMap::Sparse(m) => m.capacity() * 9,
        }
    }
}

/// The in-memory columnar copy of what rules read for one account.
#[derive(Debug)]
pub struct AccountIndex {
    tz: Tz,
    applied_seq: i64,
    /// Row → contact id (meaningless for dead rows).
    row_ids: Vec<u32>,
    ids: IdMap,
    live: Bits,
    live_count: usize,
    email: StrCol,
    status: Vec<u8>,
    opt_in_type: Vec<u8>,
    email_type: Vec<u8>,
    created: DateCol,
    modified: DateCol,
    /// Address-book id → rows in it.
    books: HashMap<u32, RoaringBitmap>,
    /// Data-field id → column.
    fields: HashMap<i64, DataColumn>,
}

impl AccountIndex {
    /// An empty index for an account in time zone `tz`.
    pub fn new(tz: Tz) -> Self {
        AccountIndex {
            tz,
            applied_seq: 0,
            row_ids: Vec::new(),
            ids: IdMap::Dense(Vec::new()),
            live: Bits::default(),
            live_count: 0,
            email: StrCol::default(),
            status: Vec::new(),
            opt_in_type: Vec::new(),
            email_type: Vec::new(),
            created: DateCol::default(),
            modified: DateCol::default(),
            books: HashMap::new(),
            fields: HashMap::new(),
        }
    }

    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// Highest change sequence applied (0 = empty).
    pub fn applied_seq(&self) -> i64 {
        self.applied_seq
    }

    /// Number of live contacts.
    pub fn len(&self) -> usize {
        self.live_count
    }

    pub fn is_empty(&self) -> bool {
        self.live_count == 0
    }

    fn rows(&self) -> usize {
        self.row_ids.len()
    }

    /// Applies a batch of changes and the current data-field definitions, then sets
    /// `applied_seq = up_to_seq`.
    ///
    /// Changes may come in any order and name the same contact more than once: the
    /// one with the highest `seq` wins (on equal `seq`, the later one in the batch).
    /// Columns of fields absent from `fields` are dropped; a field whose type changed
    /// gets a new, empty column (the store re-sends the contacts whose values it
    /// converted). Values for fields the index has no column for are ignored.
    pub fn apply(&mut self, fields: &[DataField], mut changes: Vec<ContactChange>, up_to_seq: i64) {
        self.sync_fields(fields);

        // Last change per contact wins.
        changes.sort_by_key(|c| c.seq);
        let mut seen = HashSet::with_capacity(changes.len());
        let mut last: Vec<ContactChange> = Vec::with_capacity(changes.len());
        for c in changes.into_iter().rev() {
            if seen.insert(c.id) {
                last.push(c);
            }
        }

        // Rows of existing contacts whose memberships must be recomputed.
        let mut touched = RoaringBitmap::new();
        let mut upserts: Vec<(u32, ContactRecord)> = Vec::with_capacity(last.len());
        let mut new_records: Vec<(u32, ContactRecord)> = Vec::new();
        for change in last {
            match (change.record, self.ids.get(change.id)) {
                (None, Some(row)) => {
                    self.ids.remove(change.id);
                    self.clear_row(row as usize);
                    self.live.clear(row as usize);
                    self.live_count -= 1;
                    touched.insert(row);
                }
                (None, None) => {}
                (Some(rec), Some(row)) => {
                    touched.insert(row);
                    upserts.push((row, rec));
                }
                (Some(rec), None) => new_records.push((change.id, rec)),
            }
        }

        // New contacts get rows in ascending id order.
        new_records.sort_unstable_by_key(|(id, _)| *id);
        if self.row_ids.capacity() < self.row_ids.len() + new_records.len() {
            self.row_ids.reserve_exact(new_records.len());
        }
        for (id, rec) in new_records {
            let row = u32::try_from(self.rows()).unwrap_or(NO_ROW);
            self.row_ids.push(id);
            self.live_count += 1;
            self.ids.insert(id, row, self.live_count);
            upserts.push((row, rec));
        }
        self.grow_columns();

        if !touched.is_empty() {
            for rows in self.books.values_mut() {
                *rows -= &touched;
            }
            self.books.retain(|_, rows| !rows.is_empty());
        }
        for (row, rec) in &upserts {
            self.write_row(*row as usize, rec);
            for book in &rec.books {
                self.books.entry(*book).or_default().insert(*row);
            }
        }

        self.email.maintain();
        for c in self.fields.values_mut() {
            c.maintain();
        }
        let dead = self.rows() - self.live_count;
        if dead > 4096 && dead * 4 > self.rows() {
            self.compact();
        }
        self.applied_seq = up_to_seq;
    }

    fn sync_fields(&mut self, fields: &[DataField]) {
        let wanted: HashMap<i64, _> = fields.iter().map(|f| (f.id, f.kind)).collect();
        self.fields.retain(|id, col| wanted.get(id) == Some(&col.kind()));
        let rows = self.rows();
        for (id, kind) in wanted {
            self.fields.entry(id).or_insert_with(|| DataColumn::new(kind, rows));
        }
    }

    fn grow_columns(&mut self) {
        let rows = self.rows();
        self.live.resize(rows);
        self.email.grow(rows);
        bits::resize_exact(&mut self.status, rows, 0);
        bits::resize_exact(&mut self.opt_in_type, rows, 0);
        bits::resize_exact(&mut self.email_type, rows, 0);
        self.created.grow(rows);
        self.modified.grow(rows);
        for c in self.fields.values_mut() {
            c.grow(rows);
        }
    }

    /// Empties every column of a row (releasing its dictionary references).
    fn clear_row(&mut self, row: usize) {
        let tz = self.tz;
        self.email.set(row, None);
        self.created.set(row, None, tz);
        self.modified.set(row, None, tz);
        for c in self.fields.values_mut() {
            c.set(row, None, tz);
        }
    }

    fn write_row(&mut self, row: usize, rec: &ContactRecord) {
        let tz = self.tz;
        self.email.set(row, Some(&rec.email));
        let code = |c: i64| u8::try_from(c).unwrap_or(u8::MAX);
        if let Some(s) = self.status.get_mut(row) {
            *s = code(rec.status.code());
        }
        if let Some(s) = self.opt_in_type.get_mut(row) {
            *s = code(rec.opt_in_type.code());
        }
        if let Some(s) = self.email_type.get_mut(row) {
            *s = code(rec.email_type.code());
        }
        self.created.set(row, Some(DateValue::Instant(rec.created)), tz);
        self.modified.set(row, Some(DateValue::Instant(rec.modified)), tz);
        for (id, col) in self.fields.iter_mut() {
            let v = rec.fields.iter().find(|(f, _)| f == id).map(|(_, v)| v);
            col.set(row, v, tz);
        }
        self.live.set(row);
    }

    /// Drops tombstoned rows and re-orders rows by contact id.
    fn compact(&mut self) {
        let mut order: Vec<u32> = self.live.ones().map(|r| r as u32).collect();
        order.sort_unstable_by_key(|&r| self.row_ids[r as usize]);
        let mut remap = vec![NO_ROW; self.rows()];
        for (new, &old) in order.iter().enumerate() {
            remap[old as usize] = new as u32;
        }
        self.row_ids = order.iter().map(|&r| self.row_ids[r as usize]).collect();
        let max_id = self.row_ids.last().copied().unwrap_or(0) as usize;
        self.ids = if max_id < order.len().saturating_mul(4).saturating_add(65_536) {
            IdMap::Dense(vec![NO_ROW; max_id + 1])
        } else {
            IdMap::Sparse(HashMap::with_capacity(order.len()))
        };
        for (row, &id) in self.row_ids.iter().enumerate() {
            self.ids.insert(id, row as u32, order.len());
        }
        self.live = Bits::zeros(order.len());
        (0..order.len()).for_each(|r| self.live.set(r));
        self.email.gather(&order);
        let pick = |v: &Vec<u8>| order.iter().map(|&r| v[r as usize]).collect::<Vec<u8>>();
        self.status = pick(&self.status);
        self.opt_in_type = pick(&self.opt_in_type);
        self.email_type = pick(&self.email_type);
        self.created.gather(&order);
        self.modified.gather(&order);
        for c in self.fields.values_mut() {
            c.gather(&order);
        }
        for rows in self.books.values_mut() {
            let mut moved: Vec<u32> = rows.iter().filter_map(|r| remap.get(r as usize).copied().filter(|n| *n != NO_ROW)).collect();
            moved.sort_unstable();
            *rows = RoaringBitmap::from_sorted_iter(moved).unwrap_or_default();
        }
        self.email.maintain();
        for c in self.fields.values_mut() {
            c.maintain();
        }
    }

    /// An honest estimate of the heap this index holds.
    pub fn memory_bytes(&self) -> usize {
        self.row_ids.capacity() * 4
            + self.ids.heap_bytes()
            + self.live.heap_bytes()
            + self.email.heap_bytes()
            + self.status.capacity()
            + self.opt_in_type.capacity()
            + self.email_type.capacity()
            + self.created.heap_bytes()
            + self.modified.heap_bytes()
            + self.books.values().map(|b| b.serialized_size() + 48).sum::<usize>()
            + self.fields.values().map(|c| c.heap_bytes() + 48).sum::<usize>()
    }

    /// Members (contact ids) of a resolved rule. `ctx.segments` holds the rules of the
    /// segments that `segments` conditions refer to. Fails, naming the field or
    /// segment, for a rule that does not fit the index.
    pub fn evaluate(&self, rule: &ResolvedRule, ctx: &EvalContext) -> Result<RoaringBitmap, SiftError> {
        let mut rows = eval::evaluate(self, rule, ctx)?;
        // Large results over rows that are consecutive contact ids (the usual shape:
        // ids are allocated densely and the index is kept in id order) become the
        // roaring bitmap container by container, straight from the result words,
        // instead of member by member.
        if rows.count() * 16 > self.row_ids.len() {
            if let Some(&base) = self.row_ids.first() {
                if self.row_ids.windows(2).all(|w| w[1] == w[0].wrapping_add(1)) {
                    rows.and_with(&self.live);
                    let live_words = self.live.words().len();
                    let bytes: Vec<u8> = rows.words().iter().take(live_words).flat_map(|w| w.to_le_bytes()).collect();
                    return Ok(RoaringBitmap::from_lsb0_bytes(base, &bytes));
                }
            }
        }
        let mut ids: Vec<u32> = rows.ones().map(|r| self.row_ids[r]).collect();
        if !ids.windows(2).all(|w| w[0] <= w[1]) {
            ids.sort_unstable();
        }
        Ok(RoaringBitmap::from_sorted_iter(ids).unwrap_or_default())
    }
}
