//! Every plot type is rendered to SVG (parsed as XML; title, axis labels and legend entries
//! must appear as <text>) and to PNG (decoded: right size, not blank, text pixels present in
//! the title band). Set NEUROGEN_PLOT_DIR to keep the rendered files for inspection.
use neurogen_analysis::kde::Bandwidth;
use neurogen_analysis::plot::{
    self, BoxPlot, Curve, DensityPlot, Figure, Heatmap, Labels, LinePlot, ViolinPlot,
};
use neurogen_analysis::AnalysisError;

const SIZE: (u32, u32) = (800, 600);

fn groups() -> Vec<(String, Vec<f64>)> {
    vec![
        (
            "control".into(),
            vec![0.71, 0.69, 0.74, 0.70, 0.68, 0.73, 0.72],
        ),
        (
            "neurogenesis".into(),
            vec![0.75, 0.77, 0.74, 0.78, 0.76, 0.79, 0.73],
        ),
        (
            "dropout".into(),
            vec![0.74, 0.72, 0.75, 0.73, 0.76, 0.71, 0.74],
        ),
    ]
}

fn svg_texts(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).expect("SVG is well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(root.attribute("width"), Some("800"));
    assert_eq!(root.attribute("height"), Some("600"));
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or("").trim().to_string())
        .collect()
}

fn check_png(png: &[u8], name: &str) {
    let img = image::load_from_memory_with_format(png, image::ImageFormat::Png)
        .expect("PNG decodes")
        .to_rgb8();
    assert_eq!(img.dimensions(), SIZE, "{name}");
    let non_white = img.pixels().filter(|p| p.0 != [255, 255, 255]).count();
    let total = (SIZE.0 * SIZE.1) as usize;
    assert!(
        non_white > total / 100,
        "{name}: nearly blank ({non_white} non-white pixels)"
    );
    assert!(
        non_white < total * 9 / 10,
        "{name}: nearly filled ({non_white} non-white pixels)"
    );
    // The title is drawn with the embedded font in the top 45 pixel rows: dark glyph pixels.
    let dark_in_title = (0..45)
        .flat_map(|y| (0..SIZE.0).map(move |x| (x, y)))
        .filter(|&(x, y)| img.get_pixel(x, y).0.iter().all(|&c| c < 100))
        .count();
    assert!(
        dark_in_title > 100,
        "{name}: no title text rendered ({dark_in_title} dark pixels)"
    );
}

fn render_both<F: Figure>(fig: &F, name: &str, expected_texts: &[&str]) {
    let svg = plot::to_svg(fig, SIZE).unwrap();
    let texts = svg_texts(&svg);
    for t in expected_texts {
        assert!(
            texts.iter().any(|x| x == t),
            "{name}: <text>{t}</text> missing; have {texts:?}"
        );
    }
    let png = plot::to_png(fig, SIZE).unwrap();
    check_png(&png, name);
    if let Ok(dir) = std::env::var("NEUROGEN_PLOT_DIR") {
        let dir = std::path::Path::new(&dir);
        plot::save(fig, &dir.join(format!("{name}.svg")), SIZE).unwrap();
        plot::save(fig, &dir.join(format!("{name}.png")), SIZE).unwrap();
    }
}

#[test]
fn box_plot_renders() {
    let fig = BoxPlot {
        groups: groups(),
        labels: Labels::new(
            "Test accuracy by regulariser",
            "Regulariser",
            "Test accuracy",
        ),
    };
    render_both(
        &fig,
        "box",
        &[
            "Test accuracy by regulariser",
            "Regulariser",
            "Test accuracy",
            "control",
            "neurogenesis",
            "dropout",
        ],
    );
}

#[test]
fn violin_plot_renders_including_a_constant_group() {
    let mut g = groups();
    g.push(("constant".into(), vec![0.72, 0.72, 0.72]));
    let fig = ViolinPlot {
        groups: g,
        bandwidth: Bandwidth::Scott,
        labels: Labels::new("Accuracy distributions", "Regulariser", "Test accuracy"),
    };
    render_both(
        &fig,
        "violin",
        &[
            "Accuracy distributions",
            "Regulariser",
            "Test accuracy",
            "neurogenesis",
            "constant",
        ],
    );
}

