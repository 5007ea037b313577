//! How a posting list stores its (other endpoint, record id) pairs.
//!
//! Instance ids and record ids are almost always below 2³². A list then
//! stores a posting in one 8-byte word, the record id in the high half and
//! the other endpoint in the low half ([`Packing::Narrow`]): words ascend
//! with ids, and a list takes half the memory (and half the cache lines to
//! copy out) of a list of 16-byte pairs. The first posting that does not fit
//! (an id or endpoint outside `0..2³²`) switches every list of its table,
//! once, to two words a posting: the other endpoint, then the id
//! ([`Packing::Wide`]), which holds any pair.

use smallvec::SmallVec;

use super::posting::Posting;

/// A list's words: two of them (two narrow postings, one wide) stay inline
/// in the list itself, so the many keys with exactly two records (a target
/// linked from two sources) allocate nothing and read no second line.
pub(crate) type Words = SmallVec<[u64; 2]>;

/// How the lists of one table store postings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Packing {
    /// One word a posting: `id << 32 | other`, both in `0..2³²`.
    #[default]
    Narrow,
    /// Two words a posting: `other`, then `id`.
    Wide,
}

/// A [`Packing::Narrow`] word's posting.
fn narrow(w: u64) -> Posting {
    Posting {
        other: (w & u64::from(u32::MAX)) as i64,
        id: (w >> 32) as i64,
    }
}

/// A [`Packing::Wide`] pair's posting.
fn wide(pair: &[u64]) -> Posting {
    Posting {
        other: pair[0] as i64,
        id: pair[1] as i64,
    }
}

/// Whether `x` fits a half word.
fn fits_half(x: i64) -> bool {
    (0..=i64::from(u32::MAX)).contains(&x)
}

impl Packing {
    /// Whether lists packed this way can store `p`.
    pub(crate) fn holds(self, p: Posting) -> bool {
        self == Packing::Wide || (fits_half(p.other) && fits_half(p.id))
    }

    /// Words a posting takes.
    fn unit(self) -> usize {
        match self {
            Packing::Narrow => 1,
            Packing::Wide => 2,
        }
    }

    /// A list's words, read as postings.
    pub(crate) fn view(self, words: &[u64]) -> ListView<'_> {
        ListView {
            words,
            packing: self,
        }
    }

    /// Appends `p`, which this packing must hold, growing the list by half
    /// when it is full (not doubling: a quarter less slack on average).
    pub(crate) fn push(self, words: &mut Words, p: Posting) {
        debug_assert!(self.holds(p));
        let unit = self.unit();
        if words.len() + unit > words.capacity() {
            words.reserve_exact((words.len() / 2).max(2 * unit));
        }
        match self {
            Packing::Narrow => words.push((p.id as u64) << 32 | p.other as u64),
            Packing::Wide => words.extend_from_slice(&[p.other as u64, p.id as u64]),
        }
    }

    /// A new list of `first` then `second`.
    pub(crate) fn pair(self, first: Posting, second: Posting) -> Words {
        let mut words = Words::new();
        self.push(&mut words, first);
        self.push(&mut words, second);
        words
    }

    /// Removes the posting of record `id`; whether it was there.
    pub(crate) fn remove(self, words: &mut Words, id: i64) -> bool {
        let Ok(pos) = self.view(words).position(id) else {
            return false;
        };
        let unit = self.unit();
        words.drain(pos * unit..(pos + 1) * unit);
        true
    }
}

/// Rewrites a [`Packing::Narrow`] list as [`Packing::Wide`].
pub(crate) fn widen(words: &mut Words) {
    *words = words
        .iter()
        .flat_map(|&w| [w & u64::from(u32::MAX), w >> 32])
        .collect();
}

/// A list's postings, in id order, as stored.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ListView<'a> {
    words: &'a [u64],
    packing: Packing,
}

