//! Dense word-level bitsets over rows: the working representation of evaluation.

/// A fixed-size bitset, one bit per row, 64 rows per word.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Bits {
    words: Vec<u64>,
}

pub(crate) fn words_for(rows: usize) -> usize {
    rows.div_ceil(64)
}

impl Bits {
    pub fn zeros(rows: usize) -> Bits {
        Bits { words: vec![0; words_for(rows)] }
    }

    pub fn from_words(words: Vec<u64>) -> Bits {
        Bits { words }
    }

    /// Grows (with zeros) or shrinks to hold `rows` rows.
    pub fn resize(&mut self, rows: usize) {
        resize_exact(&mut self.words, words_for(rows), 0);
    }

    pub fn words(&self) -> &[u64] {
        &self.words
    }

    #[inline]
    pub fn get(&self, row: usize) -> bool {
        self.words.get(row / 64).is_some_and(|w| w >> (row % 64) & 1 == 1)
    }

    #[inline]
    pub fn set(&mut self, row: usize) {
        if let Some(w) = self.words.get_mut(row / 64) {
            *w |= 1 << (row % 64);
        }
    }

    #[inline]
    pub fn clear(&mut self, row: usize) {
        if let Some(w) = self.words.get_mut(row / 64) {
            *w &= !(1 << (row % 64));
        }
    }

    #[inline]
    pub fn assign(&mut self, row: usize, on: bool) {
        if on {
            self.set(row)
        } else {
            self.clear(row)
        }
    }

    pub fn and_with(&mut self, other: &Bits) {
        for (a, b) in self.words.iter_mut().zip(&other.words) {
            *a &= *b;
        }
    }

    pub fn or_with(&mut self, other: &Bits) {
        for (a, b) in self.words.iter_mut().zip(&other.words) {
            *a |= *b;
        }
    }

    /// `universe \ self`, in place.
    pub fn complement_within(&mut self, universe: &Bits) {
        for (a, u) in self.words.iter_mut().zip(&universe.words) {
            *a = !*a & *u;
        }
    }

    pub fn count(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    pub fn is_zero(&self) -> bool {
        self.words.iter().all(|w| *w == 0)
    }

    /// Rows whose bit is set, ascending.
    pub fn ones(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(i, &w)| {
            let mut w = w;
            std::iter::from_fn(move || {
                if w == 0 {
                    return None;
                }
                let t = w.trailing_zeros() as usize;
                w &= w - 1;
                Some(i * 64 + t)
            })
        })
    }

    /// Gathers the bits of `order` (new row i = old row order[i]).
    pub fn gather(&self, order: &[u32]) -> Bits {
        let mut out = Bits::zeros(order.len());
        for (new, &old) in order.iter().enumerate() {
            if self.get(old as usize) {
                out.set(new);
            }
        }
        out
    }

    pub fn heap_bytes(&self) -> usize {
        self.words.capacity() * 8
    }
}

/// Builds a bitset from one predicate per element of `vals`, a word at a time (the
/// inner loop is branch-free so the compiler can vectorise it).
#[inline]
pub(crate) fn build<T: Copy>(vals: &[T], pred: impl Fn(T) -> bool) -> Bits {
    let mut words = vec![0u64; words_for(vals.len())];
    for (w, chunk) in words.iter_mut().zip(vals.chunks(64)) {
        let mut b = 0u64;
        for (j, &v) in chunk.iter().enumerate() {
            b |= u64::from(pred(v)) << j;
        }
        *w = b;
    }
    Bits::from_words(words)
}

/// `Vec::resize` without the doubling: a column grows to exactly the rows it holds,
/// so an index loaded in chunks is as compact as one loaded at once. (Large vectors
/// grow in place through `realloc`, so this costs no copying where it matters.)
pub(crate) fn resize_exact<T: Clone>(v: &mut Vec<T>, len: usize, fill: T) {
    if len > v.capacity() {
        v.reserve_exact(len - v.len());
    }
    v.resize(len, fill);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_get_ones_and_complement() {
        let mut b = Bits::zeros(130);
        b.set(0);
        b.set(64);
        b.set(129);
        assert_eq!(b.ones().collect::<Vec<_>>(), vec![0, 64, 129]);
        let mut u = Bits::zeros(130);
        (0..130).for_each(|i| u.set(i));
        u.clear(5);
        b.complement_within(&u);
        assert_eq!(b.count(), 130 - 3 - 1);
        assert!(!b.get(5) && !b.get(64) && b.get(1));
        let built = build(&[1, 5, 3, 9], |v| v > 2);
        assert_eq!(built.ones().collect::<Vec<_>>(), vec![1, 2, 3]);
    }
}
