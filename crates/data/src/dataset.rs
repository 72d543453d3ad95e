//! In-memory datasets: images kept as raw `u8` in CHW order (one image after the other), labels
//! as `u8`; normalisation to the paper's `(x - 0.5) / 0.5` per channel (x in [0, 1]) happens when
//! a batch is turned into a candle tensor.
use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::error::DataError;

/// CIFAR-10 class names in the official label order.
pub const CIFAR10_CLASSES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];

/// Fashion-MNIST class names in the official label order.
pub const FASHION_MNIST_CLASSES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

/// MNIST class names (the digits) in label order.
pub const MNIST_CLASSES: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

/// Kuzushiji-MNIST class names (romanised hiragana) in the official label order.
pub const KMNIST_CLASSES: [&str; 10] = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"];

/// Which dataset a [`Dataset`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DatasetKind {
    /// CIFAR-10: 32x32 RGB, 10 classes, 50,000 train / 10,000 test.
    Cifar10,
    /// Fashion-MNIST: 28x28 grayscale, 10 classes, 60,000 train / 10,000 test.
    FashionMnist,
    /// MNIST digits: the same IDX layout and file names as Fashion-MNIST, so never detected,
    /// only stated ([`crate::load_as`]).
    Mnist,
    /// Kuzushiji-MNIST: the same IDX layout and file names, stated like MNIST.
    Kmnist,
}

impl DatasetKind {
    /// The image shape of this dataset.
    pub fn shape(self) -> ImageShape {
        match self {
            DatasetKind::Cifar10 => ImageShape::new(3, 32, 32),
            DatasetKind::FashionMnist | DatasetKind::Mnist | DatasetKind::Kmnist => {
                ImageShape::new(1, 28, 28)
            }
        }
    }

    /// Class names in official label order.
    pub fn class_names(self) -> &'static [&'static str] {
        match self {
            DatasetKind::Cifar10 => &CIFAR10_CLASSES,
            DatasetKind::FashionMnist => &FASHION_MNIST_CLASSES,
            DatasetKind::Mnist => &MNIST_CLASSES,
            DatasetKind::Kmnist => &KMNIST_CLASSES,
        }
    }

    /// Whether the dataset is stored as the 28x28 IDX release (Fashion-MNIST, MNIST, KMNIST).
    pub fn is_idx(self) -> bool {
        matches!(
            self,
            DatasetKind::FashionMnist | DatasetKind::Mnist | DatasetKind::Kmnist
        )
    }

    /// Stable one-byte code (used in the cache file header).
    pub(crate) fn code(self) -> u8 {
        match self {
            DatasetKind::Cifar10 => 0,
            DatasetKind::FashionMnist => 1,
            DatasetKind::Mnist => 2,
            DatasetKind::Kmnist => 3,
        }
    }

    /// Inverse of [`DatasetKind::code`].
    pub(crate) fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(DatasetKind::Cifar10),
            1 => Some(DatasetKind::FashionMnist),
            2 => Some(DatasetKind::Mnist),
            3 => Some(DatasetKind::Kmnist),
            _ => None,
        }
    }
}

impl std::fmt::Display for DatasetKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DatasetKind::Cifar10 => "CIFAR-10",
            DatasetKind::FashionMnist => "Fashion-MNIST",
            DatasetKind::Mnist => "MNIST",
            DatasetKind::Kmnist => "KMNIST",
        })
    }
}

/// Shape of one image: channels × height × width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ImageShape {
    /// Number of channels (3 for RGB, 1 for grayscale).
    pub channels: usize,
    /// Height in pixels.
    pub height: usize,
    /// Width in pixels.
    pub width: usize,
}

impl ImageShape {
    /// A shape from its three sizes.
    pub const fn new(channels: usize, height: usize, width: usize) -> Self {
        ImageShape {
            channels,
            height,
            width,
        }
    }

    /// Number of bytes (values) per image: `channels * height * width`.
    pub const fn numel(&self) -> usize {
        self.channels * self.height * self.width
    }
}

impl std::fmt::Display for ImageShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}x{}x{}", self.channels, self.height, self.width)
    }
}

