//! The fruit-fly mushroom-body model of Shen, Dasgupta & Navlakha ("Algorithmic insights on
//! continual learning from fruit flies", arXiv 2107.07617): a sparse random expansion into
//! Kenyon cells, a winner-take-all, and an associative output rule with partial freezing.
//!
//! For an input `p` (`d` values, min-max scaled to `[0, 1]` per sample):
//!
//! 1. `c = Θ p`: `m` Kenyon cells, each the sum of `s` distinct random inputs
//!    ([`Projection`]; Θ is a fixed binary matrix).
//! 2. `ĉ = wta(c) / max(wta(c))`: exact top-k ([`kwta_top_k`], the paper's 5 %) or the authors'
//!    later adaptive threshold ([`adaptive_threshold`]).
//! 3. For a sample of class `y`: every row `j` of `W` (`classes x m`, initialised to 0) becomes
//!    `(1 − α) W[j]`, row `y` additionally gains `β ĉ`, and `W` is clipped to `[0, 1]`
//!    ([`FlyModel::update`]). With `α = 0` the rows of the other classes are frozen.
//! 4. The score of class `j` is `W[j] · ĉ`.
use candle_core::{Device, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::{config, Result};
use crate::learner::{host_batch, host_inputs, Learner};

/// A fixed sparse binary projection: cell `i` sums `synapses` distinct inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Projection {
    inputs: usize,
    synapses: usize,
    /// `cells x synapses` input indices, row-major.
    index: Vec<u32>,
}

