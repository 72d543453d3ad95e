//! Hooks for Morcos et al.'s single-direction analyses on a hand-built network whose values are
//! worked out by hand: silencing convolutional feature maps, their spatial means, and Gaussian
//! noise added to a hidden layer.
//!
//! CNN: input 1×4×4, convolutions of 2 and 2 maps (3×3, padding 1; a 2×2 max-pool after the
//! second), one hidden layer of 2 units, 2 classes.
//! - conv 0: weights 0, biases (1, −1): maps (1, 0) everywhere, whatever the input;
//! - conv 1: map 0 = centre tap 1 of conv 0's map 0, bias 0 → 1; map 1 = centre tap 2 of
//!   map 0, bias 0.5 → 2.5 (everywhere; the pool keeps them);
//! - fcs.0: unit 0 sums map 0's 4 pooled values (4), unit 1 map 1's (10); fc3 = identity.
//!
//! By hand: logits (4, 10); conv 1's map 1 silenced → (4, 0); conv 0's map 0 silenced →
//! conv 1's maps (0, 0.5) → (0, 2); conv 0's map 1 (already 0) silenced → (4, 10).
use candle_core::{DType, Device, Tensor};
use neurogen_model::{
    feature_map_activations, AddNoise, Cnn, ForwardCtx, HookSite, HookStep, ModelConfig, NoHooks,
    PerReplica, Regularizer, Silence,
};

fn hand_cnn() -> Cnn {
    let cfg = ModelConfig {
        in_channels: 1,
        in_height: 4,
        in_width: 4,
        conv_channels: vec![2, 2],
        hidden_sizes: vec![2],
        num_classes: 2,
    };
    let dev = Device::Cpu;
    let mut m = Cnn::new(&cfg, 0, &dev).unwrap();
    let t = |v: Vec<f32>, shape: &[usize]| Tensor::from_vec(v, shape, &dev).unwrap();
    m.set_param("conv1.weight", &t(vec![0.0; 18], &[1, 2, 1, 3, 3]))
        .unwrap();
    m.set_param("conv1.bias", &t(vec![1.0, -1.0], &[1, 2]))
        .unwrap();
    let mut w2 = vec![0.0f32; 2 * 2 * 9];
    w2[4] = 1.0; // out 0, in 0, centre
    w2[2 * 9 + 4] = 2.0; // out 1, in 0, centre
    m.set_param("conv2.weight", &t(w2, &[1, 2, 2, 3, 3]))
        .unwrap();
    m.set_param("conv2.bias", &t(vec![0.0, 0.5], &[1, 2]))
        .unwrap();
    let mut w = vec![0.0f32; 16];
    for j in 0..4 {
        w[j] = 1.0; // unit 0 <- map 0 (features 0..4)
        w[8 + 4 + j] = 1.0; // unit 1 <- map 1 (features 4..8)
    }
    m.set_param("fcs.0.weight", &t(w, &[1, 2, 8])).unwrap();
    m.set_param("fcs.0.bias", &t(vec![0.0, 0.0], &[1, 2]))
        .unwrap();
    m.set_param("fc3.weight", &t(vec![1.0, 0.0, 0.0, 1.0], &[1, 2, 2]))
        .unwrap();
    m
}

fn input(n: usize) -> Tensor {
    let v: Vec<f32> = (0..n * 16).map(|i| (i as f32 * 0.7).sin()).collect();
    Tensor::from_vec(v, (n, 1, 4, 4), &Device::Cpu).unwrap()
}

fn logits_with(m: &Cnn, hook: Silence) -> Vec<Vec<f32>> {
    m.forward(&input(2), &mut PerReplica(&mut [hook]), &ForwardCtx::eval())
        .unwrap()
        .logits
        .squeeze(0)
        .unwrap()
        .to_vec2()
        .unwrap()
}

