//! The plausibility report on the study's networks: FGSM against the closed form of a linear
//! model, the nearest-class-mean few-shot read-out on hand-built features, the report of each
//! network at initialisation, and the whole report on a network trained on Fashion-MNIST.
use candle_core::{Device, Tensor};
use neurogen_analysis::plausibility::Family;
use neurogen_studies::cornford2021_dale::{
    conv_as_synapses, few_shot_curve, fgsm, fgsm_curve, nearest_mean_accuracy, synapse_report,
    train, unit_tensors, DaleError, DaleNet, Features, NetConfig, NetKind, TrainOptions,
    PAPER_BATCH_SIZE,
};
use neurogen_studies::cornford2021_dale::{evaluate, Result as DaleResult};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn seeded_uniform(seed: u64, rows: usize, cols: usize) -> Tensor {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let v: Vec<f32> = (0..rows * cols).map(|_| rng.random::<f32>()).collect();
    Tensor::from_vec(v, (rows, cols), &Device::Cpu).unwrap()
}

#[test]
fn fgsm_on_a_linear_model_equals_the_closed_form() {
    // f(x) = W x + b, L = mean CE: ∇ₓ L_i = (softmax(f(x_i)) − onehot(y_i))ᵀ W / B.
    let w: [[f64; 4]; 3] = [
        [0.5, -1.0, 0.2, 0.0],
        [-0.3, 0.4, 0.9, -0.7],
        [1.2, 0.1, -0.5, 0.3],
    ];
    let b = [0.1, -0.2, 0.05];
    let xs: [[f64; 4]; 2] = [[0.2, 0.5, 0.9, 0.4], [0.7, 0.05, 0.3, 0.98]];
    let ys = [0u32, 2];
    let eps = 0.1;
    let wt = Tensor::from_vec(
        w.iter().flatten().map(|&v| v as f32).collect::<Vec<_>>(),
        (3, 4),
        &Device::Cpu,
    )
    .unwrap();
    let bt = Tensor::from_vec(b.map(|v| v as f32).to_vec(), 3, &Device::Cpu).unwrap();
    let logits = |x: &Tensor| -> DaleResult<Tensor> {
        Ok(x.matmul(&wt.t()?)?.broadcast_add(&bt.unsqueeze(0)?)?)
    };
    let x = Tensor::from_vec(
        xs.iter().flatten().map(|&v| v as f32).collect::<Vec<_>>(),
        (2, 4),
        &Device::Cpu,
    )
    .unwrap();
    let y = Tensor::from_slice(&ys, 2, &Device::Cpu).unwrap();
    let adv = fgsm(logits, &x, &y, eps, Some((0.0, 1.0)))
        .unwrap()
        .to_vec2::<f32>()
        .unwrap();
    for (i, xi) in xs.iter().enumerate() {
        let z: Vec<f64> = (0..3)
            .map(|c| b[c] + (0..4).map(|j| w[c][j] * xi[j]).sum::<f64>())
            .collect();
        let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let e: Vec<f64> = z.iter().map(|v| (v - m).exp()).collect();
        let s: f64 = e.iter().sum();
        let delta: Vec<f64> = (0..3)
            .map(|c| e[c] / s - if c as u32 == ys[i] { 1.0 } else { 0.0 })
            .collect();
        for j in 0..4 {
            let grad: f64 = (0..3).map(|c| delta[c] * w[c][j]).sum::<f64>() / 2.0;
            let expected = (xi[j] + eps * grad.signum()).clamp(0.0, 1.0);
            assert!(
                (adv[i][j] as f64 - expected).abs() < 1e-6,
                "x[{i}][{j}]: {} vs {expected}",
                adv[i][j]
            );
        }
    }
    // ε = 0 leaves the input alone; the curve at ε = 0 is the clean accuracy.
    let same = fgsm(logits, &x, &y, 0.0, None).unwrap();
    assert_eq!(same.to_vec2::<f32>().unwrap(), x.to_vec2::<f32>().unwrap());
    let curve = fgsm_curve(logits, &x, &y, &[0.0, 1.0], Some((0.0, 1.0))).unwrap();
    let clean = logits(&x)
        .unwrap()
        .argmax(1)
        .unwrap()
        .to_vec1::<u32>()
        .unwrap();
    let clean_acc = clean.iter().zip(&ys).filter(|(a, b)| a == b).count() as f64 / 2.0;
    assert_eq!(curve[0].accuracy, clean_acc);
    assert!(matches!(
        fgsm(logits, &x, &y, -0.1, None),
        Err(DaleError::InvalidArgument(_))
    ));
}

