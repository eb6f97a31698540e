//! The segment rule language: AST, parsing and validation, canonical JSON, resolution
//! against the current data fields, and the plain reference evaluator.
//!
//! The contract is `docs/segment-rules.md`. This module header records the choices
//! the contract leaves open; each is pinned by a test in `rules::tests` (and by the
//! engine's differential tests).
//!
//! # Choices the contract leaves open
//!
//! **Shape and parsing**
//! - JSON object keys (`all`, `any`, `not`, `field`, `op`, `value`, `amount`, `unit`)
//!   are matched case-insensitively; a key that appears twice under different cases,
//!   an unknown key, or a node mixing a group key with `field` is a malformed tree.
//! - The root may be a single condition as well as a group.
//! - Field names (`email`, `status`, `optInType`, `emailType`, `created`, `modified`,
//!   `addressBooks`, `segments`, and the `dataFields.` prefix) are case-insensitive;
//!   the data-field NAME is matched case-insensitively and rendered as the account
//!   spells it (upper case). Operator names are case-insensitive too.
//! - Operators that take no value (`isEmpty`, `isNotEmpty`, `isTrue`, `isFalse`,
//!   `anniversaryToday`) accept an absent or `null` value and reject anything else.
//! - Values are never coerced: a String field needs JSON strings (a number is refused),
//!   a Numeric field needs JSON numbers (a numeric string is refused), enum values are
//!   the v2 enum names (case-insensitive, ordinals refused), ids are positive integers.
//! - A blank (empty or whitespace-only) string operand is refused: it could never match
//!   (blank values are empty), so the user almost certainly meant `isEmpty`.
//! - Date operands of `on`, `notOn`, `before`, `after`, `between` are `YYYY-MM-DD`
//!   calendar dates. `between` takes `[lo, hi]` with `lo <= hi` (for numbers and dates).
//! - Periods are `{"amount": N, "unit": "days"|"weeks"|"months"|"years"}` with N an
//!   integer from 1 to 10,000; the unit is case-insensitive.
//! - Limits: depth at most 16 where the root node is level 1 (so a root group holds
//!   conditions at level 2); at most 500 conditions in the whole tree; at most 10,000
//!   values in one list (`in`, `notIn`, `containsAny`, `containsAll`, `containsNone`);
//!   every string operand at most 1,024 bytes.
//! - Canonical JSON renders camelCase keys, `dataFields.NAME`, PascalCase enum names,
//!   integral numbers without a fraction (`100`, not `100.0`), lists in the order
//!   given. [`Rule::to_stored_json`] adds `"fieldType"` to data-field conditions so a
//!   stored rule remembers the type it was validated against (see [`Rule::resolve`]).
//!
//! **Meaning**
//! - Empty: no value, a blank String (whitespace only), or a value whose type is not
//!   the field's current type (never produced by the store, but defined anyway) is
//!   empty. Empty matches `isEmpty` and no positive operator; every negative operator
//!   is the complement of its twin (`notEquals`/`equals`, `notContains`/`contains`,
//!   `notStartsWith`, `notEndsWith`, `notIn`/`in`, `notOn`/`on`, `notInLast`/`inLast`,
//!   `isNotEmpty`/`isEmpty`, and for sets `notContains`/`contains`,
//!   `containsNone`/`containsAny`). `isTrue`/`isFalse` match only set values.
//!   A data field's `defaultValue` is not applied by rules: a contact without a value
//!   is empty.
//! - Strings compare after Unicode default case folding of both sides; nothing else is
//!   normalised (no trimming, no accent folding). `in` is "equals one of".
//! - Numbers compare as `f64`; `equals` is exact.
//! - Dates use the account time zone `tz`. A calendar-date value is that day in `tz`;
//!   an instant's calendar day is its date in `tz`. `today` is the date of the
//!   evaluation's single `now` in `tz`. With `S = today - N units` and
//!   `E = today + N units` (months and years move by calendar months and clamp to the
//!   month's end, like `checked_sub_months`):
//!   - `on D` day = D; `before D` day < D; `after D` day > D; `between [A, B]`
//!     A <= day <= B.
//!   - `inLast`: a calendar date d with S <= d <= today; an instant t whose day is
//!     >= S and t <= now.
//!   - `inNext`: a calendar date d with today <= d <= E; an instant t >= now whose day
//!     is <= E.
//!   - `moreThanAgo`: day < S.
//!   - `anniversaryToday`: same month and day as today; a 29 February value also
//!     matches on 28 February when the current year is not a leap year.
//!   - Instants are compared with `now` at whole-second precision (fractions of a
//!     second are ignored on both sides).
//! - Sets: `addressBooks contains 42` = the contact is in book 42; `containsAll` needs
//!   every listed id; an id of a book deleted after the rule was saved simply matches
//!   no contact. `segments contains S` = the contact matches segment S's rule at the
//!   same evaluation (with the same `now`); it does not read S's stored membership.
//! - `{"all": []}` matches every contact, `{"any": []}` none, `not` is the complement
//!   over the account's live contacts.
//! - A rule resolved for a refresh binds each `dataFields.NAME` by name to the current
//!   field; if the field is gone, or its type differs from the type the rule was
//!   validated against, resolution fails with a message naming the field.
//!
//! Layout: `parse` (JSON → [`Rule`], validation), [`reference`] (the test oracle).

