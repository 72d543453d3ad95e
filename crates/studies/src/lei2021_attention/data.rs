//! Multi-object scenes with the authors' geometry (`MultiMNIST` in `data/mnist_loader.py`).
//!
//! Scene `i` of a split holds item `i` and `objects − 1` partners drawn uniformly from the
//! same split (the code's `resample = True`: a partner may share the first item's label). The
//! items are placed in a random order at horizontal offsets `0, 14, 28, ...` on a
//! `28 × (28 + 14·(objects − 1))` canvas (28 × 42 for two objects), summed, clamped to
//! `[0, 1]`, and every pixel that is still `≤ 0` gets `U(0, noise)` (noise 0.3). Pixels are the
//! raw bytes over 255 (`ToTensor`, no normalisation). Each scene keeps every item's placed image
//! (unclamped, without noise) and label, in position order (left to right), as the code's
//! `data` and `labels` lists do. The authors recompose every scene at every access (new
//! partners, order and noise); here a scene set is drawn from a seed ([`Scenes::compose`]),
//! and the trainer composes each minibatch afresh from `(seed, epoch, batch)`
//! ([`Scenes::compose_for`]), so every epoch sees new partners and noise, as in the code.
//!
//! Splits: the authors cut MNIST's 60,000 training images 70/30 at random (42,000 / 18,000,
//! train / validation) and compose the 10,000 test images as the test set
//! ([`paper_splits`]). Fashion-MNIST has the same sizes; MNIST IDX files are read with
//! [`load_items`] where a user has them.
use std::path::Path;

use candle_core::{Device, Tensor};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use neurogen_data::{Dataset, DatasetKind, LoadOptions, Split};

use super::error::{config, shape, AttentionError, Result};

/// Side of one item (28 px).
pub const ITEM: usize = 28;
/// Horizontal offset between neighbouring items (14 px, the code's `offset`).
pub const OFFSET: usize = 14;
/// Number of classes of the items.
pub const CLASSES: usize = 10;
/// The authors' validation fraction of the training images (`int(len · 0.7)` stay for training).
pub const VAL_FRACTION: f64 = 0.3;

/// How scenes are composed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SceneConfig {
    /// Items per scene (2 in the paper's MNIST analysis; `train_mnist.py` defaults to 3).
    pub objects: usize,
    /// Upper end of the uniform background noise (0.3).
    pub noise: f32,
}

impl SceneConfig {
    /// The paper's setting: two objects, noise 0.3.
    pub fn paper() -> Self {
        SceneConfig {
            objects: 2,
            noise: 0.3,
        }
    }

    /// Checks the setting: at least one object, noise finite and in `[0, 1]`.
    pub fn validate(&self) -> Result<()> {
        if self.objects == 0 {
            return Err(config("a scene needs at least one object"));
        }
        if !(self.noise.is_finite() && (0.0..=1.0).contains(&self.noise)) {
            return Err(config(format!(
                "background noise must be in [0, 1], got {}",
                self.noise
            )));
        }
        Ok(())
    }

    /// Canvas height (28).
    pub fn height(&self) -> usize {
        ITEM
    }

    /// Canvas width, `28 + 14·(objects − 1)`.
    pub fn width(&self) -> usize {
        ITEM + OFFSET * self.objects.saturating_sub(1)
    }

    /// Pixels per canvas.
    pub fn pixels(&self) -> usize {
        self.height() * self.width()
    }
}

/// A set of composed scenes, each with its items' placed images and labels.
#[derive(Debug, Clone)]
pub struct Scenes {
    config: SceneConfig,
    /// `len × pixels`: the clamped, noisy scenes.
    scenes: Vec<f32>,
    /// `len × objects × pixels`: each item alone on the canvas, in position order.
    objects: Vec<f32>,
    /// `len × objects`, in position order.
    labels: Vec<u8>,
}

/// One minibatch of scenes: the input tensor and the per-object images and labels the loss
/// and the measurements need. Built by [`Scenes::batch`] or, for any canvas size (e.g. a
/// tiny hand-made instance), by [`SceneBatch::new`].
#[derive(Debug, Clone)]
pub struct SceneBatch {
    x: Tensor,
    scenes: Vec<f32>,
    objects: Vec<f32>,
    labels: Vec<u8>,
    per_scene: usize,
    height: usize,
    width: usize,
}