#[test]
fn nearest_mean_few_shot_hand_built() {
    // Class means (1, 0) and (4, 0): 2.4 is nearer class 0 (1.4 vs 1.6), 2.6 nearer class 1.
    let support = Features {
        values: &[0.0, 0.0, 2.0, 0.0, 4.0, 0.0],
        labels: &[0, 0, 1],
        dim: 2,
    };
    let query = Features {
        values: &[2.4, 0.0, 2.6, 0.0],
        labels: &[0, 0],
        dim: 2,
    };
    assert_eq!(nearest_mean_accuracy(support, query, 2).unwrap(), 0.5);

    // Two well-separated clusters: any k gives accuracy 1 with no spread.
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let (mut values, mut labels) = (Vec::new(), Vec::new());
    for i in 0..40 {
        let c = (i % 2) as u32;
        values.push(c as f32 * 10.0 + rng.random::<f32>());
        values.push(rng.random::<f32>());
        labels.push(c);
    }
    let pool = Features {
        values: &values,
        labels: &labels,
        dim: 2,
    };
    let curve = few_shot_curve(pool, pool, 2, &[1, 5], 3, 0).unwrap();
    assert_eq!(curve.len(), 2);
    assert!(curve
        .iter()
        .all(|p| p.accuracy == 1.0 && p.sd == 0.0 && p.draws == 3));
    assert!(matches!(
        few_shot_curve(pool, pool, 2, &[21], 1, 0),
        Err(DaleError::InvalidArgument(_))
    ));
    let bad = Features {
        values: &[0.0, 0.0],
        labels: &[5],
        dim: 2,
    };
    assert!(matches!(
        nearest_mean_accuracy(bad, query, 2),
        Err(DaleError::BadLabel { label: 5, .. })
    ));
}

#[test]
fn conv_weights_count_input_channels_as_units() {
    // [out 2, in 3, 1, 2]: channel 0 all positive, channel 1 all negative, channel 2 mixed.
    let w = Tensor::from_vec(
        vec![
            0.1f32, 0.2, -0.1, -0.3, 0.5, -0.5, // out 0: (c0), (c1), (c2)
            0.4, 0.1, -0.2, -0.1, 0.3, 0.2, // out 1
        ],
        (2, 3, 1, 2),
        &Device::Cpu,
    )
    .unwrap();
    let m = conv_as_synapses(&w).unwrap();
    assert_eq!(m.dims(), &[4, 3]);
    assert_eq!(
        m.to_vec2::<f32>().unwrap(),
        vec![
            vec![0.1, -0.1, 0.5],
            vec![0.2, -0.3, -0.5],
            vec![0.4, -0.2, 0.3],
            vec![0.1, -0.1, 0.2]
        ]
    );
    let s = synapse_report("conv1", &m, 0.0).unwrap();
    assert_eq!(
        (s.dale.excitatory, s.dale.inhibitory, s.dale.mixed),
        (1, 1, 1)
    );
    assert!(matches!(
        conv_as_synapses(&Tensor::zeros((2, 3), candle_core::DType::F32, &Device::Cpu).unwrap()),
        Err(DaleError::Shape { .. })
    ));
}

#[test]
fn reports_at_initialisation() {
    let probe = seeded_uniform(1, 64, 784);
    // DANN: every synapse obeys Dale; the input weights are drawn from an exponential, and the
    // fits say so; Wei = 1/ni is constant, so its magnitudes cannot be fitted.
    let dann = DaleNet::new(&NetConfig::paper(NetKind::Dann, 3), &Device::Cpu).unwrap();
    let r = dann.plausibility_report(&probe, 0.0).unwrap();
    assert_eq!(r.synapses.len(), 12);
    for s in &r.synapses {
        assert_eq!(s.dale.fraction, Some(1.0), "{}", s.name);
    }
    let fc0 = &r.synapses[0];
    assert_eq!(fc0.name, "fc0.E<-x");
    assert_eq!(fc0.dale.excitatory, 784);
    let fits = fc0.magnitude_fits.as_ref().unwrap();
    assert_eq!(fits.best, Family::Exponential, "{:?}", fits.delta_aic);
    assert!(r.synapses[2].magnitude_fits.is_none());
    assert!(r.synapses[2]
        .fit_note
        .as_ref()
        .unwrap()
        .contains("zero variance"));
    assert_eq!(r.synapses[2].dale.inhibitory, 50);
    assert_eq!(r.activity.len(), 3);
    for a in &r.activity {
        assert!(a.sparsity.fraction_near_zero > 0.0 && a.sparsity.fraction_near_zero < 1.0);
    }

    // ColumnEI: pixels are excitatory; hidden inputs split 500 E + 50 I.
    let col = DaleNet::new(&NetConfig::paper(NetKind::ColumnEi, 3), &Device::Cpu).unwrap();
    let r = col.plausibility_report(&probe, 0.0).unwrap();
    assert_eq!(r.synapses[0].dale.excitatory, 784);
    let d = r.synapses[1].dale;
    assert_eq!(
        (d.excitatory, d.inhibitory, d.mixed, d.fraction),
        (500, 50, 0, Some(1.0))
    );

    // MLP: Gaussian weights, every unit's outgoing weights have both signs.
    let mlp = DaleNet::new(&NetConfig::paper(NetKind::Mlp, 3), &Device::Cpu).unwrap();
    let r = mlp.plausibility_report(&probe, 0.0).unwrap();
    assert_eq!(r.synapses[0].dale.fraction, Some(0.0));
    let json: serde_json::Value = serde_json::from_str(&r.to_json().unwrap()).unwrap();
    assert_eq!(json["network"], "mlp");
    assert_eq!(json["synapses"][0]["shape"], serde_json::json!([500, 784]));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.json");
    r.save(&path).unwrap();
    let back: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(back, json);
}

