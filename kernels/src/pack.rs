//! Weight panels repacked once at load: 4 rows interleaved in 8-byte groups ("x4x8").
//!
//! One panel block holds one 32-value K block of 4 consecutive weight rows:
//! - the 4 row scales (and Q4_1 minimums) as f32 (exact conversions of the f16 originals,
//!   so results stay bit-identical with the scalar reference);
//! - the quants, as 16-byte vectors `[row r 8 bytes][row r+1 8 bytes]` in the order
//!   `(group q, rows 0-1), (group q, rows 2-3)` for q = 0, 1, ...
//!
//! For Q8_0 a group is 8 consecutive values (4 groups per block). For Q4_0/Q4_1 a group is
//! 8 bytes of the ggml block: their low nibbles are values `8q..8q+8` and their high
//! nibbles values `16+8q..16+8q+8` (2 groups per block). Q4_0 bytes are stored XOR 0x88,
//! which turns each nibble into the two's-complement 4-bit value of `code - 8`: a shift
//! left by 4 (low) or a mask with 0xF0 (high) then yields `16 * (code - 8)` as an int8,
//! so the inner loop needs no subtraction; the integer sum is divided by 16 exactly at
//! the end of the block.
//!
//! This single layout serves every ARM tier: `sdot` on whole vectors with the activation
//! group duplicated (dotprod), `smmla` taking the vector as a 2x8 matrix (i8mm), and
//! `smull` + `sadalp` (ARMv8.0 NEON). Rows are padded to a multiple of 4 with zero rows.
//! Panels are stored group-major (all K blocks of rows 0-3, then of rows 4-7, ...), so a
//! thread working on a range of row groups streams contiguous memory.
//!
//! Q4_K weights become Q4_1 panels, losslessly: each sub-block of 32 is a Q4_1 block whose
//! scale `d * sc[j]` and minimum `-(dmin * m[j])` are exact in f32
//! ([`BlockQ4K::sub_block_as_q4_1`]). Every tier's Q4_1 kernels then serve them, with Q8_1
//! activations (one scale per 32 values, finer than the Q8_K of ggml's Q4_K dot, so
//! results differ from llama.cpp's only by activation rounding). The panels take 6 bits
//! per weight instead of Q4_K's 4.5.
//!
//! Q5_0 weights become Q8_0 panels, losslessly: `code - 16` (-16..=15) is an int8 quant
//! and the f16 `d` is the same, so a Q5_0 block is exactly a Q8_0 block
//! ([`BlockQ5_0::quants`]), and the Q8_0 kernels compute `dot_q5_0_q8_0` bit for bit.
//! A stopgap until Q5 panels of their own: Q8_0 panels take 9 bits per weight in
//! memory (144 bytes per 4 x 32 values, f32 scales included; a Q8_0 file block is 8.5)
//! where Q5_0 takes 5.5, so these matrices cost 1.64x their file size. Q5_1 and Q5_K have no lossless panel yet: their 5-bit codes do not fit the
//! nibbles of Q4_1 panels, and the int8 panels (Q8_0, Q6_K) carry no per-block minimum.
//!
//! Q6_K panels ([`BlockQ6Kx4`]) hold, per K block of 32 and row, the signed quants
//! `code - 32` as int8 in the Q8_0 layout, the two int8 scales of the block's two
//! sub-blocks of 16, and the super-block's `d` as f32: `x = d * sc * q` exactly as ggml
//! dequantizes. Kernels scale each sub-block's integer sum by its `sc` (exact in int32)
//! and take Q8_0 activations. 9.5 bits per weight instead of Q6_K's 6.56: the 6-bit codes
//! are stored unpacked so that the inner loop is the Q8_0 one.

use alloc::vec::Vec;
use bytemuck::{Pod, Zeroable};

use crate::formats::{
    f16_to_f32, BlockQ4K, BlockQ4_0, BlockQ4_1, BlockQ5_0, BlockQ6K, BlockQ8_0, FormatError,
    GgmlType,
};

/// Weight rows per panel.
pub const PANEL_ROWS: usize = 4;

