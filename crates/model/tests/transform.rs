//! A plugin's own forward transform (`HookStep::Transform`) trains like the built-in step that
//! computes the same function, alone and in a stacked model of replicas where the other
//! replicas' built-in steps stay batched: doubling hidden layer 1 through a transform and
//! through `ScaleUnits(2)` gives bit-identical weights after training.
use candle_core::{Device, Tensor};
use neurogen_data::{ImageShape, Split};
use neurogen_model::hooks::ForwardTransform;
use neurogen_model::{
    train, train_replicas, Cnn, HookSite, HookStep, ModelConfig, Point, Regularizer, Result,
    Silent, TrainConfig,
};

/// `2 · x`, as a plugin would write it.
struct Double;

impl ForwardTransform for Double {
    fn name(&self) -> &str {
        "double"
    }
    fn apply(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        x * 2.0
    }
}

/// Doubles hidden layer 1's activations in training, by a transform or the built-in step.
struct Doubling {
    custom: bool,
}

impl Regularizer for Doubling {
    fn name(&self) -> String {
        "doubling".into()
    }
    fn hook(&mut self, site: &HookSite) -> Result<Vec<HookStep>> {
        if !(site.ctx.train && site.is(1, Point::Activation)) {
            return Ok(Vec::new());
        }
        Ok(vec![if self.custom {
            HookStep::transform(Double)
        } else {
            HookStep::ScaleUnits(vec![2.0; site.layer.width])
        }])
    }
}

fn split() -> Split {
    let shape = ImageShape {
        channels: 1,
        height: 28,
        width: 28,
    };
    let images: Vec<u8> = (0..16 * 784).map(|i| (i * 7 % 251) as u8).collect();
    let labels: Vec<u8> = (0..16).map(|i| (i % 10) as u8).collect();
    Split::new(shape, images, labels).unwrap()
}

fn config() -> TrainConfig {
    TrainConfig {
        epochs: 1,
        batch_size: 8,
        eval_every_epoch: false,
        eval_train_at_end: false,
        ..TrainConfig::default()
    }
}

fn bits(net: &Cnn, r: usize) -> Vec<(String, Vec<u32>)> {
    net.named_params()
        .into_iter()
        .map(|(n, _)| {
            let v = net.value(n, r).unwrap().flatten_all().unwrap();
            (
                n.to_string(),
                v.to_vec1::<f32>()
                    .unwrap()
                    .iter()
                    .map(|x| x.to_bits())
                    .collect(),
            )
        })
        .collect()
}

#[test]
fn a_custom_transform_trains_like_the_built_in_step_it_equals() {
    let cfg = ModelConfig::fashion_mnist().with_hidden_width(16);
    let data = split();
    let run = |custom: bool| {
        let mut net = Cnn::new(&cfg, 3, &Device::Cpu).unwrap();
        train(
            &mut net,
            &data,
            None,
            &config(),
            &mut Doubling { custom },
            &mut Silent,
        )
        .unwrap();
        net
    };
    let (plugin, built_in) = (run(true), run(false));
    assert_eq!(bits(&plugin, 0), bits(&built_in, 0));
    // The hook acts (the test is not void): without it the weights differ.
    let mut plain = Cnn::new(&cfg, 3, &Device::Cpu).unwrap();
    train(
        &mut plain,
        &data,
        None,
        &config(),
        &mut neurogen_model::NoRegularizer,
        &mut Silent,
    )
    .unwrap();
    assert_ne!(bits(&plain, 0), bits(&plugin, 0));
}

#[test]
fn replicas_with_custom_and_built_in_steps_train_as_alone() {
    let cfg = ModelConfig::fashion_mnist().with_hidden_width(16);
    let data = split();
    let seeds = [3, 4, 5];
    let mut net = Cnn::from_seeds(&cfg, &seeds, &Device::Cpu).unwrap();
    let mut regs = vec![
        Doubling { custom: true },
        Doubling { custom: false },
        Doubling { custom: true },
    ];
    train_replicas(
        &mut net,
        &data,
        None,
        &[config(), config(), config()],
        &mut regs,
        &mut Silent,
    )
    .unwrap();
    for (r, seed) in seeds.iter().enumerate() {
        let mut alone = Cnn::new(&cfg, *seed, &Device::Cpu).unwrap();
        train(
            &mut alone,
            &data,
            None,
            &config(),
            &mut Doubling { custom: false },
            &mut Silent,
        )
        .unwrap();
        assert_eq!(bits(&net, r), bits(&alone, 0), "replica {r}");
    }
}
