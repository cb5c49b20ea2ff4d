//! The `kubeflow-krm` command line (each single-function binary's is
//! [`krm_core::process::function_main`]).

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};
use serde_json::Value;

use crate::functions;
use krm_core::process::{EXIT_ERROR, serve};
use krm_core::result::{Severity, has_errors};
use krm_core::{DynFunction, KrmResult, Observer, ResourceList, function, yaml};

#[derive(Parser)]
#[command(
    name = "kubeflow-krm",
    version,
    about = "KRM functions that make a Kubeflow render production-ready for GitOps.",
    long_about = None,
    disable_help_subcommand = true,
    after_help = functions_help(),
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

/// Output format of `--report`.
#[derive(Clone, Copy, clap::ValueEnum)]
enum ReportFormat {
    /// For people.
    Text,
    /// For tools.
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Apply functionConfigs in order to YAML files, a folder or stdin, in one process.
    ///
    /// Writes the transformed resources to stdout and a summary of what changed to stderr.
    /// Exits 1, writing nothing to stdout, if any function reports an error.
    Run {
        /// A YAML file, a folder of YAML files (read recursively, in name order) or `-` for stdin.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// A functionConfig file (IstioInjection, CentralizeCredentials, ...), or a folder whose
        /// kustomization lists functionConfigs (such as fn-configs/); repeat to chain.
        #[arg(long = "config", short = 'c', required = true)]
        configs: Vec<PathBuf>,
        /// Print, instead of the resources, what each function changed: per resource and field
        /// path, old -> new (secret values masked), grouped by function, with totals.
        #[arg(long, value_name = "FORMAT", num_args = 0..=1, default_missing_value = "text")]
        report: Option<ReportFormat>,
        /// Exit 1 if the functions would change the input (for CI: "the rendered output in Git
        /// is current"); prints no resources.
        #[arg(long)]
        check: bool,
        /// Write the resources (or the report) to this file instead of stdout, and say so on
        /// stderr. Nothing is written if a function reports an error.
        #[arg(long, short = 'o', value_name = "FILE", conflicts_with = "check")]
        output: Option<PathBuf>,
    },
    /// Read a ResourceList on stdin and write it back unchanged: the bare parse-and-emit of every
    /// function, without the function (for benchmarks and YAML fidelity checks).
    Fmt,
    /// Print the JSON Schema of a functionConfig kind (all kinds, keyed by kind, without one),
    /// or write `<kind>.json` for every kind into a folder (`--write schemas`).
    Schema {
        /// A kind such as IstioInjection.
        kind: Option<String>,
        /// Write one file per kind into this folder instead of printing.
        #[arg(long, conflicts_with = "kind")]
        write: Option<PathBuf>,
    },
    /// Print the reference docs of a function (by binary name or kind).
    Help {
        /// A function such as istio-injection.
        function: Option<String>,
    },
    /// Write the recommended set-up into a new folder of your GitOps repository: the Chain
    /// functionConfig (`kubeflow-krm.yaml`, to edit), a `kustomization.yaml` listing it (so the
    /// folder goes in a `transformers:` list), and the JSON Schemas editors validate it with.
    Init {
        /// The folder to create (it must not exist, or be empty).
        dir: PathBuf,
    },
    /// Print a shell completion script: `source <(kubeflow-krm completion bash)`, or write it
    /// where your shell loads completions from.
    Completion {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

fn functions_help() -> String {
    let mut s = String::from(
        "Without a subcommand, kubeflow-krm is a KRM function: it reads a ResourceList on stdin and\n\
         runs the function named by the functionConfig's kind (one container image serves all).\n\nFunctions:\n",
    );
    for f in functions::kinds() {
        let summary = f.doc().lines().find(|l| !l.trim().is_empty() && !l.starts_with('#')).unwrap_or("");
        s.push_str(&format!("  {:<28} kind {:<24}\n      {summary}\n", f.name(), f.kind()));
    }
    s.push_str("\n`kubeflow-krm help FUNCTION` prints a function's reference.");
    s
}

/// Entry of `kubeflow-krm`.
pub fn main() -> i32 {
    let cli = Cli::parse();
    match cli.command {
        None => serve(dispatch),
        Some(Command::Run { inputs, configs, report, check, output }) => match run(&inputs, &configs, report, check, output.as_deref()) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: {e:#}");
                EXIT_ERROR
            }
        },
        Some(Command::Fmt) => krm_core::process::serve_with(|rl, _| {
            rl.function_config.take();
            Vec::new()
        }),
        Some(Command::Schema { kind, write: Some(dir) }) => {
            debug_assert!(kind.is_none());
            match write_schemas(&dir) {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    EXIT_ERROR
                }
            }
        }
        Some(Command::Schema { kind, write: None }) => schema(kind.as_deref()),
        Some(Command::Init { dir }) => match init(&dir) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("error: {e:#}");
                EXIT_ERROR
            }
        },
        Some(Command::Completion { shell }) => {
            clap_complete::generate(shell, &mut <Cli as clap::CommandFactory>::command(), "kubeflow-krm", &mut std::io::stdout());
            0
        }
        Some(Command::Help { function }) => match function {
            None => {
                println!("{}", functions_help());
                0
            }
            Some(name) => match functions::by_name(&name).or_else(|| functions::by_kind(&name)) {
                Some(f) => {
                    print!("{}", f.doc());
                    0
                }
                None => {
                    eprintln!("error: no function named {name:?}");
                    2
                }
            },
        },
    }
}

