//! Times the YAML readers on one file, single-threaded: this crate's reader (`krm::reader`,
//! behind `yaml::parse_document`) against the serde-saphyr deserializer it replaced.
//!
//! Reports the CPU time of the reading thread (`/proc/thread-self/schedstat`, so other work on
//! the machine does not count) and the wall time, min and median over the runs. Only the read is
//! timed: the values are dropped after the clock stops.
//!
//! Usage: cargo run --release --example read_timing -- FILE [--runs N] [--stream]
//!   FILE      a YAML file, e.g. the corpus as one ResourceList (see tests/corpus/harness.py)
//!   --stream  read FILE as a multi-document stream instead of one document

use std::time::Instant;

use kubeflow_krm::krm::{reader, yaml};

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

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
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
    for (name, f) in [("serde-saphyr (before)", &old as &dyn Fn() -> Vec<serde_json::Value>), ("krm::reader (after)", &new)] {
        let (mut cpu, mut wall) = time(runs, f);
        println!("{name:24} thread CPU {}; wall {}", summary(&mut cpu), summary(&mut wall));
    }
}