#[test]
fn silencing_feature_maps_gives_the_hand_computed_logits() {
    let m = hand_cnn();
    let plain: Vec<Vec<f32>> = m.predict(&input(2)).unwrap().to_vec2().unwrap();
    assert_eq!(plain, vec![vec![4.0, 10.0]; 2]);
    let cases: [(usize, Vec<usize>, [f32; 2]); 4] = [
        (1, vec![1], [4.0, 0.0]),
        (0, vec![0], [0.0, 2.0]),
        (0, vec![1], [4.0, 10.0]),
        (1, vec![0, 1], [0.0, 0.0]),
    ];
    for (layer, maps, want) in cases {
        let got = logits_with(&m, Silence::feature_maps(layer, maps.clone()));
        assert_eq!(got, vec![want.to_vec(); 2], "conv {layer}, maps {maps:?}");
    }
    // Silencing nothing is the plain network.
    assert_eq!(logits_with(&m, Silence::feature_maps(0, vec![])), plain);
    // A hidden-layer Silence never touches feature maps, nor the reverse.
    assert_eq!(
        logits_with(&m, Silence::new(0, vec![1])),
        vec![vec![4.0, 0.0]; 2]
    );
}

#[test]
fn feature_map_means_are_the_hand_computed_values() {
    let m = hand_cnn();
    let means = m.feature_map_means(&input(3), &mut NoHooks).unwrap();
    assert_eq!(means.len(), 2);
    let l0: Vec<Vec<f32>> = means[0].squeeze(0).unwrap().to_vec2().unwrap();
    let l1: Vec<Vec<f32>> = means[1].squeeze(0).unwrap().to_vec2().unwrap();
    assert_eq!(l0, vec![vec![1.0, 0.0]; 3]);
    assert_eq!(l1, vec![vec![1.0, 2.5]; 3]);
    // After silencing conv 0's map 0, conv 1's maps read (0, 0.5).
    let mut s = [Silence::feature_maps(0, vec![0])];
    let means = m
        .feature_map_means(&input(1), &mut PerReplica(&mut s))
        .unwrap();
    assert_eq!(
        means[1].flatten_all().unwrap().to_vec1::<f32>().unwrap(),
        vec![0.0, 0.5]
    );
    let shape = neurogen_data::ImageShape {
        channels: 1,
        height: 4,
        width: 4,
    };
    let images: Vec<u8> = (0..4 * 16).map(|i| (i * 37 % 256) as u8).collect();
    let split = neurogen_data::Split::new(shape, images, vec![0, 1, 0, 1]).unwrap();
    let acts = feature_map_activations(&m, &split, 1, 3).unwrap();
    assert_eq!(acts, [1.0, 2.5].repeat(4));
    assert!(feature_map_activations(&m, &split, 2, 3)
        .unwrap_err()
        .to_string()
        .contains("convolution 2 does not exist"));
}

#[test]
fn bad_feature_map_hooks_are_clear_errors() {
    let m = hand_cnn();
    let x = input(1);
    let mut s = [Silence::feature_maps(1, vec![2])];
    let e = m
        .forward(&x, &mut PerReplica(&mut s), &ForwardCtx::eval())
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("cannot silence feature map 2: convolution 1 has 2 maps"),
        "{e}"
    );
    struct MultiplyMaps;
    impl Regularizer for MultiplyMaps {
        fn name(&self) -> String {
            "multiply-maps".into()
        }
        fn hook(&mut self, site: &HookSite) -> neurogen_model::Result<Vec<HookStep>> {
            Ok(if site.is_conv(0) {
                vec![HookStep::Multiply(vec![1.0; site.batch * site.layer.width])]
            } else {
                Vec::new()
            })
        }
    }
    let e = m
        .forward(
            &x,
            &mut PerReplica(&mut [MultiplyMaps]),
            &ForwardCtx::eval(),
        )
        .unwrap_err();
    assert!(e.to_string().contains("only ScaleUnits"), "{e}");
}

/// MLP 2 → 3 → 2 with fcs.0 weights 0 and biases (1, 2, 3): hidden = (1, 2, 3) for every input.
fn constant_mlp() -> Cnn {
    let dev = Device::Cpu;
    let mut m = Cnn::new(&ModelConfig::mlp(2, &[3], 2), 0, &dev).unwrap();
    m.set_param(
        "fcs.0.weight",
        &Tensor::zeros((1, 3, 2), DType::F32, &dev).unwrap(),
    )
    .unwrap();
    m.set_param(
        "fcs.0.bias",
        &Tensor::new(&[[1f32, 2.0, 3.0]], &dev).unwrap(),
    )
    .unwrap();
    m
}

