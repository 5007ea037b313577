//! The standard workload: one deterministic sequence of bk-cmdb operations,
//! generated from a seed, that every system runs in the same order.
//!
//! # Random numbers
//!
//! [`SplitMix64`] (Steele, Lea and Flood's `SplitMix`, as `java.util.SplittableRandom`
//! and the seeding step of xoshiro use it): the state advances by the golden
//! ratio constant `0x9E37_79B9_7F4A_7C15` and each output is that state passed
//! through a 64-bit finaliser. It is tiny, has no dependency, passes `BigCrush`,
//! and gives the same stream on every platform, so a seed names one workload.
//!
//! # Models and instances
//!
//! Five models; instance ids are global and contiguous per model (so an id
//! names one instance of one model), sized from `n`:
//!
//! | model | instances |
//! |---|---|
//! | `bk_switch` | max(4, n / 1000) |
//! | `host` | max(16, n / 4) |
//! | `disk` | max(16, n / 4) |
//! | `app` | max(4, n / 100) |
//! | `db` | max(16, n / 5) |
//!
//! # Model associations
//!
//! Five model associations covering the three mappings, one of them a model
//! associated with itself. Each takes a fixed share of the `n` associations:
//!
//! | `bk_obj_asst_id` | mapping | share |
//! |---|---|---|
//! | `bk_switch_connect_host` | 1:n | 20 % |
//! | `host_connect_disk` | 1:1 | 20 % |
//! | `app_run_host` | n:n | 30 % |
//! | `host_connect_host` | n:n (self) | 15 % |
//! | `app_group_db` | 1:n | 15 % |
//!
//! # Bulk load
//!
//! `n` items in batches of 200 (`batch_create_instance_association`), each
//! batch of one model association, batches of the five interleaved at random.
//! Each item is, by construction, exactly one of:
//!
//! * **valid** (≈ 98 %): a fresh triple that satisfies the mapping given every
//!   valid item before it (in earlier batches and earlier in its own batch);
//!   `1:1` and `1:n` draw fresh endpoints from a fixed permutation of the
//!   instances, `n:n` draws random pairs (self-links `A→A` allowed) and skips
//!   pairs already used;
//! * **repeat** (1 %): the triple of an earlier valid item of the same model
//!   association, possibly earlier in the same batch — every system must
//!   refuse it (under `1:1` / `1:n` it also breaks the mapping);
//! * **breaker** (≈ 1 %: 1.82 % of the `1:1` and `1:n` items, as `n:n` has no
//!   mapping to break): a fresh triple, never generated twice, whose source
//!   (`1:1`) or target (`1:1`, `1:n`) is already taken — every system that
//!   enforces mappings must refuse it.
//!
//! So the expected outcome is known without running anything: every valid item
//! is created (ids 1, 2, … in order), every repeat and breaker refused. A
//! system that enforces no mapping (IndraDB) stores the breakers too.
//!
//! # Lookups and single creates
//!
//! After the load, on the loaded state: `q = clamp(n / 10, 1000, 100000)`
//! lookups of each kind — get by id (uniform over the created ids), by
//! (model association, source) and by (model association, target) (the
//! endpoints of a uniformly chosen created item, so every lookup finds at least
//! one record) — and `find` by model: every record touching a model (as source
//! or target), once per model per round (3 rounds up to n = 2,000,000, then
//! 1, as one call returns a large part of the store). Last, `clamp(n / 50, 200, 20000)`
//! single creates (`add_instance_association`) drawn like the bulk items
//! (≈ 1 % repeats, ≈ 1 % breakers) from the state after the load.

use std::collections::HashSet;

/// Items per batch, bk-cmdb's limit.
pub const BATCH: usize = 200;

/// `SplitMix64`: a 64-bit state advanced by the golden-ratio increment and
/// mixed by Stafford's "Mix13" finaliser. See the module docs.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator whose stream is fixed by `seed`.
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (`bound > 0`), by Lemire's multiply-shift
    /// (the bias, below 2⁻³² here, does not matter for a workload).
    pub fn below(&mut self, bound: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(bound)) >> 64) as u64
    }

    fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }
}