mod parse;
pub mod reference;
#[cfg(test)]
mod tests;

use crate::model::{ContactStatus, DataField, DataFieldType, EmailType, OptInType};
use crate::{ErrorCode, SiftError};
use chrono::{DateTime, Days, Months, NaiveDate, Utc};
use serde_json::{json, Map, Value};
use std::collections::{BTreeSet, HashMap, HashSet};

/// Deepest nesting allowed; the root node is level 1.
pub const MAX_DEPTH: usize = 16;
/// Most conditions (leaves) in one rule.
pub const MAX_CONDITIONS: usize = 500;
/// Most values in one list operand.
pub const MAX_LIST_VALUES: usize = 10_000;
/// Longest string operand, in bytes.
pub const MAX_STRING_BYTES: usize = 1024;
/// Largest period amount.
pub const MAX_PERIOD_AMOUNT: u32 = 10_000;

/// A node of the rule tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    All(Vec<Node>),
    Any(Vec<Node>),
    Not(Box<Node>),
    Cond(Condition),
}

/// A leaf: `{"field", "op", "value"}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub field: FieldRef,
    pub op: Op,
    pub value: Operand,
}

/// What a condition looks at.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FieldRef {
    Email,
    Status,
    OptInType,
    EmailType,
    Created,
    Modified,
    /// A contact data field: its upper-case name and the type the rule was validated
    /// against.
    Data {
        name: String,
        kind: DataFieldType,
    },
    AddressBooks,
    Segments,
}

/// The type family of a field, which decides its operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldKind {
    String,
    Numeric,
    Date,
    Boolean,
    Enum,
    IdSet,
}

impl FieldKind {
    pub fn name(self) -> &'static str {
        match self {
            FieldKind::String => "String",
            FieldKind::Numeric => "Numeric",
            FieldKind::Date => "Date",
            FieldKind::Boolean => "Boolean",
            FieldKind::Enum => "Enum",
            FieldKind::IdSet => "set of ids",
        }
    }

    fn of_data(kind: DataFieldType) -> FieldKind {
        match kind {
            DataFieldType::String => FieldKind::String,
            DataFieldType::Numeric => FieldKind::Numeric,
            DataFieldType::Date => FieldKind::Date,
            DataFieldType::Boolean => FieldKind::Boolean,
        }
    }

    /// The operators valid for this type, in the order of the contract's table.
    pub fn operators(self) -> &'static [Op] {
        use Op::*;
        match self {
            FieldKind::String => &[
                Equals,
                NotEquals,
                Contains,
                NotContains,
                StartsWith,
                NotStartsWith,
                EndsWith,
                NotEndsWith,
                In,
                NotIn,
                IsEmpty,
                IsNotEmpty,
            ],
            FieldKind::Numeric => {
                &[Equals, NotEquals, GreaterThan, GreaterThanOrEqual, LessThan, LessThanOrEqual, Between, In, NotIn, IsEmpty, IsNotEmpty]
            }
            FieldKind::Date => {
                &[On, NotOn, Before, After, Between, InLast, NotInLast, InNext, MoreThanAgo, AnniversaryToday, IsEmpty, IsNotEmpty]
            }
            FieldKind::Boolean => &[IsTrue, IsFalse, IsEmpty, IsNotEmpty],
            FieldKind::Enum => &[Equals, NotEquals, In, NotIn],
            FieldKind::IdSet => &[Contains, NotContains, ContainsAny, ContainsAll, ContainsNone],
        }
    }
}

