//! Clocks and the heap counter.

use std::alloc::System;
use std::time::Instant;

use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

/// Counts every allocation of this process that goes through Rust's global
/// allocator (requested sizes, not `malloc`'s own overhead).
#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Bytes currently allocated through the global allocator.
pub fn heap_bytes() -> usize {
    let s = GLOBAL.stats();
    s.bytes_allocated.saturating_sub(s.bytes_deallocated)
}

/// The median of `values` (the mean of the middle two for an even count);
/// `NaN` when empty.
pub fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        f64::midpoint(values[mid - 1], values[mid])
    }
}

/// Runs `work` over `items` in chunks of `chunk`, timing each chunk; returns
/// the median over chunks of nanoseconds per unit (`units` gives a chunk's
/// unit count) and the total seconds.
pub fn chunked<T>(
    items: &[T],
    chunk: usize,
    units: impl Fn(&[T]) -> usize,
    mut work: impl FnMut(&T),
) -> (f64, f64) {
    let mut per_unit = Vec::with_capacity(items.len() / chunk + 1);
    let start = Instant::now();
    for part in items.chunks(chunk) {
        let t = Instant::now();
        for item in part {
            work(item);
        }
        let ns = t.elapsed().as_nanos() as f64;
        per_unit.push(ns / units(part).max(1) as f64);
    }
    (median(&mut per_unit), start.elapsed().as_secs_f64())
}
