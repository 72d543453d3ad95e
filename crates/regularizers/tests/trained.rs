//! One way to save, load and evaluate: a checkpoint written by `save_trained` evaluates, after
//! `load_trained`, to the training run's own final evaluation (same images, the regularisers'
//! evaluation hooks); one written without its regularisers is refused, naming what is missing.
use candle_core::Device;
use neurogen_data::{ImageShape, Split};
use neurogen_model::checkpoint::{self, CheckpointMeta};
use neurogen_model::{evaluate, train, Cnn, ModelConfig, Silent, TrainConfig};
use neurogen_regularizers::{
    build, evaluate_as_trained, load_trained, save_trained, RegError, RegularizerSet, TrainedRun,
};

/// `n` synthetic 1x28x28 images of 10 classes (a class-dependent brightness pattern).
fn split(n: usize, salt: usize) -> Split {
    let shape = ImageShape {
        channels: 1,
        height: 28,
        width: 28,
    };
    let labels: Vec<u8> = (0..n).map(|i| ((i * 7 + salt) % 10) as u8).collect();
    let images: Vec<u8> = labels
        .iter()
        .enumerate()
        .flat_map(|(i, &l)| (0..784).map(move |j| ((j * (l as usize + 1) + i * 13) % 251) as u8))
        .collect();
    Split::new(shape, images, labels).unwrap()
}

#[test]
fn a_saved_run_evaluates_to_its_own_accuracy_after_loading() {
    let (train_split, test_split) = (split(64, 0), split(40, 3));
    let set = RegularizerSet::from_specs(["dropout:p=0.2", "kwta:k=100"], false).unwrap();
    let mut reg = build(&set, 1).unwrap();
    let mut model = Cnn::new(&ModelConfig::fashion_mnist(), 2, &Device::Cpu).unwrap();
    let cfg = TrainConfig {
        epochs: 1,
        batch_size: 16,
        eval_train_at_end: false,
        ..TrainConfig::default()
    };
    let (metrics, _) = train(
        &mut model,
        &train_split,
        Some(("test", &test_split)),
        &cfg,
        &mut reg,
        &mut Silent,
    )
    .unwrap();
    let own = metrics
        .final_eval
        .expect("the run evaluated on the test split");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    let run = TrainedRun {
        set: &set,
        metrics: &metrics,
        epochs: 1,
        seed: 2,
        dataset: "synthetic",
    };
    let meta = save_trained(&model, &run, &path).unwrap();
    assert_eq!(
        meta.regularizer["config"],
        serde_json::to_value(&set).unwrap()
    );

    let back = load_trained(&path, &Device::Cpu).unwrap();
    let record = back.regularizers.as_ref().expect("the record is there");
    assert_eq!(record.config, set);
    assert_eq!(record.report, metrics.regularizer);
    assert_eq!(back.meta.metrics["final_eval"]["accuracy"], own.accuracy);
    // As trained: exactly the run's own evaluation (the weights are stored as f32 losslessly).
    let again = back.evaluate(&test_split).unwrap();
    assert_eq!((again.n, again.accuracy), (own.n, own.accuracy));
    assert!(
        (again.loss - own.loss).abs() <= 1e-9,
        "{again:?} vs {own:?}"
    );
    assert_eq!(
        evaluate_as_trained(&back.model, &set, &test_split).unwrap(),
        again
    );
    // The plain network (no k-WTA, no max-norm) is another number: the hooks act here.
    let plain = evaluate(&back.model, &test_split, 500).unwrap();
    assert!(
        (plain.loss - own.loss).abs() > 1e-6,
        "plain {plain:?} vs as trained {own:?}: the evaluation hooks did not act, the test is void"
    );
}

#[test]
fn a_checkpoint_without_its_regularizers_is_refused_for_evaluation_as_trained() {
    let model = Cnn::new(&ModelConfig::fashion_mnist(), 0, &Device::Cpu).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bare.safetensors");
    checkpoint::save(&model, &CheckpointMeta::for_model(&model), &path).unwrap();
    let back = load_trained(&path, &Device::Cpu).unwrap();
    assert!(back.regularizers.is_none());
    let err = back.evaluate(&split(8, 0)).unwrap_err();
    assert!(matches!(err, RegError::Checkpoint { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("regularizer.config") && msg.contains("save_trained"),
        "{msg}"
    );

    // A control run (no regulariser) records an empty set and evaluates as the plain network.
    let empty = RegularizerSet::default();
    let plain = evaluate(&model, &split(8, 0), 500).unwrap();
    assert_eq!(
        evaluate_as_trained(&model, &empty, &split(8, 0)).unwrap(),
        plain
    );
}
