//! Weight tensors as the graph uses them: matrices (zero-copy views of the mapped file)
//! and small f32 vectors (norm weights, biases), checked against the expected shapes.

use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::Arc;

use super::ModelError;
use crate::gguf::{GgufFile, TensorInfo};
use slimlm_kernels::formats::{self, GgmlType};
use slimlm_kernels::pack::PackedMatrix;

/// A weight matrix of `rows` output features by `cols` input features, stored row-major
/// in a GGUF block format (ggml dims `[cols, rows]`). The bytes stay in the mapped file.
#[derive(Clone)]
pub struct Matrix {
    pub name: String,
    pub ty: GgmlType,
    pub rows: usize,
    pub cols: usize,
    file: Arc<GgufFile>,
    offset: usize,
    len: usize,
    /// The x4x8 panels the products use, when the type has them.
    packed: Option<Arc<PackedMatrix>>,
}

impl Matrix {
    /// The repacked panels, if the products use them.
    pub fn packed(&self) -> Option<&PackedMatrix> {
        self.packed.as_deref()
    }

    /// The raw bytes of the whole matrix.
    pub fn bytes(&self) -> &[u8] {
        &self.file.file_bytes()[self.offset..self.offset + self.len]
    }

    /// Bytes of one row.
    pub fn row_bytes(&self) -> usize {
        self.len / self.rows
    }
}

impl std::fmt::Debug for Matrix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} [{}x{}]", self.name, self.ty, self.rows, self.cols)
    }
}

/// Weight types the matrix products accept: the float types, and every type with a
/// lossless panel ([`PackedMatrix::panel_type`]): Q4_K runs as Q4_1 panels and Q5_0 as
/// Q8_0 panels (llama.cpp's Q4_K_M files store every matrix whose width is not a
/// multiple of 256 as Q5_0). Q5_1 and Q5_K have no lossless panel yet and are refused
/// with [`ModelError::TensorType`] naming the tensor, rather than run on a slow path.
pub const MATRIX_TYPES: &[GgmlType] = &[
    GgmlType::F32,
    GgmlType::F16,
    GgmlType::Q8_0,
    GgmlType::Q4_0,
    GgmlType::Q4_1,
    GgmlType::Q5_0,
    GgmlType::Q4K,
    GgmlType::Q6K,
];

/// How slimlm computes with tensors of type `ty`, in words (for `slimlm info`): the
/// panels its matrices run on, or whether only vectors (decoded to f32) are accepted, or
/// nothing.
pub fn type_support(ty: GgmlType) -> String {
    if let Some(panel) = PackedMatrix::panel_type(ty) {
        return if panel == ty {
            format!("supported: matrices as {panel} panels")
        } else {
            format!("supported: matrices as {panel} panels (lossless repack)")
        };
    }
    if MATRIX_TYPES.contains(&ty) {
        return "supported: float matrices and vectors".into();
    }
    let mut one_block = vec![0.0f32; ty.block_elems()];
    match formats::dequantize_row(ty, &vec![0u8; ty.block_bytes()], &mut one_block) {
        Ok(()) => format!("vectors only: no kernel for {ty} matrices"),
        Err(_) => "not supported".into(),
    }
}

/// [`type_support`] of every tensor type in `file`, one line each, in type id order.
pub fn render_support(file: &GgufFile) -> String {
    let mut types: Vec<GgmlType> = file.tensors().iter().map(|t| t.ggml_type).collect();
    types.sort_by_key(|t| t.id());
    types.dedup();
    let mut out = String::from("\nslimlm support:\n");
    for ty in types {
        out += &format!("  {:<7} {}\n", ty.name(), type_support(ty));
    }
    out
}

/// Looks tensors up by name, checks their shapes, and remembers which were used so that
/// tensors a graph does not know are reported instead of silently ignored.
pub struct WeightLoader {
    file: Arc<GgufFile>,
    used: RefCell<HashSet<String>>,
    /// Repack matrices into panels (and release their mapped pages).
    pack: bool,
}

impl WeightLoader {
    /// A loader over `file`; with `pack`, quantized matrices are repacked into panels at
    /// load (see [`PackedMatrix::panel_type`]) and their mapped pages released.
    pub fn new(file: Arc<GgufFile>, pack: bool) -> WeightLoader {
        WeightLoader {
            file,
            used: RefCell::default(),
            pack,
        }
    }

