//! Statistics used in the paper's figures: descriptive summaries, t-tests, one-way ANOVA with
//! Tukey's HSD, two-way repeated-measures ANOVA, paired comparisons (paired t-test, Wilcoxon
//! signed-rank, Cohen's d_z), the power of the paired t-test and the smallest difference it
//! detects, Holm–Bonferroni adjustment, correlations and the studentized range distribution.
pub mod anova;
pub mod correlation;
pub mod descriptive;
pub mod multitest;
pub mod paired;
pub mod power;
pub mod ptukey;
pub mod rm_anova;
pub mod ttest;
pub mod tukey;

pub use anova::{one_way_anova, Anova};
pub use correlation::{
    mean_correlation, pearson, pearson_ci, spearman, spearman_ci, Correlation, CorrelationCi,
    MeanCorrelation,
};
pub use descriptive::{mean, sample_sd, summarize, z_scores, Summary};
pub use multitest::holm_bonferroni;
pub use paired::{
    cohens_dz, paired_comparison, paired_differences, paired_summary, paired_t_test,
    wilcoxon_signed_rank, PairedComparison, PairedTTest, Wilcoxon, WilcoxonMethod,
    WILCOXON_EXACT_MAX_N, WILCOXON_PERMUTATION_MAX_N,
};
pub use power::{correlation_mde, paired_mde, paired_t_power};
pub use ptukey::{ptukey, qtukey};
pub use rm_anova::{rm_anova_2way, RmAnova2, RmEffect};
pub use ttest::{student_t_test, welch_t_test, TTest, TTestKind};
pub use tukey::{tukey_hsd, TukeyPair};

use statrs::distribution::{ContinuousCDF, FisherSnedecor, StudentsT};

/// Two-sided p-value of a t statistic with `df` degrees of freedom.
pub(crate) fn t_two_sided_p(t: f64, df: f64) -> crate::Result<f64> {
    let dist = StudentsT::new(0.0, 1.0, df).map_err(|e| {
        crate::AnalysisError::InvalidArgument(format!("t distribution df={df}: {e}"))
    })?;
    Ok((2.0 * dist.sf(t.abs())).min(1.0))
}

/// Two-sided critical t value: the `1 - alpha/2` quantile.
pub(crate) fn t_critical(alpha: f64, df: f64) -> crate::Result<f64> {
    let dist = StudentsT::new(0.0, 1.0, df).map_err(|e| {
        crate::AnalysisError::InvalidArgument(format!("t distribution df={df}: {e}"))
    })?;
    Ok(dist.inverse_cdf(1.0 - alpha / 2.0))
}

/// Upper-tail p-value of an F statistic.
pub(crate) fn f_upper_p(f: f64, df1: f64, df2: f64) -> crate::Result<f64> {
    let dist = FisherSnedecor::new(df1, df2).map_err(|e| {
        crate::AnalysisError::InvalidArgument(format!("F distribution df=({df1}, {df2}): {e}"))
    })?;
    Ok(dist.sf(f))
}
