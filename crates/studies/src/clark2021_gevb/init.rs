//! The authors' initialisations (`init_methods.py`), seeded, drawn on the CPU in f32.
//!
//! A weight matrix is `[out, in]` (row `i` feeds unit `i`), as PyTorch's `nn.Linear` stores
//! it:
//! - plain: `N(0, 1/(f·in))` with `f = 1` in the first layer and `f = 0.5` after it;
//! - "+" (mono) first layer: rows in ON/OFF pairs, `W[2i] = W̃_i`, `W[2i+1] = −W̃_i`,
//!   `W̃ ~ N(0, 1/in)`;
//! - "+" (mono) later layers: `W̃ ~ N(0, 1/(0.25·in))` of shape `[out/2, in/2]` (one row when
//!   `out = 1`), `W[2i, 2j] = relu(W̃_ij)`, `W[2i, 2j+1] = relu(−W̃_ij)`,
//!   `W[2i+1, 2j] = relu(−W̃_ij)`, `W[2i+1, 2j+1] = relu(W̃_ij)`, so every entry is ≥ 0 and
//!   an ON unit excites the ON units that its OFF twin inhibits.
//!
//! Biases start at zero. The random numbers differ from PyTorch's (a ChaCha8 stream), the
//! distributions are the authors'.
use rand::Rng;
use rand_distr::{Distribution, Normal, Uniform};

use super::error::{GevbError, Result};

/// `n` draws from `N(0, std²)`.
pub(crate) fn normal<R: Rng + ?Sized>(rng: &mut R, n: usize, std: f64) -> Result<Vec<f32>> {
    let d = Normal::new(0.0f64, std)
        .map_err(|e| GevbError::Config(format!("normal with std {std}: {e}")))?;
    Ok((0..n).map(|_| d.sample(rng) as f32).collect())
}

/// `n` draws from `U[lo, hi)`.
pub(crate) fn uniform<R: Rng + ?Sized>(
    rng: &mut R,
    n: usize,
    lo: f32,
    hi: f32,
) -> Result<Vec<f32>> {
    let d = Uniform::new(lo, hi)
        .map_err(|e| GevbError::Config(format!("uniform on [{lo}, {hi}): {e}")))?;
    Ok((0..n).map(|_| d.sample(rng)).collect())
}

/// The authors' `init_linear`: an `[out, in]` weight matrix (row-major), plain or "+".
pub fn linear_weight<R: Rng + ?Sized>(
    rng: &mut R,
    out: usize,
    inp: usize,
    first_layer: bool,
    mono: bool,
) -> Result<Vec<f32>> {
    if out == 0 || inp == 0 {
        return Err(GevbError::Config(format!(
            "a linear layer needs at least one input and one output, got {inp} -> {out}"
        )));
    }
    match (mono, first_layer) {
        (false, _) => {
            let f = if first_layer { 1.0 } else { 0.5 };
            normal(rng, out * inp, 1.0 / (f * inp as f64).sqrt())
        }
        (true, true) => {
            if out % 2 != 0 {
                return Err(GevbError::Config(format!(
                    "a \"+\" first layer pairs ON/OFF units: its width must be even, got {out}"
                )));
            }
            let half = normal(rng, out / 2 * inp, 1.0 / (inp as f64).sqrt())?;
            let mut w = vec![0f32; out * inp];
            for i in 0..out / 2 {
                for j in 0..inp {
                    let v = half[i * inp + j];
                    w[2 * i * inp + j] = v;
                    w[(2 * i + 1) * inp + j] = -v;
                }
            }
            Ok(w)
        }
        (true, false) => {
            if (out % 2 != 0 && out != 1) || inp % 2 != 0 {
                return Err(GevbError::Config(format!(
                    "a \"+\" layer pairs ON/OFF units: its input width must be even and its output width even or 1, got {inp} -> {out}"
                )));
            }
            let (ho, hi) = ((out / 2).max(1), inp / 2);
            let wt = normal(rng, ho * hi, 1.0 / (0.25 * inp as f64).sqrt())?;
            let mut w = vec![0f32; out * inp];
            for i in 0..ho {
                for j in 0..hi {
                    let v = wt[i * hi + j];
                    let (pos, neg) = (v.max(0.0), (-v).max(0.0));
                    w[2 * i * inp + 2 * j] = pos;
                    w[2 * i * inp + 2 * j + 1] = neg;
                    if out > 1 {
                        w[(2 * i + 1) * inp + 2 * j] = neg;
                        w[(2 * i + 1) * inp + 2 * j + 1] = pos;
                    }
                }
            }
            Ok(w)
        }
    }
}

/// Fixed random ON/OFF signs of one vectorized layer (the authors' `tReLU.t`): `[classes, n]`
/// row-major, `t[:, 2j] ∈ {±1}` at random and `t[:, 2j+1] = −t[:, 2j]`. `n` must be even.
pub fn on_off_signs<R: Rng + ?Sized>(rng: &mut R, classes: usize, n: usize) -> Result<Vec<f32>> {
    if n % 2 != 0 || n == 0 {
        return Err(GevbError::Config(format!(
            "gated units come in ON/OFF pairs: a hidden width must be even and > 0, got {n}"
        )));
    }
    let mut t = vec![0f32; classes * n];
    for k in 0..classes {
        for j in 0..n / 2 {
            let s = if rng.random_bool(0.5) { 1.0 } else { -1.0 };
            t[k * n + 2 * j] = s;
            t[k * n + 2 * j + 1] = -s;
        }
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn mono_weights_are_nonnegative_and_paired() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let (out, inp) = (6, 8);
        let w = linear_weight(&mut rng, out, inp, false, true).unwrap();
        assert!(w.iter().all(|&v| v >= 0.0));
        for i in 0..out / 2 {
            for j in 0..inp / 2 {
                let at = |r: usize, c: usize| w[r * inp + c];
                assert_eq!(at(2 * i, 2 * j), at(2 * i + 1, 2 * j + 1));
                assert_eq!(at(2 * i, 2 * j + 1), at(2 * i + 1, 2 * j));
                // Exactly one of relu(w), relu(-w) is nonzero (or both zero).
                assert_eq!(at(2 * i, 2 * j) * at(2 * i, 2 * j + 1), 0.0);
            }
        }
        let first = linear_weight(&mut rng, 4, 3, true, true).unwrap();
        for j in 0..3 {
            assert_eq!(first[j], -first[3 + j]);
        }
        let e = linear_weight(&mut rng, 3, 4, false, true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("even"), "{e}");
    }

    #[test]
    fn signs_come_in_on_off_pairs() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let t = on_off_signs(&mut rng, 3, 4).unwrap();
        for k in 0..3 {
            for j in 0..2 {
                assert_eq!(t[k * 4 + 2 * j], -t[k * 4 + 2 * j + 1]);
                assert_eq!(t[k * 4 + 2 * j].abs(), 1.0);
            }
        }
        assert!(on_off_signs(&mut rng, 3, 5).is_err());
    }

    #[test]
    fn plain_std_follows_fan_in() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let w = linear_weight(&mut rng, 200, 50, false, false).unwrap();
        let var = w.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / w.len() as f64;
        // N(0, 1/(0.5·50)) = variance 0.04.
        assert!((var - 0.04).abs() < 0.004, "variance {var}");
    }
}