impl Projection {
    /// `cells` cells over `inputs` inputs, each summing `synapses` distinct inputs drawn
    /// uniformly without replacement from a ChaCha8 stream seeded by `seed`.
    ///
    /// ```
    /// use neurogen_learners::Projection;
    /// let proj = Projection::random(84, 3360, 10, 0)?;
    /// let c = proj.apply(&[1.0; 84])?;
    /// assert!(c.iter().all(|&v| v == 10.0)); // every cell sums 10 ones
    /// # Ok::<(), neurogen_learners::LearnerError>(())
    /// ```
    pub fn random(inputs: usize, cells: usize, synapses: usize, seed: u64) -> Result<Self> {
        if inputs == 0 || cells == 0 {
            return config(format!(
                "a projection needs at least one input and one cell, got {inputs} inputs and {cells} cells"
            ));
        }
        if synapses == 0 || synapses > inputs {
            return config(format!(
                "each cell must sum between 1 and {inputs} inputs (the input size), got {synapses}"
            ));
        }
        if inputs > u32::MAX as usize {
            return config(format!("{inputs} inputs are too many"));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut pool: Vec<u32> = (0..inputs as u32).collect();
        let mut index = Vec::with_capacity(cells * synapses);
        for _ in 0..cells {
            // Partial Fisher-Yates: the first `synapses` entries become a uniform sample.
            for j in 0..synapses {
                let k = rng.random_range(j..inputs);
                pool.swap(j, k);
            }
            let mut row = pool[..synapses].to_vec();
            row.sort_unstable();
            index.extend_from_slice(&row);
        }
        Ok(Projection {
            inputs,
            synapses,
            index,
        })
    }

    /// A projection with the given cells: `cells[i]` lists the inputs cell `i` sums (each
    /// list of one length, indices distinct and below `inputs`). For tests and hand-built
    /// circuits.
    pub fn from_cells(inputs: usize, cells: &[Vec<usize>]) -> Result<Self> {
        let synapses = cells.first().map_or(0, Vec::len);
        if cells.is_empty() || synapses == 0 {
            return config("a projection needs at least one cell with at least one input");
        }
        let mut index = Vec::with_capacity(cells.len() * synapses);
        for (i, c) in cells.iter().enumerate() {
            if c.len() != synapses {
                return config(format!(
                    "cell {i} sums {} inputs, cell 0 sums {synapses}: all cells must sum the same number",
                    c.len()
                ));
            }
            let mut seen = c.clone();
            seen.sort_unstable();
            seen.dedup();
            if seen.len() != c.len() || seen.last().is_some_and(|&m| m >= inputs) {
                return config(format!(
                    "cell {i} lists inputs {c:?}: they must be distinct and below {inputs}"
                ));
            }
            index.extend(c.iter().map(|&v| v as u32));
        }
        Ok(Projection {
            inputs,
            synapses,
            index,
        })
    }

    /// Every cell's inputs, `cells x synapses` row-major.
    pub(crate) fn index(&self) -> &[u32] {
        &self.index
    }

    /// Number of inputs `d`.
    pub fn inputs(&self) -> usize {
        self.inputs
    }

    /// Number of cells `m`.
    pub fn cells(&self) -> usize {
        self.index.len() / self.synapses
    }

    /// Inputs each cell sums.
    pub fn synapses(&self) -> usize {
        self.synapses
    }

    /// The inputs cell `i` sums (sorted), if the cell exists.
    pub fn cell(&self, i: usize) -> Option<&[u32]> {
        self.index.get(i * self.synapses..(i + 1) * self.synapses)
    }

    /// `c = Θ p` for one input `p` of length [`Projection::inputs`].
    pub fn apply(&self, p: &[f32]) -> Result<Vec<f32>> {
        if p.len() != self.inputs {
            return config(format!(
                "input has {} values, the projection takes {}",
                p.len(),
                self.inputs
            ));
        }
        Ok(self
            .index
            .chunks_exact(self.synapses)
            .map(|row| row.iter().map(|&j| p[j as usize]).sum())
            .collect())
    }
}

/// Scales `p` in place to `[0, 1]`: `(p − min) / (max − min)`; a constant vector becomes 0
/// (as scikit-learn's `minmax_scale`, which the authors use per sample).
pub fn min_max_scale(p: &mut [f32]) {
    let (lo, hi) = p
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    let range = hi - lo;
    for v in p.iter_mut() {
        *v = if range > 0.0 { (*v - lo) / range } else { 0.0 };
    }
}

/// Divides `c` by its maximum when that is positive (otherwise leaves it as it is).
fn divide_by_max(c: &mut [f32]) {
    let max = c.iter().copied().fold(0.0f32, f32::max);
    if max > 0.0 {
        for v in c.iter_mut() {
            *v /= max;
        }
    }
}

/// k-winner-take-all: keeps the `k` largest values of `c` (ties broken towards the lower
/// index, so the result is deterministic), sets the others to 0, and divides by the maximum.
/// Negative winners are set to 0 too (cells do not fire below zero).
///
/// ```
/// let mut c = vec![0.5, 3.0, 1.0, 2.0];
/// neurogen_learners::kwta_top_k(&mut c, 2);
/// assert_eq!(c, vec![0.0, 1.0, 0.0, 2.0 / 3.0]);
/// ```
pub fn kwta_top_k(c: &mut [f32], k: usize) {
    let k = k.min(c.len());
    if k == 0 {
        c.iter_mut().for_each(|v| *v = 0.0);
        return;
    }
    if k < c.len() {
        // The k-th largest value t: every value above t wins, and of those equal to t the
        // first (lowest index) ones, until there are k winners.
        let mut vals = c.to_vec();
        let (_, kth, _) = vals.select_nth_unstable_by(k - 1, |a, b| b.total_cmp(a));
        let t = *kth;
        let above = c
            .iter()
            .filter(|v| v.total_cmp(&t) == std::cmp::Ordering::Greater)
            .count();
        let mut ties = k - above;
        for v in c.iter_mut() {
            match v.total_cmp(&t) {
                std::cmp::Ordering::Greater => {}
                std::cmp::Ordering::Equal if ties > 0 => ties -= 1,
                _ => *v = 0.0,
            }
        }
    }
    for v in c.iter_mut() {
        if *v < 0.0 {
            *v = 0.0;
        }
    }
    divide_by_max(c);
}

/// The authors' adaptive threshold (their final notebooks): keeps the cells whose response
/// exceeds `ratio` times the mean response (equivalently, whose share of the total exceeds
/// `ratio / m`), sets the others to 0, and divides by the maximum. The number of winners then
/// varies from input to input.
///
/// ```
/// let mut c = vec![1.0, 1.0, 1.0, 5.0];
/// neurogen_learners::adaptive_threshold(&mut c, 1.7); // mean 2: only 5 > 3.4 stays
/// assert_eq!(c, vec![0.0, 0.0, 0.0, 1.0]);
/// ```
pub fn adaptive_threshold(c: &mut [f32], ratio: f64) {
    if c.is_empty() {
        return;
    }
    let mean = c.iter().map(|&v| v as f64).sum::<f64>() / c.len() as f64;
    let t = ratio * mean;
    for v in c.iter_mut() {
        if (*v as f64) <= t || *v < 0.0 {
            *v = 0.0;
        }
    }
    divide_by_max(c);
}

/// How the Kenyon cells compete.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Wta {
    /// Exact top-k: the `fraction · m` (rounded, at least 1) most active cells win (paper: 5 %).
    TopK {
        /// Fraction of cells that stay active, in `(0, 1]`.
        fraction: f64,
    },
    /// The authors' adaptive threshold: cells above `ratio` times the mean response win
    /// (their notebooks: 1.7).
    Adaptive {
        /// Multiple of the mean response a cell must exceed, `> 0`.
        ratio: f64,
    },
}

