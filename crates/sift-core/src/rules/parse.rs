//! JSON → [`Rule`], with every validation of the contract (§5 and §7).

use super::{
    Condition, EnumValue, FieldKind, FieldRef, Node, Op, Operand, Period, PeriodUnit, Rule, Schema, MAX_CONDITIONS, MAX_DEPTH,
    MAX_LIST_VALUES, MAX_PERIOD_AMOUNT, MAX_STRING_BYTES,
};
use crate::model::{ContactStatus, DataFieldType, EmailType, OptInType};
use crate::SiftError;
use chrono::NaiveDate;
use serde_json::{Map, Value};

pub(crate) enum Mode<'a> {
    /// A client's rule, checked against the account.
    Validate(&'a Schema),
    /// A rule we stored: types come from `fieldType`, ids are not checked.
    Stored,
}

pub(crate) fn parse(json: &Value, mode: Mode<'_>) -> Result<Rule, SiftError> {
    let mut p = Parser { mode, conditions: 0 };
    let root = p.node(json, 1)?;
    Ok(Rule { root })
}

fn bad(text: String) -> SiftError {
    SiftError::invalid(text)
}

/// A user-supplied string for an error message, cut short and quoted.
fn shown(s: &str) -> String {
    const MAX: usize = 64;
    if s.len() <= MAX {
        return format!("'{s}'");
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("'{}…'", &s[..end])
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The keys of an object, matched case-insensitively against `known`; refuses unknown
/// and repeated keys. Returns the value for each known key (same order as `known`).
fn keyed<'v>(obj: &'v Map<String, Value>, known: &[&str], what: &str) -> Result<Vec<Option<&'v Value>>, SiftError> {
    let mut out = vec![None; known.len()];
    for (k, v) in obj {
        let Some(i) = known.iter().position(|n| n.eq_ignore_ascii_case(k)) else {
            return Err(bad(format!("{what} has an unknown key {}; expected {}", shown(k), known.join(", "))));
        };
        if out[i].is_some() {
            return Err(bad(format!("{what} has the key {} more than once", known[i])));
        }
        out[i] = Some(v);
    }
    Ok(out)
}

struct Parser<'a> {
    mode: Mode<'a>,
    conditions: usize,
}

