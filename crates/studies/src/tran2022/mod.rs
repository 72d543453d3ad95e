//! The paper's figures: Tran et al. (2022), figures 2–5, as data (groups, scales, claims) and
//! Tran's parts of their reports.
//!
//! **Paper.** Tran, Santoro, Frankland et al., "Adult neurogenesis acts as a neural
//! regulariser", PNAS 2022 (as the README cites it).
//! **Authors' code.** `linamnt/dnn-neurogenesis` (`neurodl/cnn.py`, the network and its
//! neurogenesis; the `c10-*.py` scripts, the figures' settings), as docs/regularizers.md names
//! it; the project's docs name no commit. What the published code does differently from the
//! paper (the "quirks") is `neurogen_regularizers`' `reference_quirks` and
//! docs/regularizers.md; the published scripts' own settings are the published-code variants
//! of [`figure::Group`] (`--compare-reference`).
//!
//! **Modules.**
//! - [`scale`]: the three scales (`paper`: the published protocol; `quick`: calibrated to the
//!   paper's regime on 2 CPU cores; `smoke`: CI), and the neurogenesis schedule at each.
//! - [`figure`]: a figure as data ([`figure::Figure`], [`figure::Group`] with its published
//!   variant) and its runs' values by group key ([`figure::Results`]).
//! - [`fig2`], [`fig3`], [`fig4`]: each figure's groups and claims ([`fig2::figure`]) and its
//!   script ([`fig2::run`]: train, tables, tests, plots, claims; fig3's pair z-scores).
//! - [`fig5`]: the figure's groups, values and claims, its analyses of each trained network
//!   ([`fig5::analysis`]: ablation, class selectivity, new units; cached in `analysis/`) and its
//!   script ([`fig5::run`]).
//! - [`context`]: what a figure's script needs from the program running it
//!   ([`context::FigureContext`]: scale, runs, directories, device, report; the command line
//!   implements it).
//! - [`plots`]: per-epoch curves of a figure's runs.
//! - [`report`]: Tran's report header (scale, schedule, quirks), the interim notice, and the
//!   report steps on [`figure::Results`].
//!
//! A run is one training of the paper's CNN ([`crate::cnn`], shared with the other CNN
//! studies); the engine ([`neurogen_lab`]) stores, schedules and reports the runs.
//!
//! **Settings.** The paper's: the CNN, Adam at 2e-4, batch 4, 15 epochs (22 for groups with
//! dropout, as the published Slurm jobs pass), 20 repeats, neurogenesis of 8 units every 640
//! steps until epoch 10 ([`scale::Scale::new`] at `paper`). The code's, not the paper's:
//! fig. 4's published script uses 10 units and portion 0.032 ([`fig4::PUBLISHED_UNITS`],
//! [`fig4::PUBLISHED_PORTION`]). Ours: the excitability factor 2 ([`fig2::EXCITE_FACTOR`]; the
//! scripts pass 1, i.e. no change), the targeted portion 0.2 ([`fig4::TARGETED_PORTION`]), the
//! frozen-layers control of fig. 2, and the smaller scales.
//!
//! **Commands** (docs/reproduce.md): `cargo xtask reproduce fig2|fig3|fig4|fig5|all
//! --scale smoke|quick|paper [--compare-reference | --reference-quirks]`; on several machines
//! `--shard I/N`, then `reproduce merge figN`; `reproduce interim figN` for a report of the
//! runs recorded so far.
//!
//! **Committed results** (each with its `command.txt`; `xtask/tests/results.rs` re-derives
//! each report from its `runs.csv`): `docs/results/fig2-quick/`, `docs/results/fig2-fulldata/`,
//! `docs/results/fig3-quick/`, `docs/results/fig4-quick/`, `docs/results/fig5-quick/`.
//!
//! ```
//! use neurogen_studies::tran2022::fig2;
//! use neurogen_studies::tran2022::scale::{Scale, ScaleName};
//!
//! let fig = fig2::figure(&Scale::new(ScaleName::Paper)).unwrap();
//! fig.check().unwrap();
//! assert_eq!(fig.groups[1].name, "Neurogenesis");
//! assert_eq!(fig.groups[1].specs, ["neurogenesis:n=8,every=640,until_epoch=10"]);
//! ```
pub mod context;
pub mod error;
pub mod fig2;
pub mod fig3;
pub mod fig4;
pub mod fig5;
pub mod figure;
pub mod plots;
pub mod report;
pub mod scale;

pub use context::FigureContext;
pub use error::TranError;