impl Wta {
    /// Number of winners of exact top-k among `cells` cells (None for the adaptive threshold).
    pub fn winners(&self, cells: usize) -> Option<usize> {
        match *self {
            Wta::TopK { fraction } => Some(((fraction * cells as f64).round() as usize).max(1)),
            Wta::Adaptive { .. } => None,
        }
    }

    fn validate(&self) -> Result<()> {
        match *self {
            Wta::TopK { fraction } if !(fraction > 0.0 && fraction <= 1.0) => config(format!(
                "the winner-take-all fraction must be in (0, 1], got {fraction}"
            )),
            Wta::Adaptive { ratio } if !(ratio.is_finite() && ratio > 0.0) => config(format!(
                "the adaptive threshold's ratio must be a finite number > 0, got {ratio}"
            )),
            _ => Ok(()),
        }
    }
}

/// Settings of a [`FlyModel`]. [`FlyConfig::new`] gives the paper's MNIST-20 settings scaled to
/// the input size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlyConfig {
    /// Input size `d`.
    pub inputs: usize,
    /// Number of classes (output units).
    pub classes: usize,
    /// Kenyon cells `m` (paper: about 40 · d).
    pub kenyon_cells: usize,
    /// Inputs each cell sums (paper, MNIST-20: 10 of 84).
    pub synapses: usize,
    /// The winner-take-all (paper: exact top 5 %).
    pub wta: Wta,
    /// Learning rate β of the associative rule (paper, MNIST-20: 0.01).
    pub beta: f64,
    /// Decay α of every row per sample (paper: 0, i.e. the other classes' rows are frozen).
    pub alpha: f64,
    /// Min-max scale each input to `[0, 1]` before the projection (paper: yes).
    pub scale_inputs: bool,
    /// Seed of the projection.
    pub seed: u64,
}

impl FlyConfig {
    /// The paper's settings for `inputs`-dimensional inputs: `m = 40 · d` cells, 10 synapses
    /// per cell (at most `d`), top 5 %, β = 0.01, α = 0, inputs min-max scaled; seed 0.
    pub fn new(inputs: usize, classes: usize) -> Self {
        FlyConfig {
            inputs,
            classes,
            kenyon_cells: 40 * inputs,
            synapses: 10.min(inputs.max(1)),
            wta: Wta::TopK { fraction: 0.05 },
            beta: 0.01,
            alpha: 0.0,
            scale_inputs: true,
            seed: 0,
        }
    }

    /// Checks every setting, naming what is out of range.
    pub fn validate(&self) -> Result<()> {
        if self.classes < 2 {
            return config(format!(
                "the fly model needs at least 2 classes, got {}",
                self.classes
            ));
        }
        if !(self.beta.is_finite() && self.beta > 0.0) {
            return config(format!(
                "beta must be a finite number > 0, got {}",
                self.beta
            ));
        }
        if !(self.alpha.is_finite() && (0.0..1.0).contains(&self.alpha)) {
            return config(format!("alpha must be in [0, 1), got {}", self.alpha));
        }
        self.wta.validate()
    }
}