/// A cardinality rule, as SPEC §1 defines them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mapping {
    /// `1:1`
    OneToOne,
    /// `1:n`
    OneToMany,
    /// `n:n`
    ManyToMany,
}

impl Mapping {
    /// bk-cmdb's name for it (`1:1`, `1:n`, `n:n`), which
    /// `assocstore::Mapping` parses.
    pub fn as_str(self) -> &'static str {
        match self {
            Mapping::OneToOne => "1:1",
            Mapping::OneToMany => "1:n",
            Mapping::ManyToMany => "n:n",
        }
    }
}

/// A model and its registered instances: ids `first..first + count`.
#[derive(Debug, Clone)]
pub struct Model {
    /// `bk_obj_id`.
    pub name: &'static str,
    /// The first instance id.
    pub first: i64,
    /// How many instances are registered.
    pub count: i64,
}

impl Model {
    /// Every registered instance id.
    pub fn ids(&self) -> std::ops::Range<i64> {
        self.first..self.first + self.count
    }
}

/// A model association.
#[derive(Debug, Clone)]
pub struct ModelAssoc {
    /// Its index in [`Workload::assocs`].
    pub index: usize,
    /// `bk_obj_asst_id`, `<src>_<kind>_<dst>`.
    pub name: String,
    /// `bk_asst_id`.
    pub kind: &'static str,
    /// Source model (index into [`Workload::models`]).
    pub src: usize,
    /// Target model.
    pub dst: usize,
    /// Source model name.
    pub src_name: &'static str,
    /// Target model name.
    pub dst_name: &'static str,
    /// The rule.
    pub mapping: Mapping,
}

/// One `batch_create_instance_association`: one model association, up to
/// [`BATCH`] (source, target) pairs.
#[derive(Debug, Clone)]
pub struct Batch {
    /// Index into [`Workload::assocs`].
    pub assoc: usize,
    /// (`bk_inst_id`, `bk_asst_inst_id`) pairs, in order.
    pub items: Vec<(i64, i64)>,
}

/// One (model association, source, target) triple.
pub type Triple = (usize, i64, i64);

/// How many items of a phase are of each kind; the expected outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Expected {
    /// Valid items: created by every system.
    pub valid: usize,
    /// Repeats of an existing triple: refused by every system.
    pub repeats: usize,
    /// Mapping breakers: refused by every system that enforces mappings.
    pub breakers: usize,
}

/// The whole standard workload. See the module docs.
#[derive(Debug)]
pub struct Workload {
    /// `n`, the number of bulk items.
    pub n: usize,
    /// The seed it was generated from.
    pub seed: u64,
    /// The models.
    pub models: Vec<Model>,
    /// The model associations.
    pub assocs: Vec<ModelAssoc>,
    /// The bulk load, in order.
    pub batches: Vec<Batch>,
    /// What the bulk load should do.
    pub bulk: Expected,
    /// The bulk load's breakers (IndraDB stores them).
    pub bulk_breakers: Vec<Triple>,
    /// Record ids to get.
    pub get_ids: Vec<i64>,
    /// The created triple with id `i + 1`, for checking gets.
    pub by_id: Vec<Triple>,
    /// (model association, source) lookups.
    pub by_source: Vec<(usize, i64)>,
    /// (model association, target) lookups.
    pub by_target: Vec<(usize, i64)>,
    /// Rounds of `find` by model; each round asks once per model.
    pub find_rounds: usize,
    /// Single creates, in order.
    pub singles: Vec<Triple>,
    /// What the single creates should do.
    pub single: Expected,
}