/// Q8_0 panel block: 4 rows x 32 values.
#[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
#[repr(C)]
pub struct BlockQ8_0x4 {
    pub d: [f32; 4],
    /// `[(q, rows 0-1), (q, rows 2-3)]` 16-byte vectors for q = 0..4.
    pub qs: [i8; 128],
}

/// Q4_0 panel block: 4 rows x 32 values, nibbles XOR 0x88.
#[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
#[repr(C)]
pub struct BlockQ4_0x4 {
    pub d: [f32; 4],
    /// `[(q, rows 0-1), (q, rows 2-3)]` 16-byte vectors for q = 0..2.
    pub qs: [u8; 64],
}

/// Q4_1 panel block: 4 rows x 32 values, plain nibbles (codes 0..=15).
#[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
#[repr(C)]
pub struct BlockQ4_1x4 {
    pub d: [f32; 4],
    pub m: [f32; 4],
    /// `[(q, rows 0-1), (q, rows 2-3)]` 16-byte vectors for q = 0..2.
    pub qs: [u8; 64],
}

/// Q6_K panel block: 4 rows x 32 values of one Q6_K super-block each.
#[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
#[repr(C)]
pub struct BlockQ6Kx4 {
    /// The super-block scale of each row (exact f32 of the f16).
    pub d: [f32; 4],
    /// `sc[4 h + r]`: the scale of row `r`'s values `16 h..16 h + 16` (h = 0, 1).
    pub sc: [i8; 8],
    /// `code - 32` (-32..=31), `[(q, rows 0-1), (q, rows 2-3)]` 16-byte vectors for
    /// q = 0..4, as [`BlockQ8_0x4::qs`].
    pub qs: [i8; 128],
}

const _: () = assert!(core::mem::size_of::<BlockQ8_0x4>() == 144);
const _: () = assert!(core::mem::size_of::<BlockQ6Kx4>() == 152);
const _: () = assert!(core::mem::size_of::<BlockQ4_0x4>() == 80);
const _: () = assert!(core::mem::size_of::<BlockQ4_1x4>() == 96);

/// Byte offset, within a panel block's quants, of row `r`'s group `q`.
#[inline(always)]
pub const fn group_offset(q: usize, r: usize) -> usize {
    (q * PANEL_ROWS + r) * 8
}

/// The panel blocks of one format.
#[derive(Clone, Debug, PartialEq)]
pub enum PanelData {
    Q8_0(Vec<BlockQ8_0x4>),
    Q4_0(Vec<BlockQ4_0x4>),
    Q4_1(Vec<BlockQ4_1x4>),
    Q6K(Vec<BlockQ6Kx4>),
}

/// A weight matrix of `rows` outputs by `cols` inputs, repacked into x4x8 panels.
#[derive(Clone, Debug, PartialEq)]
pub struct PackedMatrix {
    pub rows: usize,
    pub cols: usize,
    /// The GGUF type the panels were made from (Q4_K for Q4_1 panels of Q4_K weights,
    /// Q5_0 for Q8_0 panels of Q5_0 weights).
    pub source: GgmlType,
    pub data: PanelData,
}

impl PackedMatrix {
    /// Whether [`PackedMatrix::pack`] accepts weights of this type.
    pub fn supports(ty: GgmlType) -> bool {
        Self::panel_type(ty).is_some()
    }

    /// The panel format weights of type `ty` pack into (what [`PackedMatrix::ty`] will
    /// say, and so which kernel and activations serve them), or `None` when they do not
    /// pack: Q4_K becomes Q4_1 panels and Q5_0 Q8_0 panels (see the module docs).
    pub fn panel_type(ty: GgmlType) -> Option<GgmlType> {
        match ty {
            GgmlType::Q8_0 | GgmlType::Q5_0 => Some(GgmlType::Q8_0),
            GgmlType::Q4_0 => Some(GgmlType::Q4_0),
            GgmlType::Q4_1 | GgmlType::Q4K => Some(GgmlType::Q4_1),
            GgmlType::Q6K => Some(GgmlType::Q6K),
            _ => None,
        }
    }

