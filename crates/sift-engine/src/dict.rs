//! A dictionary of distinct case-folded strings: one `String` buffer plus offsets, a
//! compact open-addressing table of codes for lookups, and reference counts so that
//! strings no row uses any more can be dropped by a rebuild.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

/// Code 0 is reserved for "no value" and never names a string.
pub(crate) const EMPTY: u32 = 0;

#[derive(Debug)]
pub(crate) struct Dict {
    buf: String,
    /// `ends[code]` = end offset of string `code` in `buf`; `ends[0] = 0`.
    ends: Vec<usize>,
    refs: Vec<u32>,
    /// Open addressing, linear probing; 0 = free slot, else a code.
    table: Vec<u32>,
    hasher: RandomState,
    /// Codes with no references.
    dead: usize,
}

impl Default for Dict {
    fn default() -> Self {
        Dict { buf: String::new(), ends: vec![0], refs: vec![0], table: vec![0; 16], hasher: RandomState::new(), dead: 0 }
    }
}

impl Dict {
    /// Number of codes, including the reserved 0.
    pub fn code_count(&self) -> usize {
        self.ends.len()
    }

    pub fn get(&self, code: u32) -> &str {
        let c = code as usize;
        match (c.checked_sub(1).and_then(|p| self.ends.get(p)), self.ends.get(c)) {
            (Some(&start), Some(&end)) if c > 0 => self.buf.get(start..end).unwrap_or(""),
            _ => "",
        }
    }

    /// Whether code `code` is used by at least one row.
    pub fn is_used(&self, code: u32) -> bool {
        self.refs.get(code as usize).is_some_and(|r| *r > 0)
    }

    fn slot_of(&self, s: &str) -> (usize, Option<u32>) {
        let mask = self.table.len() - 1;
        let mut i = (self.hasher.hash_one(s) as usize) & mask;
        loop {
            let code = self.table[i];
            if code == EMPTY {
                return (i, None);
            }
            if self.get(code) == s {
                return (i, Some(code));
            }
            i = (i + 1) & mask;
        }
    }

    /// The code of a folded string, if present.
    pub fn lookup(&self, folded: &str) -> Option<u32> {
        self.slot_of(folded).1
    }

    /// Adds a reference to `folded`, inserting it if new.
    pub fn intern(&mut self, folded: &str) -> u32 {
        let (slot, found) = self.slot_of(folded);
        if let Some(code) = found {
            let r = &mut self.refs[code as usize];
            if *r == 0 {
                self.dead -= 1;
            }
            *r += 1;
            return code;
        }
        let code = u32::try_from(self.ends.len()).unwrap_or(u32::MAX);
        self.buf.push_str(folded);
        self.ends.push(self.buf.len());
        self.refs.push(1);
        self.table[slot] = code;
        if self.ends.len() * 4 > self.table.len() * 3 {
            self.grow_table();
        }
        code
    }

    /// Drops one reference to `code`.
    pub fn release(&mut self, code: u32) {
        if let Some(r) = self.refs.get_mut(code as usize) {
            if *r > 0 {
                *r -= 1;
                if *r == 0 {
                    self.dead += 1;
                }
            }
        }
    }

    fn grow_table(&mut self) {
        let size = (self.ends.len() * 2).next_power_of_two().max(16);
        self.table = vec![0; size];
        let mask = size - 1;
        for code in 1..self.ends.len() {
            let s = self.get(code as u32);
            let mut i = (self.hasher.hash_one(s) as usize) & mask;
            while self.table[i] != EMPTY {
                i = (i + 1) & mask;
            }
            self.table[i] = code as u32;
        }
    }

    /// Whether enough codes are unused that a rebuild is worth it.
    pub fn wants_rebuild(&self) -> bool {
        self.dead > 1024 && self.dead * 2 > self.ends.len()
    }

    /// Rebuilds without unused strings; returns old code → new code (0 for dropped).
    pub fn rebuild(&mut self) -> Vec<u32> {
        let mut fresh = Dict { hasher: self.hasher.clone(), ..Dict::default() };
        let mut remap = vec![EMPTY; self.ends.len()];
        for (code, slot) in remap.iter_mut().enumerate().skip(1) {
            let refs = self.refs[code];
            if refs > 0 {
                let new = fresh.intern(self.get(code as u32));
                fresh.refs[new as usize] = refs;
                *slot = new;
            }
        }
        *self = fresh;
        remap
    }

    pub fn heap_bytes(&self) -> usize {
        self.buf.capacity() + self.ends.capacity() * 8 + self.refs.capacity() * 4 + self.table.capacity() * 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_counts_and_rebuilds() {
        let mut d = Dict::default();
        let a = d.intern("alex");
        let b = d.intern("uk");
        assert_eq!(d.intern("alex"), a);
        assert_ne!(a, b);
        assert_eq!(d.get(a), "alex");
        assert_eq!(d.lookup("uk"), Some(b));
        assert_eq!(d.lookup("ie"), None);
        for i in 0..5000 {
            d.intern(&format!("s{i}"));
        }
        for i in 0..5000 {
            let c = d.lookup(&format!("s{i}")).unwrap_or(0);
            d.release(c);
        }
        assert!(d.wants_rebuild());
        let remap = d.rebuild();
        assert_eq!(d.get(remap[a as usize]), "alex");
        assert_eq!(d.get(remap[b as usize]), "uk");
        assert_eq!(d.code_count(), 3);
    }
}