impl FieldRef {
    pub fn kind(&self) -> FieldKind {
        match self {
            FieldRef::Email => FieldKind::String,
            FieldRef::Status | FieldRef::OptInType | FieldRef::EmailType => FieldKind::Enum,
            FieldRef::Created | FieldRef::Modified => FieldKind::Date,
            FieldRef::Data { kind, .. } => FieldKind::of_data(*kind),
            FieldRef::AddressBooks | FieldRef::Segments => FieldKind::IdSet,
        }
    }

    /// The canonical wire name (`email`, `dataFields.COUNTRY` ...).
    pub fn wire_name(&self) -> String {
        match self {
            FieldRef::Email => "email".into(),
            FieldRef::Status => "status".into(),
            FieldRef::OptInType => "optInType".into(),
            FieldRef::EmailType => "emailType".into(),
            FieldRef::Created => "created".into(),
            FieldRef::Modified => "modified".into(),
            FieldRef::Data { name, .. } => format!("dataFields.{name}"),
            FieldRef::AddressBooks => "addressBooks".into(),
            FieldRef::Segments => "segments".into(),
        }
    }
}

macro_rules! ops {
    ($($variant:ident = $wire:literal),+ $(,)?) => {
        /// A condition operator (camelCase on the wire, parsed case-insensitively).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Op { $($variant),+ }

        impl Op {
            pub const ALL: &'static [Op] = &[$(Op::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $(Op::$variant => $wire),+ }
            }
        }
    };
}

ops!(
    Equals = "equals",
    NotEquals = "notEquals",
    Contains = "contains",
    NotContains = "notContains",
    StartsWith = "startsWith",
    NotStartsWith = "notStartsWith",
    EndsWith = "endsWith",
    NotEndsWith = "notEndsWith",
    In = "in",
    NotIn = "notIn",
    IsEmpty = "isEmpty",
    IsNotEmpty = "isNotEmpty",
    GreaterThan = "greaterThan",
    GreaterThanOrEqual = "greaterThanOrEqual",
    LessThan = "lessThan",
    LessThanOrEqual = "lessThanOrEqual",
    Between = "between",
    On = "on",
    NotOn = "notOn",
    Before = "before",
    After = "after",
    InLast = "inLast",
    NotInLast = "notInLast",
    InNext = "inNext",
    MoreThanAgo = "moreThanAgo",
    AnniversaryToday = "anniversaryToday",
    IsTrue = "isTrue",
    IsFalse = "isFalse",
    ContainsAny = "containsAny",
    ContainsAll = "containsAll",
    ContainsNone = "containsNone",
);

impl Op {
    /// Case-insensitive parse of the wire name.
    pub fn parse(s: &str) -> Option<Op> {
        Op::ALL.iter().copied().find(|op| op.as_str().eq_ignore_ascii_case(s))
    }

    /// For a negative operator, the positive twin it is the exact complement of.
    pub fn positive_twin(self) -> Option<Op> {
        use Op::*;
        Some(match self {
            NotEquals => Equals,
            NotContains => Contains,
            NotStartsWith => StartsWith,
            NotEndsWith => EndsWith,
            NotIn => In,
            NotOn => On,
            NotInLast => InLast,
            IsNotEmpty => IsEmpty,
            ContainsNone => ContainsAny,
            _ => return None,
        })
    }

    /// For a positive operator that has a negative twin, that twin.
    pub fn negative_twin(self) -> Option<Op> {
        Op::ALL.iter().copied().find(|n| n.positive_twin() == Some(self))
    }

    /// Whether the operator takes no value.
    pub fn takes_no_value(self) -> bool {
        matches!(self, Op::IsEmpty | Op::IsNotEmpty | Op::IsTrue | Op::IsFalse | Op::AnniversaryToday)
    }
}

/// A period unit of relative date operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeriodUnit {
    Days,
    Weeks,
    Months,
    Years,
}