impl Parser<'_> {
    fn node(&mut self, v: &Value, depth: usize) -> Result<Node, SiftError> {
        if depth > MAX_DEPTH {
            return Err(bad(format!("Rule is nested more than {MAX_DEPTH} levels deep; at most {MAX_DEPTH} levels are allowed")));
        }
        let Value::Object(obj) = v else {
            return Err(bad(format!("Rule node must be an object with all, any, not or field; got {}", json_kind(v))));
        };
        let keys = keyed(obj, &["all", "any", "not", "field", "op", "value", "fieldType"], "Rule node")?;
        let [all, any, not, field, op, value, field_type] = keys[..] else {
            return Err(SiftError::unknown());
        };
        if field_type.is_some() && matches!(self.mode, Mode::Validate(_)) {
            return Err(bad("Rule node has an unknown key 'fieldType'; expected all, any, not, field, op, value".into()));
        }
        let group_keys = [all, any, not].iter().filter(|k| k.is_some()).count();
        let cond_keys = [field, op, value, field_type].iter().filter(|k| k.is_some()).count();
        if group_keys > 1 || (group_keys == 1 && cond_keys > 0) {
            return Err(bad(
                "Rule node must have exactly one of all, any, not or field (a group and a condition cannot share a node)".into()
            ));
        }
        if let Some(children) = all.or(any) {
            let name = if all.is_some() { "all" } else { "any" };
            let Value::Array(items) = children else {
                return Err(bad(format!("Rule group {name} must be an array; got {}", json_kind(children))));
            };
            let nodes = items.iter().map(|c| self.node(c, depth + 1)).collect::<Result<Vec<_>, _>>()?;
            return Ok(if all.is_some() { Node::All(nodes) } else { Node::Any(nodes) });
        }
        if let Some(inner) = not {
            return Ok(Node::Not(Box::new(self.node(inner, depth + 1)?)));
        }
        let Some(field) = field else {
            return Err(bad("Rule node must have exactly one of all, any, not or field".into()));
        };
        self.conditions += 1;
        if self.conditions > MAX_CONDITIONS {
            return Err(bad(format!("Rule has more than {MAX_CONDITIONS} conditions; at most {MAX_CONDITIONS} are allowed")));
        }
        self.condition(field, op, value, field_type).map(Node::Cond)
    }

    fn field(&self, field: &Value, field_type: Option<&Value>) -> Result<FieldRef, SiftError> {
        let Value::String(name) = field else {
            return Err(bad(format!("Rule condition field must be a string; got {}", json_kind(field))));
        };
        let builtin = [
            ("email", FieldRef::Email),
            ("status", FieldRef::Status),
            ("optInType", FieldRef::OptInType),
            ("emailType", FieldRef::EmailType),
            ("created", FieldRef::Created),
            ("modified", FieldRef::Modified),
            ("addressBooks", FieldRef::AddressBooks),
            ("segments", FieldRef::Segments),
        ];
        let data_name = name.get(..11).filter(|p| p.eq_ignore_ascii_case("dataFields.")).and_then(|_| name.get(11..));
        let Some(data_name) = data_name else {
            if field_type.is_some() {
                return Err(bad(format!("Rule condition on {}: fieldType is only for data fields", shown(name))));
            }
            return builtin
                .into_iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, f)| f)
                .ok_or_else(|| bad(format!("Rule refers to unknown field {}", shown(name))));
        };
        match &self.mode {
            Mode::Validate(schema) => schema
                .data_fields
                .iter()
                .find(|f| f.name.eq_ignore_ascii_case(data_name))
                .map(|f| FieldRef::Data { name: f.name.to_uppercase(), kind: f.kind })
                .ok_or_else(|| bad(format!("Rule refers to unknown field {}", shown(&format!("dataFields.{data_name}"))))),
            Mode::Stored => {
                let kind = field_type
                    .and_then(Value::as_str)
                    .and_then(DataFieldType::parse)
                    .ok_or_else(|| bad(format!("Stored rule condition on dataFields.{data_name} lacks a valid fieldType")))?;
                if data_name.is_empty() || data_name.len() > 64 {
                    return Err(bad(format!("Rule refers to unknown field {}", shown(name))));
                }
                Ok(FieldRef::Data { name: data_name.to_uppercase(), kind })
            }
        }
    }

    fn condition(
        &self,
        field: &Value,
        op: Option<&Value>,
        value: Option<&Value>,
        field_type: Option<&Value>,
    ) -> Result<Condition, SiftError> {
        let field = self.field(field, field_type)?;
        let fname = field.wire_name();
        let kind = field.kind();
        let op = match op {
            Some(Value::String(s)) => {
                Op::parse(s).ok_or_else(|| bad(format!("Rule condition on {fname}: unknown operator {}", shown(s))))?
            }
            Some(other) => return Err(bad(format!("Rule condition on {fname}: op must be a string; got {}", json_kind(other)))),
            None => return Err(bad(format!("Rule condition on {fname} has no op"))),
        };
        if !kind.operators().contains(&op) {
            return Err(bad(format!("Rule condition on {fname}: operator {} is not valid for a {} field", op.as_str(), kind.name())));
        }
        let ctx = ValueCtx { fname: &fname, op };
        let value = match value {
            Some(Value::Null) | None => None,
            Some(v) => Some(v),
        };
        let operand = if op.takes_no_value() {
            match value {
                None => Operand::None,
                Some(v) => return Err(ctx.err(format!("takes no value, but {} was given", json_kind(v)))),
            }
        } else {
            let Some(v) = value else {
                return Err(ctx.err("needs a value".into()));
            };
            self.operand(&field, kind, op, v, &ctx)?
        };
        Ok(Condition { field, op, value: operand })
    }

    fn operand(&self, field: &FieldRef, kind: FieldKind, op: Op, v: &Value, ctx: &ValueCtx<'_>) -> Result<Operand, SiftError> {
        use Op::*;
        Ok(match (kind, op) {
            (FieldKind::String, In | NotIn) => Operand::Strs(ctx.list(v)?.iter().map(|x| ctx.string(x)).collect::<Result<_, _>>()?),
            (FieldKind::String, _) => Operand::Str(ctx.string(v)?),
            (FieldKind::Numeric, In | NotIn) => Operand::Nums(ctx.list(v)?.iter().map(|x| ctx.number(x)).collect::<Result<_, _>>()?),
            (FieldKind::Numeric, Between) => {
                let (a, b) = ctx.pair(v)?;
                let (a, b) = (ctx.number(a)?, ctx.number(b)?);
                if a > b {
                    return Err(ctx.err(format!("needs [low, high] with low <= high; got [{a}, {b}]")));
                }
                Operand::NumRange(a, b)
            }
            (FieldKind::Numeric, _) => Operand::Num(ctx.number(v)?),
            (FieldKind::Date, On | NotOn | Before | After) => Operand::Day(ctx.day(v)?),
            (FieldKind::Date, Between) => {
                let (a, b) = ctx.pair(v)?;
                let (a, b) = (ctx.day(a)?, ctx.day(b)?);
                if a > b {
                    return Err(ctx.err(format!("needs [first, last] with first <= last; got [{a}, {b}]")));
                }
                Operand::DayRange(a, b)
            }
            (FieldKind::Date, _) => Operand::Period(ctx.period(v)?),
            (FieldKind::Enum, In | NotIn) => {
                Operand::Enums(ctx.list(v)?.iter().map(|x| ctx.enum_value(field, x)).collect::<Result<_, _>>()?)
            }
            (FieldKind::Enum, _) => Operand::Enum(ctx.enum_value(field, v)?),
            (FieldKind::IdSet, Contains | NotContains) => Operand::Id(self.id(field, v, ctx)?),
            (FieldKind::IdSet, _) => Operand::Ids(ctx.list(v)?.iter().map(|x| self.id(field, x, ctx)).collect::<Result<_, _>>()?),
            (FieldKind::Boolean, _) => return Err(ctx.err("takes no value".into())),
        })
    }

    fn id(&self, field: &FieldRef, v: &Value, ctx: &ValueCtx<'_>) -> Result<i64, SiftError> {
        let id = v.as_i64().filter(|id| *id > 0).ok_or_else(|| ctx.err(format!("needs positive integer ids; got {}", short_json(v))))?;
        if let Mode::Validate(schema) = &self.mode {
            let (known, what) = match field {
                FieldRef::Segments => (&schema.segment_ids, "segment"),
                _ => (&schema.book_ids, "address book"),
            };
            if !known.contains(&id) {
                return Err(ctx.err(format!("refers to {what} {id}, which does not exist")));
            }
        }
        Ok(id)
    }
}

