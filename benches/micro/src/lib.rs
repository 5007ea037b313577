//! Criterion micro-benchmarks of every assocstore operation: `cargo bench`
//! (the benches are in `benches/`; this crate has no code of its own).
