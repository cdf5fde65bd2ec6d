//! Build script: compiles `src/program/framework.proto` (Paddle's legacy ProgramDesc schema)
//! into Rust with prost. protox parses the .proto in pure Rust, so no system `protoc` is needed.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=src/program/framework.proto");
    println!("cargo:rerun-if-changed=build.rs");
    let descriptors = protox::compile(["framework.proto"], ["src/program"])?;
    prost_build::Config::new().compile_fds(descriptors)?;
    Ok(())
}
