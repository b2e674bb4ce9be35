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

/// Weight types the matrix products accept.
pub const MATRIX_TYPES: &[GgmlType] = &[
    GgmlType::F32,
    GgmlType::F16,
    GgmlType::Q8_0,
    GgmlType::Q4_0,
    GgmlType::Q4_1,
    GgmlType::Q4K,
    GgmlType::Q6K,
];

/// Looks tensors up by name, checks their shapes, and remembers which were used so that
/// tensors a graph does not know are reported instead of silently ignored.
pub struct WeightLoader {
    file: Arc<GgufFile>,
    used: RefCell<HashSet<String>>,
    /// Repack matrices into panels (and release their mapped pages).
    pack: bool,
}

impl WeightLoader {
    /// A loader over `file`; with `pack`, Q8_0/Q4_0/Q4_1 matrices are repacked into
    /// panels at load and their mapped pages released.
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