/// One split (train, test, validation, ...): `N` images of one shape, CHW `u8` each, and labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    shape: ImageShape,
    images: Vec<u8>,
    labels: Vec<u8>,
}

/// `(x / 255 - 0.5) / 0.5` for every byte value, the paper's per-channel normalisation.
fn normalise_table() -> [f32; 256] {
    let mut t = [0f32; 256];
    for (v, slot) in t.iter_mut().enumerate() {
        *slot = (v as f32 / 255.0 - 0.5) / 0.5;
    }
    t
}

impl Split {
    /// A split from raw CHW images (`labels.len() * shape.numel()` bytes) and labels.
    pub fn new(shape: ImageShape, images: Vec<u8>, labels: Vec<u8>) -> Result<Split, DataError> {
        if images.len() != labels.len() * shape.numel() {
            return Err(DataError::InvalidArgument(format!(
                "{} image bytes for {} labels of shape {shape} (expected {})",
                images.len(),
                labels.len(),
                labels.len() * shape.numel()
            )));
        }
        Ok(Split {
            shape,
            images,
            labels,
        })
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the split has no images.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// All labels, in image order.
    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    /// All images as one `N*C*H*W` byte slice (CHW per image).
    pub fn images(&self) -> &[u8] {
        &self.images
    }

    /// Image `i` as `C*H*W` bytes (channel planes, row-major).
    ///
    /// # Panics
    /// If `i >= self.len()`.
    pub fn image(&self, i: usize) -> &[u8] {
        let n = self.shape.numel();
        &self.images[i * n..(i + 1) * n]
    }

    /// Shape of every image.
    pub fn shape(&self) -> ImageShape {
        self.shape
    }

    /// A new split holding the images at `indices`, in that order.
    ///
    /// # Panics
    /// If an index is `>= self.len()`.
    pub fn subset(&self, indices: &[usize]) -> Split {
        let n = self.shape.numel();
        let mut images = Vec::with_capacity(indices.len() * n);
        let mut labels = Vec::with_capacity(indices.len());
        for &i in indices {
            images.extend_from_slice(self.image(i));
            labels.push(self.labels[i]);
        }
        Split {
            shape: self.shape,
            images,
            labels,
        }
    }

    /// A random subset of `n` images chosen by `seed` (kept in their original order), so that a
    /// subset of a class-sorted image folder still holds every class. Fails if `n` is 0 or
    /// larger than the split.
    pub fn sample(&self, n: usize, seed: u64) -> Result<Split, DataError> {
        if n == 0 || n > self.len() {
            return Err(DataError::InvalidArgument(format!(
                "cannot sample {n} images from a split of {}",
                self.len()
            )));
        }
        Ok(self.subset(&crate::batches::sample_indices(self.len(), n, seed)))
    }

    /// The same images with a fraction `fraction` of the labels replaced by uniformly random
    /// labels of `0..num_classes`, chosen and drawn by `seed` ([`crate::corrupted_labels`]; for
    /// the label-corruption experiments of Morcos et al. 2018).
    pub fn with_corrupted_labels(
        &self,
        fraction: f64,
        num_classes: usize,
        seed: u64,
    ) -> Result<Split, DataError> {
        Ok(Split {
            shape: self.shape,
            images: self.images.clone(),
            labels: crate::batches::corrupted_labels(&self.labels, fraction, num_classes, seed)?,
        })
    }

    /// Number of images per label `0..num_classes` (labels `>= num_classes` are not counted).
    pub fn class_counts(&self, num_classes: usize) -> Vec<usize> {
        let mut counts = vec![0usize; num_classes];
        for &l in &self.labels {
            if let Some(c) = counts.get_mut(l as usize) {
                *c += 1;
            }
        }
        counts
    }

    /// The images at `indices` normalised to f32 `(x/255 - 0.5)/0.5` as a `B×C×H×W` tensor,
    /// and their labels as a `u32` tensor of length `B`, both on `device`.
    pub fn batch(&self, indices: &[usize], device: &Device) -> Result<(Tensor, Tensor), DataError> {
        if let Some(&bad) = indices.iter().find(|&&i| i >= self.len()) {
            return Err(DataError::InvalidArgument(format!(
                "batch index {bad} out of range for a split of {} images",
                self.len()
            )));
        }
        let table = normalise_table();
        let n = self.shape.numel();
        let mut data = Vec::with_capacity(indices.len() * n);
        let mut labels = Vec::with_capacity(indices.len());
        for &i in indices {
            data.extend(self.image(i).iter().map(|&v| table[v as usize]));
            labels.push(self.labels[i] as u32);
        }
        let b = indices.len();
        let s = self.shape;
        let x = Tensor::from_vec(data, (b, s.channels, s.height, s.width), device)?;
        let y = Tensor::from_vec(labels, b, device)?;
        Ok((x, y))
    }
}

/// A dataset: kind, image shape, class names and the official train and test splits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    /// Which dataset this is.
    pub kind: DatasetKind,
    /// Shape of every image.
    pub shape: ImageShape,
    /// Class names in label order.
    pub class_names: Vec<String>,
    /// The official training split.
    pub train: Split,
    /// The official test split.
    pub test: Split,
}

