//! `reproduce gevb --scale smoke` end to end through the binary on real Fashion-MNIST (skips
//! with a message when the IDX files are absent): every run is recorded, the report decides both
//! claims, a second call trains nothing and rewrites the same report, and bad flags are refused
//! with a clear message.
mod common;

use common::study::{
    fashion_mnist_or_skip, mnist_named_copy, refuses_bad_flags, reproduce, smoke_runs_and_resumes,
    smoke_runs_and_resumes_in, text, tiny_cifar10, CUDA, NO_SUCH_DATA, ONE_REPEAT,
};

#[test]
fn gevb_runs_at_smoke_scale_and_resumes() {
    let Some(data) = fashion_mnist_or_skip() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let data = data.display().to_string();
    smoke_runs_and_resumes(
        "gevb",
        &["--scale", "smoke", "--data", data.as_str()],
        &tmp.path().join("out"),
        8,
        &[
            "| GEVB+ learns as well as BP+ in vectorized nets (GEVB+ vs BP+) |",
            "| GEVB+ in vectorized nets learns better than DFA+ in conventional nets (GEVB+ vs DFA+) |",
        ],
    );
}

/// `--dataset cifar10` trains the same arms on CIFAR-10 (3,072 inputs; here the test kit's tiny
/// binary release) into its own directory, resumes, and the report puts the paper's CIFAR-10
/// numbers beside ours; Fashion-MNIST's directory is untouched.
#[test]
fn gevb_runs_on_cifar10_into_its_own_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let data = tiny_cifar10(tmp.path());
    let args = ["--scale", "smoke", "--dataset", "cifar10", "--data", &data];
    smoke_runs_and_resumes_in(
        "gevb",
        "gevb-cifar10",
        &args,
        &out,
        8,
        &[
            "Table 1 on CIFAR-10",
            "each colour image flattened to 3,072 inputs",
            "ours: test error % (CIFAR-10)",
            "| GEVB+ | 47.62 (CIFAR-10) |",
            "| DFA+ | 48.69 (CIFAR-10) |",
        ],
    );
    assert!(
        !out.join("gevb").exists(),
        "Fashion-MNIST's directory untouched"
    );
    let bad = reproduce("gevb", &["--scale", "smoke", "--dataset", "kmnist"], &out);
    assert!(!bad.status.success() && text(&bad).contains("--dataset"));
}

#[test]
fn bad_gevb_flags_are_refused_with_a_clear_message() {
    refuses_bad_flags(
        "gevb",
        &[
            (&["--scale", "paper"][..], "has scales smoke and quick"),
            ONE_REPEAT,
            CUDA,
            NO_SUCH_DATA,
            (
                &["--scale", "smoke", "--mlp-data", "/tmp"][..],
                "--mlp-data",
            ),
        ],
    );
}

/// `--signed` adds the mixed-sign FC-Vec arms (GEVB and BP without the "+" constraint) into
/// `OUT/gevb-signed/`, with their claims and the paper's MNIST numbers beside ours.
#[test]
fn gevb_signed_adds_the_mixed_sign_arms_into_its_own_directory() {
    let Some(data) = fashion_mnist_or_skip() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let data = data.display().to_string();
    smoke_runs_and_resumes_in(
        "gevb",
        "gevb-signed",
        &["--scale", "smoke", "--signed", "--data", data.as_str()],
        &out,
        12,
        &[
            "| The \"+\" constraint makes GEVB learn better (GEVB+ vs GEVB (mixed sign)) |",
            "| Backprop needs no \"+\" constraint: BP learns as well as BP+ (BP (mixed sign) vs BP+) |",
            "| GEVB (mixed sign) | 2.32 (MNIST) |",
            "| BP (mixed sign) | 1.84 (MNIST) |",
            "Mixed-sign arms: FC-Vec of the same widths",
        ],
    );
    assert!(!out.join("gevb").exists(), "the \"+\" directory untouched");
}

/// `--dataset mnist --data DIR` reads MNIST's IDX files (here Fashion-MNIST's under MNIST's
/// names: MNIST is not installed) into `OUT/gevb-mnist/`, records MNIST in the specs and puts
/// the paper's MNIST numbers beside ours as the same dataset; without --data it is refused.
#[test]
fn gevb_reads_mnist_files_into_its_own_directory() {
    let Some(fashion) = fashion_mnist_or_skip() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let mnist = mnist_named_copy(&fashion, tmp.path()).display().to_string();
    let out = tmp.path().join("out");
    smoke_runs_and_resumes_in(
        "gevb",
        "gevb-mnist",
        &["--scale", "smoke", "--dataset", "mnist", "--data", &mnist],
        &out,
        8,
        &[
            "MNIST, the paper's dataset, from the IDX files passed",
            "| GEVB+ | 1.87 (MNIST) |",
            "ours: test error % (MNIST)",
        ],
    );
    let o = reproduce("gevb", &["--scale", "smoke", "--dataset", "mnist"], &out);
    assert!(
        !o.status.success(),
        "--dataset mnist without --data was accepted"
    );
    assert!(text(&o).contains("needs --data DIR"), "{}", text(&o));
}
