//! The community: two agents, each a one-layer tanh RNN with an untrained readout, joined by
//! sparse state-to-state interconnections (`Agent` in `community/common/models/agents.py`,
//! `Community` in `community/common/models/ensembles.py`).
//!
//! Agent `a` sees its own input `x_a` (`batch × n_in`) at every step `t = 0..T`:
//! ```text
//! t = 0:  h_a = tanh(x_a W_ih + b_ih + b_hh)
//! t > 0:  h_a = tanh(x_a W_ih + b_ih + (h_a + h_b C_{b→a}) W_hh + b_hh)
//! out_a(t) = h_a(t) R + r
//! ```
//! as in the authors' code, where the message from the other agent `b` is added to the
//! previous hidden state *before* the recurrent weights (`h = x_h + x_connect`, then
//! `nn.RNN`). Weights are stored transposed (`x W` rather than PyTorch's `x Wᵀ`) and start as
//! PyTorch's defaults: RNN weights and biases `U(−1/√n_hidden, 1/√n_hidden)`, the readout
//! `U(−1/√n_hidden, 1/√n_hidden)` (`nn.Linear`). The input and recurrent weights are trained;
//! the readout (`R`, `r`) is not (`train_in_out = (True, False)`).
use candle_core::{Device, Tensor, Var};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use neurogen_analysis::modularity::newman_q;

use super::connections::{check_p, Connection, ConnectionScheme};
use super::error::{invalid, Result};

/// The community's shape and sparsity. `Default` is the authors' (`scripts/main_funcspec.py`)
/// with p = 0.1 and the issue's T = 2.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CommunityConfig {
    /// Input size of each agent (784 for 28 × 28 images).
    pub n_in: usize,
    /// Hidden units per agent.
    pub n_hidden: usize,
    /// Readout size (classes).
    pub n_out: usize,
    /// Time steps the input is repeated for.
    pub n_steps: usize,
    /// Fraction of the possible interconnections kept, in each direction, in (0, 1].
    pub p: f64,
    /// How the interconnections are kept sparse.
    pub scheme: ConnectionScheme,
}

impl Default for CommunityConfig {
    fn default() -> Self {
        CommunityConfig {
            n_in: 784,
            n_hidden: 100,
            n_out: 10,
            n_steps: 2,
            p: 0.1,
            scheme: ConnectionScheme::DeepR,
        }
    }
}

impl CommunityConfig {
    /// Checks sizes (all ≥ 1, `n_out` ≥ 2, `n_steps` ≥ 1) and `p` in (0, 1].
    pub fn validate(&self) -> Result<()> {
        if self.n_in == 0 || self.n_hidden == 0 || self.n_out < 2 || self.n_steps == 0 {
            return Err(invalid(format!(
                "community sizes must be n_in >= 1, n_hidden >= 1, n_out >= 2, n_steps >= 1 (got {}, {}, {}, {})",
                self.n_in, self.n_hidden, self.n_out, self.n_steps
            )));
        }
        check_p(self.p)
    }
}

/// One agent's parameters (see the module docs).
#[derive(Debug)]
pub struct Agent {
    /// Input weights, `n_in × n_hidden` (trained).
    pub w_ih: Var,
    /// Input bias, `n_hidden` (trained).
    pub b_ih: Var,
    /// Recurrent weights, `n_hidden × n_hidden` (trained).
    pub w_hh: Var,
    /// Recurrent bias, `n_hidden` (trained).
    pub b_hh: Var,
    /// Readout weights, `n_hidden × n_out` (fixed).
    pub w_out: Tensor,
    /// Readout bias, `n_out` (fixed).
    pub b_out: Tensor,
}

fn uniform(rng: &mut impl Rng, bound: f32, shape: &[usize], device: &Device) -> Result<Tensor> {
    let n: usize = shape.iter().product();
    let v: Vec<f32> = (0..n).map(|_| rng.random_range(-bound..bound)).collect();
    Ok(Tensor::from_vec(v, shape, device)?)
}