impl PeriodUnit {
    pub fn as_str(self) -> &'static str {
        match self {
            PeriodUnit::Days => "days",
            PeriodUnit::Weeks => "weeks",
            PeriodUnit::Months => "months",
            PeriodUnit::Years => "years",
        }
    }

    pub fn parse(s: &str) -> Option<PeriodUnit> {
        [PeriodUnit::Days, PeriodUnit::Weeks, PeriodUnit::Months, PeriodUnit::Years]
            .into_iter()
            .find(|u| u.as_str().eq_ignore_ascii_case(s))
    }
}

/// `{"amount": N, "unit": ...}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    pub amount: u32,
    pub unit: PeriodUnit,
}

impl Period {
    /// `day - period` (calendar months clamp to the month's end); `None` if it leaves
    /// the representable range.
    pub fn before(self, day: NaiveDate) -> Option<NaiveDate> {
        let n = self.amount;
        match self.unit {
            PeriodUnit::Days => day.checked_sub_days(Days::new(u64::from(n))),
            PeriodUnit::Weeks => day.checked_sub_days(Days::new(7 * u64::from(n))),
            PeriodUnit::Months => day.checked_sub_months(Months::new(n)),
            PeriodUnit::Years => day.checked_sub_months(Months::new(n.checked_mul(12)?)),
        }
    }

    /// `day + period`; `None` if it leaves the representable range.
    pub fn after(self, day: NaiveDate) -> Option<NaiveDate> {
        let n = self.amount;
        match self.unit {
            PeriodUnit::Days => day.checked_add_days(Days::new(u64::from(n))),
            PeriodUnit::Weeks => day.checked_add_days(Days::new(7 * u64::from(n))),
            PeriodUnit::Months => day.checked_add_months(Months::new(n)),
            PeriodUnit::Years => day.checked_add_months(Months::new(n.checked_mul(12)?)),
        }
    }
}

/// A value of one of the enum fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EnumValue {
    Status(ContactStatus),
    OptInType(OptInType),
    EmailType(EmailType),
}

impl EnumValue {
    /// The stable small code of the value within its enum.
    pub fn code(self) -> u8 {
        let c = match self {
            EnumValue::Status(v) => v.code(),
            EnumValue::OptInType(v) => v.code(),
            EnumValue::EmailType(v) => v.code(),
        };
        u8::try_from(c).unwrap_or(u8::MAX)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EnumValue::Status(v) => v.as_str(),
            EnumValue::OptInType(v) => v.as_str(),
            EnumValue::EmailType(v) => v.as_str(),
        }
    }
}

/// The typed value of a condition. Which variant appears is decided by the field's
/// type and the operator (see [`FieldKind::operators`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// Operators that take no value.
    None,
    /// String `equals`, `contains`, `startsWith`, `endsWith` and their twins.
    Str(String),
    /// String `in` / `notIn`.
    Strs(Vec<String>),
    Num(f64),
    Nums(Vec<f64>),
    /// Numeric `between`, inclusive.
    NumRange(f64, f64),
    /// Date `on`, `notOn`, `before`, `after`.
    Day(NaiveDate),
    /// Date `between`, inclusive.
    DayRange(NaiveDate, NaiveDate),
    Period(Period),
    Enum(EnumValue),
    Enums(Vec<EnumValue>),
    /// Set `contains` / `notContains`.
    Id(i64),
    /// Set `containsAny` / `containsAll` / `containsNone`.
    Ids(Vec<i64>),
}

/// What the account holds, for validating a rule when it is saved.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    pub data_fields: Vec<DataField>,
    /// Ids of the segments that exist in the account.
    pub segment_ids: HashSet<i64>,
    /// Ids of the address books that exist in the account.
    pub book_ids: HashSet<i64>,
}

/// A parsed, validated rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub root: Node,
}

/// A rule whose data fields are bound to the current field ids (see [`Rule::resolve`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedRule {
    rule: Rule,
    /// Upper-case field name → current field id.
    bindings: HashMap<String, i64>,
}

impl ResolvedRule {
    pub fn rule(&self) -> &Rule {
        &self.rule
    }

    pub fn root(&self) -> &Node {
        &self.rule.root
    }

    /// The current id of a data field the rule uses (by its upper-case name).
    pub fn field_id(&self, name: &str) -> Option<i64> {
        self.bindings.get(name).copied()
    }
}