    /// Repacks a row-major GGUF matrix (`rows` rows of `cols` values of type `ty`; the
    /// bytes need no alignment).
    pub fn pack(
        ty: GgmlType,
        bytes: &[u8],
        rows: usize,
        cols: usize,
    ) -> Result<PackedMatrix, FormatError> {
        let data = match ty {
            GgmlType::Q8_0 => PanelData::Q8_0(pack_blocks(ty, bytes, rows, cols, pack_q8_0)?),
            GgmlType::Q5_0 => PanelData::Q8_0(pack_blocks(ty, bytes, rows, cols, pack_q5_0)?),
            GgmlType::Q4_0 => PanelData::Q4_0(pack_blocks(ty, bytes, rows, cols, pack_q4_0)?),
            GgmlType::Q4_1 => PanelData::Q4_1(pack_blocks(ty, bytes, rows, cols, pack_q4_1)?),
            GgmlType::Q4K => PanelData::Q4_1(pack_blocks(ty, bytes, rows, cols, pack_q4_k)?),
            GgmlType::Q6K => PanelData::Q6K(pack_blocks(ty, bytes, rows, cols, pack_q6_k)?),
            _ => return Err(FormatError::Unsupported { ty, op: "pack" }),
        };
        Ok(PackedMatrix {
            rows,
            cols,
            source: ty,
            data,
        })
    }

    /// The panel format, which decides the kernel and the activations: Q8_0 (also for
    /// Q5_0 weights), Q4_0, Q4_1 (also for Q4_K weights) or Q6_K;
    /// [`PackedMatrix::source`] keeps the GGUF type.
    pub fn ty(&self) -> GgmlType {
        match self.data {
            PanelData::Q8_0(_) => GgmlType::Q8_0,
            PanelData::Q4_0(_) => GgmlType::Q4_0,
            PanelData::Q4_1(_) => GgmlType::Q4_1,
            PanelData::Q6K(_) => GgmlType::Q6K,
        }
    }

    /// Panel rows groups (rows / 4, rounded up).
    pub fn groups(&self) -> usize {
        self.rows.div_ceil(PANEL_ROWS)
    }

    /// K blocks of 32 per row.
    pub fn k_blocks(&self) -> usize {
        self.cols / 32
    }

    /// Bytes held by the panels.
    pub fn bytes(&self) -> usize {
        match &self.data {
            PanelData::Q8_0(v) => core::mem::size_of_val(v.as_slice()),
            PanelData::Q4_0(v) => core::mem::size_of_val(v.as_slice()),
            PanelData::Q4_1(v) => core::mem::size_of_val(v.as_slice()),
            PanelData::Q6K(v) => core::mem::size_of_val(v.as_slice()),
        }
    }
}

/// Reads block `i` of type `B` from unaligned bytes.
fn read_block<B: Pod>(bytes: &[u8], i: usize) -> B {
    let size = core::mem::size_of::<B>();
    bytemuck::pod_read_unaligned(&bytes[i * size..(i + 1) * size])
}

/// Checks the geometry and builds the panels group by group; `pack_one` makes one panel
/// block from the (up to) 4 source blocks holding a K block of 32 and the index of that
/// K block within them (always 0 for 32-value formats; missing rows are zero blocks).
fn pack_blocks<B: Pod, P: Pod>(
    ty: GgmlType,
    bytes: &[u8],
    rows: usize,
    cols: usize,
    pack_one: fn(&[B; PANEL_ROWS], usize) -> P,
) -> Result<Vec<P>, FormatError> {
    let block_elems = ty.block_elems();
    let (kb, row_blocks) = (cols / 32, cols / block_elems);
    let expected = rows
        .checked_mul(row_blocks)
        .and_then(|n| n.checked_mul(core::mem::size_of::<B>()));
    if !cols.is_multiple_of(block_elems) || expected != Some(bytes.len()) {
        return Err(FormatError::LengthMismatch {
            ty,
            block_elems: bytes.len() / core::mem::size_of::<B>() * block_elems,
            f32_elems: rows.saturating_mul(cols),
        });
    }
    let subs = block_elems / 32;
    let groups = rows.div_ceil(PANEL_ROWS);
    let mut out = Vec::with_capacity(groups * kb);
    for g in 0..groups {
        for b in 0..kb {
            let src: [B; PANEL_ROWS] = core::array::from_fn(|r| {
                let row = g * PANEL_ROWS + r;
                if row < rows {
                    read_block(bytes, row * row_blocks + b / subs)
                } else {
                    B::zeroed()
                }
            });
            out.push(pack_one(&src, b % subs));
        }
    }
    Ok(out)
}