/// Per model association generator state.
struct AssocGen {
    mapping: Mapping,
    src: Model,
    dst: Model,
    /// Permutation strides for drawing fresh endpoints (`1:1`, `1:n`).
    src_stride: i64,
    dst_stride: i64,
    /// Fresh endpoints used so far (`1:1`: sources and targets; `1:n`: targets).
    used: i64,
    /// `1:n`: the source of the k-th used target.
    source_of: Vec<i64>,
    /// Valid triples so far, for repeats.
    valid: Vec<(i64, i64)>,
    /// `n:n`: valid pairs so far.
    pairs: HashSet<(i64, i64)>,
    /// Breakers so far, so none is generated twice.
    breakers: HashSet<(i64, i64)>,
}

/// The kind of one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Draw {
    Valid,
    Repeat,
    Breaker,
}

fn stride_for(count: i64, rng: &mut SplitMix64) -> i64 {
    fn gcd(a: i64, b: i64) -> i64 {
        if b == 0 { a } else { gcd(b, a % b) }
    }
    loop {
        let s = 1 + rng.below(count as u64) as i64;
        if gcd(s, count) == 1 {
            return s;
        }
    }
}

impl Expected {
    fn count(&mut self, kind: Draw) {
        match kind {
            Draw::Valid => self.valid += 1,
            Draw::Repeat => self.repeats += 1,
            Draw::Breaker => self.breakers += 1,
        }
    }
}

impl AssocGen {
    fn new(mapping: Mapping, src: &Model, dst: &Model, rng: &mut SplitMix64) -> AssocGen {
        AssocGen {
            mapping,
            src: src.clone(),
            dst: dst.clone(),
            src_stride: stride_for(src.count, rng),
            dst_stride: stride_for(dst.count, rng),
            used: 0,
            source_of: Vec::new(),
            valid: Vec::new(),
            pairs: HashSet::new(),
            breakers: HashSet::new(),
        }
    }

    /// The k-th instance of the source (or target) permutation.
    fn src_at(&self, k: i64) -> i64 {
        self.src.first + (k * self.src_stride) % self.src.count
    }

    fn dst_at(&self, k: i64) -> i64 {
        self.dst.first + (k * self.dst_stride) % self.dst.count
    }

    fn random_src(&self, rng: &mut SplitMix64) -> i64 {
        self.src.first + rng.below(self.src.count as u64) as i64
    }

    fn random_dst(&self, rng: &mut SplitMix64) -> i64 {
        self.dst.first + rng.below(self.dst.count as u64) as i64
    }

    /// A fresh valid triple; records it.
    fn valid(&mut self, rng: &mut SplitMix64) -> (i64, i64) {
        let pair = match self.mapping {
            Mapping::OneToOne => {
                let k = self.used;
                self.used += 1;
                assert!(k < self.src.count && k < self.dst.count, "1:1 exhausted");
                (self.src_at(k), self.dst_at(k))
            }
            Mapping::OneToMany => {
                let k = self.used;
                self.used += 1;
                assert!(k < self.dst.count, "1:n exhausted");
                let s = self.random_src(rng);
                self.source_of.push(s);
                (s, self.dst_at(k))
            }
            Mapping::ManyToMany => loop {
                let pair = (self.random_src(rng), self.random_dst(rng));
                if self.pairs.insert(pair) {
                    break pair;
                }
            },
        };
        self.valid.push(pair);
        pair
    }

    /// A permutation position not used yet, out of `count`.
    fn fresh(&self, count: i64, rng: &mut SplitMix64) -> Option<i64> {
        let left = count - self.used;
        (left > 0).then(|| self.used + rng.below(left as u64) as i64)
    }

