//! Temporary scalar stand-in for the `ops` table (being written on another branch).
#![allow(dead_code)]

use crate::formats::f16_to_f32;

pub struct Ops;

impl Ops {
    pub fn dot(&self, a: &[f32], b: &[f32]) -> f32 {
        let mut acc = [0.0f32; 16];
        let (ca, cb) = (a.chunks_exact(16), b.chunks_exact(16));
        let (ra, rb) = (ca.remainder(), cb.remainder());
        for (x, y) in ca.zip(cb) {
            for l in 0..16 {
                acc[l] += x[l] * y[l];
            }
        }
        for (l, (x, y)) in ra.iter().zip(rb).enumerate() {
            acc[l] += x * y;
        }
        acc.iter().sum()
    }
    pub fn dot_f16(&self, a: &[f32], b: &[u16]) -> f32 {
        let mut acc = [0.0f32; 16];
        for (i, (x, &y)) in a.iter().zip(b).enumerate() {
            acc[i % 16] += x * f16_to_f32(y);
        }
        acc.iter().sum()
    }
    pub fn axpy(&self, y: &mut [f32], alpha: f32, x: &[f32]) {
        for (o, v) in y.iter_mut().zip(x) {
            *o += alpha * v;
        }
    }
    pub fn axpy_f16(&self, y: &mut [f32], alpha: f32, x: &[u16]) {
        for (o, &v) in y.iter_mut().zip(x) {
            *o += alpha * f16_to_f32(v);
        }
    }
    pub fn scale(&self, x: &mut [f32], s: f32) {
        for v in x {
            *v *= s;
        }
    }
    pub fn exp(&self, x: &mut [f32]) {
        for v in x {
            *v = crate::reference::math::exp(f64::from(*v)) as f32;
        }
    }
}