impl Dataset {
    /// A dataset of `kind` (shape and class names from the kind) from its two splits.
    pub fn new(kind: DatasetKind, train: Split, test: Split) -> Result<Dataset, DataError> {
        let shape = kind.shape();
        for (name, s) in [("train", &train), ("test", &test)] {
            if s.shape() != shape {
                return Err(DataError::InvalidArgument(format!(
                    "{name} split has images of shape {}, {kind} needs {shape}",
                    s.shape()
                )));
            }
        }
        Ok(Dataset {
            kind,
            shape,
            class_names: kind.class_names().iter().map(|s| s.to_string()).collect(),
            train,
            test,
        })
    }

    /// Number of classes.
    pub fn num_classes(&self) -> usize {
        self.class_names.len()
    }

    /// The paper's validation split: `n_val` training images chosen at random by `seed` become
    /// the validation split, the rest stay for training (45,000 / 5,000 for CIFAR-10 with
    /// `n_val = 5000`). Both keep the original image order. Same seed, same split.
    pub fn train_val_split(&self, n_val: usize, seed: u64) -> Result<(Split, Split), DataError> {
        let n = self.train.len();
        if n_val == 0 || n_val >= n {
            return Err(DataError::InvalidArgument(format!(
                "validation size {n_val} must be in 1..{n} (the training split has {n} images)"
            )));
        }
        let (train_idx, val_idx) = crate::batches::train_val_indices(n, n_val, seed);
        Ok((self.train.subset(&train_idx), self.train.subset(&val_idx)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Split {
        let shape = ImageShape::new(1, 1, 2);
        Split::new(shape, vec![0, 255, 10, 20, 30, 40], vec![2, 0, 1]).unwrap()
    }

    #[test]
    fn subset_and_counts() {
        let s = tiny();
        let sub = s.subset(&[2, 0]);
        assert_eq!(sub.labels(), &[1, 2]);
        assert_eq!(sub.image(0), &[30, 40]);
        assert_eq!(s.class_counts(3), vec![1, 1, 1]);
    }

    #[test]
    fn batch_normalises() {
        let s = tiny();
        let (x, y) = s.batch(&[0, 1], &Device::Cpu).unwrap();
        assert_eq!(x.dims(), &[2, 1, 1, 2]);
        let v: Vec<f32> = x.flatten_all().unwrap().to_vec1().unwrap();
        assert_eq!(v[0], -1.0);
        assert_eq!(v[1], 1.0);
        assert!((v[2] - (10.0 / 255.0 - 0.5) / 0.5).abs() < 1e-7);
        assert_eq!(y.to_vec1::<u32>().unwrap(), vec![2, 0]);
        assert!(s.batch(&[3], &Device::Cpu).is_err());
    }

    #[test]
    fn new_rejects_wrong_length() {
        assert!(Split::new(ImageShape::new(1, 2, 2), vec![0; 7], vec![0, 1]).is_err());
    }
}
