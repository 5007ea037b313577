//! Criterion benches of the store (filled in by the performance issue).
fn main() {}