#[test]
fn report_of_networks_trained_on_fashion_mnist() {
    let Some(dir) = neurogen_data::fashion_mnist_dir() else {
        eprintln!(
            "SKIP report_of_networks_trained_on_fashion_mnist: Fashion-MNIST not found \
             (set NEUROGEN_FASHION_MNIST or install dataset-fashion-mnist)"
        );
        return;
    };
    let ds = neurogen_data::load_as(
        &dir,
        neurogen_data::DatasetKind::FashionMnist,
        &neurogen_data::LoadOptions::no_cache(),
    )
    .unwrap()
    .dataset;
    let dev = Device::Cpu;
    let (x, y) = unit_tensors(&ds.train, &(0..1000).collect::<Vec<_>>(), &dev).unwrap();
    let (xq, yq) = unit_tensors(&ds.test, &(0..500).collect::<Vec<_>>(), &dev).unwrap();
    let (x_train, y_train) = (x.narrow(0, 0, 512).unwrap(), y.narrow(0, 0, 512).unwrap());
    for kind in [NetKind::Mlp, NetKind::Dann] {
        let net = DaleNet::new(&NetConfig::paper(kind, 2), &dev).unwrap();
        let opts = TrainOptions {
            lr: kind.paper_lr(),
            batch_size: PAPER_BATCH_SIZE,
            epochs: 4,
            seed: 2,
        };
        train(&net, &x_train, &y_train, &opts).unwrap();
        let mut report = net.plausibility_report(&xq, 0.0).unwrap();
        let logits = |x: &Tensor| -> DaleResult<Tensor> { Ok(net.forward(x)?.logits) };
        report.fgsm = fgsm_curve(logits, &xq, &yq, &[0.0, 0.05, 0.1], Some((0.0, 1.0))).unwrap();
        let clean = evaluate(&net, &xq, &yq).unwrap().accuracy;
        assert!((report.fgsm[0].accuracy - clean).abs() < 1e-12);
        assert!(
            report.fgsm[2].accuracy < report.fgsm[0].accuracy,
            "{}: FGSM at ε = 0.1 did not lower accuracy: {:?}",
            kind.name(),
            report.fgsm
        );
        // Frozen last-hidden-layer features; the pool is the first 1000 training images.
        let feats = |x: &Tensor| -> Vec<f32> {
            let h = net.forward(x).unwrap().hidden.pop().unwrap();
            h.flatten_all().unwrap().to_vec1::<f32>().unwrap()
        };
        let (pool_v, query_v) = (feats(&x), feats(&xq));
        let (pool_l, query_l) = (y.to_vec1::<u32>().unwrap(), yq.to_vec1::<u32>().unwrap());
        let pool = Features {
            values: &pool_v,
            labels: &pool_l,
            dim: 500,
        };
        let query = Features {
            values: &query_v,
            labels: &query_l,
            dim: 500,
        };
        report.few_shot = few_shot_curve(pool, query, 10, &[1, 5, 10, 50], 5, 0).unwrap();
        eprintln!(
            "{}: clean {clean:.3}; FGSM {:?}; few-shot {:?}; Dale fc1 {:?}; activity fc0 zero {:.3}",
            kind.name(),
            report.fgsm.iter().map(|p| (p.epsilon, p.accuracy)).collect::<Vec<_>>(),
            report.few_shot.iter().map(|p| (p.k, p.accuracy)).collect::<Vec<_>>(),
            report.synapses[1].dale.fraction,
            report.activity[0].sparsity.fraction_near_zero,
        );
        let fs = &report.few_shot;
        assert!(fs[0].accuracy > 0.2, "1-shot above chance: {fs:?}");
        assert!(
            fs[3].accuracy > fs[0].accuracy,
            "50-shot beats 1-shot: {fs:?}"
        );
        if kind == NetKind::Dann {
            assert!(report.synapses.iter().all(|s| s.dale.fraction == Some(1.0)));
        }
        let json = report.to_json().unwrap();
        assert!(json.contains("\"few_shot\"") && json.contains("\"magnitude_fits\""));
    }
}