#[test]
fn density_plot_renders_with_legend() {
    let series = vec![
        (
            "trained without neurogenesis".to_string(),
            vec![0.1, 0.15, 0.2, 0.22, 0.3, 0.35, 0.4, 0.5],
        ),
        (
            "trained with neurogenesis".to_string(),
            vec![0.05, 0.08, 0.1, 0.12, 0.15, 0.2, 0.25, 0.3],
        ),
    ];
    let fig = DensityPlot {
        series,
        bandwidth: Bandwidth::Silverman,
        labels: Labels::new("Class selectivity", "Selectivity index", "Density"),
    };
    render_both(
        &fig,
        "density",
        &[
            "Class selectivity",
            "Selectivity index",
            "Density",
            "trained without neurogenesis",
            "trained with neurogenesis",
        ],
    );
}

#[test]
fn heatmap_renders_with_colour_bar() {
    let names: Vec<String> = ["none", "dropout", "neurogenesis"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let fig = Heatmap {
        matrix: vec![
            vec![f64::NAN, -2.1, -3.4],
            vec![2.1, f64::NAN, -1.2],
            vec![3.4, 1.2, f64::NAN],
        ],
        row_labels: names.clone(),
        col_labels: names,
        colour_bar_label: "z-score".into(),
        labels: Labels::new("Pairwise z-scores", "Regulariser B", "Regulariser A"),
    };
    render_both(
        &fig,
        "heatmap",
        &[
            "Pairwise z-scores",
            "Regulariser A",
            "Regulariser B",
            "z-score",
            "dropout",
            "-3.40",
            "n/a",
        ],
    );
}

#[test]
fn line_plot_renders_ablation_curves() {
    let x: Vec<f64> = (0..=20).map(|i| i as f64 / 20.0).collect();
    let curve = |label: &str, k: f64| Curve {
        label: label.into(),
        x: x.clone(),
        y: x.iter().map(|f| (1.0 - f.powf(k)).max(0.0)).collect(),
        err: Some(x.iter().map(|f| 0.05 * f * (1.0 - f) * 4.0).collect()),
    };
    let fig = LinePlot {
        curves: vec![curve("control", 1.5), curve("neurogenesis", 3.0)],
        labels: Labels::new(
            "Ablation",
            "Fraction of units silenced",
            "Normalised accuracy",
        ),
    };
    render_both(
        &fig,
        "ablation",
        &[
            "Ablation",
            "Fraction of units silenced",
            "Normalised accuracy",
            "control",
            "neurogenesis",
        ],
    );
}

#[test]
fn scatter_plot_renders_and_rejects_bad_points() {
    let fig = plot::ScatterPlot {
        series: vec![
            plot::Points {
                label: "f = 0".into(),
                x: vec![0.5, 0.6, 0.7],
                y: vec![40.0, 45.0, 52.0],
            },
            plot::Points {
                label: "f = 1".into(),
                x: vec![0.2, 0.3],
                y: vec![10.0, 11.0],
            },
        ],
        labels: Labels::new("Robustness", "ablation AUC", "test accuracy (%)"),
    };
    render_both(
        &fig,
        "scatter",
        &[
            "Robustness",
            "ablation AUC",
            "test accuracy (%)",
            "f = 0",
            "f = 1",
        ],
    );
    let mut bad = fig.clone();
    bad.series[0].y[1] = f64::NAN;
    assert!(matches!(
        plot::to_svg(&bad, SIZE),
        Err(AnalysisError::NonFinite { .. })
    ));
    bad.series[0].y.pop();
    assert!(matches!(
        plot::to_svg(&bad, SIZE),
        Err(AnalysisError::LengthMismatch { .. })
    ));
    let empty = plot::ScatterPlot {
        series: vec![],
        labels: Labels::default(),
    };
    assert!(plot::to_svg(&empty, SIZE).is_err());
}

#[test]
fn plots_reject_bad_input_and_write_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let bad = BoxPlot {
        groups: vec![("a".into(), vec![1.0, f64::NAN])],
        labels: Labels::default(),
    };
    assert!(matches!(
        plot::to_svg(&bad, SIZE),
        Err(AnalysisError::NonFinite { .. })
    ));
    let empty = BoxPlot {
        groups: vec![],
        labels: Labels::default(),
    };
    assert!(matches!(
        plot::to_png(&empty, SIZE),
        Err(AnalysisError::InvalidArgument(_))
    ));
    let good = BoxPlot {
        groups: groups(),
        labels: Labels::new("t", "x", "y"),
    };
    assert!(matches!(
        plot::save(&good, &dir.path().join("fig.jpg"), SIZE),
        Err(AnalysisError::InvalidArgument(_))
    ));
    assert!(matches!(
        plot::to_svg(&good, (10, 10)),
        Err(AnalysisError::InvalidArgument(_))
    ));
    let ragged = Heatmap {
        matrix: vec![vec![1.0, 2.0], vec![1.0]],
        row_labels: vec!["a".into(), "b".into()],
        col_labels: vec!["a".into(), "b".into()],
        colour_bar_label: "z".into(),
        labels: Labels::default(),
    };
    assert!(matches!(
        plot::to_svg(&ragged, SIZE),
        Err(AnalysisError::LengthMismatch { .. })
    ));
    let mismatched = LinePlot {
        curves: vec![Curve {
            label: "c".into(),
            x: vec![0.0, 1.0],
            y: vec![1.0],
            err: None,
        }],
        labels: Labels::default(),
    };
    assert!(matches!(
        plot::to_svg(&mismatched, SIZE),
        Err(AnalysisError::LengthMismatch { .. })
    ));
    let path = dir.path().join("fig.svg");
    plot::save(&good, &path, SIZE).unwrap();
    assert!(std::fs::read_to_string(&path).unwrap().contains("<svg"));
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        1,
        "temporary file left behind: {leftovers:?}"
    );
}