/// The fly model: projection, winner-take-all and associative output weights.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use neurogen_learners::{FlyConfig, FlyModel, Learner};
/// let mut fly = FlyModel::new(FlyConfig { kenyon_cells: 200, synapses: 1, ..FlyConfig::new(4, 2) })?;
/// let x = Tensor::new(&[[1f32, 0., 0., 0.], [0., 0., 0., 1.]], &Device::Cpu)?;
/// let y = Tensor::new(&[0u32, 1], &Device::Cpu)?;
/// fly.learn(&x, &y)?;
/// let s = fly.scores(&x)?.to_vec2::<f32>()?;
/// assert!(s[0][0] > s[0][1] && s[1][1] > s[1][0]);
/// # Ok::<(), neurogen_learners::LearnerError>(())
/// ```
#[derive(Debug, Clone)]
pub struct FlyModel {
    config: FlyConfig,
    projection: Projection,
    /// `classes x m`, row-major.
    weights: Vec<f32>,
}

impl FlyModel {
    /// A fly model with a random projection drawn from `config.seed` and `W = 0`.
    pub fn new(config: FlyConfig) -> Result<Self> {
        config.validate()?;
        let projection = Projection::random(
            config.inputs,
            config.kenyon_cells,
            config.synapses,
            config.seed,
        )?;
        Self::with_projection(config, projection)
    }

    /// A fly model with a given projection (its sizes replace `config`'s) and `W = 0`.
    pub fn with_projection(mut config: FlyConfig, projection: Projection) -> Result<Self> {
        config.inputs = projection.inputs();
        config.kenyon_cells = projection.cells();
        config.synapses = projection.synapses();
        config.validate()?;
        let weights = vec![0.0; config.classes * config.kenyon_cells];
        Ok(FlyModel {
            config,
            projection,
            weights,
        })
    }

    /// A fly model from its parts (a checkpoint's): `weights` is `classes x m` row-major with
    /// values in `[0, 1]`, the projection's sizes replace `config`'s.
    pub(crate) fn from_parts(
        mut config: FlyConfig,
        projection: Projection,
        weights: Vec<f32>,
    ) -> Result<Self> {
        config.inputs = projection.inputs();
        config.kenyon_cells = projection.cells();
        config.synapses = projection.synapses();
        config.validate()?;
        if weights.len() != config.classes * config.kenyon_cells {
            return crate::error::config(format!(
                "{} output weights for {} classes x {} cells",
                weights.len(),
                config.classes,
                config.kenyon_cells
            ));
        }
        if let Some(i) = weights
            .iter()
            .position(|w| !(w.is_finite() && (0.0..=1.0).contains(w)))
        {
            return crate::error::config(format!(
                "output weight {i} (class {}, cell {}) is {}: the rule keeps W in [0, 1]",
                i / config.kenyon_cells,
                i % config.kenyon_cells,
                weights[i]
            ));
        }
        Ok(FlyModel {
            config,
            projection,
            weights,
        })
    }

    /// The settings.
    pub fn config(&self) -> &FlyConfig {
        &self.config
    }

    /// The projection Θ.
    pub fn projection(&self) -> &Projection {
        &self.projection
    }

    /// The output weights `W`, `classes x m` row-major.
    pub fn weights(&self) -> &[f32] {
        &self.weights
    }

    /// Row `class` of `W` (length `m`), if the class exists.
    pub fn row(&self, class: usize) -> Option<&[f32]> {
        let m = self.config.kenyon_cells;
        self.weights.get(class * m..(class + 1) * m)
    }

    /// The Kenyon-cell code `ĉ` of one input (scaling, projection, winner-take-all).
    pub fn encode(&self, p: &[f32]) -> Result<Vec<f32>> {
        let mut p = p.to_vec();
        if self.config.scale_inputs {
            min_max_scale(&mut p);
        }
        let mut c = self.projection.apply(&p)?;
        match self.config.wta {
            Wta::TopK { .. } => {
                let k = self.config.wta.winners(c.len()).unwrap_or(1);
                kwta_top_k(&mut c, k);
            }
            Wta::Adaptive { ratio } => adaptive_threshold(&mut c, ratio),
        }
        Ok(c)
    }

