//! Times the YAML readers on one file, single-threaded: this crate's reader (`krm_core::yaml::reader`,
//! behind `yaml::parse_document`) against the serde-saphyr deserializer it replaced, and the
//! parser's events alone (`granit_parser`, the floor of both).
//!
//! Reports the CPU time of the reading thread (`/proc/thread-self/schedstat`, so other work on
//! the machine does not count) and the wall time, min and median over the runs. Only the read is
//! timed: the values are dropped after the clock stops.
//!
//! Usage: cargo run --release --example read_timing -- FILE [--runs N] [--stream]
//!        cargo run --release --example read_timing -- --bombs
//!   FILE      a YAML file, e.g. the corpus as one ResourceList (see tests/corpus/harness.py)
//!   --stream  read FILE as a multi-document stream instead of one document
//!   --bombs   time the refusal of an alias bomb (billion laughs), a flat alias bomb and
//!             nesting deeper than the limit, by both readers

use std::time::Instant;

use krm_core::yaml::{self, reader};

/// CPU time of the calling thread in nanoseconds (Linux), if available.
fn thread_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

fn time<T, F: FnMut() -> T>(runs: usize, mut f: F) -> (Vec<f64>, Vec<f64>) {
    let (mut cpu, mut wall) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let c0 = thread_cpu_ns();
        let w0 = Instant::now();
        let value = f();
        wall.push(w0.elapsed().as_secs_f64());
        if let (Some(a), Some(b)) = (c0, thread_cpu_ns()) {
            cpu.push((b - a) as f64 / 1e9);
        }
        drop(std::hint::black_box(value));
    }
    (cpu, wall)
}

fn summary(samples: &mut [f64]) -> String {
    if samples.is_empty() {
        return "n/a".into();
    }
    samples.sort_by(f64::total_cmp);
    format!("min {:.3} s, median {:.3} s", samples[0], samples[samples.len() / 2])
}

/// Times how long each reader takes to refuse hostile inputs (wall time of one read).
fn bombs() {
    let mut laughs = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..30 {
        laughs.push_str(&format!("a{i}: &a{i} [{}]\n", vec![format!("*a{}", i - 1); 10].join(", ")));
    }
    let flat = format!("a: &a [{}]\nb: [{}]\n", vec!["x"; 10_000].join(", "), vec!["*a"; 200].join(", "));
    let deep: String = (0..300).map(|i| format!("{}k:\n", "  ".repeat(i))).collect();
    for (name, text) in [("billion laughs (10 x 30 levels)", &laughs), ("flat (10,000 x 200 aliases)", &flat), ("nesting 300 deep", &deep)] {
        let w0 = Instant::now();
        let new = reader::read_document(text).map(|_| ()).unwrap_err();
        let new_t = w0.elapsed();
        let w0 = Instant::now();
        let old = yaml::parse_document_serde_saphyr(text).map(|_| ()).unwrap_err();
        let old_t = w0.elapsed();
        println!("{name}:\n  krm::reader  {:>9.3} ms  {new}\n  serde-saphyr {:>9.3} ms  {old}", new_t.as_secs_f64() * 1e3, old_t.as_secs_f64() * 1e3);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--bombs") {
        return bombs();
    }
    let path = args.first().expect("usage: read_timing FILE [--runs N] [--stream]");
    let runs = args.iter().position(|a| a == "--runs").and_then(|i| args.get(i + 1)).map_or(5, |n| n.parse().expect("--runs N"));
    let stream = args.iter().any(|a| a == "--stream");
    let text = std::fs::read_to_string(path).expect("readable UTF-8 file");
    println!("{path}: {} bytes, {runs} runs, {}", text.len(), if stream { "stream" } else { "one document" });

    let new = || -> Vec<serde_json::Value> {
        if stream { reader::read_stream(&text).unwrap() } else { vec![reader::read_document(&text).unwrap()] }
    };
    let old = || -> Vec<serde_json::Value> {
        if stream { yaml::parse_stream_serde_saphyr(&text).unwrap() } else { vec![yaml::parse_document_serde_saphyr(&text).unwrap()] }
    };
    assert!(serde_json::to_string(&new()).unwrap() == serde_json::to_string(&old()).unwrap(), "the readers differ");
    // The floor: the parser's events alone, nothing built (default parser options).
    let events = || -> Vec<serde_json::Value> {
        let n = serde_saphyr::granit_parser::Parser::new_from_str(&text).map(|e| e.map(|_| ()).unwrap()).count();
        vec![serde_json::Value::from(n)]
    };
    for (name, f) in [
        ("serde-saphyr (before)", &old as &dyn Fn() -> Vec<serde_json::Value>),
        ("krm::reader (after)", &new),
        ("granit_parser events", &events),
    ] {
        let (mut cpu, mut wall) = time(runs, f);
        println!("{name:24} thread CPU {}; wall {}", summary(&mut cpu), summary(&mut wall));
    }
}
