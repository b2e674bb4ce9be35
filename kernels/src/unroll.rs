//! The crate's one compile-time unroll idiom, for the tile loops of every SIMD tier.
//!
//! `unroll!(N, |i| { body })` runs `body` once for each constant `i` in `0..N`, written
//! out: `N` is a constant expression (a const generic or an expression of them) of at most
//! 8, and each copy sits behind `if i < N`, which folds away at monomorphization. Tile
//! bodies are too big for LLVM to unroll by itself, and a rolled loop would index the
//! tile's accumulator arrays with a variable and keep them in memory instead of registers;
//! unrolled, every index is a constant.

/// Runs `$body` once for each constant `$i: usize` in `0..$n` (`$n <= 8`, a constant
/// expression), fully unrolled (see the [module docs](self)).
macro_rules! unroll {
    ($n:expr, |$i:ident| $body:block) => {{
        const { assert!($n <= 8, "unroll!: at most 8 copies") };
        $crate::unroll::unroll!(@copies $n, $i, $body, 0 1 2 3 4 5 6 7);
    }};
    (@copies $n:expr, $i:ident, $body:block, $($k:literal)*) => {$(
        if $k < $n {
            let $i: usize = $k;
            $body
        }
    )*};
}
pub(crate) use unroll;