/// What an evaluation reads besides the contacts.
#[derive(Debug, Clone)]
pub struct EvalContext {
    /// The one "now" of this refresh.
    pub now: DateTime<Utc>,
    /// The account time zone.
    pub tz: chrono_tz::Tz,
    /// Rules of the segments referenced (directly or not) by `segments` conditions.
    pub segments: HashMap<i64, ResolvedRule>,
}

impl Rule {
    /// Parses and validates a rule sent by a client (keys in any case).
    pub fn parse(json: &Value, schema: &Schema) -> Result<Rule, SiftError> {
        parse::parse(json, parse::Mode::Validate(schema))
    }

    /// Parses a rule written by [`Rule::to_stored_json`]: data-field types come from
    /// the stored `fieldType`, and ids are not checked against the account.
    pub fn from_stored_json(json: &Value) -> Result<Rule, SiftError> {
        parse::parse(json, parse::Mode::Stored)
    }

    /// The canonical JSON of the contract.
    pub fn to_json(&self) -> Value {
        node_json(&self.root, false)
    }

    /// The canonical JSON plus `"fieldType"` on data-field conditions: what the server
    /// stores, so a refresh can tell that a field changed type.
    pub fn to_stored_json(&self) -> Value {
        node_json(&self.root, true)
    }

    /// Upper-case names of the data fields the rule uses, sorted, unique.
    pub fn data_fields_used(&self) -> Vec<String> {
        let mut out = BTreeSet::new();
        visit(&self.root, &mut |c| {
            if let FieldRef::Data { name, .. } = &c.field {
                out.insert(name.clone());
            }
        });
        out.into_iter().collect()
    }

    /// Ids of the segments referenced through the `segments` field, sorted, unique.
    pub fn segments_used(&self) -> Vec<i64> {
        self.ids_used(&FieldRef::Segments)
    }

    /// Ids of the address books referenced through `addressBooks`, sorted, unique.
    pub fn books_used(&self) -> Vec<i64> {
        self.ids_used(&FieldRef::AddressBooks)
    }

    fn ids_used(&self, field: &FieldRef) -> Vec<i64> {
        let mut out = BTreeSet::new();
        visit(&self.root, &mut |c| {
            if &c.field == field {
                match &c.value {
                    Operand::Id(id) => {
                        out.insert(*id);
                    }
                    Operand::Ids(ids) => out.extend(ids.iter().copied()),
                    _ => {}
                }
            }
        });
        out.into_iter().collect()
    }

    /// Number of conditions (leaves).
    pub fn condition_count(&self) -> usize {
        let mut n = 0;
        visit(&self.root, &mut |_| n += 1);
        n
    }

    /// Binds every `dataFields.NAME` to the current field of that name and checks its
    /// type is still the one the rule was validated against.
    pub fn resolve(&self, fields: &[DataField]) -> Result<ResolvedRule, SiftError> {
        let mut bindings = HashMap::new();
        let mut failure = None;
        visit(&self.root, &mut |c| {
            let FieldRef::Data { name, kind } = &c.field else {
                return;
            };
            if failure.is_some() || bindings.contains_key(name) {
                return;
            }
            match fields.iter().find(|f| f.name.eq_ignore_ascii_case(name)) {
                None => {
                    failure =
                        Some(SiftError::new(ErrorCode::SegmentInvalid, format!("Data field {name} used by this segment no longer exists")))
                }
                Some(f) if f.kind != *kind => {
                    failure = Some(SiftError::new(
                        ErrorCode::SegmentInvalid,
                        format!("Data field {name} used by this segment changed type from {kind} to {}", f.kind),
                    ))
                }
                Some(f) => {
                    bindings.insert(name.clone(), f.id);
                }
            }
        });
        match failure {
            Some(e) => Err(e),
            None => Ok(ResolvedRule { rule: self.clone(), bindings }),
        }
    }
}

/// Calls `f` on every condition of the tree.
pub fn visit(node: &Node, f: &mut impl FnMut(&Condition)) {
    match node {
        Node::All(v) | Node::Any(v) => v.iter().for_each(|n| visit(n, f)),
        Node::Not(n) => visit(n, f),
        Node::Cond(c) => f(c),
    }
}