    /// A fresh triple that breaks the mapping, if one can be drawn.
    fn breaker(&mut self, rng: &mut SplitMix64) -> Option<(i64, i64)> {
        if self.used == 0 {
            return None;
        }
        for _ in 0..16 {
            let k = rng.below(self.used as u64) as i64;
            let pair = match self.mapping {
                Mapping::ManyToMany => return None,
                // A taken source with a target never used (or the reverse).
                Mapping::OneToOne if rng.below(2) == 0 => {
                    let Some(fresh) = self.fresh(self.dst.count, rng) else {
                        continue;
                    };
                    (self.src_at(k), self.dst_at(fresh))
                }
                Mapping::OneToOne => {
                    let Some(fresh) = self.fresh(self.src.count, rng) else {
                        continue;
                    };
                    (self.src_at(fresh), self.dst_at(k))
                }
                // A taken target with another source.
                Mapping::OneToMany => {
                    let s = self.random_src(rng);
                    if s == self.source_of[k as usize] {
                        continue;
                    }
                    (s, self.dst_at(k))
                }
            };
            if self.breakers.insert(pair) {
                return Some(pair);
            }
        }
        None
    }

    /// One item of the drawn kind, or a valid one when that kind cannot be
    /// drawn yet; returns the pair and the kind it is.
    fn item(&mut self, draw: Draw, rng: &mut SplitMix64) -> ((i64, i64), Draw) {
        match draw {
            Draw::Repeat if !self.valid.is_empty() => {
                (self.valid[rng.index(self.valid.len())], Draw::Repeat)
            }
            Draw::Breaker => {
                if let Some(pair) = self.breaker(rng) {
                    (pair, Draw::Breaker)
                } else {
                    (self.valid(rng), Draw::Valid)
                }
            }
            _ => (self.valid(rng), Draw::Valid),
        }
    }
}

/// Per 10,000 items: repeats, and breakers among `1:1` / `1:n` items.
const REPEAT_PER_10K: u64 = 100;
const BREAKER_PER_10K: u64 = 182;

fn draw(rng: &mut SplitMix64, mapping: Mapping) -> Draw {
    let r = rng.below(10_000);
    if r < REPEAT_PER_10K {
        Draw::Repeat
    } else if r < REPEAT_PER_10K + BREAKER_PER_10K && mapping != Mapping::ManyToMany {
        Draw::Breaker
    } else {
        Draw::Valid
    }
}

/// The five model associations: (source, kind, target, mapping, share %).
const ASSOCS: [(usize, &str, usize, Mapping, usize); 5] = [
    (0, "connect", 1, Mapping::OneToMany, 20),
    (1, "connect", 2, Mapping::OneToOne, 20),
    (3, "run", 1, Mapping::ManyToMany, 30),
    (1, "connect", 1, Mapping::ManyToMany, 15),
    (3, "group", 4, Mapping::OneToMany, 15),
];

/// The models, instance ids contiguous per model.
fn models(n: usize) -> Vec<Model> {
    let n = n as i64;
    let mut first = 1;
    let sizes = [
        ("bk_switch", (n / 1000).max(4)),
        ("host", (n / 4).max(16)),
        ("disk", (n / 4).max(16)),
        ("app", (n / 100).max(4)),
        ("db", (n / 5).max(16)),
    ];
    let models = sizes.into_iter().map(|(name, count)| {
        let model = Model { name, first, count };
        first += count;
        model
    });
    models.collect()
}

fn model_assocs(models: &[Model]) -> Vec<ModelAssoc> {
    let assocs = ASSOCS
        .iter()
        .enumerate()
        .map(|(index, &(src, kind, dst, mapping, _))| ModelAssoc {
            index,
            name: format!("{}_{kind}_{}", models[src].name, models[dst].name),
            kind,
            src,
            dst,
            src_name: models[src].name,
            dst_name: models[dst].name,
            mapping,
        });
    assocs.collect()
}

/// (model association, batch size) for each batch, shuffled.
fn batch_plan(n: usize, rng: &mut SplitMix64) -> Vec<(usize, usize)> {
    let mut plan = Vec::new();
    let mut assigned = 0;
    for (assoc, &(.., share)) in ASSOCS.iter().enumerate() {
        let items = if assoc + 1 == ASSOCS.len() {
            n - assigned
        } else {
            n * share / 100
        };
        assigned += items;
        let full = std::iter::repeat_n((assoc, BATCH), items / BATCH);
        plan.extend(full.chain((items % BATCH > 0).then_some((assoc, items % BATCH))));
    }
    for i in (1..plan.len()).rev() {
        plan.swap(i, rng.index(i + 1));
    }
    plan
}

