//! What each arm trains on and as which group of the run store: its training and test images
//! (labels corrupted as it says, the MLP's images flattened), its network ([`arm_data`]), and
//! its group ([`arm_group`], on the paper's CNN runner's scale [`base_scale`]).
use neurogen_data::{ImageShape, Split};
use neurogen_model::ModelConfig;

use super::{Arm, Net, SdData, SdError, SdScale, CORRUPTION_SEED, CURVE_IMAGES, MLP_WIDTH};
use crate::cnn::FigureData;
use crate::tran2022::figure::Group;
use crate::tran2022::scale::Scale;

/// `split`'s images as vectors (one channel, one row): the MLP's input.
fn flat(split: &Split) -> Result<Split, SdError> {
    let s = split.shape();
    Ok(Split::new(
        ImageShape {
            channels: 1,
            height: 1,
            width: s.channels * s.height * s.width,
        },
        split.images().to_vec(),
        split.labels().to_vec(),
    )?)
}

/// The training and test data of `arm` (labels corrupted as it says, the MLP's images
/// flattened) and its network.
pub fn arm_data(s: &SdScale, data: &SdData, arm: &Arm) -> Result<FigureData, SdError> {
    let (ds, n_train) = match arm.net {
        Net::Cnn => (data.cifar, s.cnn_train_images),
        Net::Mlp => (data.fashion, s.mlp_train_images),
    };
    let classes = ds.num_classes();
    let pool = ds.train.sample(n_train.min(ds.train.len()), 0)?;
    let test = ds.test.sample(s.test_images.min(ds.test.len()), 0)?;
    let train = if arm.corruption > 0.0 {
        pool.with_corrupted_labels(arm.corruption, classes, CORRUPTION_SEED)?
    } else {
        pool
    };
    let sh = ds.shape;
    let (train, test, mut model) = match arm.net {
        Net::Cnn => (
            train,
            test,
            ModelConfig::for_input(sh.channels, sh.height, sh.width, classes),
        ),
        Net::Mlp => (
            flat(&train)?,
            flat(&test)?,
            ModelConfig::mlp(sh.channels * sh.height * sh.width, &[MLP_WIDTH; 3], classes),
        ),
    };
    if let Some(w) = arm.width {
        model = model.with_hidden_width(w);
    }
    let dataset = if arm.corruption > 0.0 {
        format!(
            "{} (labels corrupted: f = {}, seed {CORRUPTION_SEED})",
            ds.kind, arm.corruption
        )
    } else {
        ds.kind.to_string()
    };
    // Per-epoch curves on a small test sample (the final test accuracy is on every test image):
    // networks trained for many epochs on few images would otherwise spend most of their time
    // evaluating.
    let curve = test.sample(CURVE_IMAGES.min(test.len()), 1)?;
    Ok(FigureData {
        dataset,
        curve,
        curve_name: format!("test sample ({CURVE_IMAGES} images)"),
        train,
        test,
        model,
    })
}

/// The CNN runner's scale the arms' groups are built on: scale `s.name`'s, with the CNN's
/// epochs and no extra epochs for dropout (each arm sets its own epochs, [`arm_group`]).
pub fn base_scale(s: &SdScale) -> Scale {
    let mut base = Scale::new(s.name);
    base.epochs = s.cnn_epochs;
    base.dropout_extra_epochs = 0;
    base
}

/// The arm as a group of the run store (its dropout as a regulariser spec, plain dropout
/// without max-norm, as Morcos et al.), trained for the arm's epochs.
pub fn arm_group(arm: &Arm, base: &Scale) -> Result<Group, SdError> {
    let specs = if arm.dropout > 0.0 {
        vec![format!("dropout:p={},max_norm=0", arm.dropout)]
    } else {
        Vec::new()
    };
    let mut g = Group::new(&arm.key, &arm.name, &specs, base)?;
    g.epochs = arm.epochs;
    Ok(g)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ScaleName;

    #[test]
    fn every_scale_has_distinct_arms_with_a_clean_base() {
        for name in [ScaleName::Smoke, ScaleName::Quick, ScaleName::Paper] {
            let s = SdScale::new(name);
            let arms = s.arms();
            let mut keys: Vec<&str> = arms.iter().map(|a| a.key.as_str()).collect();
            keys.sort();
            keys.dedup();
            assert_eq!(keys.len(), arms.len());
            assert!(arms.iter().any(|a| a.key == "cnn-f0" && a.clean));
            assert!(arms.iter().filter(|a| a.net == Net::Mlp).all(|a| !a.clean));
            let base = Scale::new(name);
            for a in &arms {
                let g = arm_group(a, &base).unwrap();
                assert_eq!(g.epochs, a.epochs);
                assert_eq!(g.dropout, a.dropout > 0.0);
            }
        }
    }
}