fn pack_q8_0(src: &[BlockQ8_0; PANEL_ROWS], _: usize) -> BlockQ8_0x4 {
    let mut p = BlockQ8_0x4::zeroed();
    for (r, block) in src.iter().enumerate() {
        p.d[r] = f16_to_f32(block.d);
        for q in 0..4 {
            let at = group_offset(q, r);
            p.qs[at..at + 8].copy_from_slice(&block.qs[8 * q..8 * q + 8]);
        }
    }
    p
}

/// 4 Q5_0 blocks as a Q8_0 panel block: the same `d`, quants `code - 16`.
fn pack_q5_0(src: &[BlockQ5_0; PANEL_ROWS], _: usize) -> BlockQ8_0x4 {
    let mut p = BlockQ8_0x4::zeroed();
    for (r, block) in src.iter().enumerate() {
        p.d[r] = f16_to_f32(block.d);
        let quants = block.quants();
        for q in 0..4 {
            let at = group_offset(q, r);
            p.qs[at..at + 8].copy_from_slice(&quants[8 * q..8 * q + 8]);
        }
    }
    p
}

fn pack_q4_0(src: &[BlockQ4_0; PANEL_ROWS], _: usize) -> BlockQ4_0x4 {
    let mut p = BlockQ4_0x4::zeroed();
    for (r, block) in src.iter().enumerate() {
        p.d[r] = f16_to_f32(block.d);
        for q in 0..2 {
            let at = group_offset(q, r);
            for i in 0..8 {
                p.qs[at + i] = block.qs[8 * q + i] ^ 0x88;
            }
        }
    }
    p
}

fn pack_q4_1(src: &[BlockQ4_1; PANEL_ROWS], _: usize) -> BlockQ4_1x4 {
    let mut p = BlockQ4_1x4::zeroed();
    for (r, block) in src.iter().enumerate() {
        put_q4_1_row(
            &mut p,
            r,
            f16_to_f32(block.d),
            f16_to_f32(block.m),
            &block.qs,
        );
    }
    p
}

/// Sub-block `j` of 4 Q4_K blocks as a Q4_1 panel block (see the module docs).
fn pack_q4_k(src: &[BlockQ4K; PANEL_ROWS], j: usize) -> BlockQ4_1x4 {
    let mut p = BlockQ4_1x4::zeroed();
    for (r, block) in src.iter().enumerate() {
        let (d, m, qs) = block.sub_block_as_q4_1(j);
        put_q4_1_row(&mut p, r, d, m, &qs);
    }
    p
}

/// Row `r` of a Q4_1 panel block: its scales and its 16 bytes of Q4_1-ordered nibbles.
fn put_q4_1_row(p: &mut BlockQ4_1x4, r: usize, d: f32, m: f32, qs: &[u8; 16]) {
    (p.d[r], p.m[r]) = (d, m);
    for q in 0..2 {
        let at = group_offset(q, r);
        p.qs[at..at + 8].copy_from_slice(&qs[8 * q..8 * q + 8]);
    }
}

/// K block `b` (0..8) of 4 Q6_K blocks as a Q6_K panel block (see the module docs).
fn pack_q6_k(src: &[BlockQ6K; PANEL_ROWS], b: usize) -> BlockQ6Kx4 {
    let mut p = BlockQ6Kx4::zeroed();
    for (r, block) in src.iter().enumerate() {
        p.d[r] = f16_to_f32(block.d);
        p.sc[r] = block.scales[2 * b];
        p.sc[4 + r] = block.scales[2 * b + 1];
        let quants = block.quants();
        for q in 0..4 {
            let at = group_offset(q, r);
            p.qs[at..at + 8].copy_from_slice(&quants[32 * b + 8 * q..32 * b + 8 * q + 8]);
        }
    }
    p
}