fn short_json(v: &Value) -> String {
    match v {
        Value::String(s) => shown(s),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
        other => other.to_string(),
    }
}

struct ValueCtx<'a> {
    fname: &'a str,
    op: Op,
}

impl ValueCtx<'_> {
    fn err(&self, what: String) -> SiftError {
        bad(format!("Rule condition on {}: operator {} {what}", self.fname, self.op.as_str()))
    }

    fn list<'v>(&self, v: &'v Value) -> Result<&'v [Value], SiftError> {
        let Value::Array(items) = v else {
            return Err(self.err(format!("needs an array of values; got {}", json_kind(v))));
        };
        if items.is_empty() {
            return Err(self.err("needs a non-empty array of values".into()));
        }
        if items.len() > MAX_LIST_VALUES {
            return Err(self.err(format!("has {} values; at most {MAX_LIST_VALUES} values are allowed in one list", items.len())));
        }
        Ok(items)
    }

    fn pair<'v>(&self, v: &'v Value) -> Result<(&'v Value, &'v Value), SiftError> {
        match v {
            Value::Array(items) if items.len() == 2 => Ok((&items[0], &items[1])),
            Value::Array(items) => Err(self.err(format!("needs exactly 2 values [low, high]; got {}", items.len()))),
            other => Err(self.err(format!("needs an array [low, high]; got {}", json_kind(other)))),
        }
    }

    fn string(&self, v: &Value) -> Result<String, SiftError> {
        let Value::String(s) = v else {
            return Err(self.err(format!("needs a string value; got {}", json_kind(v))));
        };
        if s.len() > MAX_STRING_BYTES {
            return Err(self.err(format!("has a string of {} bytes; strings are limited to {MAX_STRING_BYTES} bytes", s.len())));
        }
        if s.trim().is_empty() {
            return Err(self.err("needs a non-blank string (use isEmpty to find contacts without a value)".into()));
        }
        Ok(s.clone())
    }

    fn number(&self, v: &Value) -> Result<f64, SiftError> {
        match v {
            Value::Number(n) => n.as_f64().filter(|f| f.is_finite()).ok_or_else(|| self.err(format!("needs a finite number; got {n}"))),
            other => Err(self.err(format!("needs a number; got {}", json_kind(other)))),
        }
    }

    fn day(&self, v: &Value) -> Result<NaiveDate, SiftError> {
        let Value::String(s) = v else {
            return Err(self.err(format!("needs a date as \"YYYY-MM-DD\"; got {}", json_kind(v))));
        };
        let b = s.as_bytes();
        let shaped =
            b.len() == 10 && b[4] == b'-' && b[7] == b'-' && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
        shaped
            .then(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
            .flatten()
            .ok_or_else(|| self.err(format!("needs a date as \"YYYY-MM-DD\"; got {}", shown(s))))
    }

    fn period(&self, v: &Value) -> Result<Period, SiftError> {
        let Value::Object(obj) = v else {
            return Err(self.err(format!("needs {{\"amount\": N, \"unit\": \"days|weeks|months|years\"}}; got {}", json_kind(v))));
        };
        let what = format!("Rule condition on {}: the period", self.fname);
        let keys = keyed(obj, &["amount", "unit"], &what)?;
        let (Some(amount), Some(unit)) = (keys[0], keys[1]) else {
            return Err(self.err("needs a period with both amount and unit".into()));
        };
        let amount = amount
            .as_u64()
            .filter(|n| (1..=u64::from(MAX_PERIOD_AMOUNT)).contains(n))
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| {
                self.err(format!("needs a period amount that is a whole number from 1 to {MAX_PERIOD_AMOUNT}; got {}", short_json(amount)))
            })?;
        let unit = unit
            .as_str()
            .and_then(PeriodUnit::parse)
            .ok_or_else(|| self.err(format!("needs a period unit of days, weeks, months or years; got {}", short_json(unit))))?;
        Ok(Period { amount, unit })
    }

    fn enum_value(&self, field: &FieldRef, v: &Value) -> Result<EnumValue, SiftError> {
        let Value::String(s) = v else {
            return Err(self.err(format!("needs an enum name; got {}", json_kind(v))));
        };
        let (parsed, names): (Option<EnumValue>, Vec<&str>) = match field {
            FieldRef::Status => (ContactStatus::parse(s).map(EnumValue::Status), ContactStatus::ALL.iter().map(|e| e.as_str()).collect()),
            FieldRef::OptInType => (OptInType::parse(s).map(EnumValue::OptInType), OptInType::ALL.iter().map(|e| e.as_str()).collect()),
            _ => (EmailType::parse(s).map(EnumValue::EmailType), EmailType::ALL.iter().map(|e| e.as_str()).collect()),
        };
        parsed.ok_or_else(|| self.err(format!("has {}, which is not one of {}", shown(s), names.join(", "))))
    }
}