impl SceneBatch {
    /// A batch of `labels.len() / per_scene` scenes of `height × width` pixels: `scenes` is
    /// `B × H·W`, `objects` is `B × per_scene × H·W` (each object alone on the canvas),
    /// `labels` is `B × per_scene` in `0..10`; every pixel finite.
    pub fn new(
        scenes: Vec<f32>,
        objects: Vec<f32>,
        labels: Vec<u8>,
        per_scene: usize,
        (height, width): (usize, usize),
        device: &Device,
    ) -> Result<SceneBatch> {
        let p = height * width;
        if per_scene == 0 || p == 0 {
            return Err(config(format!(
                "a batch needs objects and pixels, got {per_scene} objects on {height}×{width}"
            )));
        }
        let b = labels.len() / per_scene;
        if b == 0 || labels.len() != b * per_scene {
            return Err(AttentionError::Label(format!(
                "{} labels are not a positive multiple of {per_scene} objects",
                labels.len()
            )));
        }
        if scenes.len() != b * p || objects.len() != b * per_scene * p {
            return Err(shape(format!(
                "{b} scenes of {height}×{width} with {per_scene} objects need {} scene and {} object pixels, got {} and {}",
                b * p,
                b * per_scene * p,
                scenes.len(),
                objects.len()
            )));
        }
        if let Some(&bad) = labels.iter().find(|&&l| l as usize >= CLASSES) {
            return Err(AttentionError::Label(format!(
                "label {bad} is not a class in 0..{CLASSES}"
            )));
        }
        if let Some(i) = scenes.iter().chain(&objects).position(|v| !v.is_finite()) {
            return Err(AttentionError::NonFinite(format!("pixel {i} of the batch")));
        }
        let x = Tensor::from_vec(scenes.clone(), (b, 1, height, width), device)?;
        Ok(SceneBatch {
            x,
            scenes,
            objects,
            labels,
            per_scene,
            height,
            width,
        })
    }

    /// `[B, 1, H, W]` scenes.
    pub fn x(&self) -> &Tensor {
        &self.x
    }

    /// `B × H·W` scenes on the host (the numbers of [`SceneBatch::x`]).
    pub fn scenes(&self) -> &[f32] {
        &self.scenes
    }

    /// `B × objects × H·W` placed item images, position order.
    pub fn objects(&self) -> &[f32] {
        &self.objects
    }

    /// `B × objects` labels, position order.
    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    /// Objects per scene.
    pub fn per_scene(&self) -> usize {
        self.per_scene
    }

    /// Canvas height.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Canvas width.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Pixels per canvas.
    pub fn pixels(&self) -> usize {
        self.height * self.width
    }

    /// Number of scenes.
    pub fn len(&self) -> usize {
        self.labels.len() / self.per_scene
    }

    /// Whether the batch holds no scene (never true for a constructed batch).
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
}

/// The 28×28 items scenes are composed from: pixels in `[0, 1]` and labels in `0..10`.
#[derive(Debug, Clone)]
pub struct Items {
    pixels: Vec<f32>,
    labels: Vec<u8>,
}

impl Items {
    /// Items from `len × 28·28` pixels and `len` labels; pixels must be finite, labels in
    /// `0..10`.
    pub fn new(pixels: Vec<f32>, labels: Vec<u8>) -> Result<Items> {
        let len = labels.len();
        if len == 0 || pixels.len() != len * ITEM * ITEM {
            return Err(shape(format!(
                "{} item pixels for {len} labels; each item is {ITEM}×{ITEM}",
                pixels.len()
            )));
        }
        if let Some(&bad) = labels.iter().find(|&&l| l as usize >= CLASSES) {
            return Err(AttentionError::Label(format!(
                "label {bad} is not a class in 0..{CLASSES}"
            )));
        }
        if let Some(i) = pixels.iter().position(|v| !v.is_finite()) {
            return Err(AttentionError::NonFinite(format!("item pixel {i}")));
        }
        Ok(Items { pixels, labels })
    }

