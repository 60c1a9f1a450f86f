//! The hostile plan files of issue 8, shared by the memory test (tests/reader_limits.rs)
//! and the time benchmark (benches/report.rs).

/// The hostile plan files of issue 8, each at most the import limit.
pub fn hostile_files() -> Vec<(&'static str, String)> {
    vec![
        (
            "one 500 KB string through 50,000 aliases",
            format!(
                "schema: 1\nname: &a \"{}\"\nx: [{}]\n",
                "x".repeat(500_000),
                vec!["*a"; 50_000].join(",")
            ),
        ),
        (
            "a mapping of aliases to a mapping of aliases (billion laughs)",
            {
                let mut t = String::from("schema: 1\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
                for i in 1..10 {
                    let refs = vec![format!("*a{}", i - 1); 10].join(", ");
                    t.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
                }
                t
            },
        ),
        ("nested mappings of aliases", {
            let mut t = String::from(
                "schema: 1\nb0: &b0 {k0: x, k1: x, k2: x, k3: x, k4: x, k5: x, k6: x, k7: x, k8: x, k9: x}\n",
            );
            for i in 1..10 {
                let refs: Vec<String> = (0..10).map(|k| format!("k{k}: *b{}", i - 1)).collect();
                t.push_str(&format!("b{i}: &b{i} {{{}}}\n", refs.join(", ")));
            }
            t
        }),
        (
            "100,000 keys",
            (0..95_000).map(|i| format!("k{i}: 1\n")).collect(),
        ),
        ("100,000 levels of [", "[".repeat(100_000)),
        ("100,000 block levels", "- ".repeat(100_000) + "x\n"),
        (
            "one 1 MiB string",
            format!("name: \"{}\"\n", "y".repeat(1_000_000)),
        ),
        (
            "the largest allowed tree",
            (0..25_000).map(|i| format!("k{i}: v\n")).collect(),
        ),
    ]
}