/// Finds a cycle of `segments` references reachable from `start` in `rules` (segment
/// id → rule; the server inserts the candidate rule under its id before calling).
/// Returns the ids along the cycle, first id repeated at the end (`[a, b, a]`), or
/// `None`. Ids absent from `rules` are leaves.
pub fn find_cycle(start: i64, rules: &HashMap<i64, Rule>) -> Option<Vec<i64>> {
    // Iterative depth-first search with colours, so deep chains cannot overflow.
    #[derive(Clone, Copy, PartialEq)]
    enum Colour {
        Grey,
        Black,
    }
    let mut colour: HashMap<i64, Colour> = HashMap::new();
    let mut stack: Vec<(i64, Vec<i64>, usize)> = Vec::new();
    let children = |id: i64| rules.get(&id).map(Rule::segments_used).unwrap_or_default();
    colour.insert(start, Colour::Grey);
    stack.push((start, children(start), 0));
    while let Some(top) = stack.last_mut() {
        if top.2 >= top.1.len() {
            colour.insert(top.0, Colour::Black);
            stack.pop();
            continue;
        }
        let next = top.1[top.2];
        top.2 += 1;
        match colour.get(&next) {
            Some(Colour::Grey) => {
                let from = stack.iter().position(|f| f.0 == next).unwrap_or(0);
                let mut cycle: Vec<i64> = stack[from..].iter().map(|f| f.0).collect();
                cycle.push(next);
                return Some(cycle);
            }
            Some(Colour::Black) => {}
            None => {
                colour.insert(next, Colour::Grey);
                stack.push((next, children(next), 0));
            }
        }
    }
    None
}

/// All segment ids reachable from `rule` through `segments` conditions (what an
/// [`EvalContext`] must hold), sorted, unique.
pub fn segment_closure(rule: &Rule, rules: &HashMap<i64, Rule>) -> Vec<i64> {
    let mut seen = BTreeSet::new();
    let mut todo = rule.segments_used();
    while let Some(id) = todo.pop() {
        if seen.insert(id) {
            if let Some(r) = rules.get(&id) {
                todo.extend(r.segments_used());
            }
        }
    }
    seen.into_iter().collect()
}

fn node_json(node: &Node, stored: bool) -> Value {
    match node {
        Node::All(v) => {
            json!({ "all": v.iter().map(|n| node_json(n, stored)).collect::<Vec<_>>() })
        }
        Node::Any(v) => {
            json!({ "any": v.iter().map(|n| node_json(n, stored)).collect::<Vec<_>>() })
        }
        Node::Not(n) => json!({ "not": node_json(n, stored) }),
        Node::Cond(c) => {
            let mut m = Map::new();
            m.insert("field".into(), Value::String(c.field.wire_name()));
            if stored {
                if let FieldRef::Data { kind, .. } = &c.field {
                    m.insert("fieldType".into(), Value::String(kind.as_str().into()));
                }
            }
            m.insert("op".into(), Value::String(c.op.as_str().into()));
            if let Some(v) = operand_json(&c.value) {
                m.insert("value".into(), v);
            }
            Value::Object(m)
        }
    }
}

/// A number as JSON, integral values without a fraction.
pub(crate) fn num_json(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 {
        Value::from(f as i64)
    } else {
        serde_json::Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null)
    }
}

fn day_json(d: NaiveDate) -> Value {
    Value::String(d.format("%Y-%m-%d").to_string())
}

fn operand_json(v: &Operand) -> Option<Value> {
    Some(match v {
        Operand::None => return None,
        Operand::Str(s) => Value::String(s.clone()),
        Operand::Strs(v) => Value::Array(v.iter().map(|s| Value::String(s.clone())).collect()),
        Operand::Num(n) => num_json(*n),
        Operand::Nums(v) => Value::Array(v.iter().map(|n| num_json(*n)).collect()),
        Operand::NumRange(a, b) => Value::Array(vec![num_json(*a), num_json(*b)]),
        Operand::Day(d) => day_json(*d),
        Operand::DayRange(a, b) => Value::Array(vec![day_json(*a), day_json(*b)]),
        Operand::Period(p) => json!({ "amount": p.amount, "unit": p.unit.as_str() }),
        Operand::Enum(e) => Value::String(e.as_str().into()),
        Operand::Enums(v) => Value::Array(v.iter().map(|e| Value::String(e.as_str().into())).collect()),
        Operand::Id(id) => Value::from(*id),
        Operand::Ids(v) => Value::Array(v.iter().map(|id| Value::from(*id)).collect()),
    })
}
