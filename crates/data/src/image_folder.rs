//! Image-folder datasets (`train/<class>/*.jpg|png`, `test/<class>/*`, possibly under a common
//! prefix, as a directory or packed in a `.tar(.gz)`). The label is the index of the class
//! folder's name in the official class order (CIFAR-10: airplane … truck; Fashion-MNIST class
//! names match with case and punctuation ignored). Every class needs a non-empty folder in both
//! splits; within a class, images are taken in file-name order.
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::archive::Entry;
use crate::dataset::{Dataset, DatasetKind, Split};
use crate::decode;
use crate::error::DataError;

/// Split folder names, in `(train, test)` order.
const SPLITS: [&str; 2] = ["train", "test"];
/// Accepted image file extensions.
const EXTS: [&str; 3] = ["jpg", "jpeg", "png"];

fn is_image_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    EXTS.iter().any(|e| lower.ends_with(&format!(".{e}")))
}

/// A class name reduced to lowercase letters and digits (`T-shirt/top` → `tshirttop`).
pub(crate) fn normalise_class(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn split_index(component: &str) -> Option<usize> {
    SPLITS
        .iter()
        .position(|s| s.eq_ignore_ascii_case(component))
}

/// Whether a source's files look like an image folder (an image under `train/` or `test/`).
pub(crate) fn matches(entries: &[Entry]) -> bool {
    entries
        .iter()
        .any(|e| is_image_name(e.basename()) && e.rel.split('/').any(|c| split_index(c).is_some()))
}

/// One image file placed in the tree.
struct Placed<'a> {
    split: usize,
    class: String,
    entry: &'a Entry,
}

/// The folder a class lives in, for error messages.
fn class_dir(root: &Path, entry: &Entry) -> PathBuf {
    entry
        .display
        .parent()
        .map(|p| p.to_path_buf())
        .unwrap_or_else(|| root.to_path_buf())
}

/// Reads an image folder from a source's files.
pub(crate) fn read(root: &Path, entries: &[Entry]) -> Result<Dataset, DataError> {
    let mut placed: Vec<Placed> = Vec::new();
    for e in entries {
        if e.basename().starts_with('.') {
            continue;
        }
        let comps: Vec<&str> = e.rel.split('/').collect();
        let n = comps.len();
        if n >= 3 && split_index(comps[n - 3]).is_some() {
            if !is_image_name(comps[n - 1]) {
                return Err(DataError::Image {
                    path: e.display.clone(),
                    msg: "unsupported file in a class folder (expected .jpg, .jpeg or .png)".into(),
                });
            }
            placed.push(Placed {
                split: split_index(comps[n - 3]).unwrap_or(0),
                class: comps[n - 2].to_string(),
                entry: e,
            });
        } else if is_image_name(comps[n - 1]) && comps.iter().any(|c| split_index(c).is_some()) {
            return Err(DataError::Image {
                path: e.display.clone(),
                msg: "image outside a class folder (expected train/<class>/<image> or \
                      test/<class>/<image>)"
                    .into(),
            });
        }
    }
    // Which dataset: the kind whose class list holds every folder name.
    let mut names: Vec<(&str, &Entry)> =
        placed.iter().map(|p| (p.class.as_str(), p.entry)).collect();
    names.sort_by(|a, b| a.0.cmp(b.0));
    names.dedup_by(|a, b| a.0 == b.0);
    let kinds = [DatasetKind::Cifar10, DatasetKind::FashionMnist];
    let norm_lists: Vec<Vec<String>> = kinds
        .iter()
        .map(|k| k.class_names().iter().map(|c| normalise_class(c)).collect())
        .collect();
    let fits = |ki: usize, name: &str| norm_lists[ki].contains(&normalise_class(name));
    let best = (0..kinds.len())
        .max_by_key(|&ki| {
            let hits = names.iter().filter(|(n, _)| fits(ki, n)).count();
            (hits, usize::MAX - ki)
        })
        .unwrap_or(0);
    if let Some((bad, entry)) = names.iter().find(|(n, _)| !fits(best, n)) {
        return Err(DataError::UnknownClass {
            path: class_dir(root, entry),
            name: bad.to_string(),
            expected: kinds[best].class_names().join(", "),
        });
    }
    let kind = kinds[best];
    let shape = kind.shape();
    let num_classes = kind.class_names().len();

    let mut splits = Vec::new();
    for (si, split_name) in SPLITS.iter().enumerate() {
        let mut items: Vec<(u8, &Entry)> = placed
            .iter()
            .filter(|p| p.split == si)
            .map(|p| {
                let label = norm_lists[best]
                    .iter()
                    .position(|c| *c == normalise_class(&p.class))
                    .unwrap_or(0);
                (label as u8, p.entry)
            })
            .collect();
        if items.is_empty() {
            return Err(DataError::missing(
                root,
                format!("empty split: no images under {split_name}/<class>/"),
            ));
        }
        let mut counts = vec![0usize; num_classes];
        for (l, _) in &items {
            counts[*l as usize] += 1;
        }
        if let Some(missing) = counts.iter().position(|&c| c == 0) {
            return Err(DataError::missing(
                root,
                format!(
                    "{split_name} split has no images of class '{}' (every class needs a \
                     non-empty {split_name}/<class>/ folder)",
                    kind.class_names()[missing]
                ),
            ));
        }
        items.sort_by(|a, b| (a.0, a.1.basename()).cmp(&(b.0, b.1.basename())));
        let mut images = vec![0u8; items.len() * shape.numel()];
        images
            .par_chunks_mut(shape.numel())
            .zip(items.par_iter())
            .try_for_each(|(out, (_, e))| {
                decode::decode_into(&e.display, &e.read()?, shape, out)
            })?;
        let labels = items.iter().map(|(l, _)| *l).collect();
        splits.push(Split::new(shape, images, labels)?);
    }
    let test = splits.pop().expect("two splits");
    let train = splits.pop().expect("two splits");
    Dataset::new(kind, train, test)
}