    fn info(&self, name: &str) -> Result<&TensorInfo, ModelError> {
        let info = self
            .file
            .tensor(name)
            .ok_or_else(|| ModelError::MissingTensor { name: name.into() })?;
        self.used.borrow_mut().insert(name.to_owned());
        Ok(info)
    }

    /// The first tensor of the file that no `matrix`/`vector`/`table` call asked for.
    pub fn first_unused(&self) -> Option<String> {
        let used = self.used.borrow();
        self.file
            .tensors()
            .iter()
            .find(|t| !used.contains(&t.name))
            .map(|t| t.name.clone())
    }

    /// Whether the file has a tensor of that name.
    pub fn has(&self, name: &str) -> bool {
        self.file.tensor(name).is_some()
    }

    fn check_dims(&self, info: &TensorInfo, expected: &[usize]) -> Result<(), ModelError> {
        let found: Vec<usize> = info.dims.iter().map(|&d| d as usize).collect();
        if found != expected {
            return Err(ModelError::TensorShape {
                name: info.name.clone(),
                expected: expected.to_vec(),
                found,
            });
        }
        Ok(())
    }

    /// The matrix `name` with `rows` outputs of `cols` inputs.
    pub fn matrix(&self, name: &str, rows: usize, cols: usize) -> Result<Matrix, ModelError> {
        let info = self.info(name)?;
        self.check_dims(info, &[cols, rows])?;
        if !MATRIX_TYPES.contains(&info.ggml_type) {
            return Err(ModelError::TensorType {
                name: name.into(),
                ty: info.ggml_type,
            });
        }
        // Block structs need at most 4-byte alignment (f32 rows); the GGUF alignment
        // normally gives 32, but a file may declare less.
        if info.offset % 4 != 0 {
            return Err(ModelError::Misaligned {
                name: name.into(),
                offset: info.offset,
            });
        }
        let packed = if self.pack && PackedMatrix::supports(info.ggml_type) {
            let panels =
                PackedMatrix::pack(info.ggml_type, self.file.tensor_bytes(info), rows, cols)
                    .map_err(|source| ModelError::TensorData {
                        name: name.into(),
                        source,
                    })?;
            // The panels replace the mapped bytes for products; the embedding lookup of a
            // tied table still reads a few rows back from the file when needed.
            self.file.release(info);
            Some(Arc::new(panels))
        } else {
            None
        };
        Ok(Matrix {
            name: name.into(),
            ty: info.ggml_type,
            rows,
            cols,
            file: Arc::clone(&self.file),
            offset: info.offset as usize,
            len: info.n_bytes as usize,
            packed,
        })
    }

    /// The vector `name` of `len` values, decoded to f32.
    pub fn vector(&self, name: &str, len: usize) -> Result<Vec<f32>, ModelError> {
        let info = self.info(name)?;
        self.check_dims(info, &[len])?;
        self.decode(info)
    }

    /// A small f32 table of `rows` rows of `cols` (e.g. MPT's learned positions).
    pub fn table(&self, name: &str, rows: usize, cols: usize) -> Result<Vec<f32>, ModelError> {
        let info = self.info(name)?;
        self.check_dims(info, &[cols, rows])?;
        self.decode(info)
    }

    fn decode(&self, info: &TensorInfo) -> Result<Vec<f32>, ModelError> {
        let mut out = vec![0.0f32; info.n_elements() as usize];
        formats::dequantize_row(info.ggml_type, self.file.tensor_bytes(info), &mut out).map_err(
            |source| ModelError::TensorData {
                name: info.name.clone(),
                source,
            },
        )?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_support_says_how_each_type_runs() {
        let cases = [
            (
                GgmlType::Q5_0,
                "supported: matrices as Q8_0 panels (lossless repack)",
            ),
            (
                GgmlType::Q4K,
                "supported: matrices as Q4_1 panels (lossless repack)",
            ),
            (GgmlType::Q6K, "supported: matrices as Q6_K panels"),
            (GgmlType::F16, "supported: float matrices and vectors"),
            (GgmlType::Q5_1, "vectors only: no kernel for Q5_1 matrices"),
            (GgmlType::Q5K, "vectors only: no kernel for Q5_K matrices"),
            (GgmlType::Q3K, "not supported"),
        ];
        for (ty, want) in cases {
            assert_eq!(type_support(ty), want, "{ty}");
        }
    }
}
