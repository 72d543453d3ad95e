//! The README's library quickstart (`examples/quickstart.rs`) runs, and its saved checkpoint
//! evaluates after loading to the run's own accuracy; in the repository, the README shows
//! exactly the example's program.
#[allow(dead_code)]
#[path = "../examples/quickstart.rs"]
mod quickstart;

#[test]
fn quickstart_trains_saves_and_evaluates_as_trained() {
    let dir = tempfile::tempdir().unwrap();
    let Some((again, own)) = quickstart::run(dir.path()).unwrap() else {
        return; // the example printed why it skipped
    };
    assert_eq!(
        again, own,
        "evaluated after loading vs the run's own evaluation"
    );
    // One epoch on 1,000 images; chance is 0.1.
    assert!(own > 0.25, "test accuracy {own}");
}

/// The lines between `// README: begin` and `// README: end` of the example.
fn example_program() -> Vec<String> {
    let src = include_str!("../examples/quickstart.rs");
    let start = src.find("// README: begin\n").unwrap() + "// README: begin\n".len();
    let end = src.find("// README: end").unwrap();
    src[start..end].lines().map(str::to_string).collect()
}

#[test]
fn the_readme_shows_the_quickstart_program() {
    let readme = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    let Ok(text) = std::fs::read_to_string(&readme) else {
        return; // a published package has no repository README beside it
    };
    let want = example_program();
    let found = text.split("```rust\n").skip(1).any(|block| {
        let body: Vec<String> = block
            .split("```")
            .next()
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        body.windows(want.len()).any(|w| w == want.as_slice())
    });
    assert!(
        found,
        "README.md's \"Use as a library\" must show examples/quickstart.rs's program (between \
         its README markers) verbatim:\n{}",
        want.join("\n")
    );
}