/// Picks the function for a functionConfig by its kind.
fn dispatch(function_config: Option<&Value>) -> Result<&'static dyn DynFunction, String> {
    let kinds = || functions::kinds().map(|f| f.kind()).collect::<Vec<_>>().join(", ");
    let Some(fc) = function_config else {
        return Err(format!("missing functionConfig: kubeflow-krm picks the function by its kind, one of {}", kinds()));
    };
    let kind = krm_core::object::kind(fc);
    if kind == "ConfigMap" {
        return Err(format!(
            "a ConfigMap functionConfig does not say which function to run: give it to the function's own binary \
             or image (ghcr.io/kubeflow-krm/<function>, such as istio-injection), or use a typed kind, one of {}",
            kinds()
        ));
    }
    functions::by_kind(kind).ok_or_else(|| format!("functionConfig kind {kind:?} is not one of {}", kinds()))
}

fn schema(kind: Option<&str>) -> i32 {
    let value = match kind {
        Some(k) => match functions::by_kind(k) {
            Some(f) => f.schema(),
            None => {
                eprintln!("error: no functionConfig kind {k:?}");
                return 2;
            }
        },
        None => Value::Object(functions::kinds().map(|f| (f.kind().to_string(), f.schema())).collect()),
    };
    println!("{}", serde_json::to_string_pretty(&value).expect("a schema serializes"));
    0
}

/// The text of `schemas/<kind>.json`: pretty JSON with a trailing newline.
pub fn schema_file_text(f: &dyn DynFunction) -> String {
    serde_json::to_string_pretty(&f.schema()).expect("a schema serializes") + "\n"
}

fn write_schemas(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    for f in functions::kinds() {
        std::fs::write(dir.join(format!("{}.json", f.kind())), schema_file_text(f))?;
    }
    Ok(())
}

/// The recommended Chain, as `fn-configs/kubeflow-krm.yaml` has it.
const CHAIN_CONFIG: &str = include_str!("../../../fn-configs/kubeflow-krm.yaml");