impl<'a> ListView<'a> {
    pub(crate) fn len(self) -> usize {
        self.words.len() / self.packing.unit()
    }

    /// The posting at `i` (below [`ListView::len`]).
    pub(crate) fn get(self, i: usize) -> Posting {
        match self.packing {
            Packing::Narrow => narrow(self.words[i]),
            Packing::Wide => wide(&self.words[2 * i..2 * i + 2]),
        }
    }

    pub(crate) fn iter(self) -> impl Iterator<Item = Posting> + 'a {
        (0..self.len()).map(move |i| self.get(i))
    }

    /// Where record `id` is (`Ok`), or would go (`Err`).
    pub(crate) fn position(self, id: i64) -> Result<usize, usize> {
        let pos = {
            let (mut lo, mut hi) = (0, self.len());
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                if self.get(mid).id < id {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            lo
        };
        if pos < self.len() && self.get(pos).id == id {
            Ok(pos)
        } else {
            Err(pos)
        }
    }

    /// Appends `f` of every posting to `out`: one tight loop per packing,
    /// for the hot read paths.
    pub(crate) fn map_into<T>(self, out: &mut Vec<T>, mut f: impl FnMut(Posting) -> T) {
        match self.packing {
            Packing::Narrow => out.extend(self.words.iter().map(|&w| f(narrow(w)))),
            Packing::Wide => out.extend(self.words.chunks_exact(2).map(|pair| f(wide(pair)))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(other: i64, id: i64) -> Posting {
        Posting { other, id }
    }

    fn all(packing: Packing, words: &[u64]) -> Vec<Posting> {
        let mut out = Vec::new();
        packing.view(words).map_into(&mut out, |p| p);
        assert_eq!(out, packing.view(words).iter().collect::<Vec<_>>());
        out
    }

    #[test]
    fn narrow_holds_half_words_only_and_widening_keeps_every_posting() {
        let edge = i64::from(u32::MAX);
        assert!(Packing::Narrow.holds(p(edge, edge)) && Packing::Narrow.holds(p(0, 1)));
        assert!(!Packing::Narrow.holds(p(edge + 1, 1)) && !Packing::Narrow.holds(p(1, edge + 1)));
        assert!(!Packing::Narrow.holds(p(-1, 1)) && Packing::Wide.holds(p(-1, i64::MAX)));

        let postings = [p(7, 1), p(edge, 5), p(0, edge)];
        let mut words = Packing::Narrow.pair(postings[0], postings[1]);
        Packing::Narrow.push(&mut words, postings[2]);
        assert_eq!(words.len(), 3, "one word a posting");
        assert_eq!(all(Packing::Narrow, &words), postings);
        widen(&mut words);
        assert_eq!(all(Packing::Wide, &words), postings);
        Packing::Wide.push(&mut words, p(-3, i64::MAX));
        assert_eq!(words.len(), 8, "two words a posting");
        assert_eq!(Packing::Wide.view(&words).get(3), p(-3, i64::MAX));
    }

    #[test]
    fn position_and_remove_agree_with_a_vector_of_pairs() {
        for packing in [Packing::Narrow, Packing::Wide] {
            let mut reference: Vec<Posting> = (1..=40).map(|i| p(100 - i, 3 * i)).collect();
            let mut words = packing.pair(reference[0], reference[1]);
            for &q in &reference[2..] {
                packing.push(&mut words, q);
            }
            for id in 0..=125 {
                let want = reference.binary_search_by_key(&id, |q| q.id);
                assert_eq!(
                    packing.view(&words).position(id),
                    want,
                    "{packing:?} id {id}"
                );
            }
            for id in [3, 60, 120, 61, 3] {
                let want = reference.iter().position(|q| q.id == id);
                if let Some(i) = want {
                    reference.remove(i);
                }
                assert_eq!(packing.remove(&mut words, id), want.is_some());
                assert_eq!(all(packing, &words), reference);
            }
        }
    }
}