    /// The associative rule for one code `ĉ` of class `class`: `W[j] ← (1 − α) W[j]` for every
    /// row, `W[class] += β ĉ`, then `W` clipped to `[0, 1]`.
    pub fn update(&mut self, code: &[f32], class: usize) -> Result<()> {
        let m = self.config.kenyon_cells;
        if code.len() != m {
            return config(format!(
                "the code has {} values, the model has {m} Kenyon cells",
                code.len()
            ));
        }
        if class >= self.config.classes {
            return config(format!(
                "class {class} is out of range ({} classes)",
                self.config.classes
            ));
        }
        let (alpha, beta) = (self.config.alpha as f32, self.config.beta as f32);
        if alpha > 0.0 {
            for w in self.weights.iter_mut() {
                *w = ((1.0 - alpha) * *w).clamp(0.0, 1.0);
            }
        }
        let row = &mut self.weights[class * m..(class + 1) * m];
        for (w, &c) in row.iter_mut().zip(code) {
            if c != 0.0 {
                *w = (*w + beta * c).clamp(0.0, 1.0);
            }
        }
        Ok(())
    }

    /// Class scores `W ĉ` of one code.
    pub fn scores_of(&self, code: &[f32]) -> Vec<f32> {
        let m = self.config.kenyon_cells;
        let active: Vec<(usize, f32)> = code
            .iter()
            .enumerate()
            .filter(|(_, &c)| c != 0.0)
            .map(|(i, &c)| (i, c))
            .collect();
        (0..self.config.classes)
            .map(|j| {
                let row = &self.weights[j * m..(j + 1) * m];
                active.iter().map(|&(i, c)| row[i] * c).sum()
            })
            .collect()
    }
}

impl Learner for FlyModel {
    fn name(&self) -> String {
        "flymodel".into()
    }

    fn classes(&self) -> usize {
        self.config.classes
    }

    fn learn(&mut self, x: &Tensor, y: &Tensor) -> Result<()> {
        let d = self.config.inputs;
        let (xs, ys) = host_batch(x, y, d, self.config.classes)?;
        for (p, &c) in xs.chunks_exact(d).zip(&ys) {
            let code = self.encode(p)?;
            self.update(&code, c as usize)?;
        }
        Ok(())
    }

