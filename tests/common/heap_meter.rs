//! Deterministic work bounds for tests: a global allocator that counts, per thread, the
//! allocations made and the bytes requested and held while a closure runs.
//!
//! Tests must not assert wall-clock time (a shared machine or an emulator makes any bound a
//! coin toss). What a hostile input can cost is bounded instead by the work it makes the
//! code do, and building values is the work that can run away: a template that repeats a
//! sequence lazily, or a tokenizer that copies its input per merge, shows up here as
//! allocations, the same count on every run and every machine.
//!
//! A test binary that uses it declares the allocator once:
//! `#[global_allocator] static HEAP: HeapMeter = HeapMeter;`

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The counting allocator: [`System`] plus per-thread counters.
pub struct HeapMeter;

/// Heap work of one closure on one thread.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeapWork {
    /// Calls to `alloc`, `alloc_zeroed` and `realloc`.
    pub allocations: u64,
    /// Bytes requested by those calls (a `realloc` counts its new size).
    pub bytes: u64,
    /// Most bytes live at once, counted from the closure's start (frees of memory allocated
    /// before the start can make the live count dip below zero; it is clamped there).
    pub peak_live_bytes: u64,
}

#[derive(Clone, Copy)]
struct Counters {
    allocations: u64,
    bytes: u64,
    live: i64,
    peak_live: i64,
}

const ZERO: Counters = Counters {
    allocations: 0,
    bytes: 0,
    live: 0,
    peak_live: 0,
};

thread_local! {
    // Const-initialized and without a destructor, so touching it from inside the allocator
    // never allocates and never races thread teardown.
    static COUNTERS: Cell<Counters> = const { Cell::new(ZERO) };
}

fn record(grown: u64, freed: u64, is_allocation: bool) {
    // try_with: a thread being torn down may still free memory after its TLS is gone.
    let _ = COUNTERS.try_with(|cell| {
        let mut c = cell.get();
        if is_allocation {
            c.allocations += 1;
            c.bytes += grown;
        }
        c.live += grown as i64 - freed as i64;
        c.peak_live = c.peak_live.max(c.live);
        cell.set(c);
    });
}

// SAFETY: every call forwards to `System` with the caller's arguments unchanged; the
// counters only read sizes and never touch the memory.
unsafe impl GlobalAlloc for HeapMeter {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(layout.size() as u64, 0, true);
        // SAFETY: the caller's contract for `alloc` is `System.alloc`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record(layout.size() as u64, 0, true);
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        record(0, layout.size() as u64, false);
        // SAFETY: `ptr` came from `System` through this allocator with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record(new_size as u64, layout.size() as u64, true);
        // SAFETY: as for `dealloc`; `new_size` is the caller's, checked by the caller.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Runs `f` and returns its result with the heap work it did on this thread.
pub fn measure<T>(f: impl FnOnce() -> T) -> (T, HeapWork) {
    let before = COUNTERS.with(|cell| {
        let c = cell.get();
        cell.set(Counters {
            live: 0,
            peak_live: 0,
            ..c
        });
        c
    });
    let result = f();
    let after = COUNTERS.with(Cell::get);
    let work = HeapWork {
        allocations: after.allocations - before.allocations,
        bytes: after.bytes - before.bytes,
        peak_live_bytes: after.peak_live.max(0) as u64,
    };
    (result, work)
}
