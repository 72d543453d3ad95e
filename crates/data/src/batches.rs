//! Seeded index permutations: the paper's random validation split (45,000 / 5,000 of the
//! CIFAR-10 training set) and a freshly shuffled minibatch order every epoch, both reproducible
//! from a seed (ChaCha8, so the same on every platform).
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// A random permutation of `0..n` from `seed`, on ChaCha8 stream `stream`.
fn permutation(n: usize, seed: u64, stream: u64) -> Vec<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    let mut idx: Vec<usize> = (0..n).collect();
    idx.shuffle(&mut rng);
    idx
}

/// Stream used for [`sample_indices`].
const SAMPLE_STREAM: u64 = u64::MAX - 1;

/// `k` distinct indices of `0..n` chosen at random by `seed`, sorted ascending (a seeded random
/// subset: the same for every group of an experiment that passes the same seed). `k` is capped
/// at `n`.
pub fn sample_indices(n: usize, k: usize, seed: u64) -> Vec<usize> {
    let mut idx = permutation(n, seed, SAMPLE_STREAM);
    idx.truncate(k.min(n));
    idx.sort_unstable();
    idx
}

/// Stream choosing which examples [`corruption_indices`] corrupts.
const CORRUPT_STREAM: u64 = u64::MAX - 2;
/// Stream drawing the random labels of [`corrupted_labels`].
const CORRUPT_LABEL_STREAM: u64 = u64::MAX - 3;

/// The examples of `0..n` whose labels a corruption of `fraction` replaces: exactly
/// `round(fraction · n)` distinct indices chosen at random by `seed`, sorted ascending. A larger
/// fraction with the same seed corrupts a superset (the indices are a prefix of one seeded
/// permutation), so a series f = 0, 0.2, …, 1 corrupts nested sets. `fraction` must be in
/// `[0, 1]` (checked by [`corrupted_labels`]; here it is clamped).
pub fn corruption_indices(n: usize, fraction: f64, seed: u64) -> Vec<usize> {
    let k = ((fraction.clamp(0.0, 1.0) * n as f64).round() as usize).min(n);
    let mut idx = permutation(n, seed, CORRUPT_STREAM);
    idx.truncate(k);
    idx.sort_unstable();
    idx
}

/// `labels` with a fraction `fraction` of them replaced by labels drawn uniformly from
/// `0..num_classes` (Zhang et al. 2017; Morcos et al. 2018): the examples of
/// [`corruption_indices`]`(labels.len(), fraction, seed)` get a random label each (which may
/// by chance equal the true one, as in those papers), the others keep theirs. Deterministic
/// in `seed`. Errors on a fraction outside `[0, 1]` (or NaN) and on `num_classes == 0`.
///
/// ```
/// use neurogen_data::corrupted_labels;
/// let clean: Vec<u8> = (0..100).map(|i| (i % 10) as u8).collect();
/// let noisy = corrupted_labels(&clean, 0.4, 10, 7).unwrap();
/// assert_eq!(noisy, corrupted_labels(&clean, 0.4, 10, 7).unwrap()); // same seed, same labels
/// assert!(noisy.iter().all(|&l| l < 10));
/// assert_eq!(corrupted_labels(&clean, 0.0, 10, 7).unwrap(), clean);
/// assert!(corrupted_labels(&clean, 1.5, 10, 7).is_err());
/// ```
pub fn corrupted_labels(
    labels: &[u8],
    fraction: f64,
    num_classes: usize,
    seed: u64,
) -> Result<Vec<u8>, crate::DataError> {
    if !(0.0..=1.0).contains(&fraction) {
        return Err(crate::DataError::InvalidArgument(format!(
            "label corruption fraction {fraction}: expected a number in [0, 1]"
        )));
    }
    if num_classes == 0 || num_classes > 256 {
        return Err(crate::DataError::InvalidArgument(format!(
            "label corruption needs 1..=256 classes, got {num_classes}"
        )));
    }
    let mut out = labels.to_vec();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(CORRUPT_LABEL_STREAM);
    for i in corruption_indices(labels.len(), fraction, seed) {
        out[i] = rand::Rng::random_range(&mut rng, 0..num_classes) as u8;
    }
    Ok(out)
}

/// Stream used for the validation split (epochs use streams `0..`, far below this).
const VAL_STREAM: u64 = u64::MAX;

/// Splits `0..n` into `(train, val)` index lists with `val.len() == n_val`, chosen at random by
/// `seed`; both lists are sorted ascending. Requires `n_val <= n`.
pub(crate) fn train_val_indices(n: usize, n_val: usize, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let perm = permutation(n, seed, VAL_STREAM);
    let mut val = perm[..n_val].to_vec();
    let mut train = perm[n_val..].to_vec();
    val.sort_unstable();
    train.sort_unstable();
    (train, val)
}

/// Deterministic shuffled minibatch order for one epoch: a permutation of `0..n` (drawn from
/// `seed` and `epoch`) cut into batches of `batch_size`; the last, partial batch is kept.
/// Same `(n, batch_size, seed, epoch)`, same batches; different epochs, different orders.
///
/// ```
/// let b = neurogen_data::epoch_batches(10, 4, 42, 0);
/// assert_eq!(b.iter().map(|x| x.len()).collect::<Vec<_>>(), vec![4, 4, 2]);
/// assert_eq!(b, neurogen_data::epoch_batches(10, 4, 42, 0));
/// ```
///
/// # Panics
/// If `batch_size == 0`.
pub fn epoch_batches(n: usize, batch_size: usize, seed: u64, epoch: usize) -> Vec<Vec<usize>> {
    assert!(
        batch_size > 0,
        "epoch_batches: batch_size must be at least 1"
    );
    permutation(n, seed, epoch as u64)
        .chunks(batch_size)
        .map(|c| c.to_vec())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_is_seeded_sorted_and_distinct() {
        let a = sample_indices(1000, 100, 5);
        assert_eq!(a.len(), 100);
        assert!(a.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(a, sample_indices(1000, 100, 5));
        assert_ne!(a, sample_indices(1000, 100, 6));
        assert_eq!(sample_indices(10, 50, 1).len(), 10);
    }

    #[test]
    fn batches_cover_all_once_and_are_deterministic() {
        let b = epoch_batches(103, 10, 7, 3);
        assert_eq!(b.len(), 11);
        assert_eq!(b.last().unwrap().len(), 3);
        let mut all: Vec<usize> = b.iter().flatten().copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..103).collect::<Vec<_>>());
        assert_eq!(b, epoch_batches(103, 10, 7, 3));
        assert_ne!(b, epoch_batches(103, 10, 7, 4));
        assert_ne!(b, epoch_batches(103, 10, 8, 3));
    }

    #[test]
    fn val_split_is_disjoint_and_seeded() {
        let (t, v) = train_val_indices(50, 5, 1);
        assert_eq!((t.len(), v.len()), (45, 5));
        assert!(v.iter().all(|i| !t.contains(i)));
        assert_eq!((t.clone(), v.clone()), train_val_indices(50, 5, 1));
        assert_ne!(v, train_val_indices(50, 5, 2).1);
    }
}
