//! What `kubeflow-krm run` reads, and what it refuses to: the load restrictor.
//!
//! `run` runs in CI on pull requests, over folders a contributor controls. Following a symlink
//! there could print any file of the machine as output (a kubeconfig, `/proc/self/environ`), a
//! link to `/dev/zero` would read until memory is gone and a FIFO would hang the job. So, as
//! kustomize's `LoadRestrictionsRootOnly` does:
//!
//! - each path given on the command line is a root; a file found under a root folder (an input
//!   folder walked, the files a `--config` folder's kustomization lists) must resolve, symlinks
//!   followed, to a place inside that root;
//! - only regular files are read (a FIFO, a device or a socket is an error naming it), a path
//!   given on the command line included;
//! - a file, or stdin, holds at most [`MAX_INPUT_BYTES`]; reading stops there.
//!
//! Every refusal is an error naming the path; nothing is written.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, ensure};
use krm_core::yaml;
use serde_json::Value;

/// The most one input file (or stdin) may hold: 256 MiB, 20 times a full Kubeflow render. The
/// chain needs about 6 times its input in memory (README, Speed).
pub const MAX_INPUT_BYTES: u64 = 256 << 20;

/// Reads at most [`MAX_INPUT_BYTES`] of `reader` as UTF-8, `what` naming it in errors.
fn read_bounded(reader: impl Read, what: &str) -> anyhow::Result<String> {
    let mut bytes = Vec::new();
    reader.take(MAX_INPUT_BYTES + 1).read_to_end(&mut bytes).with_context(|| what.to_string())?;
    ensure!(bytes.len() as u64 <= MAX_INPUT_BYTES, "{what}: larger than {} MiB, the most one input may hold", MAX_INPUT_BYTES >> 20);
    String::from_utf8(bytes).map_err(|_| anyhow!("{what}: not UTF-8 text"))
}

/// What a file that is not a regular one is, for a refusal.
fn file_type(t: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_dir() {
        "a folder"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "something else"
    }
}

/// `path` resolved (symlinks followed), refused unless it lies inside `root`.
fn resolve_inside(path: &Path, root: &Path) -> anyhow::Result<PathBuf> {
    let real = path.canonicalize().with_context(|| path.display().to_string())?;
    ensure!(
        real.starts_with(root),
        "{}: resolves to {}, outside {}: what run reads under a folder given to it must stay inside it",
        path.display(),
        real.display(),
        root.display()
    );
    Ok(real)
}

/// Reads a regular file that resolves inside `root` (itself, for a path given on the command
/// line).
fn read_file(path: &Path, root: &Path) -> anyhow::Result<String> {
    let meta = std::fs::metadata(path).with_context(|| format!("{}: no such file", path.display()))?;
    ensure!(meta.is_file(), "{}: {}, not a regular file: only regular files are read", path.display(), file_type(meta.file_type()));
    resolve_inside(path, root)?;
    ensure!(meta.len() <= MAX_INPUT_BYTES, "{}: larger than {} MiB, the most one input may hold", path.display(), MAX_INPUT_BYTES >> 20);
    read_bounded(std::fs::File::open(path).with_context(|| path.display().to_string())?, &path.display().to_string())
}

/// The resources of the inputs: files, folders (walked) or `-` for stdin.
pub fn read_inputs(inputs: &[PathBuf]) -> anyhow::Result<Vec<Value>> {
    let mut items = Vec::new();
    for input in inputs {
        if input.as_os_str() == "-" {
            let text = read_bounded(std::io::stdin().lock(), "stdin")?;
            items.extend(yaml::parse_stream(&text).map_err(|e| anyhow!("stdin: {e}"))?);
            continue;
        }
        let root = input.canonicalize().with_context(|| format!("{}: no such file or folder", input.display()))?;
        let files = if root.is_dir() { yaml_files(input, &root, &mut HashSet::new())? } else { vec![input.clone()] };
        for file in files {
            let text = read_file(&file, &root)?;
            items.extend(yaml::parse_stream(&text).map_err(|e| anyhow!("{}: {e}", file.display()))?);
        }
    }
    for (i, item) in items.iter().enumerate() {
        ensure!(item.is_object(), "document {i} of the input is a {}, not a Kubernetes object", krm_core::object::type_name(item));
    }
    Ok(items)
}

/// The YAML files of a folder under `root`: its `*.yaml`/`*.yml`/`*.json` files, recursively in
/// name order, without kustomize's and kpt's own files and hidden folders. A folder reached
/// twice (a link to a parent) is walked once.
fn yaml_files(dir: &Path, root: &Path, seen: &mut HashSet<PathBuf>) -> anyhow::Result<Vec<PathBuf>> {
    if !seen.insert(resolve_inside(dir, root)?) {
        return Ok(Vec::new());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
    entries.sort();
    let mut files = Vec::new();
    for entry in entries {
        let name = entry.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if entry.is_dir() {
            if !name.starts_with('.') {
                files.extend(yaml_files(&entry, root, seen)?);
            }
        } else if [".yaml", ".yml", ".json"].iter().any(|ext| name.ends_with(ext))
            && !["kustomization.yaml", "kustomization.yml", "Kptfile"].contains(&name)
        {
            files.push(entry);
        }
    }
    Ok(files)
}

/// The functionConfig files to apply, in order, with their text: a file as it is; a folder
/// through the `resources:` of its kustomization (as `fn-configs/` lists the Chain), so
/// `--config fn-configs` runs what `transformers: [fn-configs]` runs. A folder's resources must
/// stay inside it.
pub fn config_files(configs: &[PathBuf]) -> anyhow::Result<Vec<(PathBuf, String)>> {
    let mut files = Vec::new();
    for path in configs {
        let root = path.canonicalize().with_context(|| format!("{}: no such file or folder", path.display()))?;
        collect_configs(path, &root, &mut files, 0)?;
    }
    Ok(files)
}

fn collect_configs(path: &Path, root: &Path, out: &mut Vec<(PathBuf, String)>, depth: usize) -> anyhow::Result<()> {
    ensure!(depth < 16, "{}: kustomizations nested more than 16 deep", path.display());
    if !path.is_dir() {
        let text = read_file(path, root)?;
        out.push((path.to_path_buf(), text));
        return Ok(());
    }
    resolve_inside(path, root)?;
    let k = ["kustomization.yaml", "kustomization.yml", "Kustomization"]
        .iter()
        .map(|n| path.join(n))
        .find(|p| p.exists())
        .ok_or_else(|| anyhow!("{}: a config folder needs a kustomization listing its functionConfigs", path.display()))?;
    let doc = yaml::parse_document(&read_file(&k, root)?).map_err(|e| anyhow!("{}: {e}", k.display()))?;
    let resources = doc.get("resources").and_then(Value::as_array).cloned().unwrap_or_default();
    ensure!(!resources.is_empty(), "{}: lists no resources", k.display());
    for r in resources {
        let name = r.as_str().ok_or_else(|| anyhow!("{}: resources must be paths", k.display()))?;
        collect_configs(&path.join(name), root, out, depth + 1)?;
    }
    Ok(())
}