impl Agent {
    fn new(cfg: &CommunityConfig, rng: &mut impl Rng, device: &Device) -> Result<Agent> {
        let k = 1.0 / (cfg.n_hidden as f32).sqrt();
        let (i, h, o) = (cfg.n_in, cfg.n_hidden, cfg.n_out);
        Ok(Agent {
            w_ih: Var::from_tensor(&uniform(rng, k, &[i, h], device)?)?,
            b_ih: Var::from_tensor(&uniform(rng, k, &[h], device)?)?,
            w_hh: Var::from_tensor(&uniform(rng, k, &[h, h], device)?)?,
            b_hh: Var::from_tensor(&uniform(rng, k, &[h], device)?)?,
            w_out: uniform(rng, k, &[h, o], device)?,
            b_out: uniform(rng, k, &[o], device)?,
        })
    }

    /// The trained parameters with their names.
    pub fn trained(&self) -> [(&'static str, &Var); 4] {
        [
            ("w_ih", &self.w_ih),
            ("b_ih", &self.b_ih),
            ("w_hh", &self.w_hh),
            ("b_hh", &self.b_hh),
        ]
    }
}

/// One agent's weights as tensors, the form [`Community::forward_with`] takes.
#[derive(Debug, Clone)]
pub struct AgentWeights {
    /// Input weights, `n_in × n_hidden`.
    pub w_ih: Tensor,
    /// Input bias, `n_hidden`.
    pub b_ih: Tensor,
    /// Recurrent weights, `n_hidden × n_hidden`.
    pub w_hh: Tensor,
    /// Recurrent bias, `n_hidden`.
    pub b_hh: Tensor,
    /// Readout weights, `n_hidden × n_out`.
    pub w_out: Tensor,
    /// Readout bias, `n_out`.
    pub b_out: Tensor,
}

/// What a forward pass returns.
#[derive(Debug)]
pub struct CommunityOutput {
    /// Readout of each agent at each step: `outputs[t][a]` is `batch × n_out`.
    pub outputs: Vec<[Tensor; 2]>,
    /// Hidden state of each agent at each step: `states[t][a]` is `batch × n_hidden`.
    pub states: Vec<[Tensor; 2]>,
}

/// Two agents and their interconnections (see the module docs).
#[derive(Debug)]
pub struct Community {
    config: CommunityConfig,
    agents: [Agent; 2],
    /// `connections[a]` carries the other agent's state into agent `a`.
    connections: [Connection; 2],
}

impl Community {
    /// A community initialised from `seed`.
    ///
    /// ```
    /// use neurogen_studies::bena2021_modular::{Community, CommunityConfig};
    /// let cfg = CommunityConfig { p: 0.01, ..CommunityConfig::default() };
    /// let c = Community::new(cfg, 0, &candle_core::Device::Cpu).unwrap();
    /// assert_eq!(c.connection(0).n_active().unwrap(), 100);
    /// ```
    pub fn new(config: CommunityConfig, seed: u64, device: &Device) -> Result<Community> {
        config.validate()?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let agents = [
            Agent::new(&config, &mut rng, device)?,
            Agent::new(&config, &mut rng, device)?,
        ];
        let h = config.n_hidden;
        let connections = [
            Connection::new(config.scheme, h, h, config.p, &mut rng, device)?,
            Connection::new(config.scheme, h, h, config.p, &mut rng, device)?,
        ];
        Ok(Community {
            config,
            agents,
            connections,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &CommunityConfig {
        &self.config
    }

    /// Agent `a` (0 or 1; panics otherwise — use [`Community::agents`] to iterate).
    pub fn agent(&self, a: usize) -> &Agent {
        &self.agents[a]
    }

    /// Both agents.
    pub fn agents(&self) -> &[Agent; 2] {
        &self.agents
    }

    /// The connection into agent `a` from the other agent (0 or 1; panics otherwise).
    pub fn connection(&self, a: usize) -> &Connection {
        &self.connections[a]
    }

    /// Both connections (`[into agent 0, into agent 1]`).
    pub fn connections(&self) -> &[Connection; 2] {
        &self.connections
    }

    /// The forward pass on each agent's inputs `inputs[a]` (`batch × n_in`).
    pub fn forward(&self, inputs: [&Tensor; 2]) -> Result<CommunityOutput> {
        let weights = [self.agent_weights(0), self.agent_weights(1)];
        self.forward_with(inputs, &weights)
    }

    /// Agent `a`'s weights as tensors (differentiable with respect to its `Var`s).
    pub fn agent_weights(&self, a: usize) -> AgentWeights {
        let ag = &self.agents[a];
        AgentWeights {
            w_ih: ag.w_ih.as_tensor().clone(),
            b_ih: ag.b_ih.as_tensor().clone(),
            w_hh: ag.w_hh.as_tensor().clone(),
            b_hh: ag.b_hh.as_tensor().clone(),
            w_out: ag.w_out.clone(),
            b_out: ag.b_out.clone(),
        }
    }

    /// The forward pass with the agents' weights replaced by `weights` (e.g. masked ones);
    /// the interconnections are the community's own.
    pub fn forward_with(
        &self,
        inputs: [&Tensor; 2],
        weights: &[AgentWeights; 2],
    ) -> Result<CommunityOutput> {
        let cfg = &self.config;
        let b = inputs[0].dim(0)?;
        for (a, x) in inputs.iter().enumerate() {
            if x.dims() != [b, cfg.n_in] {
                return Err(invalid(format!(
                    "input of agent {a} has shape {:?}, expected [{b}, {}] (batch × n_in)",
                    x.dims(),
                    cfg.n_in
                )));
            }
        }
        // The input drive is the same at every step.
        let drive: Vec<Tensor> = (0..2)
            .map(|a| {
                let w = &weights[a];
                let bias = w.b_ih.add(&w.b_hh)?;
                Ok(inputs[a].matmul(&w.w_ih)?.broadcast_add(&bias)?)
            })
            .collect::<Result<_>>()?;
        let conn = [self.connections[0].weight()?, self.connections[1].weight()?];
        let mut outputs = Vec::with_capacity(cfg.n_steps);
        let mut states: Vec<[Tensor; 2]> = Vec::with_capacity(cfg.n_steps);
        for _ in 0..cfg.n_steps {
            let mut h_new = Vec::with_capacity(2);
            for a in 0..2 {
                let pre = match states.last() {
                    None => drive[a].clone(),
                    Some(prev) => {
                        let msg = prev[1 - a].matmul(&conn[a])?;
                        let h_in = prev[a].add(&msg)?;
                        drive[a].add(&h_in.matmul(&weights[a].w_hh)?)?
                    }
                };
                h_new.push(pre.tanh()?);
            }
            let [h0, h1]: [Tensor; 2] = h_new.try_into().expect("two agents");
            let out = [
                h0.matmul(&weights[0].w_out)?
                    .broadcast_add(&weights[0].b_out)?,
                h1.matmul(&weights[1].w_out)?
                    .broadcast_add(&weights[1].b_out)?,
            ];
            outputs.push(out);
            states.push([h0, h1]);
        }
        Ok(CommunityOutput { outputs, states })
    }

    /// The structural graph: a `2 n_hidden × 2 n_hidden` 0/1 adjacency matrix (row = source)
    /// with each agent's dense recurrent weights (self-connections included) and the active
    /// interconnections. Agent 0's units come first.
    pub fn adjacency(&self) -> Result<Vec<f64>> {
        let h = self.config.n_hidden;
        let n = 2 * h;
        let mut adj = vec![0.0; n * n];
        for a in 0..2 {
            for i in 0..h {
                for j in 0..h {
                    adj[(a * h + i) * n + a * h + j] = 1.0;
                }
            }
            // Connection into agent a: rows are the other agent's units.
            let from = 1 - a;
            for (k, on) in self.connections[a].active()?.into_iter().enumerate() {
                if on {
                    adj[(from * h + k / h) * n + a * h + k % h] = 1.0;
                }
            }
        }
        Ok(adj)
    }

    /// Newman's Q (directed, [`newman_q`]) of the two-agent partition of
    /// [`Community::adjacency`].
    pub fn modularity_q(&self) -> Result<f64> {
        let h = self.config.n_hidden;
        let part: Vec<usize> = (0..2 * h).map(|i| usize::from(i >= h)).collect();
        Ok(newman_q(&self.adjacency()?, 2 * h, &part)?)
    }

    /// Every trained parameter with a unique name: the agents' (`agent{a}.w_ih`, ...) and the
    /// connections' (`conn{a}`, θ or weight into agent `a`).
    pub fn named_params(&self) -> Vec<(String, &Var)> {
        let mut v = Vec::new();
        for (a, ag) in self.agents.iter().enumerate() {
            for (name, var) in ag.trained() {
                v.push((format!("agent{a}.{name}"), var));
            }
        }
        for (a, c) in self.connections.iter().enumerate() {
            v.push((format!("conn{a}"), c.param()));
        }
        v
    }
}
