//! The one place that calls the model crate's training functions: [`train`] trains a batch of
//! prepared runs, alone or as replicas. [`prepare`] builds what a run trains with.
use neurogen_model::{
    AdamConfig, Cnn, ModelError, NoRegularizer, Regularizer, TrainConfig, TrainMetrics,
    TrainObserver, EVAL_BATCH,
};
use neurogen_regularizers::RegularizerSet;

use super::{CnnError, FigureData, RunSpec};

/// A finished run's metrics, or what stopped it (only [`ModelError::Diverged`] becomes a
/// `failed` row; any other error stops the pipeline).
pub type Outcome = Result<TrainMetrics, ModelError>;

/// What one run trains with: seed (= repeat), regularisers, initial network and settings.
pub struct Prepared {
    /// The run's seed (its repeat index).
    pub seed: u64,
    /// The parsed regularisers (saved in the checkpoint's metadata).
    pub set: RegularizerSet,
    /// The regulariser stack, seeded; after training, its state (used to evaluate the test
    /// split with the run's evaluation-mode hooks).
    pub reg: Box<dyn Regularizer>,
    /// The initial network; after [`train`], the trained one.
    pub model: Cnn,
    /// Training settings.
    pub cfg: TrainConfig,
}

/// Builds the initial network, the regularisers and the settings of the run `spec`.
pub fn prepare(
    device: &candle_core::Device,
    data: &FigureData,
    spec: &RunSpec,
) -> Result<Prepared, CnnError> {
    let seed = spec.repeat as u64;
    let set = RegularizerSet::from_specs(&spec.specs, spec.reference_quirks)?;
    let reg: Box<dyn Regularizer> = Box::new(neurogen_regularizers::build(&set, seed)?);
    let model = Cnn::new(&data.model, seed, device)?;
    let cfg = TrainConfig {
        epochs: spec.epochs,
        batch_size: spec.batch_size,
        adam: AdamConfig {
            lr: spec.lr,
            ..AdamConfig::default()
        },
        seed,
        eval_every_epoch: true,
        eval_train_at_end: true,
        eval_batch_size: EVAL_BATCH,
        loss_readback: None,
    };
    Ok(Prepared {
        seed,
        set,
        reg,
        model,
        cfg,
    })
}

/// Trains `runs` (one group's repeats; `label` names them in errors) on the training split,
/// evaluating on the curve split every epoch, as replicas of one model (one run is K = 1;
/// replicas give the same results as separate runs). Leaves each trained network in `model` and each regulariser
/// in `reg`, and returns each run's outcome, in order.
pub fn train(
    runs: &mut [Prepared],
    data: &FigureData,
    observer: &mut dyn TrainObserver,
    label: &str,
) -> Result<Vec<Outcome>, CnnError> {
    let eval = Some((data.curve_name.as_str(), &data.curve));
    // One loop for every batch size: a single run is one replica.
    let models: Vec<Cnn> = runs.iter().map(|p| p.model.clone()).collect();
    let mut net = Cnn::stack(&models)?;
    let cfgs: Vec<TrainConfig> = runs.iter().map(|p| p.cfg.clone()).collect();
    let mut stacks: Vec<Box<dyn Regularizer>> = runs
        .iter_mut()
        .map(|p| std::mem::replace(&mut p.reg, Box::new(NoRegularizer)))
        .collect();
    let (out, _adam) =
        neurogen_model::train_replicas(&mut net, &data.train, eval, &cfgs, &mut stacks, observer)
            .map_err(|source| CnnError::Training {
            label: label.to_string(),
            source: Box::new(source),
        })?;
    let mut outcomes = Vec::with_capacity(out.len());
    for (r, ((p, reg), result)) in runs.iter_mut().zip(stacks).zip(out).enumerate() {
        p.reg = reg;
        p.model = net.replica(r)?;
        outcomes.push(result);
    }
    Ok(outcomes)
}