fn noisy_hidden(m: &Cnn, sd: Vec<f32>, seed: u64, n: usize) -> Vec<Vec<f32>> {
    let x = Tensor::ones((n, 1, 1, 2), DType::F32, &Device::Cpu).unwrap();
    let mut h = [AddNoise::new(0, sd, seed).unwrap()];
    m.forward(&x, &mut PerReplica(&mut h), &ForwardCtx::eval())
        .unwrap()
        .hidden[0]
        .squeeze(0)
        .unwrap()
        .to_vec2()
        .unwrap()
}

#[test]
fn noise_has_the_requested_sd_per_unit_and_is_seeded() {
    let m = constant_mlp();
    let n = 4000;
    let h = noisy_hidden(&m, vec![0.0, 1.0, 0.5], 3, n);
    let col = |u: usize| -> (f64, f64) {
        let v: Vec<f64> = h.iter().map(|r| r[u] as f64).collect();
        let mean = v.iter().sum::<f64>() / n as f64;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        (mean, var.sqrt())
    };
    // Unit 0 (SD 0) is exactly its activation; units 1 and 2 are 2 + N(0, 1), 3 + N(0, 0.25):
    // with 4000 draws the sample mean is within 4 standard errors (4/√4000 · SD ≈ 0.063 · SD)
    // and the sample SD within 5 %.
    assert!(h.iter().all(|r| r[0] == 1.0));
    let (m1, s1) = col(1);
    let (m2, s2) = col(2);
    assert!(
        (m1 - 2.0).abs() < 0.064 && (s1 - 1.0).abs() < 0.05,
        "{m1} {s1}"
    );
    assert!(
        (m2 - 3.0).abs() < 0.032 && (s2 - 0.5).abs() < 0.025,
        "{m2} {s2}"
    );
    assert_eq!(h, noisy_hidden(&m, vec![0.0, 1.0, 0.5], 3, n));
    assert_ne!(h, noisy_hidden(&m, vec![0.0, 1.0, 0.5], 4, n));
}

#[test]
fn bad_noise_settings_are_clear_errors() {
    assert!(AddNoise::new(0, vec![1.0, -0.1], 0).is_err());
    assert!(AddNoise::new(0, vec![f32::NAN], 0).is_err());
    let m = constant_mlp();
    let x = Tensor::ones((1, 1, 1, 2), DType::F32, &Device::Cpu).unwrap();
    let mut h = [AddNoise::new(0, vec![1.0; 2], 0).unwrap()];
    let e = m
        .forward(&x, &mut PerReplica(&mut h), &ForwardCtx::eval())
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("2 noise SDs for hidden layer 0 of 3 units"),
        "{e}"
    );
}

#[test]
fn cached_features_evaluate_the_head_as_a_full_forward_pass() {
    // A random CIFAR-shaped network: the cached head equals evaluate_with for hidden-layer
    // hooks, bit for bit, and hidden activations equal hidden_activations.
    let cfg = ModelConfig {
        in_height: 8,
        in_width: 8,
        conv_channels: vec![4, 4],
        hidden_sizes: vec![6, 5],
        ..ModelConfig::cifar10()
    };
    let m = Cnn::new(&cfg, 3, &Device::Cpu).unwrap();
    let shape = neurogen_data::ImageShape {
        channels: 3,
        height: 8,
        width: 8,
    };
    let n = 40;
    let images: Vec<u8> = (0..n * 192).map(|i| (i * 131 % 251) as u8).collect();
    let labels: Vec<u8> = (0..n).map(|i| (i * 7 % 10) as u8).collect();
    let split = neurogen_data::Split::new(shape, images, labels).unwrap();
    let cache = neurogen_model::CachedFeatures::new(&m, &split, 16).unwrap();
    assert_eq!(cache.len(), n);
    for units in [vec![], vec![0, 2], vec![0, 1, 2, 3, 4, 5]] {
        let mut s = Silence::new(0, units.clone());
        let want = neurogen_model::evaluate_with(&m, &split, 16, &mut s)
            .unwrap()
            .accuracy;
        assert_eq!(cache.accuracy(&m, &mut s).unwrap(), want, "{units:?}");
    }
    assert_eq!(
        cache.hidden(&m, 1).unwrap(),
        neurogen_model::hidden_activations(&m, &split, 1, 16).unwrap()
    );
    let bad = Tensor::zeros((1, 2, 7), DType::F32, &Device::Cpu).unwrap();
    assert!(m
        .head(&bad, &mut NoHooks, &ForwardCtx::eval())
        .unwrap_err()
        .to_string()
        .contains("the head takes"));
}