/// `kubeflow-krm init DIR` (see [`Command::Init`]).
fn init(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        anyhow::ensure!(dir.is_dir(), "{}: exists and is not a folder", dir.display());
        anyhow::ensure!(std::fs::read_dir(dir)?.next().is_none(), "{}: the folder is not empty; nothing was written", dir.display());
    }
    std::fs::create_dir_all(dir.join("schemas"))?;
    let (modeline, rest) = CHAIN_CONFIG.split_once('\n').expect("the Chain config has lines");
    debug_assert!(modeline.starts_with("# yaml-language-server: $schema="));
    std::fs::write(dir.join("kubeflow-krm.yaml"), format!("# yaml-language-server: $schema=schemas/Chain.json\n{rest}"))?;
    std::fs::write(
        dir.join("kustomization.yaml"),
        "# The kubeflow-krm functions, in one Chain functionConfig: list this folder in the\n\
         # `transformers:` of the kustomization that renders Kubeflow, or pass it to\n\
         # `kubeflow-krm run INPUT --config <this folder>`.\nresources:\n- kubeflow-krm.yaml\n",
    )?;
    for f in functions::kinds() {
        std::fs::write(dir.join("schemas").join(format!("{}.json", f.kind())), schema_file_text(f))?;
    }
    eprintln!(
        "wrote {}: kubeflow-krm.yaml (edit its example values), kustomization.yaml, schemas/",
        dir.display()
    );
    Ok(())
}

/// "33 info, 2 warnings": the results counted by severity, as the summary lines say them.
pub fn counts(results: &[KrmResult]) -> String {
    let n = |s: Severity| results.iter().filter(|r| r.severity == s).count();
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let mut parts = vec![format!("{} info", n(Severity::Info))];
    if n(Severity::Warning) > 0 {
        parts.push(plural(n(Severity::Warning), "warning"));
    }
    if n(Severity::Error) > 0 {
        parts.push(plural(n(Severity::Error), "error"));
    }
    parts.join(", ")
}

fn run(inputs: &[PathBuf], configs: &[PathBuf], report: Option<ReportFormat>, check: bool, output: Option<&Path>) -> anyhow::Result<i32> {
    function::quiet_panics();
    let mut rl = ResourceList::new(crate::files::read_inputs(inputs)?);
    let original = (check || report.is_some()).then(|| rl.items.clone());
    let mut reports = Vec::new();
    let mut failed = false;
    let mut stderr = std::io::stderr().lock();
    for (path, text) in crate::files::config_files(configs)? {
        let path = &path;
        let docs = yaml::parse_stream(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        anyhow::ensure!(!docs.is_empty(), "{}: no functionConfig in the file", path.display());
        for fc in docs {
            let f = dispatch(Some(&fc)).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            rl.function_config = Some(fc);
            let shown = path.display().to_string();
            let mut observe = |name: &str, before: &[Value], after: &[Value]| {
                reports.push(crate::report::compare(name, &shown, before, after));
            };
            // On an error nothing is written, so there is nothing to restore.
            let results = function::run_observed(f, &mut rl, Vec::new, report.is_some().then_some(&mut observe as Observer<'_>));
            writeln!(stderr, "{} ({}): {}", f.name(), path.display(), counts(&results))?;
            for r in &results {
                writeln!(stderr, "  {r}")?;
            }
            failed |= has_errors(&results);
            if failed {
                break;
            }
        }
        if failed {
            break;
        }
    }
    if failed {
        writeln!(stderr, "error: a function reported an error; nothing was written")?;
        return Ok(EXIT_ERROR);
    }
    let text = match report {
        Some(format) => {
            let all = crate::report::compare("all", "", original.as_deref().unwrap_or_default(), &rl.items);
            match format {
                ReportFormat::Text => crate::report::to_text(&reports, &all),
                ReportFormat::Json => crate::report::to_json(&reports, &all),
            }
        }
        None if !check => yaml::to_yaml_stream(&rl.items)?,
        None => String::new(),
    };
    match output {
        Some(path) => {
            std::fs::write(path, &text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            let what = if report.is_some() { "the report".to_string() } else { format!("{} resources", rl.items.len()) };
            writeln!(stderr, "wrote {what} to {}", path.display())?;
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(text.as_bytes())?;
            stdout.flush()?;
        }
    }
    if let (true, Some(original)) = (check, original) {
        if original != rl.items {
            let all = crate::report::compare("all", "", &original, &rl.items);
            writeln!(stderr, "check: the functions would change the input: {}", crate::report::summary(&all))?;
            return Ok(EXIT_ERROR);
        }
        writeln!(stderr, "check: the input is current")?;
    }
    Ok(0)
}