impl Workload {
    /// The standard workload of `n` bulk items from `seed`.
    pub fn generate(n: usize, seed: u64) -> Workload {
        let mut rng = SplitMix64::new(seed);
        let models = models(n);
        let assocs = model_assocs(&models);
        let mut gens: Vec<AssocGen> = (assocs.iter())
            .map(|a| AssocGen::new(a.mapping, &models[a.src], &models[a.dst], &mut rng))
            .collect();

        let mut bulk = Expected::default();
        let mut bulk_breakers = Vec::new();
        let mut by_id: Vec<Triple> = Vec::with_capacity(n);
        let mut batches = Vec::new();
        for (assoc, size) in batch_plan(n, &mut rng) {
            let state = &mut gens[assoc];
            let mut items = Vec::with_capacity(size);
            for _ in 0..size {
                let ((src, dst), kind) = state.item(draw(&mut rng, state.mapping), &mut rng);
                bulk.count(kind);
                match kind {
                    Draw::Valid => by_id.push((assoc, src, dst)),
                    Draw::Breaker => bulk_breakers.push((assoc, src, dst)),
                    Draw::Repeat => {}
                }
                items.push((src, dst));
            }
            batches.push(Batch { assoc, items });
        }

        let lookups = (n / 10).clamp(1000, 100_000);
        let mut pick = || by_id[rng.index(by_id.len())];
        let by_source = (0..lookups).map(|_| pick()).map(|t| (t.0, t.1)).collect();
        let by_target = (0..lookups).map(|_| pick()).map(|t| (t.0, t.2)).collect();
        let created = by_id.len() as u64;
        let get_ids = (0..lookups)
            .map(|_| 1 + rng.below(created) as i64)
            .collect();

        let mut single = Expected::default();
        let mut singles = Vec::new();
        for _ in 0..(n / 50).clamp(200, 20_000) {
            let assoc = pick_assoc(&mut rng);
            let state = &mut gens[assoc];
            let ((src, dst), kind) = state.item(draw(&mut rng, state.mapping), &mut rng);
            single.count(kind);
            singles.push((assoc, src, dst));
        }

        Workload {
            n,
            seed,
            models,
            assocs,
            batches,
            bulk,
            bulk_breakers,
            get_ids,
            by_id,
            by_source,
            by_target,
            find_rounds: if n > 2_000_000 { 1 } else { 3 },
            singles,
            single,
        }
    }
}

/// A model association index, weighted by share.
fn pick_assoc(rng: &mut SplitMix64) -> usize {
    let mut r = rng.below(100) as usize;
    for (a, &(.., share)) in ASSOCS.iter().enumerate() {
        if r < share {
            return a;
        }
        r -= share;
    }
    ASSOCS.len() - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_workload() {
        let a = Workload::generate(5000, 7);
        let b = Workload::generate(5000, 7);
        assert_eq!(a.batches.len(), b.batches.len());
        assert!(
            a.batches
                .iter()
                .zip(&b.batches)
                .all(|(x, y)| x.items == y.items)
        );
        assert_eq!(a.singles, b.singles);
    }

    #[test]
    fn about_one_percent_of_each_bad_kind() {
        let w = Workload::generate(200_000, 1);
        let total = w.bulk.valid + w.bulk.repeats + w.bulk.breakers;
        assert_eq!(total, 200_000);
        assert!((1500..2500).contains(&w.bulk.repeats), "{:?}", w.bulk);
        assert!((1500..2500).contains(&w.bulk.breakers), "{:?}", w.bulk);
        assert_eq!(w.by_id.len(), w.bulk.valid);
    }
}
