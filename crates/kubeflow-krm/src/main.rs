//! `kubeflow-krm`: every function in one binary (dispatch on the functionConfig kind), plus
//! `run`, `schema` and `help` for people.
fn main() {
    std::process::exit(kubeflow_krm::cli::main());
}