    fn scores(&self, x: &Tensor) -> Result<Tensor> {
        let d = self.config.inputs;
        let xs = host_inputs(x, d)?;
        let n = xs.len() / d;
        let mut out = Vec::with_capacity(n * self.config.classes);
        for p in xs.chunks_exact(d) {
            out.extend(self.scores_of(&self.encode(p)?));
        }
        Ok(Tensor::from_vec(
            out,
            (n, self.config.classes),
            &Device::Cpu,
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(classes: usize) -> FlyConfig {
        FlyConfig {
            kenyon_cells: 3,
            ..FlyConfig::new(3, classes)
        }
    }

    fn model(beta: f64, alpha: f64) -> FlyModel {
        let proj = Projection::from_cells(3, &[vec![0], vec![1], vec![2]]).unwrap();
        FlyModel::with_projection(
            FlyConfig {
                beta,
                alpha,
                ..cfg(2)
            },
            proj,
        )
        .unwrap()
    }

    #[test]
    fn projection_cells_are_distinct_sorted_and_seeded() {
        let p = Projection::random(20, 50, 7, 3).unwrap();
        assert_eq!((p.inputs(), p.cells(), p.synapses()), (20, 50, 7));
        for i in 0..50 {
            let c = p.cell(i).unwrap();
            assert!(c.windows(2).all(|w| w[0] < w[1]), "cell {i}: {c:?}");
            assert!(c.iter().all(|&j| j < 20));
        }
        assert_eq!(p, Projection::random(20, 50, 7, 3).unwrap());
        assert_ne!(p, Projection::random(20, 50, 7, 4).unwrap());
        // Every input is used about equally often (50·7/20 = 17.5 times on average).
        let mut uses = [0usize; 20];
        for i in 0..50 {
            for &j in p.cell(i).unwrap() {
                uses[j as usize] += 1;
            }
        }
        assert!(uses.iter().all(|&u| (5..=32).contains(&u)), "{uses:?}");
        assert!(Projection::random(5, 10, 6, 0).is_err());
        assert!(Projection::random(5, 0, 2, 0).is_err());
    }

    #[test]
    fn projection_sums_its_inputs() {
        let p = Projection::from_cells(4, &[vec![0, 1], vec![2, 3], vec![0, 3]]).unwrap();
        assert_eq!(
            p.apply(&[1.0, 2.0, 4.0, 8.0]).unwrap(),
            vec![3.0, 12.0, 9.0]
        );
        assert!(p.apply(&[1.0; 3]).is_err());
        assert!(Projection::from_cells(4, &[vec![0, 0]]).is_err());
        assert!(Projection::from_cells(4, &[vec![0, 4]]).is_err());
        assert!(Projection::from_cells(4, &[vec![0, 1], vec![2]]).is_err());
    }

    #[test]
    fn top_k_hand_cases() {
        let mut c = vec![0.5, 3.0, 1.0, 2.0, -1.0];
        kwta_top_k(&mut c, 3);
        assert_eq!(c, vec![0.0, 1.0, 1.0 / 3.0, 2.0 / 3.0, 0.0]);
        // Ties go to the lower index: exactly k winners.
        let mut c = vec![1.0, 2.0, 2.0, 2.0];
        kwta_top_k(&mut c, 2);
        assert_eq!(c, vec![0.0, 1.0, 1.0, 0.0]);
        // All zero stays zero (no division by zero); k >= len keeps everything.
        let mut c = vec![0.0; 4];
        kwta_top_k(&mut c, 2);
        assert_eq!(c, vec![0.0; 4]);
        let mut c = vec![1.0, 4.0];
        kwta_top_k(&mut c, 5);
        assert_eq!(c, vec![0.25, 1.0]);
        let mut c = vec![1.0, 4.0];
        kwta_top_k(&mut c, 0);
        assert_eq!(c, vec![0.0, 0.0]);
        assert_eq!(Wta::TopK { fraction: 0.05 }.winners(3360), Some(168));
        assert_eq!(Wta::TopK { fraction: 0.05 }.winners(3), Some(1));
    }

    #[test]
    fn adaptive_threshold_hand_case() {
        // Mean 2.5, threshold 1.5 · 2.5 = 3.75: 4 and 5 stay.
        let mut c = vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 2.5, 2.5];
        adaptive_threshold(&mut c, 1.5);
        assert_eq!(c, vec![0.0, 0.0, 0.0, 0.0, 0.8, 1.0, 0.0, 0.0]);
    }

    #[test]
    fn min_max_hand_cases() {
        let mut p = vec![2.0, 4.0, 3.0];
        min_max_scale(&mut p);
        assert_eq!(p, vec![0.0, 1.0, 0.5]);
        let mut p = vec![7.0; 3];
        min_max_scale(&mut p);
        assert_eq!(p, vec![0.0; 3]);
    }

    #[test]
    fn encode_is_scale_project_wta() {
        let proj =
            Projection::from_cells(4, &[vec![0, 1], vec![2, 3], vec![0, 3], vec![1, 2]]).unwrap();
        let fly = FlyModel::with_projection(
            FlyConfig {
                wta: Wta::TopK { fraction: 0.5 },
                ..FlyConfig::new(4, 2)
            },
            proj,
        )
        .unwrap();
        // Scaled [0, 1/3, 2/3, 1] -> c = [1/3, 5/3, 1, 1] -> top 2 = {1, 2} -> / (5/3).
        let code = fly.encode(&[10.0, 11.0, 12.0, 13.0]).unwrap();
        assert_eq!(code.len(), 4);
        assert!((code[1] - 1.0).abs() < 1e-6 && (code[2] - 0.6).abs() < 1e-6);
        assert_eq!((code[0], code[3]), (0.0, 0.0));
    }

    #[test]
    fn update_rule_hand_case_and_frozen_rows() {
        let mut fly = model(0.5, 0.0);
        fly.update(&[1.0, 0.5, 0.0], 1).unwrap();
        assert_eq!(fly.row(0).unwrap(), &[0.0, 0.0, 0.0]);
        assert_eq!(fly.row(1).unwrap(), &[0.5, 0.25, 0.0]);
        let frozen = fly.row(1).unwrap().to_vec();
        // alpha = 0: class 0's updates leave row 1 bit for bit; row 0 saturates at 1.
        for _ in 0..5 {
            fly.update(&[1.0, 0.2, 0.0], 0).unwrap();
        }
        assert_eq!(fly.row(1).unwrap(), frozen.as_slice());
        assert_eq!(fly.row(0).unwrap()[0], 1.0);
        assert!((fly.row(0).unwrap()[1] - 0.5).abs() < 1e-6);
        assert_eq!(fly.scores_of(&[1.0, 0.0, 0.0]), vec![1.0, 0.5]);
        assert!(fly.update(&[1.0], 0).is_err());
        assert!(fly.update(&[1.0, 0.0, 0.0], 2).is_err());
    }

    #[test]
    fn update_with_decay_has_the_fixed_point_beta_over_alpha() {
        // W[y] = (1 - a) W[y] + b c  has the fixed point W* = b c / a; other rows decay to 0.
        let mut fly = model(0.01, 0.1);
        fly.update(&[0.0, 0.0, 1.0], 0).unwrap();
        let after_one = fly.row(0).unwrap()[2];
        assert!((after_one - 0.01).abs() < 1e-7);
        for _ in 0..400 {
            fly.update(&[1.0, 0.5, 0.0], 1).unwrap();
        }
        let r = fly.row(1).unwrap();
        assert!(
            (r[0] - 0.1).abs() < 1e-5 && (r[1] - 0.05).abs() < 1e-5,
            "{r:?}"
        );
        assert!(fly.row(0).unwrap()[2] < 1e-12);
        // One more step at the fixed point changes nothing (to rounding).
        let before = fly.row(1).unwrap().to_vec();
        fly.update(&[1.0, 0.5, 0.0], 1).unwrap();
        for (a, b) in before.iter().zip(fly.row(1).unwrap()) {
            assert!((a - b).abs() < 1e-7);
        }
    }

    #[test]
    fn bad_settings_and_inputs_are_errors() {
        assert!(FlyModel::new(FlyConfig {
            beta: 0.0,
            ..FlyConfig::new(4, 2)
        })
        .is_err());
        assert!(FlyModel::new(FlyConfig {
            alpha: 1.0,
            ..FlyConfig::new(4, 2)
        })
        .is_err());
        assert!(FlyModel::new(FlyConfig {
            wta: Wta::TopK { fraction: 0.0 },
            ..FlyConfig::new(4, 2)
        })
        .is_err());
        assert!(FlyModel::new(FlyConfig::new(4, 1)).is_err());
        let mut fly = FlyModel::new(FlyConfig::new(4, 2)).unwrap();
        let dev = Device::Cpu;
        let x = Tensor::new(&[[0f32, 1., 2., 3.]], &dev).unwrap();
        let e = fly
            .learn(&x, &Tensor::new(&[2u32], &dev).unwrap())
            .unwrap_err();
        assert!(e.to_string().contains("out of range"), "{e}");
        let x3 = Tensor::new(&[[0f32, 1., 2.]], &dev).unwrap();
        let e = fly.scores(&x3).unwrap_err();
        assert!(e.to_string().contains("[n, 4]"), "{e}");
        let nan = Tensor::new(&[[0f32, f32::NAN, 2., 3.]], &dev).unwrap();
        assert!(fly.scores(&nan).is_err());
        // A learner that saw nothing scores every class 0.
        let s = fly.scores(&x).unwrap().to_vec2::<f32>().unwrap();
        assert_eq!(s, vec![vec![0.0, 0.0]]);
    }
}
