//! Few-shot generalisation on frozen features: with `k` labelled examples per class drawn
//! from a support pool, classify queries by the nearest class mean (Euclidean) of the support
//! features, averaged over several seeded draws (Snell et al. 2017's prototype read-out on a
//! fixed embedding).
use rand::seq::IndexedRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::error::{DaleError, Result};

/// Few-shot accuracy at one `k`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FewShotPoint {
    /// Examples per class.
    pub k: usize,
    /// Mean accuracy over the draws.
    pub accuracy: f64,
    /// Standard deviation over the draws (0 for one draw).
    pub sd: f64,
    /// Number of draws.
    pub draws: usize,
}

/// Features as a row-major `n × dim` matrix with their labels.
#[derive(Debug, Clone, Copy)]
pub struct Features<'a> {
    /// `n × dim` values.
    pub values: &'a [f32],
    /// `n` labels in `0..classes`.
    pub labels: &'a [u32],
    /// Feature width.
    pub dim: usize,
}

impl Features<'_> {
    fn check(&self, what: &str, classes: usize) -> Result<()> {
        if self.dim == 0 || self.values.len() != self.labels.len() * self.dim {
            return Err(DaleError::InvalidArgument(format!(
                "{what}: {} values are not {} labels × dim {}",
                self.values.len(),
                self.labels.len(),
                self.dim
            )));
        }
        if let Some((index, &label)) = self
            .labels
            .iter()
            .enumerate()
            .find(|(_, &l)| l as usize >= classes)
        {
            return Err(DaleError::BadLabel {
                index,
                label,
                classes,
            });
        }
        if let Some(i) = self.values.iter().position(|v| !v.is_finite()) {
            return Err(DaleError::InvalidArgument(format!(
                "{what}: feature value {i} is not finite"
            )));
        }
        Ok(())
    }

    fn row(&self, i: usize) -> &[f32] {
        &self.values[i * self.dim..(i + 1) * self.dim]
    }
}

/// Accuracy of the nearest-class-mean read-out with class means from `support` on `query`
/// (every class must occur in `support`).
pub fn nearest_mean_accuracy(support: Features, query: Features, classes: usize) -> Result<f64> {
    support.check("support features", classes)?;
    query.check("query features", classes)?;
    if support.dim != query.dim || query.labels.is_empty() {
        return Err(DaleError::InvalidArgument(format!(
            "support dim {} and query dim {} differ, or no query",
            support.dim, query.dim
        )));
    }
    let d = support.dim;
    let mut means = vec![0.0f64; classes * d];
    let mut counts = vec![0usize; classes];
    for (i, &l) in support.labels.iter().enumerate() {
        counts[l as usize] += 1;
        for (m, &v) in means[l as usize * d..][..d].iter_mut().zip(support.row(i)) {
            *m += v as f64;
        }
    }
    if let Some(c) = counts.iter().position(|&c| c == 0) {
        return Err(DaleError::InvalidArgument(format!(
            "class {c} has no support example"
        )));
    }
    for (c, &n) in counts.iter().enumerate() {
        means[c * d..][..d].iter_mut().for_each(|m| *m /= n as f64);
    }
    let mut correct = 0usize;
    for (i, &l) in query.labels.iter().enumerate() {
        let q = query.row(i);
        let best = (0..classes)
            .map(|c| {
                let dist: f64 = means[c * d..][..d]
                    .iter()
                    .zip(q)
                    .map(|(m, &v)| (m - v as f64).powi(2))
                    .sum();
                (c, dist)
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(c, _)| c)
            .unwrap_or(0);
        correct += usize::from(best == l as usize);
    }
    Ok(correct as f64 / query.labels.len() as f64)
}

/// Few-shot accuracy for each `k` in `ks`: `draws` times, `k` support examples per class are
/// drawn without replacement from `pool` (seeded ChaCha8), and the nearest-class-mean read-out
/// is scored on `query`. Each class needs at least `max k` examples in the pool.
pub fn few_shot_curve(
    pool: Features,
    query: Features,
    classes: usize,
    ks: &[usize],
    draws: usize,
    seed: u64,
) -> Result<Vec<FewShotPoint>> {
    pool.check("pool features", classes)?;
    if draws == 0 || ks.contains(&0) {
        return Err(DaleError::InvalidArgument(format!(
            "few-shot needs draws >= 1 and every k >= 1 (got {draws} draws, ks {ks:?})"
        )));
    }
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); classes];
    for (i, &l) in pool.labels.iter().enumerate() {
        by_class[l as usize].push(i);
    }
    let k_max = ks.iter().copied().max().unwrap_or(0);
    if let Some(c) = by_class.iter().position(|v| v.len() < k_max) {
        return Err(DaleError::InvalidArgument(format!(
            "class {c} has {} pool examples, fewer than k = {k_max}",
            by_class[c].len()
        )));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(ks.len());
    for &k in ks {
        let mut accs = Vec::with_capacity(draws);
        for _ in 0..draws {
            let mut values = Vec::with_capacity(classes * k * pool.dim);
            let mut labels = Vec::with_capacity(classes * k);
            for (c, idx) in by_class.iter().enumerate() {
                for &i in idx.choose_multiple(&mut rng, k) {
                    values.extend_from_slice(pool.row(i));
                    labels.push(c as u32);
                }
            }
            let support = Features {
                values: &values,
                labels: &labels,
                dim: pool.dim,
            };
            accs.push(nearest_mean_accuracy(support, query, classes)?);
        }
        let mean = accs.iter().sum::<f64>() / draws as f64;
        let sd = if draws > 1 {
            (accs.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / (draws - 1) as f64).sqrt()
        } else {
            0.0
        };
        out.push(FewShotPoint {
            k,
            accuracy: mean,
            sd,
            draws,
        });
    }
    Ok(out)
}
