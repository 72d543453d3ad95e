//! The kernels' parameter types, shared by the CPU ops and their CUDA launchers: Adam's
//! per-step scalars and the shape of an im2col. A leaf: it uses no other kernel module, so the
//! launchers (`cuda.rs`) depend only on it and the ops depend on the launchers, never the
//! other way round.
use candle_core::Shape;

/// The per-step scalars of Adam for one parameter, in f32.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamCoefficients {
    /// β1.
    pub beta1: f32,
    /// 1 − β1.
    pub one_minus_beta1: f32,
    /// β2.
    pub beta2: f32,
    /// 1 − β2.
    pub one_minus_beta2: f32,
    /// 1 / sqrt(1 − β2^t).
    pub inv_bias_correction2_sqrt: f32,
    /// ε.
    pub eps: f32,
    /// lr / (1 − β1^t).
    pub step_size: f32,
    /// L2 penalty (0 for none).
    pub weight_decay: f32,
}

impl AdamCoefficients {
    /// The scalars for update number `step` (starting at 1) with learning rate `lr`, moment
    /// decays `beta1`, `beta2`, `eps` and L2 penalty `weight_decay` (see
    /// [`crate::AdamConfig::coefficients`]).
    pub fn new(lr: f64, beta1: f64, beta2: f64, eps: f64, weight_decay: f64, step: u64) -> Self {
        let t = step.min(i32::MAX as u64) as i32;
        let bc1 = 1.0 - beta1.powi(t);
        let bc2_sqrt = (1.0 - beta2.powi(t)).sqrt();
        AdamCoefficients {
            beta1: beta1 as f32,
            one_minus_beta1: (1.0 - beta1) as f32,
            beta2: beta2 as f32,
            one_minus_beta2: (1.0 - beta2) as f32,
            inv_bias_correction2_sqrt: (1.0 / bc2_sqrt) as f32,
            eps: eps as f32,
            step_size: (lr / bc1) as f32,
            weight_decay: weight_decay as f32,
        }
    }
}

/// Shape of one im2col: kernel `kh`x`kw`, zero padding `pad`, stride 1, on `[K, C, N, H, W]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Geometry {
    pub k: usize,
    pub c: usize,
    pub n: usize,
    pub h: usize,
    pub w: usize,
    pub kh: usize,
    pub kw: usize,
    pub pad: usize,
}

impl Geometry {
    /// Output rows.
    pub fn ho(&self) -> usize {
        self.h + 2 * self.pad + 1 - self.kh
    }

    /// Output columns.
    pub fn wo(&self) -> usize {
        self.w + 2 * self.pad + 1 - self.kw
    }

    /// Rows of the column matrix (per replica): `C·kh·kw`.
    pub fn j(&self) -> usize {
        self.c * self.kh * self.kw
    }

    /// Shape of the activations.
    pub fn x_shape(&self) -> Shape {
        Shape::from((self.k, self.c, self.n, self.h, self.w))
    }

    /// Shape of the column matrices.
    pub fn cols_shape(&self) -> Shape {
        Shape::from((self.k, self.j(), self.n * self.ho() * self.wo()))
    }
}