    /// The images of a 1×28×28 split, bytes over 255 (`ToTensor`).
    pub fn from_split(split: &Split) -> Result<Items> {
        let s = split.shape();
        if (s.channels, s.height, s.width) != (1, ITEM, ITEM) {
            return Err(shape(format!(
                "scenes are composed from 1×{ITEM}×{ITEM} items, the split holds {}×{}×{}",
                s.channels, s.height, s.width
            )));
        }
        let pixels = split.images().iter().map(|&b| b as f32 / 255.0).collect();
        Items::new(pixels, split.labels().to_vec())
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there is no item (never true for a constructed set).
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Item `i`'s pixels (row-major), or `None`.
    pub fn pixels(&self, i: usize) -> Option<&[f32]> {
        self.pixels.get(i * ITEM * ITEM..(i + 1) * ITEM * ITEM)
    }

    /// Item `i`'s label, or `None`.
    pub fn label(&self, i: usize) -> Option<u8> {
        self.labels.get(i).copied()
    }
}

/// Sums placed items into one canvas, clamps to `[0, 1]` and adds `U(0, noise)` to every
/// pixel that is `≤ 0` after clamping (one draw per pixel, background or not, as the code's
/// noise matrix). `objects` is `objects × pixels`.
pub fn compose_canvas<R: Rng + ?Sized>(
    objects: &[f32],
    pixels: usize,
    noise: f32,
    rng: &mut R,
) -> Result<Vec<f32>> {
    if pixels == 0 || objects.is_empty() || objects.len() % pixels != 0 {
        return Err(shape(format!(
            "{} object pixels are not a whole number of {pixels}-pixel canvases",
            objects.len()
        )));
    }
    let mut canvas = vec![0f32; pixels];
    for obj in objects.chunks(pixels) {
        for (c, &v) in canvas.iter_mut().zip(obj) {
            *c += v;
        }
    }
    for c in canvas.iter_mut() {
        *c = c.clamp(0.0, 1.0);
        let u: f32 = rng.random::<f32>() * noise;
        if *c <= 0.0 {
            *c += u;
        }
    }
    Ok(canvas)
}

impl Scenes {
    /// Scenes from their parts (e.g. hand-made): `scenes` is `len × pixels`, `objects` is
    /// `len × objects × pixels`, `labels` is `len × objects` in `0..10`; every pixel finite.
    pub fn from_parts(
        config: SceneConfig,
        scenes: Vec<f32>,
        objects: Vec<f32>,
        labels: Vec<u8>,
    ) -> Result<Scenes> {
        config.validate()?;
        let (p, n) = (config.pixels(), config.objects);
        let len = labels.len() / n;
        if len == 0 || labels.len() != len * n {
            return Err(AttentionError::Label(format!(
                "{} labels are not a positive multiple of {n} objects",
                labels.len()
            )));
        }
        if scenes.len() != len * p || objects.len() != len * n * p {
            return Err(shape(format!(
                "{len} scenes of {}×{} need {} scene and {} object pixels, got {} and {}",
                config.height(),
                config.width(),
                len * p,
                len * n * p,
                scenes.len(),
                objects.len()
            )));
        }
        if let Some(&bad) = labels.iter().find(|&&l| l as usize >= CLASSES) {
            return Err(AttentionError::Label(format!(
                "label {bad} is not a class in 0..{CLASSES}"
            )));
        }
        if let Some(i) = scenes.iter().chain(&objects).position(|v| !v.is_finite()) {
            return Err(AttentionError::NonFinite(format!(
                "pixel {i} of the scenes"
            )));
        }
        Ok(Scenes {
            config,
            scenes,
            objects,
            labels,
        })
    }

    /// One scene per item of `items`, composed as the module docs say, from `seed`.
    pub fn compose(items: &Items, config: &SceneConfig, seed: u64) -> Result<Scenes> {
        let all: Vec<usize> = (0..items.len()).collect();
        Scenes::compose_for(items, &all, config, seed)
    }

    /// One scene per entry of `firsts`: scene `j` holds item `firsts[j]` and partners drawn
    /// from all of `items`, composed as the module docs say, from `seed` (a minibatch of
    /// scenes without composing the whole split).
    pub fn compose_for(
        items: &Items,
        firsts: &[usize],
        config: &SceneConfig,
        seed: u64,
    ) -> Result<Scenes> {
        config.validate()?;
        if firsts.is_empty() {
            return Err(shape("no scene asked for"));
        }
        if let Some(&bad) = firsts.iter().find(|&&i| i >= items.len()) {
            return Err(shape(format!(
                "item {bad} asked of a set of {}",
                items.len()
            )));
        }
        let item_px = ITEM * ITEM;
        let (n, w, p) = (config.objects, config.width(), config.pixels());
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut scenes = Vec::with_capacity(firsts.len() * p);
        let mut objects = vec![0f32; firsts.len() * n * p];
        let mut labels = Vec::with_capacity(firsts.len() * n);
        let mut chosen = Vec::with_capacity(n);
        for (j, &first) in firsts.iter().enumerate() {
            chosen.clear();
            chosen.push(first);
            for _ in 1..n {
                chosen.push(rng.random_range(0..items.len()));
            }
            chosen.shuffle(&mut rng);
            let placed = &mut objects[j * n * p..(j + 1) * n * p];
            for (pos, &item) in chosen.iter().enumerate() {
                let canvas = &mut placed[pos * p..(pos + 1) * p];
                let src = &items.pixels[item * item_px..(item + 1) * item_px];
                for r in 0..ITEM {
                    let at = r * w + pos * OFFSET;
                    canvas[at..at + ITEM].copy_from_slice(&src[r * ITEM..(r + 1) * ITEM]);
                }
                labels.push(items.labels[item]);
            }
            scenes.extend(compose_canvas(placed, p, config.noise, &mut rng)?);
        }
        Ok(Scenes {
            config: *config,
            scenes,
            objects,
            labels,
        })
    }

