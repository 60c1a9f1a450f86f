//! One binary, two targets: the CLI natively, the browser app in WebAssembly.

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    std::process::exit(synapse_planner::cli::main());
}

#[cfg(target_arch = "wasm32")]
fn main() {
    synapse_planner::ui::mount();
}