/// `(x, y, text)` of every `<text>` element of an SVG.
fn svg_text_positions(svg: &str) -> Vec<(f64, f64, String)> {
    let doc = roxmltree::Document::parse(svg).expect("SVG is well-formed XML");
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| {
            let num = |a: &str| {
                n.attribute(a)
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(f64::NAN)
            };
            (
                num("x"),
                num("y"),
                n.text().unwrap_or("").trim().to_string(),
            )
        })
        .collect()
}

/// Six long group names (fig. 2 side by side) used to overprint each other on the x axis
/// (issue #40). Each is now wrapped under its own box: no two label lines on the same row
/// overlap (widths estimated generously at 8.5 pixels a character), and every word of every
/// name is written.
#[test]
fn long_group_names_are_wrapped_and_never_overlap() {
    let names = [
        "Control",
        "Neurogenesis",
        "Neurogenesis (published code)",
        "Neurogenesis + excitability",
        "Neurogenesis + excitability (published code)",
        "Frozen layers",
    ];
    let p = BoxPlot {
        groups: names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.to_string(), vec![70.0 + i as f64, 71.0, 72.5 - i as f64]))
            .collect(),
        labels: Labels::new("Fig. 2: test accuracy", "group", "test accuracy (%)"),
    };
    let svg = plot::to_svg(&p, SIZE).unwrap();
    let texts = svg_text_positions(&svg);
    // The label lines: below the plot area, text that is part of a group name.
    let words: Vec<&str> = names.iter().flat_map(|n| n.split_whitespace()).collect();
    let lines: Vec<&(f64, f64, String)> = texts
        .iter()
        .filter(|(_, _, t)| !t.is_empty() && t.split_whitespace().all(|w| words.contains(&w)))
        .filter(|(_, y, _)| *y > 400.0)
        .collect();
    for w in &words {
        assert!(
            lines
                .iter()
                .any(|(_, _, t)| t.split_whitespace().any(|x| x == *w)),
            "{w} not written"
        );
    }
    for (i, a) in lines.iter().enumerate() {
        for b in &lines[i + 1..] {
            if (a.1 - b.1).abs() > 1.0 {
                continue;
            }
            let half = |t: &str| 8.5 * t.chars().count() as f64 / 2.0;
            let gap = (a.0 - b.0).abs() - half(&a.2) - half(&b.2);
            assert!(gap > 0.0, "{:?} and {:?} overlap", a.2, b.2);
        }
    }
}

/// Epochs are whole numbers: the x axis of a per-epoch curve reads 2, 4, … and never 2.0 or
/// 2.5 (issue #40).
#[test]
fn epoch_axes_have_whole_number_ticks() {
    let p = LinePlot {
        curves: vec![Curve {
            label: "control".into(),
            x: (1..=15).map(f64::from).collect(),
            y: (1..=15).map(|e| 2.0 / f64::from(e)).collect(),
            err: None,
        }],
        labels: Labels::new("loss", "epoch", "loss"),
    };
    let svg = plot::to_svg(&p, SIZE).unwrap();
    let ticks: Vec<String> = svg_text_positions(&svg)
        .into_iter()
        .map(|t| t.2)
        .filter(|t| t.parse::<f64>().is_ok())
        .collect();
    assert!(ticks.iter().any(|t| t == "10"), "{ticks:?}");
    assert!(!ticks.iter().any(|t| t.ends_with(".0")), "{ticks:?}");
}