    /// One scene per image of a 1×28×28 split ([`Items::from_split`]), from `seed`.
    pub fn from_split(split: &Split, config: &SceneConfig, seed: u64) -> Result<Scenes> {
        Scenes::compose(&Items::from_split(split)?, config, seed)
    }

    /// The scene setting.
    pub fn config(&self) -> &SceneConfig {
        &self.config
    }

    /// Number of scenes.
    pub fn len(&self) -> usize {
        self.labels.len() / self.config.objects
    }

    /// Whether there is no scene (never true for a constructed set).
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Scene `i` (`H·W` pixels, row-major), or `None` past the end.
    pub fn scene(&self, i: usize) -> Option<&[f32]> {
        let p = self.config.pixels();
        self.scenes.get(i * p..(i + 1) * p)
    }

    /// Item `k` (position order) of scene `i` alone on the canvas, or `None`.
    pub fn object(&self, i: usize, k: usize) -> Option<&[f32]> {
        let (p, n) = (self.config.pixels(), self.config.objects);
        if k >= n {
            return None;
        }
        self.objects.get((i * n + k) * p..(i * n + k + 1) * p)
    }

    /// The labels of scene `i` (position order), or `None`.
    pub fn labels(&self, i: usize) -> Option<&[u8]> {
        let n = self.config.objects;
        self.labels.get(i * n..(i + 1) * n)
    }

    /// The scenes at `indices` as a [`SceneBatch`] on `device`.
    pub fn batch(&self, indices: &[usize], device: &Device) -> Result<SceneBatch> {
        let (p, n) = (self.config.pixels(), self.config.objects);
        if indices.is_empty() {
            return Err(shape("an empty batch of scenes"));
        }
        let mut scenes = Vec::with_capacity(indices.len() * p);
        let mut objects = Vec::with_capacity(indices.len() * n * p);
        let mut labels = Vec::with_capacity(indices.len() * n);
        for &i in indices {
            if i >= self.len() {
                return Err(shape(format!("scene {i} asked of a set of {}", self.len())));
            }
            scenes.extend_from_slice(&self.scenes[i * p..(i + 1) * p]);
            objects.extend_from_slice(&self.objects[i * n * p..(i + 1) * n * p]);
            labels.extend_from_slice(&self.labels[i * n..(i + 1) * n]);
        }
        SceneBatch::new(
            scenes,
            objects,
            labels,
            self.config.objects,
            (self.config.height(), self.config.width()),
            device,
        )
    }
}

/// The authors' splits of a 28×28 dataset: the training images cut 70/30 at random by `seed`
/// (42,000 / 18,000 for MNIST and Fashion-MNIST), and the test images: `(train, val, test)`.
pub fn paper_splits(dataset: &Dataset, seed: u64) -> Result<(Split, Split, Split)> {
    let n = dataset.train.len();
    let n_val = n - (n as f64 * (1.0 - VAL_FRACTION)) as usize;
    let (train, val) = dataset.train_val_split(n_val, seed)?;
    Ok((train, val, dataset.test.clone()))
}

/// The IDX release in `dir` read as `kind` (MNIST or Fashion-MNIST; both share file names, so
/// the caller states which), without the decode cache.
pub fn load_items(dir: &Path, kind: DatasetKind) -> Result<Dataset> {
    if !kind.is_idx() {
        return Err(config(format!(
            "scenes are composed from 28×28 IDX datasets, not {kind}"
        )));
    }
    Ok(neurogen_data::load_as(dir, kind, &LoadOptions::no_cache())?.dataset)
}
